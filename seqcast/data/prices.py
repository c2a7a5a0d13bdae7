"""What to fetch from Yahoo Finance and what came back: queries, intervals, price tables.

:class:`TickerQuery` is validated once, when built; :class:`TickerData` is what
:func:`seqcast.data.ticker.fetch_history` returns. Kept apart from the fetching itself so
that readers of prices (the CLI's ``data show``, training from a ticker) need not know
how the cache and the download work.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from seqcast.data.cache import PRICE_COLUMNS
from seqcast.data.source import Source
from seqcast.errors import ConfigError

DEFAULT_TIMEOUT_S = 30.0


class Interval(StrEnum):
    """Bar intervals that yfinance supports (intraday history is limited by Yahoo)."""

    M1 = "1m"
    M2 = "2m"
    M5 = "5m"
    M15 = "15m"
    M30 = "30m"
    M60 = "60m"
    M90 = "90m"
    H1 = "1h"
    D1 = "1d"
    D5 = "5d"
    WK1 = "1wk"
    MO1 = "1mo"
    MO3 = "3mo"


class PriceColumn(StrEnum):
    """Price columns a ticker query can forecast."""

    OPEN = "Open"
    HIGH = "High"
    LOW = "Low"
    CLOSE = "Close"
    ADJ_CLOSE = "Adj Close"
    VOLUME = "Volume"


_TICKER_RE = re.compile(r"(?=.*[A-Z0-9])[A-Z0-9.^=-]{1,32}")
_COLUMN_KEYS = {re.sub(r"[\s_-]", "", c.lower()): c for c in PRICE_COLUMNS}
_FREQ = {"1d": "B", "1wk": "W-MON", "1mo": "MS"}


def freq_for_interval(interval: str) -> str | None:
    """Return the pandas frequency of an interval's bars, or None where it is irregular.

    ``1d`` -> ``"B"`` (business days), ``1wk`` -> ``"W-MON"`` (Yahoo dates weekly bars
    by their Monday), ``1mo`` -> ``"MS"``; intraday, ``5d`` and ``3mo`` bars have gaps
    (nights, holidays) or Yahoo-specific anchors, so None lets ``frame.prepare`` infer.
    """
    return _FREQ.get(interval)


@dataclass(frozen=True, slots=True)
class TickerQuery:
    """Which prices to fetch; validated once, when built.

    Attributes:
        ticker: Yahoo Finance symbol (``AAPL``, ``BRK-B``, ``^GSPC``, ``EURUSD=X``);
            upper-cased.
        start: First date to include; None means from the first trading day.
        end: Last date to include (inclusive, unlike yfinance's ``end``); None means today.
        interval: One of :class:`Interval`.
        column: One of :class:`PriceColumn` (case and spaces/underscores are ignored:
            ``adj_close`` -> ``Adj Close``).
        adjusted: Adjust for dividends and splits (see the module docstring).
    """

    ticker: str
    start: date | None = None
    end: date | None = None
    interval: str = "1d"
    column: str = "Close"
    adjusted: bool = True

    def __post_init__(self) -> None:
        symbol = str(self.ticker).strip().upper()
        if not _TICKER_RE.fullmatch(symbol):
            raise ConfigError(
                f"ticker={self.ticker!r} is not a Yahoo Finance symbol: use only letters, digits and . ^ = -. Give the symbol as finance.yahoo.com shows it, such as AAPL, BRK-B or ^GSPC."
            )
        object.__setattr__(self, "ticker", symbol)
        interval = str(self.interval)
        if interval not in set(Interval):
            raise ConfigError(
                f"interval={interval!r} is not supported by Yahoo Finance. Use one of: {', '.join(Interval)}."
            )
        object.__setattr__(self, "interval", interval)
        column = _COLUMN_KEYS.get(re.sub(r"[\s_-]", "", str(self.column).lower()))
        if column is None:
            raise ConfigError(
                f"column={self.column!r} is not a price column. Use one of: {', '.join(PRICE_COLUMNS)}."
            )
        object.__setattr__(self, "column", column)
        for name in ("start", "end"):
            value = getattr(self, name)
            if isinstance(value, datetime):
                object.__setattr__(self, name, value.date())
        if self.start is not None and self.end is not None and self.start > self.end:
            raise ConfigError(
                f"start={self.start} is after end={self.end}. Swap them, or drop --end."
            )

    @property
    def freq(self) -> str | None:
        """Pandas frequency of the bars (``"B"`` for daily); see :func:`freq_for_interval`."""
        return freq_for_interval(self.interval)


@dataclass(frozen=True, slots=True)
class TickerData:
    """Prices ready for ``frame.prepare``, and where they came from.

    Attributes:
        query: The query answered.
        frame: Columns ``date`` (tz-naive datetime64, sorted, unique) and
            ``query.column`` (float64; NaN where Yahoo has no value), limited to
            ``query.start``..``query.end``. Daily bars skip weekends; holidays are
            absent rows, i.e. missing business days for the caller to fill.
        from_cache: True when no download was used (offline, cache already complete,
            or a failed refresh fell back to the cache).
        stale: True when a refresh failed and the cache was used within ``max_age``.
        last_fetched: UTC time the cache was last refreshed from the network.
        path: The cache file.
        notes: One-line messages for stderr (a failed refresh, a refetch after a
            dividend or split, a cache that does not reach back to ``start``).
    """

    query: TickerQuery
    frame: pd.DataFrame
    from_cache: bool
    stale: bool
    last_fetched: datetime
    path: Path
    notes: tuple[str, ...] = ()

    @property
    def source(self) -> Source:
        """The record of this query kept in a model directory."""
        q = self.query
        return Source(
            kind="ticker",
            ticker=q.ticker,
            interval=q.interval,
            column=q.column,
            adjusted=q.adjusted,
        )

    def config_defaults(self) -> dict[str, Any]:
        """Data options that suit these prices, for :meth:`RunConfig.with_defaults`.

        The target is the price column, the dates are ``date``, the frequency is the
        interval's (``B`` for daily bars) and missing bars (market holidays) are
        forward-filled: the last price stands until the market trades again.
        """
        return {
            "target": self.query.column,
            "date_col": "date",
            "freq": self.freq,
            "fill": "ffill",
        }

    @property
    def freq(self) -> str | None:
        """Pandas frequency for ``DataConfig.freq`` (``"B"`` for daily bars)."""
        return self.query.freq


def price_table(raw: pd.DataFrame, *, adjusted: bool) -> pd.DataFrame:
    """Return cached raw prices as traded, or adjusted for dividends and splits.

    Args:
        raw: ``date`` + :data:`PRICE_COLUMNS` as stored in the cache.
        adjusted: If True, multiply Open, High and Low by ``Adj Close / Close`` and set
            Close to ``Adj Close`` (yfinance's ``auto_adjust``); Volume is unchanged.

    Returns:
        A new frame with the same columns. E.g. Close=100, Adj Close=99, Open=101
        becomes Close=99, Open=99.99 when adjusted.
    """
    out = raw.copy()
    if not adjusted:
        return out
    ratio = (out["Adj Close"] / out["Close"]).replace([np.inf, -np.inf], np.nan)
    for col in ("Open", "High", "Low"):
        out[col] = out[col] * ratio
    out["Close"] = out["Adj Close"]
    return out
