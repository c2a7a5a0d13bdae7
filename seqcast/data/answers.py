"""Answering a ticker query from the price cache, and the fallbacks when a refresh fails.

:func:`read_cached` reads the cache file (a damaged one is ignored while online);
:func:`offline_answer` answers ``--offline`` from it as it is; :func:`answer` cuts the
cached prices to the query's dates and column as a
:class:`~seqcast.data.prices.TickerData`; :func:`fall_back` (a failed download) and
:func:`use_unwritable` (a cache that cannot be updated) answer from the cache when
``--max-stale`` allows its age, and raise a one-line error naming the fix otherwise.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd

from seqcast.data.cache import (
    INTRADAY_INTERVALS,
    CachedPrices,
    CacheUnwritable,
    age_option,
    format_age,
    read_cache,
)
from seqcast.data.prices import TickerData, TickerQuery, price_table
from seqcast.data.yahoo import _day, _FetchFailure
from seqcast.errors import ConfigError, DataError, SourceError

__all__ = [
    "answer",
    "coverage_notes",
    "fall_back",
    "offline_answer",
    "read_cached",
    "stamp",
    "use_unwritable",
]


def read_cached(
    path: Path, query: TickerQuery, *, offline: bool, notes: list[str]
) -> CachedPrices | None:
    """Read the cache file; None if absent or empty, or damaged while online (noted)."""
    try:
        cached = read_cache(path)
    except DataError:
        if offline:
            raise
        notes.append(
            f"Ignored the damaged cache file {path}; fetching {query.ticker} ({query.interval}) afresh."
        )
        cached = None
    if cached is not None and cached.frame.empty:
        cached = None
    return cached


def offline_answer(
    query: TickerQuery,
    cached: CachedPrices | None,
    *,
    directory: Path,
    notes: list[str],
) -> TickerData:
    """Answer from the cache as it is, noting history it lacks; raise if nothing is cached."""
    if cached is None:
        hint = "" if query.interval == "1d" else f" --interval {query.interval}"
        raise SourceError(
            f"No cached data for {query.ticker} ({query.interval}) in {directory}. Run `seqcast data fetch {query.ticker}{hint}` while online, or drop --offline."
        )
    return answer(
        query,
        cached,
        from_cache=True,
        stale=False,
        notes=notes + coverage_notes(query, cached),
    )


def fall_back(
    query: TickerQuery,
    cached: CachedPrices,
    failure: _FetchFailure,
    *,
    max_age: timedelta | None,
    directory: Path,
    notes: list[str],
) -> TickerData:
    """Use the cache after a failed refresh if ``max_age`` allows it, else raise."""
    age = datetime.now(UTC) - cached.meta.fetched_at
    last = stamp(cached.last, query.interval)
    if max_age is not None and age <= max_age:
        notes.append(
            f"Could not refresh {query.ticker} ({query.interval}): {failure.short_reason}; using the cached copy fetched {format_age(age)} ago (last bar {last})."
        )
        return answer(query, cached, from_cache=True, stale=True, notes=notes)
    limit = "" if max_age is None else f", older than the {format_age(max_age)} allowed"
    raise SourceError(
        f"Cannot refresh {query.ticker} ({query.interval}): {failure.short_reason}. The cached copy in {directory} was fetched {format_age(age)} ago{limit}; pass --max-stale {age_option(age)} to use it, or retry later."
    )


def use_unwritable(
    query: TickerQuery,
    cached: CachedPrices,
    error: CacheUnwritable,
    *,
    max_age: timedelta | None,
    notes: list[str],
) -> TickerData:
    """Use a cache that cannot be updated (read-only) if ``max_age`` allows it, else raise."""
    age = datetime.now(UTC) - cached.meta.fetched_at
    if max_age is not None and age <= max_age:
        notes.append(
            f"Could not update the cache ({error.path}: {error.reason}); using the cached copy of {query.ticker} ({query.interval}) fetched {format_age(age)} ago (last bar {stamp(cached.last, query.interval)})."
        )
        return answer(query, cached, from_cache=True, stale=True, notes=notes)
    raise ConfigError(
        f"Cannot update the cache for {query.ticker} ({query.interval}): {error.path}: {error.reason}. Free some space in the cache or make it writable, pass --cache-dir with another folder, or pass --max-stale {age_option(age)} to use the copy fetched {format_age(age)} ago."
    )


def answer(
    query: TickerQuery,
    prices: CachedPrices,
    *,
    from_cache: bool,
    stale: bool,
    notes: list[str],
) -> TickerData:
    """Cut the cached prices to the query's dates and column."""
    table = price_table(prices.frame, adjusted=query.adjusted)
    dates = table["date"]
    keep = pd.Series(True, index=table.index)
    if query.start is not None:
        keep &= dates >= pd.Timestamp(query.start)
    if query.end is not None:
        keep &= dates < pd.Timestamp(query.end) + pd.Timedelta(days=1)
    frame = table.loc[keep, ["date", query.column]].reset_index(drop=True)
    if frame.empty:
        raise SourceError(
            f"No {query.interval} prices for {query.ticker} from {_day(query.start, 'the first trading day')} to {_day(query.end, 'today')}; the cached data runs from {stamp(prices.first, query.interval)} to {stamp(prices.last, query.interval)}. Change --start/--end to overlap it."
        )
    return TickerData(
        query=query,
        frame=frame,
        from_cache=from_cache,
        stale=stale,
        last_fetched=prices.meta.fetched_at,
        path=prices.path,
        notes=tuple(notes),
    )


def coverage_notes(query: TickerQuery, cached: CachedPrices) -> list[str]:
    """Return a note when the cache starts after the query's start (offline use)."""
    covered = cached.meta.covered_start
    if query.start is None or covered is None or query.start >= covered:
        return []
    hint = "" if query.interval == "1d" else f" --interval {query.interval}"
    return [
        f"The cached {query.ticker} ({query.interval}) data starts on {stamp(cached.first, query.interval)}, after start {query.start}; run `seqcast data fetch {query.ticker} --start {query.start}{hint}` while online to fill the gap."
    ]


def stamp(value: pd.Timestamp | None, interval: str) -> str:
    """Format a bar's timestamp for a message: the date, with the time for intraday bars."""
    if value is None:
        return "-"
    return (
        value.strftime("%Y-%m-%d %H:%M")
        if interval in INTRADAY_INTERVALS
        else value.strftime("%Y-%m-%d")
    )
