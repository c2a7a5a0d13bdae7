"""Future timestamps at a pandas frequency, computed with NumPy alone (the fast forecast path).

``future_dates`` reproduces ``pandas.date_range(last + offset, periods=steps, freq=offset)``
for the aliases seqcast's series use, so ``seqcast forecast`` need not import pandas:

- fixed steps: ``D``, ``h``, ``min``, ``s`` (with multiples such as ``2D``, ``2h``, ``15min``);
- business days: ``B`` (``numpy.busday_offset``);
- weeks: ``W`` and ``W-SUN`` .. ``W-SAT``;
- month, quarter and year starts and ends: ``MS``, ``ME``, ``QS``/``QS-JAN`` ..
  ``QS-DEC``, ``QE``/``QE-JAN`` .. ``QE-DEC``, ``YS``/``YS-JAN`` .. ``YS-DEC``,
  ``YE``/``YE-JAN`` .. ``YE-DEC``, all with multiples (``2MS``, ``3QS-OCT``).

Anchored aliases follow pandas: the first stamp is the first on the grid strictly after
``last``'s date, then every ``n``-th; the time of day is kept. Any other alias raises
``UnsupportedFrequencyError`` so the caller can fall back to ``seqcast.data.frame.future_index``.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from seqcast.choices import DateFormat
from seqcast.errors import ConfigError, DataError

# Anchor names as pandas spells them (W-SUN, QS-JAN, YE-DEC).
WEEKDAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")
MONTHS = (
    "JAN",
    "FEB",
    "MAR",
    "APR",
    "MAY",
    "JUN",
    "JUL",
    "AUG",
    "SEP",
    "OCT",
    "NOV",
    "DEC",
)
_TICKS = {
    "D": np.timedelta64(1, "D"),
    "h": np.timedelta64(1, "h"),
    "min": np.timedelta64(1, "m"),
    "s": np.timedelta64(1, "s"),
}
# Month-grid aliases: (months between stamps, default anchor month, start or end of month).
_MONTHLY = {"MS": (1, 1, True), "ME": (1, 1, False)}
_ANCHORED = {
    "QS": (3, 1, True),
    "QE": (3, 12, False),
    "YS": (12, 1, True),
    "YE": (12, 12, False),
}
# The least length of each base unit in seconds (a business day is at least one day,
# a month at least 28), and the longest span a forecast can have: one that passes it
# surely ends after 9999-12-31. Below it, every stamp fits numpy's int64 microseconds
# (the most a unit can be is 3x its least, a business day over a weekend).
_DAY = 86_400
_UNIT_SECONDS = {"D": _DAY, "h": 3_600, "min": 60, "s": 1, "B": _DAY, "W": 7 * _DAY}
_UNIT_SECONDS |= {"MS": 28 * _DAY, "ME": 28 * _DAY, "QS": 89 * _DAY, "QE": 89 * _DAY}
_UNIT_SECONDS |= {"YS": 365 * _DAY, "YE": 365 * _DAY}
_MAX_SPAN_SECONDS = 10_000 * 366 * _DAY
_ALIAS_RE = re.compile(r"(\d*)([A-Za-z]+)(?:-([A-Z]{3}))?")
_PLAIN_STAMP_RE = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
)
_SUPPORTED = (
    "D, B, W-SUN..W-SAT, MS, ME, QS[-MON], QE[-MON], YS[-MON], YE[-MON], h, min, s"
)


class UnsupportedFrequencyError(ConfigError):
    """The alias or timestamp is outside what ``future_dates`` handles; use pandas."""


def future_dates(last: str, freq: str, steps: int) -> list[str]:
    """Return the ``steps`` ISO timestamps that follow ``last`` at ``freq``, without pandas.

    Args:
        last: ISO timestamp of the last observation, ``YYYY-MM-DD`` or
            ``YYYY-MM-DDTHH:MM:SS`` (time zone free).
        freq: A pandas frequency alias (see the module docstring for those supported).
        steps: How many timestamps to return (0 gives []).

    Returns:
        ``YYYY-MM-DD`` strings when every stamp is at midnight, else
        ``YYYY-MM-DDTHH:MM:SS``, as ``seqcast.api`` formats dates. For ``last =
        "2024-03-15"`` and ``freq = "MS"``, ``steps = 2`` gives ``["2024-04-01",
        "2024-05-01"]``; for ``last = "2024-03-29"`` (a Friday) and ``freq = "B"``,
        ``steps = 1`` gives ``["2024-04-01"]``.

    Raises:
        ConfigError: If steps is negative.
        UnsupportedFrequencyError: If ``freq`` or ``last`` is not one this function
            handles; ``seqcast.data.frame.future_index`` (pandas) handles the rest.
    """
    if steps < 0:
        raise ConfigError(f"steps={steps} must be 0 or more. Use --steps 1 or more.")
    stamp = _parse_stamp(last)
    n, base, anchor = _parse_alias(freq)
    if steps * n * _UNIT_SECONDS[base] > _MAX_SPAN_SECONDS:  # before int64 overflows
        raise DataError(
            f"{steps} steps at freq={freq} after {last} run past 9999-12-31, the last date seqcast can write. Forecast fewer steps, or check the model's frequency."
        )
    day = stamp.astype("datetime64[D]")
    time_of_day = stamp - day
    k = np.arange(steps, dtype=np.int64)
    days: npt.NDArray[np.datetime64]
    if base in _TICKS and anchor is None:
        out = stamp + (k + 1) * n * _TICKS[base]
        return iso_dates(out.astype("datetime64[s]"))
    if base == "B" and anchor is None:
        days = np.busday_offset(day, (k + 1) * n, roll="backward")
    elif base == "W":
        weekday = WEEKDAYS.index(anchor or "SUN")
        # 1970-01-01 was a Thursday (weekday 3 with Monday = 0).
        ahead = (weekday - (day.astype(np.int64) + 3)) % 7
        first = day + np.timedelta64(int(ahead) or 7, "D")
        days = first + (n - 1 + k * n) * np.timedelta64(7, "D")
    else:
        period, default, is_start = _MONTHLY.get(base) or _ANCHORED[base]
        if anchor is not None and base in _MONTHLY:
            raise _unsupported(freq)
        phase = (MONTHS.index(anchor) + 1 if anchor else default) - 1
        days = _month_grid(day, period, phase, is_start, n, k)
    return iso_dates(days + time_of_day)


def _parse_stamp(last: str) -> np.datetime64:
    text = str(last).strip()
    if not _PLAIN_STAMP_RE.fullmatch(text):
        raise UnsupportedFrequencyError(
            f"Timestamp {text!r} is not a plain ISO date or time (YYYY-MM-DD[THH:MM:SS]). Use seqcast.data.frame.future_index (pandas) for it."
        )
    whole, _, fraction = text.replace(" ", "T").partition(".")
    if fraction.strip("0"):
        raise UnsupportedFrequencyError(
            f"Timestamp {text!r} has a fraction of a second. Use seqcast.data.frame.future_index (pandas) for it."
        )
    try:
        return np.datetime64(whole, "s")
    except ValueError:
        raise UnsupportedFrequencyError(
            f"Timestamp {text!r} is not a valid date. Use seqcast.data.frame.future_index (pandas) for it."
        ) from None


def _parse_alias(freq: str) -> tuple[int, str, str | None]:
    """Split ``"2W-WED"`` into (2, "W", "WED"); reject aliases handled only by pandas."""
    match = _ALIAS_RE.fullmatch(str(freq))
    if match is None:
        raise _unsupported(freq)
    digits, base, anchor = match.groups()
    n = int(digits) if digits else 1
    known = (
        base in _TICKS or base in ("B", "W") or base in _MONTHLY or base in _ANCHORED
    )
    if n < 1 or not known:
        raise _unsupported(freq)
    if anchor is not None and not (
        (base == "W" and anchor in WEEKDAYS) or (base in _ANCHORED and anchor in MONTHS)
    ):
        raise _unsupported(freq)
    return n, base, anchor


def _month_grid(
    day: np.datetime64,
    period: int,
    phase: int,
    is_start: bool,
    n: int,
    k: npt.NDArray[np.int64],
) -> npt.NDArray[np.datetime64]:
    """Stamps on the grid of months ``phase + j * period`` (0-based, from year 0).

    The grid's j-th stamp is the first (``is_start``) or last day of month
    ``phase + j * period``. The first result is the first stamp strictly after ``day``,
    advanced by ``n - 1`` more stamps; each further result is ``n`` stamps on.
    """
    month = int(day.astype("datetime64[M]").astype(np.int64)) + 1970 * 12  # from year 0
    j0 = (month - phase) // period  # stamp in the period that holds ``day``
    if is_start:
        first = j0 + 1  # a month start is never after a day of its own month
    else:
        end = _month_ends(np.asarray([phase + j0 * period]))[0]
        first = j0 if day < end else j0 + 1
    months = phase + (first + n - 1 + k * n) * period
    if is_start:
        return _month_starts(months)
    return _month_ends(months)


def _month_starts(months: npt.NDArray[np.int64]) -> npt.NDArray[np.datetime64]:
    return (months - 1970 * 12).astype("datetime64[M]").astype("datetime64[D]")


def _month_ends(months: npt.NDArray[np.int64]) -> npt.NDArray[np.datetime64]:
    return _month_starts(months + 1) - np.timedelta64(1, "D")


def _unsupported(freq: str) -> UnsupportedFrequencyError:
    return UnsupportedFrequencyError(
        f"freq={freq!r} is not one seqcast.data.calendar supports ({_SUPPORTED}). Use seqcast.data.frame.future_index (pandas) for it."
    )


_TIMESPECS = {
    "date": "%Y-%m-%d",
    "minutes": "%Y-%m-%d{sep}%H:%M",
    "seconds": "%Y-%m-%d{sep}%H:%M:%S",
    "microseconds": "%Y-%m-%d{sep}%H:%M:%S.%f",
}


def iso_dates(stamps: Any, *, sep: str = "T", timespec: str = "auto") -> list[str]:
    """Format timestamps as ISO 8601 text; seqcast's one date formatter.

    Args:
        stamps: Datetime-like stamps: a ``datetime64`` array, or any iterable of
            ``datetime`` objects (a pandas ``DatetimeIndex`` included; no pandas is
            imported here).
        sep: What separates the date from the time (``"T"``, or ``" "`` in messages).
        timespec: ``"date"``, ``"minutes"``, ``"seconds"`` or ``"microseconds"``
            for that precision; ``"auto"`` gives ``"microseconds"`` when a stamp has
            a fraction of a second (so that sub-second data keeps distinct dates),
            ``"date"`` when every stamp is at midnight, else ``"seconds"``, the same
            precision for the whole list.

    Returns:
        One string per stamp. For 2024-03-01 00:00 and 2024-03-01 06:30, ``"auto"``
        gives ``["2024-03-01T00:00:00", "2024-03-01T06:30:00"]``; for 2024-03-01
        00:00 alone, ``["2024-03-01"]``.
    """
    if isinstance(stamps, np.ndarray):
        stamps = stamps.astype("datetime64[us]").tolist()  # datetime.datetime objects
    listed = list(stamps)
    for s in listed:  # numpy gives an int, not a datetime, past 9999-12-31
        if not isinstance(s, datetime.datetime) or not 1 <= s.year <= 9999:
            what = (  # a datetime whose year fails is pandas' NaT
                "A missing date (NaT)"
                if isinstance(s, datetime.datetime)
                else "A date past 9999-12-31 (or before year 1)"
            )
            raise DataError(
                f"{what} came up, which seqcast cannot write. Check the data's dates, its frequency and the number of steps asked for."
            )
    if timespec == "auto":
        if any(s.microsecond for s in listed):
            timespec = "microseconds"
        elif all(s.hour == s.minute == s.second == 0 for s in listed):
            timespec = "date"
        else:
            timespec = "seconds"
    pattern = _TIMESPECS[timespec].format(sep=sep)
    return [s.strftime(pattern) for s in listed]


_YEAR_START_RE = re.compile(r"(\d{4})-01-01")
_QUARTER_START_RE = re.compile(r"(\d{4})-(01|04|07|10)-01")


def plain_dates(dates: Sequence[str], date_format: DateFormat) -> list[str]:
    """Write ISO dates the way the input wrote them: plain years or quarters.

    Args:
        dates: ``YYYY-MM-DD`` strings as :func:`iso_dates` gives them.
        date_format: How the model's input wrote its dates.

    Returns:
        For ``DateFormat.YEAR``, ``["2009", "2010"]`` from ``["2009-01-01",
        "2010-01-01"]``; for ``DateFormat.QUARTER``, ``["1961Q2"]`` from
        ``["1961-04-01"]``. The dates unchanged for ``DateFormat.ISO``, or when any
        of them is not the first day of a year (a quarter), so one list never mixes
        two layouts.
    """
    listed = [str(d) for d in dates]
    if date_format is DateFormat.YEAR:
        years = [_YEAR_START_RE.fullmatch(d) for d in listed]
        if all(years):
            return [m.group(1) for m in years if m]
    elif date_format is DateFormat.QUARTER:
        quarters = [_QUARTER_START_RE.fullmatch(d) for d in listed]
        if all(quarters):
            return [
                f"{m.group(1)}Q{(int(m.group(2)) - 1) // 3 + 1}" for m in quarters if m
            ]
    return listed
