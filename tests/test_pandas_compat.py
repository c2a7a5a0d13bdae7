"""seqcast.data.pandas_compat gives pandas 3's answers on pandas 2.2 and 3 alike."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from seqcast.config import DataConfig
from seqcast.data.csv import read_csv
from seqcast.data.frame import future_index, prepare
from seqcast.data.pandas_compat import (
    PANDAS_3,
    beyond_pandas_2,
    infer_freq,
    refuse_mixed_offsets,
    to_numbers,
    to_offset,
)
from seqcast.errors import DataError


@pytest.mark.parametrize(
    "alias", ["M", "H", "Q", "A", "Y", "T", "S", "BM", "2M", "15T"]
)
def test_removed_aliases_are_refused(alias: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - pandas' own wording varies
        to_offset(alias)


@pytest.mark.parametrize(
    ("alias", "freqstr"), [("ME", "ME"), ("h", "h"), ("QS", "QS-JAN"), ("2D", "2D")]
)
def test_current_aliases_are_read(alias: str, freqstr: str) -> None:
    assert to_offset(alias).freqstr == freqstr


@pytest.mark.parametrize(
    ("start", "freq", "expected"),
    [
        ("2020-01-01", "QS-OCT", "QS-JAN"),  # the same dates: Jan/Apr/Jul/Oct 1
        ("2020-02-01", "QS-NOV", "QS-FEB"),
        ("2020-03-01", "QS-DEC", "QS-MAR"),
        ("2020-01-01", "2QS-JAN", "2QS-JAN"),
        ("2001-01-06", "BQS-JAN", "BQS-JAN"),  # 2001-04-02: the 1st is a Sunday
        ("2020-03-31", "QE-DEC", "QE-DEC"),
        ("2020-01-01", "MS", "MS"),
        ("2020-01-05", "W-SUN", "W-SUN"),
    ],
)
def test_inferred_quarter_starts_are_anchored_in_the_first_quarter(
    start: str, freq: str, expected: str
) -> None:
    index = pd.date_range(start, periods=8, freq=freq)
    found = infer_freq(index)
    assert found is not None
    assert found.freqstr == expected
    assert pd.date_range(index[0], periods=8, freq=found).equals(index)


def test_irregular_dates_have_no_inferred_frequency() -> None:
    assert (
        infer_freq(pd.DatetimeIndex(["2020-01-01", "2020-01-02", "2020-01-04"])) is None
    )


def test_mixed_offsets_raise_as_on_pandas_3() -> None:
    text = pd.Series(["2020-01-01T13:00:00+01:00", "2020-01-02T13:00:00+02:00"])
    with pytest.raises(ValueError, match=r"^Mixed timezones"), refuse_mixed_offsets():
        pd.to_datetime(text, format="ISO8601")


def test_numbers_are_the_nearest_float64() -> None:
    rng = random.Random(0)
    text = [repr(rng.uniform(0, 1000) * 10 ** rng.randint(-5, 5)) for _ in range(2000)]
    text += ["181.75999450683594", "1e999", "-1e309", "1e-999", "+.5", "5.", "7"]
    expected = np.array([float(t) for t in text])  # Python's float: correctly rounded
    np.testing.assert_array_equal(to_numbers(np.array(text, dtype=object)), expected)


@pytest.mark.parametrize("text", ["abc", "1_000", "0x10", "1,5", "nan", ""])
def test_what_is_not_a_number_is_nan(text: str) -> None:
    assert np.isnan(to_numbers(np.array(["1", text], dtype=object))[1])


@pytest.mark.parametrize(
    "dates", [["1500", "1501", "1502"], ["2300-01-01", "2300-01-02", "2300-01-03"]]
)
def test_dates_outside_pandas_2s_range(tmp_path: Path, dates: list[str]) -> None:
    path = tmp_path / "old.csv"
    path.write_text("date,y\n" + "".join(f"{d},{i}\n" for i, d in enumerate(dates)))
    if PANDAS_3:
        assert not beyond_pandas_2(dates[0])
        result = prepare(read_csv(path), DataConfig())
        assert str(result.single().data.index[0].date()) == pd.Timestamp(
            dates[0]
        ).strftime("%Y-%m-%d")
        return
    assert beyond_pandas_2(dates[0])
    with pytest.raises(DataError) as info:
        prepare(read_csv(path), DataConfig())
    assert (
        str(info.value)
        == f"Column 'date' has date '{dates[0]}' at row 2 (header is row 1), which pandas 2 cannot hold: it reads dates from 1677-09-22 to 2262-04-11. Install pandas 3 to read it (pip install 'pandas>=3')."
    )


@pytest.mark.parametrize(
    "text",
    ["1700-01-01", "2262-04-11", "2020-01-01 12:00", "1959Q1", "31/01/1500", "x"],
)
def test_dates_pandas_2_holds_are_not_beyond_it(text: str) -> None:
    assert not beyond_pandas_2(text)


def test_future_dates_past_2262() -> None:
    last = pd.Timestamp("2261-06-01")
    if PANDAS_3:
        assert [str(d.date()) for d in future_index(last, "YS", 2)] == [
            "2262-01-01",
            "2263-01-01",
        ]
        return
    with pytest.raises(
        DataError,
        match=r"^The 2 dates after 2261-06-01T00:00:00 at freq=YS-JAN run past what pandas 2 can hold \(1677-09-22 to 2262-04-11\)\.",
    ):
        future_index(last, "YS", 2)
