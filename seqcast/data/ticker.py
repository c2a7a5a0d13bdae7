"""Stock prices from Yahoo Finance (yfinance) as a ``date`` + price table, via the on-disk cache.

The rest of the pipeline never knows where the data came from: :func:`fetch_history`
returns a plain frame with a ``date`` column and the chosen price column, ready for
``frame.prepare(raw, DataConfig(target=query.column, date_col="date", freq=query.freq))``.

Adjusted vs raw prices (``TickerQuery.adjusted``):

- The cache always stores what Yahoo calls the raw bars (yfinance ``auto_adjust=False``):
  ``Open``/``High``/``Low``/``Close`` as traded (Yahoo already scales them for splits, not
  for dividends), ``Adj Close`` (also adjusted for dividends) and ``Volume``.
- ``adjusted=True`` (the default, and yfinance's own default) gives total-return prices:
  ``Open``/``High``/``Low`` are multiplied by ``Adj Close / Close`` and ``Close`` becomes
  ``Adj Close``, exactly as yfinance's ``auto_adjust`` does; ``Volume`` is unchanged.
  Use it for forecasting, so dividends do not show up as price drops.
- ``adjusted=False`` gives the prices as traded; ``Adj Close`` is still available as a column.

Calendars: daily bars are dated by their trading day in the exchange's time zone (the
tz-aware index yfinance returns is made tz-naive, keeping local dates). Their frequency is
business days (``"B"``, Monday to Friday): weekends never appear in forecasts, and market
holidays (e.g. Good Friday) are missing business days that the caller fills, with
``DataConfig(fill=FillPolicy.FFILL)``. Intraday bars keep the exchange's local wall-clock time.

Failures are bounded and reported as one-line :class:`SourceError`s naming the ticker:
an unknown or delisted ticker (yfinance returns an empty frame or raises
``YFTickerMissingError``), a rate limit (``YFRateLimitError`` / HTTP 429), no network, or no
complete answer within ``timeout`` seconds in total.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from seqcast.data.answers import (
    answer,
    fall_back,
    offline_answer,
    read_cached,
    stamp,
    use_unwritable,
)
from seqcast.data.cache import (
    LOCK_TIMEOUT_S,
    CachedPrices,
    CacheUnwritable,
    cache_file,
    ensure_dir,
    resolve_cache_dir,
    update_cache,
)
from seqcast.data.prices import (
    DEFAULT_TIMEOUT_S,
    Interval,
    PriceColumn,
    TickerData,
    TickerQuery,
    freq_for_interval,
    price_table,
)
from seqcast.data.refresh import Plan, full_plan, plan_refresh, revised
from seqcast.data.yahoo import (
    _classify,
    _FetchFailure,
    _timeout_failure,
    quiet_yfinance,
)
from seqcast.data.yahoo import normalize_history as normalize_history
from seqcast.errors import SourceError

__all__ = [
    "DEFAULT_TIMEOUT_S",
    "Interval",
    "PriceColumn",
    "TickerData",
    "TickerQuery",
    "fetch_history",
    "freq_for_interval",
    "normalize_history",
    "price_table",
]


def fetch_history(
    query: TickerQuery,
    *,
    cache_dir: Path | None = None,
    offline: bool = False,
    max_age: timedelta | None = None,
    refresh: bool = True,
    timeout: float = DEFAULT_TIMEOUT_S,
    lock_timeout: float = LOCK_TIMEOUT_S,
) -> TickerData:
    """Return a ticker's prices, downloading only what the cache lacks.

    With a cache for the ticker and interval, only bars from a few days before the last
    cached bar onwards are requested (the overlap picks up a revised last bar) and merged
    in. If the overlapping older bars changed, a dividend or split re-based the adjusted
    history, so the whole history is fetched again. A ``start`` earlier than any fetched
    before triggers a full fetch from ``start``.

    Call this before anything imports Keras or TensorFlow (``train`` and ``forecast``
    fetch first, then build or load the model): importing TensorFlow before yfinance
    creates its HTTP session has been reported to break yfinance's requests. Nothing
    on this path imports Keras; a test checks it.

    Args:
        query: What to fetch.
        cache_dir: Cache directory (``--cache-dir``); None uses ``$SEQCAST_CACHE_DIR``
            or the user cache directory.
        offline: Never touch the network; use the cache as it is.
        max_age: When a refresh fails, use a cache fetched at most this long ago
            (``--max-stale``) instead of failing; None never uses stale data.
        refresh: False uses the cache as it is when it reaches back to ``query.start``,
            downloading only when it does not.
        timeout: Seconds allowed for all downloads of this call together.
        lock_timeout: Seconds to wait for another process updating the same cache file.

    Returns:
        The prices, with provenance and notes for stderr.

    Raises:
        SourceError: Download failed (unknown ticker, rate limit, network, timeout) and
            no usable cache; offline with nothing cached; no bars between start and end.
        LockError: Another process held the cache file's lock too long.
        DataError: Offline and the cache file is damaged.
    """
    directory = resolve_cache_dir(cache_dir)
    path = cache_file(directory, query.ticker, query.interval)
    notes: list[str] = []
    cached = read_cached(path, query, offline=offline, notes=notes)
    if offline:
        return offline_answer(query, cached, directory=directory, notes=notes)
    if cached is None:
        plan = full_plan(query)
    else:
        update = plan_refresh(cached, query, refresh=refresh)
        if update is None:
            return answer(query, cached, from_cache=True, stale=False, notes=notes)
        plan = update
    return _refresh(
        query,
        cached,
        plan,
        directory=directory,
        path=path,
        max_age=max_age,
        timeout=timeout,
        lock_timeout=lock_timeout,
        notes=notes,
    )


def _refresh(
    query: TickerQuery,
    cached: CachedPrices | None,
    plan: Plan,
    *,
    directory: Path,
    path: Path,
    max_age: timedelta | None,
    timeout: float,
    lock_timeout: float,
    notes: list[str],
) -> TickerData:
    """Download what ``plan`` asks for and merge it into the cache.

    When the download fails or the cache cannot be written, a cached copy is used if
    ``max_age`` allows it (:mod:`seqcast.data.answers`); with nothing cached, the
    error is raised.
    """
    try:
        ensure_dir(directory / "yfinance")
    except CacheUnwritable as exc:
        if cached is None:
            raise
        return use_unwritable(query, cached, exc, max_age=max_age, notes=notes)
    try:
        fresh, covered_start, replace = _download_planned(
            query, cached, plan, timeout=timeout, directory=directory, notes=notes
        )
    except _FetchFailure as failure:
        if cached is None:
            raise SourceError(
                failure.message(query.ticker, query.interval, plan.start, plan.end)
            ) from None
        return fall_back(
            query, cached, failure, max_age=max_age, directory=directory, notes=notes
        )

    try:
        updated = update_cache(
            path,
            fresh,
            ticker=query.ticker,
            interval=query.interval,
            covered_start=covered_start,
            replace=replace,
            lock_timeout=lock_timeout,
        )
    except CacheUnwritable as exc:
        if cached is None:
            raise
        return use_unwritable(query, cached, exc, max_age=max_age, notes=notes)
    return answer(query, updated, from_cache=False, stale=False, notes=notes)


def _download_planned(
    query: TickerQuery,
    cached: CachedPrices | None,
    plan: Plan,
    *,
    timeout: float,
    directory: Path,
    notes: list[str],
) -> tuple[pd.DataFrame, date | None, bool]:
    """Download the plan's bars within ``timeout`` seconds in total.

    If an incremental download finds older cached bars revised (a dividend or split),
    the whole history is downloaded again, with a note.

    Returns:
        The bars, and the ``covered_start`` and ``replace`` the cache update takes.

    Raises:
        _FetchFailure: If a download fails or runs out of time.
    """
    deadline = time.monotonic() + timeout
    covered_start, replace = plan.covered_start, plan.replace
    fresh = _fetch(
        query,
        plan.start,
        plan.end,
        deadline=deadline,
        timeout=timeout,
        directory=directory,
    )
    if (
        plan.incremental
        and cached is not None
        and cached.last is not None
        and revised(cached.frame, fresh, before=cached.last)
    ):
        notes.append(
            f"{query.ticker} ({query.interval}) prices before {stamp(cached.last, query.interval)} changed since the last fetch (a dividend or split); fetched the whole history again."
        )
        covered_start, replace = cached.meta.covered_start, True
        fresh = _fetch(
            query,
            covered_start,
            None,
            deadline=deadline,
            timeout=timeout,
            directory=directory,
        )
    return fresh, covered_start, replace


def _download(
    ticker: str,
    start: date | None,
    end: date | None,
    interval: str,
    *,
    timeout: float,
    yf_cache_dir: Path,
) -> pd.DataFrame:
    """Ask Yahoo Finance for raw bars; the only function in seqcast that uses the network.

    Uses ``yf.Ticker(ticker).history`` rather than ``yf.download``: ``download`` catches
    every per-ticker exception (rate limit included), logs it and returns an empty frame,
    so a throttled request would look like an unknown ticker. ``history`` raises when
    ``yf.config.debug.hide_exceptions`` is False (the replacement for the deprecated
    ``raise_errors``). Prices are always raw (``auto_adjust=False``) so that the cache
    holds both Close and Adj Close; :func:`price_table` adjusts.

    Args:
        ticker: Upper-case symbol.
        start: First date (inclusive); None asks for the whole history (``period="max"``).
        end: Date after the last one wanted (exclusive, as yfinance's ``end``); None = now.
        interval: yfinance interval.
        timeout: Seconds per HTTP request (the caller also bounds the total time).
        yf_cache_dir: Folder for yfinance's timezone and cookie SQLite caches, inside
            seqcast's cache, so a cron job never contends for ``~/.cache/py-yfinance``.

    Returns:
        The frame yfinance returned.
    """
    # Imported here, not at module level: yfinance is slow to import, and it must create
    # its HTTP session before TensorFlow/Keras is imported (reported to break its requests).
    import yfinance as yf

    yf.set_tz_cache_location(str(yf_cache_dir))
    debug = yf.config.debug
    hide = debug.hide_exceptions
    debug.hide_exceptions = False
    try:
        kwargs: dict[str, Any] = {
            "interval": interval,
            "auto_adjust": False,
            "actions": False,
            "repair": False,
            "prepost": False,
            "keepna": False,
            "timeout": timeout,
        }
        if start is None:
            kwargs["period"] = "max"
        else:
            kwargs["start"] = start.isoformat()
        if end is not None:
            kwargs["end"] = end.isoformat()
        frame = yf.Ticker(ticker).history(**kwargs)
    finally:
        debug.hide_exceptions = hide
    return frame if isinstance(frame, pd.DataFrame) else pd.DataFrame()


class _DeadlineExceeded(Exception):
    pass


def _fetch(
    query: TickerQuery,
    start: date | None,
    end: date | None,
    *,
    deadline: float,
    timeout: float,
    directory: Path,
) -> pd.DataFrame:
    """Download and normalise bars from start to end (inclusive) within the deadline."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise _timeout_failure(timeout)
    end_exclusive = None if end is None else end + timedelta(days=1)

    def call() -> pd.DataFrame:  # runs in the download thread, so an abandoned one
        with quiet_yfinance():  # stays quiet too
            return _download(
                query.ticker,
                start,
                end_exclusive,
                query.interval,
                timeout=remaining,
                yf_cache_dir=directory / "yfinance",
            )

    try:
        raw = _call_with_deadline(call, remaining)
    except _DeadlineExceeded:
        raise _timeout_failure(timeout) from None
    except (
        Exception
    ) as exc:  # the network boundary: whatever yfinance raises is a failed download
        raise _classify(exc, timeout) from exc
    frame = normalize_history(raw, query.ticker, query.interval)
    if frame.empty:
        raise _FetchFailure("no_data", "", "")
    return frame


def _call_with_deadline(
    func: Callable[[], pd.DataFrame], seconds: float
) -> pd.DataFrame:
    """Run ``func`` in a daemon thread and give up after ``seconds``.

    yfinance's per-request ``timeout`` does not bound a whole call (its cookie and crumb
    requests use their own 30 s default, and one call makes several requests), so the
    total is bounded here. A thread that overruns is abandoned; its result is ignored.
    """
    result: list[pd.DataFrame] = []
    errors: list[BaseException] = []
    done = threading.Event()

    def run() -> None:
        try:
            result.append(func())
        except BaseException as exc:
            errors.append(exc)
        finally:
            done.set()

    threading.Thread(target=run, name="seqcast-download", daemon=True).start()
    if not done.wait(seconds):
        raise _DeadlineExceeded
    if errors:
        raise errors[0]
    return result[0]
