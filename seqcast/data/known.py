"""Features known ahead from the timestamps alone: calendar terms and public holidays.

A calendar feature is a cycle of the timestamp (day of week, month, hour...) written
as Fourier terms: ``sin`` and ``cos`` of ``2 pi k phase`` for orders ``k = 1 ..
min(3, period // 2)`` (the ``sin`` at ``k = period / 2`` is zero everywhere and is
left out). For the day of the week that is 6 columns, which represent any weekly
profile exactly; for the month, 6 columns, a smooth yearly profile. ``weekend`` is 1
on Saturdays and Sundays. ``holiday`` counts the public holidays of a country (or one
of its subdivisions, ``AU-VIC``) that the ``holidays`` package knows: for daily or finer
data 1 on a holiday, for coarser data the number of holidays in the period that starts
at the row.

Everything here is NumPy on ``datetime64``, never pandas, so the forecast path computes
the features of future dates without importing it. The features of a timestamp never
depend on the data, so they are known for any step ahead.

Example: ``calendar_values(["2024-01-06"], ("dow",))`` gives the 6 terms of a Saturday
(phase 5/7).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from seqcast._types import FloatArray
from seqcast.config.known import PERIODS, SUB_DAILY, fourier_orders
from seqcast.errors import ConfigError

__all__ = [
    "calendar_values",
    "holiday_values",
    "is_daily_or_finer",
    "known_values",
]


def _stamps(dates: Sequence[str] | npt.NDArray[Any]) -> npt.NDArray[np.datetime64]:
    stamps = np.asarray(dates)
    if not np.issubdtype(stamps.dtype, np.datetime64):
        stamps = np.array([str(d)[:26] for d in stamps], dtype="datetime64[s]")
    return stamps


def _phase(name: str, stamps: npt.NDArray[np.datetime64]) -> FloatArray:
    """Position of every stamp in the cycle ``name``, in [0, 1)."""
    days = stamps.astype("datetime64[D]").astype(np.int64)
    if name == "hour":
        seconds = (stamps.astype("datetime64[s]").astype(np.int64)) % 86_400
        return np.asarray(seconds / 86_400.0, dtype=np.float64)
    if name == "dow":  # 1970-01-01 was a Thursday: Monday is 0
        return np.asarray(((days + 3) % 7) / 7.0, dtype=np.float64)
    months = stamps.astype("datetime64[M]").astype(np.int64) % 12
    if name == "month":
        return np.asarray(months / 12.0, dtype=np.float64)
    if name == "quarter":
        return np.asarray((months // 3) / 4.0, dtype=np.float64)
    year_start = stamps.astype("datetime64[Y]").astype("datetime64[D]").astype(np.int64)
    return np.asarray((days - year_start) / 365.25, dtype=np.float64)


def calendar_values(
    dates: Sequence[str] | npt.NDArray[Any], names: Sequence[str]
) -> FloatArray:
    """Return the calendar features of every timestamp, (n_dates, n_columns).

    Args:
        dates: ISO timestamps or a ``datetime64`` array.
        names: Calendar features (see :data:`seqcast.config.known.CALENDAR_FEATURES`); not ``auto``.
    """
    stamps = _stamps(dates)
    out: list[FloatArray] = []
    for name in names:
        if name == "weekend":
            days = stamps.astype("datetime64[D]").astype(np.int64)
            out.append(((days + 3) % 7 >= 5).astype(np.float64))
            continue
        phase = _phase(name, stamps)
        for f, k in fourier_orders(PERIODS[name]):
            angle = 2.0 * math.pi * k * phase
            out.append(np.sin(angle) if f == "sin" else np.cos(angle))
    if not out:
        return np.empty((len(stamps), 0), dtype=np.float64)
    return np.column_stack(out).astype(np.float64)


def _split_region(region: str) -> tuple[str, str | None]:
    country, _, subdiv = region.partition("-")
    return country.upper(), (subdiv or None)


def _calendar(region: str, years: Sequence[int] = ()) -> Any:
    """The ``holidays`` calendar of ``region`` (``US``, ``AU-VIC``, or ``NYSE``)."""
    try:
        import holidays
    except ImportError:  # pragma: no cover - a dependency of seqcast
        raise ConfigError(
            "--holidays needs the 'holidays' package. Install it with pip install holidays, or drop --holidays."
        ) from None
    country, subdiv = _split_region(region)
    try:
        if subdiv is None and country in holidays.list_supported_financial():
            return holidays.financial_holidays(country, years=list(years))
        return holidays.country_holidays(country, subdiv=subdiv, years=list(years))
    except NotImplementedError as exc:
        raise ConfigError(
            f"--holidays {region}: {exc}. Give a country code such as US or GB, a subdivision such as AU-VIC or US-CA, or an exchange such as NYSE."
        ) from None


def holiday_dates(
    region: str, first: np.datetime64, last: np.datetime64
) -> npt.NDArray[np.datetime64]:
    """The holidays of ``region`` from ``first`` to ``last`` (days), sorted."""
    years = range(int(str(first)[:4]), int(str(last)[:4]) + 1)
    calendar = _calendar(region, tuple(years))
    marked = sorted(np.datetime64(d, "D") for d in calendar)
    return np.array(marked, dtype="datetime64[D]")


def holiday_values(
    dates: Sequence[str] | npt.NDArray[Any],
    region: str,
    *,
    daily: bool,
    next_date: str | None = None,
) -> FloatArray:
    """Count the public holidays of ``region`` at every timestamp, (n_dates,).

    Args:
        dates: ISO timestamps, oldest first.
        region: Country, subdivision or exchange (as ``--holidays`` takes it).
        daily: Daily or finer data: 1 where the timestamp's day is a holiday. Otherwise
            the number of holidays from each timestamp up to (not including) the next.
        next_date: The timestamp after the last one (coarser data; without it the
            last period is taken to be as long as the one before).
    """
    days = _stamps(dates).astype("datetime64[D]")
    if len(days) == 0:
        return np.empty(0, dtype=np.float64)
    if daily:
        marked = holiday_dates(region, days.min(), days.max())
        return np.isin(days, marked).astype(np.float64)
    if next_date is not None:
        end = _stamps([next_date])[0].astype("datetime64[D]")
    elif len(days) > 1:
        end = days[-1] + (days[-1] - days[-2])
    else:
        end = days[-1] + 1
    bounds = np.append(days, end)
    marked = holiday_dates(region, days.min(), end)
    counts = np.searchsorted(marked, bounds[1:]) - np.searchsorted(marked, bounds[:-1])
    return counts.astype(np.float64)


def is_daily_or_finer(freq: str) -> bool:
    """Whether ``freq`` steps a day or less (``D``, ``B``, ``h``, ``15min``...)."""
    head = freq.split("-")[0]
    return bool(SUB_DAILY.match(head)) or head.lstrip("0123456789") in ("D", "B", "C")


def known_values(
    dates: Sequence[str] | npt.NDArray[Any],
    freq: str,
    calendar: Sequence[str],
    holidays: str | None,
    next_date: str | None = None,
) -> FloatArray:
    """The calendar and holiday columns of every timestamp, (n_dates, n_columns).

    The columns are :func:`seqcast.config.known.calendar_columns` of ``calendar``, then ``holiday`` when
    ``holidays`` names a region.
    """
    parts = [calendar_values(dates, calendar)]
    if holidays:
        daily = is_daily_or_finer(freq)
        parts.append(
            holiday_values(dates, holidays, daily=daily, next_date=next_date)[:, None]
        )
    return np.concatenate(parts, axis=1)
