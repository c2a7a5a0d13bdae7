"""Fuzz read_csv + prepare: any input gives a valid SeriesSet or a one-line user error."""

from __future__ import annotations

from pathlib import Path
from random import Random

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seqcast.config import DataConfig, DuplicatePolicy, FillPolicy
from seqcast.data.csv import read_csv
from seqcast.data.frame import SeriesSet, prepare
from seqcast.errors import ConfigError, DataError

FUZZ = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

DATES = st.sampled_from(
    [
        "2020-01-01",
        "2020-01-02",
        "2020-01-03",
        "2020-01-05",
        "2020-01-08",
        "2020-02-01",
        "2020-03-01",
        "2020-01-01 12:00",
        "2020-01-01T13:00:00+01:00",
        "2020-01-01T13:00Z",
        "2020-01",
        "2020-02",
        "1749",
        "1750",
        "1959Q1",
        "1959Q3",
        "01/02/2020",
        "13/01/2020",
        "20200101",
        "1577836800",
        "Jan 2020",
        "",
        "NA",
        "x",
        "9999-12-31",
        "0001-01-01",
        "2020-02-30",
        "2262-04-12",
        "1677-09-21",
    ]
)
VALUES = st.one_of(
    st.sampled_from(
        [
            "1",
            "-2.5",
            "1e3",
            "",
            "NA",
            "nan",
            "null",
            "inf",
            "abc",
            "1,5",
            '"3"',
            "0",
            "1e308",
            "1e309",
        ]
    ),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-(10**20), 10**20).map(str),
)
CONFIGS = st.builds(
    DataConfig,
    fill=st.sampled_from(list(FillPolicy)),
    duplicates=st.sampled_from(list(DuplicatePolicy)),
    freq=st.sampled_from(
        [None, None, None, "D", "MS", "h", "B", "W-SUN", "M", "nonsense"]
    ),
)


@pytest.fixture(scope="module")
def fuzz_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz") / "data.csv"


def check(path: Path, config: DataConfig) -> None:
    """Read and prepare; a result must be valid, and only user errors may be raised."""
    try:
        result = prepare(read_csv(path), config)
    except (DataError, ConfigError) as exc:
        message = str(exc)
        assert message
        assert "\n" not in message
        assert message.endswith((".", "?"))
        return
    assert_valid(result)


def assert_valid(result: SeriesSet) -> None:
    assert result.series
    pd.tseries.frequencies.to_offset(result.freq)
    for item in result.series:
        index = item.data.index
        assert isinstance(index, pd.DatetimeIndex)
        assert index.tz is None
        assert index.is_monotonic_increasing
        assert index.is_unique
        assert len(index) >= 2
        assert index.equals(pd.date_range(index[0], index[-1], freq=result.freq))
        values = item.data.to_numpy()
        assert values.dtype == np.float64
        assert np.isfinite(values).all()
        assert list(item.data.columns) == [result.target, *result.features]


@FUZZ
@given(data=st.binary(max_size=400))
def test_random_bytes(fuzz_file: Path, data: bytes) -> None:
    fuzz_file.write_bytes(data)
    check(fuzz_file, DataConfig())


@FUZZ
@given(
    text=st.text(
        alphabet=st.sampled_from(list("0123456789-:.,;|\t\r\n \"'aZQTé\ufeff")),
        max_size=300,
    )
)
def test_csv_like_text(fuzz_file: Path, text: str) -> None:
    fuzz_file.write_text(text, encoding="utf-8")
    check(fuzz_file, DataConfig())


@FUZZ
@given(
    rows=st.lists(st.tuples(DATES, VALUES, VALUES), min_size=0, max_size=40),
    delimiter=st.sampled_from([",", ";", "\t", "|"]),
    bom=st.booleans(),
    newline=st.sampled_from(["\n", "\r\n"]),
    config=CONFIGS,
    features=st.booleans(),
)
def test_structured_tables(
    fuzz_file: Path,
    rows: list[tuple[str, str, str]],
    delimiter: str,
    bom: bool,
    newline: str,
    config: DataConfig,
    features: bool,
) -> None:
    lines = [delimiter.join(["date", "y", "temp"])]
    lines += [delimiter.join(row) for row in rows]
    text = ("\ufeff" if bom else "") + newline.join(lines) + newline
    fuzz_file.write_text(text, encoding="utf-8")
    options = {
        "fill": config.fill,
        "duplicates": config.duplicates,
        "freq": config.freq,
    }
    if features:
        check(fuzz_file, DataConfig(target="y", features=("temp",), **options))  # type: ignore[arg-type]
    else:
        check(fuzz_file, DataConfig(target="y", **options))  # type: ignore[arg-type]


@FUZZ
@given(
    offsets=st.lists(st.integers(0, 60), min_size=1, max_size=40),
    unit=st.sampled_from(["D", "h", "MS", "W-SUN", "B"]),
    fill=st.sampled_from(list(FillPolicy)),
)
def test_regular_grids_with_gaps_and_shuffles(
    fuzz_file: Path, offsets: list[int], unit: str, fill: FillPolicy
) -> None:
    grid = pd.date_range("2021-01-04", periods=61, freq=unit)
    stamps = grid[offsets]
    text = "date,y\n" + "".join(
        f"{t:%Y-%m-%d %H:%M},{i}\n" for i, t in enumerate(stamps)
    )
    fuzz_file.write_text(text, encoding="utf-8")
    check(fuzz_file, DataConfig(fill=fill, duplicates=DuplicatePolicy.LAST))


@st.composite
def dense_positions(draw: st.DrawFn) -> list[int]:
    """Grid positions 0..n-1 with up to a third of the inner ones dropped (0 and 1 kept)."""
    n = draw(st.integers(3, 40))
    dropped = draw(st.sets(st.integers(2, n - 2), max_size=n // 3)) if n > 3 else set()
    return [i for i in range(n) if i not in dropped]


@FUZZ
@given(
    picked=dense_positions(),
    unit=st.sampled_from(
        ["D", "h", "15min", "MS", "ME", "QS-JAN", "YS-JAN", "W-SUN", "B"]
    ),
    shuffle=st.randoms(use_true_random=False),
)
def test_dense_grids_recover_their_frequency(
    fuzz_file: Path, picked: list[int], unit: str, shuffle: Random
) -> None:
    # Start on a Saturday, so a daily grid always holds a weekend date.
    stamps = list(pd.date_range("2001-01-06", periods=40, freq=unit)[picked])
    shuffle.shuffle(stamps)
    text = "date,y\n" + "".join(
        f"{t:%Y-%m-%d %H:%M},{i}\n" for i, t in enumerate(stamps)
    )
    fuzz_file.write_text(text, encoding="utf-8")
    result = prepare(read_csv(fuzz_file), DataConfig(fill=FillPolicy.INTERPOLATE))
    assert_valid(result)
    full = pd.date_range("2001-01-06", periods=40, freq=unit)[: picked[-1] + 1]
    assert result.single().data.index.equals(full)
    assert result.freq == pandas3_alias(full)  # what pandas calls the complete grid


def pandas3_alias(index: pd.DatetimeIndex) -> str:
    """``pd.infer_freq``'s answer as pandas 3 spells it, on pandas 2.2 or 3."""
    if int(pd.__version__.split(".")[0]) < 3:
        found = pd.infer_freq(index)
        assert found is not None
        return {"QS-OCT": "QS-JAN"}.get(found, found)  # same dates; pandas 3 says JAN
    with pd.option_context("future.infer_freq_returns_offset", True):
        offset = pd.infer_freq(index)
    return offset.freqstr  # type: ignore[union-attr]
