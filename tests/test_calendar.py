"""seqcast.data.calendar.future_dates agrees with pandas.date_range without importing pandas."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seqcast.config import DateFormat
from seqcast.data.calendar import (
    MONTHS,
    UnsupportedFrequencyError,
    future_dates,
    iso_dates,
    plain_dates,
)
from seqcast.data.frame import future_index
from seqcast.errors import ConfigError, DataError

_DAYS = ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"]
BASES = (
    ["D", "B", "W", "MS", "ME", "QS", "QE", "YS", "YE", "h", "min", "s"]
    + [f"W-{d}" for d in _DAYS]
    + [f"{b}-{m}" for b in ("QS", "QE", "YS", "YE") for m in MONTHS]
)


def pandas_dates(last: str, freq: str, steps: int) -> list[str]:
    """The reference: pandas' own range, formatted as seqcast.api formats dates."""
    offset = pd.tseries.frequencies.to_offset(freq)
    start = (
        pd.Timestamp(last) + offset
    )  # unit="us": pandas 2.2's default ns ends in 2262
    index = pd.date_range(start, periods=steps, freq=offset, unit="us")
    if all(s == s.normalize() for s in index):
        return [s.strftime("%Y-%m-%d") for s in index]
    return [s.strftime("%Y-%m-%dT%H:%M:%S") for s in index]


stamps = st.datetimes(
    min_value=datetime(1800, 1, 1), max_value=datetime(2200, 12, 31)
).map(lambda d: d.replace(microsecond=0))
midnights = st.dates(
    min_value=datetime(1800, 1, 1).date(), max_value=datetime(2200, 12, 31).date()
).map(lambda d: datetime(d.year, d.month, d.day))


def iso(stamp: datetime) -> str:
    if stamp.time() == datetime.min.time():
        return stamp.strftime("%Y-%m-%d")
    return stamp.strftime("%Y-%m-%dT%H:%M:%S")


@settings(max_examples=600, deadline=None)
@given(
    last=st.one_of(midnights, stamps),
    base=st.sampled_from(BASES),
    n=st.one_of(st.just(1), st.integers(1, 30)),
    steps=st.integers(0, 40),
)
def test_future_dates_match_pandas(
    last: datetime, base: str, n: int, steps: int
) -> None:
    freq = base if n == 1 else f"{n}{base}"
    assert future_dates(iso(last), freq, steps) == pandas_dates(iso(last), freq, steps)


@settings(max_examples=200, deadline=None)
@given(last=midnights, base=st.sampled_from(BASES), steps=st.integers(1, 24))
def test_future_dates_match_frame_future_index(
    last: datetime, base: str, steps: int
) -> None:
    index = future_index(pd.Timestamp(last), base, steps)
    expected = pandas_dates(iso(last), base, steps)
    assert [s.strftime("%Y-%m-%d") for s in index] == [e[:10] for e in expected]
    assert future_dates(iso(last), base, steps) == expected


@pytest.mark.parametrize(
    ("last", "freq", "expected"),
    [
        ("2024-03-15", "MS", ["2024-04-01", "2024-05-01"]),
        ("2024-03-29", "B", ["2024-04-01", "2024-04-02"]),  # Friday -> Monday
        ("2024-03-30", "B", ["2024-04-01", "2024-04-02"]),  # Saturday
        ("2024-02-29", "ME", ["2024-03-31", "2024-04-30"]),
        ("2024-03-31", "QE", ["2024-06-30", "2024-09-30"]),
        ("2024-01-01", "QS-OCT", ["2024-04-01", "2024-07-01"]),
        ("2024-01-01", "W", ["2024-01-07", "2024-01-14"]),  # W means W-SUN
        ("2024-12-31T23:00:00", "2h", ["2025-01-01T01:00:00", "2025-01-01T03:00:00"]),
        ("2024-01-01T22:00:00", "h", ["2024-01-01T23:00:00", "2024-01-02T00:00:00"]),
        ("2024-01-01", "15min", ["2024-01-01T00:15:00", "2024-01-01T00:30:00"]),
    ],
)
def test_future_dates_examples(last: str, freq: str, expected: list[str]) -> None:
    assert future_dates(last, freq, 2) == expected


@pytest.mark.parametrize(
    "freq",
    ["SMS", "BMS", "ms", "1h30min", "AS", "M", "MS-JAN", "W-FOO", "0D", "QS-13", ""],
)
def test_other_aliases_ask_for_pandas(freq: str) -> None:
    with pytest.raises(UnsupportedFrequencyError) as info:
        future_dates("2024-01-01", freq, 3)
    assert str(info.value) == (
        f"freq={freq!r} is not one seqcast.data.calendar supports (D, B, W-SUN..W-SAT, MS, ME, QS[-MON], QE[-MON], YS[-MON], YE[-MON], h, min, s). Use seqcast.data.frame.future_index (pandas) for it."
    )
    assert isinstance(info.value, ConfigError)


@pytest.mark.parametrize(
    "last",
    ["2024-01-01T00:00:00+01:00", "2024-01-01T00:00:00.5", "Jan 1 2024", "2024-02-30"],
)
def test_unusual_timestamps_ask_for_pandas(last: str) -> None:
    with pytest.raises(
        UnsupportedFrequencyError, match=r"Use seqcast\.data\.frame\.future_index"
    ):
        future_dates(last, "D", 1)


