"""Names of the known-ahead input columns: calendar features and holidays.

The values are computed in :mod:`seqcast.data.known`; here live only the names, so a
configuration can say which columns a model reads without reading any data.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from seqcast.errors import ConfigError

__all__ = [
    "AUTO",
    "CALENDAR_FEATURES",
    "HOLIDAY_COLUMN",
    "PERIODS",
    "auto_calendar",
    "calendar_columns",
    "check_calendar",
    "fourier_orders",
    "known_columns",
]

AUTO = "auto"
"""``--calendar auto``: the features that suit the data's frequency (:func:`auto_calendar`)."""

HOLIDAY_COLUMN = "holiday"

MAX_ORDER = 3

CALENDAR_FEATURES: dict[str, str] = {
    "hour": "hour of the day (period 24)",
    "dow": "day of the week (period 7)",
    "weekend": "1 on Saturday and Sunday",
    "doy": "day of the year (period 365.25)",
    "month": "month of the year (period 12)",
    "quarter": "quarter of the year (period 4)",
}
"""Every calendar feature, with what it describes."""

PERIODS = {"hour": 24.0, "dow": 7.0, "doy": 365.25, "month": 12.0, "quarter": 4.0}

SUB_DAILY = re.compile(r"^\d*(h|H|min|T|s|S|ms|us|ns)$")


def auto_calendar(freq: str) -> tuple[str, ...]:
    """Return the calendar features that suit ``freq`` (a pandas alias).

    Hourly and finer: hour and day of week; daily and business-daily: day of week and
    day of year; weekly: day of year; monthly: month; quarterly: quarter. Yearly data
    has no calendar cycle.

    Raises:
        ConfigError: For yearly data, which no calendar feature can describe.
    """
    base = freq.split("-")[0].lstrip("0123456789")
    if SUB_DAILY.match(freq.split("-")[0]):
        return ("hour", "dow")
    if base in ("D", "B", "C"):
        return ("dow", "doy")
    if base == "W":
        return ("doy",)
    if base in ("M", "MS", "ME", "BM", "BMS", "SM", "SMS"):
        return ("month",)
    if base in ("Q", "QS", "QE", "BQ", "BQS"):
        return ("quarter",)
    raise ConfigError(
        f"--calendar auto found no calendar cycle in frequency {freq!r} (yearly data repeats nothing within a year). Drop --calendar, or name features from: {', '.join(CALENDAR_FEATURES)}."
    )


def check_calendar(names: Sequence[str]) -> None:
    """Refuse unknown calendar feature names, and ``auto`` beside others.

    Raises:
        ConfigError: Naming the feature and listing the known ones.
    """
    for name in names:
        if name != AUTO and name not in CALENDAR_FEATURES:
            raise ConfigError(
                f"Unknown calendar feature {name!r}. Use --calendar auto, or a list from: {', '.join(CALENDAR_FEATURES)}."
            )
    if AUTO in names and len(names) > 1:
        raise ConfigError(
            "--calendar auto picks the features itself; give either auto or a list of features, not both."
        )
    if len(set(names)) != len(names):
        raise ConfigError(
            f"--calendar lists a feature twice: {', '.join(names)}. List each once."
        )


def fourier_orders(period: float) -> list[tuple[str, int]]:
    """The Fourier terms of a cycle: ``[("sin", 1), ("cos", 1), ...]``."""
    top = min(MAX_ORDER, int(period // 2))
    terms = []
    for k in range(1, top + 1):
        if period != 2 * k:  # sin(pi * integer) is zero: leave it out
            terms.append(("sin", k))
        terms.append(("cos", k))
    return terms


def calendar_columns(names: Sequence[str]) -> tuple[str, ...]:
    """Return the column names of the calendar features ``names``, in order.

    Example: ``("quarter",)`` gives ``quarter_sin1, quarter_cos1, quarter_cos2``.
    """
    columns: list[str] = []
    for name in names:
        if name == "weekend":
            columns.append("weekend")
        else:
            columns += [f"{name}_{f}{k}" for f, k in fourier_orders(PERIODS[name])]
    return tuple(columns)


def known_columns(
    future_features: Sequence[str], calendar: Sequence[str], holidays: str | None
) -> tuple[str, ...]:
    """Every column known ahead, in the order the model reads them.

    The user's ``future_features`` first, then the calendar terms, then ``holiday``.
    """
    return (
        *future_features,
        *calendar_columns(calendar),
        *((HOLIDAY_COLUMN,) if holidays else ()),
    )
