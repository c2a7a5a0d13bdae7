"""What a ticker refresh downloads: the plan for a cached ticker, and revised-bar detection.

:func:`seqcast.data.ticker.fetch_history` asks :func:`plan_refresh` what to add to a
non-empty cache (nothing, the bars since shortly before the last cached one, or the
whole history again), and :func:`revised` whether an incremental fetch found older bars
changed, which means a dividend or split re-based the adjusted history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from seqcast.data.cache import INTRADAY_INTERVALS, CachedPrices
from seqcast.data.prices import TickerQuery

__all__ = ["Plan", "full_plan", "plan_refresh", "revised"]

# How far before the last cached bar a refresh starts again (picks up revised bars).
_OVERLAP = {
    "1d": timedelta(days=7),
    "5d": timedelta(days=15),
    "1wk": timedelta(days=21),
    "1mo": timedelta(days=62),
    "3mo": timedelta(days=185),
}
_INTRADAY_OVERLAP = timedelta(days=1)
_REVISION_RTOL = 1e-5


@dataclass(frozen=True, slots=True)
class Plan:
    """The bars to download, and how the cache takes them.

    Attributes:
        start: First date to ask for; None asks for the whole history.
        end: Last date to ask for (inclusive); None means up to now.
        covered_start: The earliest date the cache will then cover.
        incremental: Whether the bars extend a cache (so older ones can be compared).
        replace: Whether the bars replace the cache instead of being merged in.
    """

    start: date | None
    end: date | None  # inclusive
    covered_start: date | None
    incremental: bool
    replace: bool


def full_plan(query: TickerQuery) -> Plan:
    """Return the plan for a ticker with nothing cached: fetch exactly what was asked."""
    return Plan(
        query.start,
        query.end,
        covered_start=query.start,
        incremental=False,
        replace=False,
    )


def plan_refresh(
    cached: CachedPrices, query: TickerQuery, *, refresh: bool
) -> Plan | None:
    """Decide what to add to a non-empty cache; None when it already answers the query."""
    covered = cached.meta.covered_start
    if covered is not None and (query.start is None or query.start < covered):
        # Earlier history than ever fetched: fetch it all, so one adjustment basis holds.
        return Plan(
            query.start,
            None,
            covered_start=query.start,
            incremental=False,
            replace=True,
        )
    last = cached.last
    if last is None:
        return full_plan(query)
    if query.end is not None:
        end = pd.Timestamp(query.end)
        if (
            (last.normalize() > end)
            if query.interval in INTRADAY_INTERVALS
            else (last >= end)
        ):
            return None
    if not refresh:
        return None
    start = (last - _OVERLAP.get(query.interval, _INTRADAY_OVERLAP)).date()
    return Plan(
        start, query.end, covered_start=covered, incremental=True, replace=False
    )


def revised(old: pd.DataFrame, new: pd.DataFrame, *, before: pd.Timestamp) -> bool:
    """Whether bars both frames hold, older than ``before``, differ (a dividend or split)."""
    left = old.set_index("date")
    right = new.set_index("date")
    common = left.index.intersection(right.index)
    common = common[common < before]
    if len(common) == 0:
        return False
    for col in ("Close", "Adj Close"):
        a = left.loc[common, col].to_numpy(dtype=np.float64)
        b = right.loc[common, col].to_numpy(dtype=np.float64)
        if not np.allclose(a, b, rtol=_REVISION_RTOL, atol=0.0, equal_nan=True):
            return True
    return False