def test_whole_second_fraction_is_accepted() -> None:
    assert future_dates("2024-01-01T10:00:00.000", "h", 1) == ["2024-01-01T11:00:00"]


def test_negative_steps_are_rejected() -> None:
    with pytest.raises(ConfigError, match=r"steps=-1 must be 0 or more"):
        future_dates("2024-01-01", "D", -1)


def test_large_steps_are_vectorised() -> None:
    dates = future_dates("2000-01-01", "D", 10_000)
    assert dates[-1] == (datetime(2000, 1, 1) + timedelta(days=10_000)).strftime(
        "%Y-%m-%d"
    )


def test_calendar_does_not_import_pandas() -> None:
    code = "import sys, seqcast.data.calendar as c; c.future_dates('2024-01-31', 'ME', 3); print('pandas' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"


def test_iso_dates_hand_examples() -> None:
    midnight, morning = datetime(2024, 3, 1), datetime(2024, 3, 1, 6, 30)
    assert iso_dates([midnight]) == ["2024-03-01"]
    assert iso_dates([midnight, morning]) == [
        "2024-03-01T00:00:00",
        "2024-03-01T06:30:00",
    ]
    assert iso_dates([morning], sep=" ") == ["2024-03-01 06:30:00"]
    assert iso_dates([midnight], sep=" ", timespec="minutes") == ["2024-03-01 00:00"]
    assert iso_dates([morning], timespec="date") == ["2024-03-01"]
    stamps = np.array(["2024-03-01", "2024-03-02T12:00:05"], dtype="datetime64[s]")
    assert iso_dates(stamps) == ["2024-03-01T00:00:00", "2024-03-02T12:00:05"]
    assert iso_dates(np.array([], dtype="datetime64[s]")) == []


@pytest.mark.parametrize(
    ("dates", "layout", "expected"),
    [
        (["2009-01-01", "2010-01-01"], DateFormat.YEAR, ["2009", "2010"]),
        (["0999-01-01"], DateFormat.YEAR, ["0999"]),
        (
            ["1961-01-01", "1961-04-01", "1961-07-01", "1961-10-01"],
            DateFormat.QUARTER,
            ["1961Q1", "1961Q2", "1961Q3", "1961Q4"],
        ),
        (["2009-01-01", "2010-01-01"], DateFormat.ISO, ["2009-01-01", "2010-01-01"]),
        # One date off the year (quarter) grid keeps every date ISO: no mixed layouts.
        (["2009-01-01", "2009-02-01"], DateFormat.YEAR, ["2009-01-01", "2009-02-01"]),
        (["2009-01-01T06:00:00"], DateFormat.YEAR, ["2009-01-01T06:00:00"]),
        (["1961-02-01"], DateFormat.QUARTER, ["1961-02-01"]),
        ([], DateFormat.YEAR, []),
    ],
)
def test_plain_dates_hand_examples(
    dates: list[str], layout: DateFormat, expected: list[str]
) -> None:
    assert plain_dates(dates, layout) == expected


def test_plain_years_continue_a_yearly_forecast() -> None:
    dates = future_dates("2008-01-01", "YS-JAN", 3)
    assert plain_dates(dates, DateFormat.YEAR) == ["2009", "2010", "2011"]


def test_iso_dates_keep_fractions_of_a_second_for_the_whole_list() -> None:
    stamps = np.array(
        ["2024-03-01T00:00:00", "2024-03-01T00:00:00.25"], "datetime64[ms]"
    )
    assert iso_dates(stamps) == [
        "2024-03-01T00:00:00.000000",
        "2024-03-01T00:00:00.250000",
    ]
    whole = np.array(["2024-03-01T00:00:01"], "datetime64[ms]")
    assert iso_dates(whole) == ["2024-03-01T00:00:01"]


def test_iso_dates_past_9999_are_a_data_error() -> None:
    late = np.array(["9999-12-31", "10000-01-01"], "datetime64[D]")
    with pytest.raises(DataError, match=r"A date past 9999-12-31 \(or before year 1\)"):
        iso_dates(late)
    assert iso_dates(late[:1]) == ["9999-12-31"]


@pytest.mark.parametrize(
    ("freq", "steps", "ok"),
    [
        ("YS", 9, True),
        ("YS", 20_000, False),
        ("100000000D", 2, False),
        ("99999999999999MS", 1, False),
    ],
)
def test_future_dates_refuse_spans_past_9999_before_numpy_overflows(
    freq: str, steps: int, ok: bool
) -> None:
    if ok:
        assert future_dates("2024-01-01", freq, steps)[-1] == "2033-01-01"
        return
    with pytest.raises(
        DataError,
        match=f"{steps} steps at freq={freq} after 2024-01-01 run past 9999-12-31",
    ):
        future_dates("2024-01-01", freq, steps)


@pytest.mark.parametrize(
    ("freq", "steps", "last"),
    [("s", 4_000_000, "2024-02-16T07:06:40"), ("h", 4_000_000, "2480-04-25T16:00:00")],
)
def test_long_sub_daily_forecasts_within_the_calendar_are_not_refused(
    freq: str, steps: int, last: str
) -> None:
    assert future_dates("2024-01-01", freq, steps)[-1] == last
    # numpy, not pandas: pandas 2 holds no date past 2262.
    expected = np.datetime64("2024-01-01T00:00:00") + np.timedelta64(steps, freq)
    assert np.datetime64(last) == expected
