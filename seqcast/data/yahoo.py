"""Put yfinance's answers in seqcast's terms: frames in the cache layout, failures by kind.

yfinance answers in several shapes (``Ticker.history`` or ``yf.download``, single-level or
MultiIndex columns, tz-aware or naive dates) and fails through yfinance, requests or
curl_cffi exceptions; :func:`normalize_history` and :func:`_classify` reduce both to one
form, so that ``data.ticker`` deals only with the cache and the query.
"""

from __future__ import annotations

import contextlib
import logging
import re
import socket
import threading
from collections.abc import Iterator
from datetime import date

import numpy as np
import pandas as pd

from seqcast.data.cache import INTRADAY_INTERVALS, PRICE_COLUMNS
from seqcast.errors import SourceError
from seqcast.logs import event


def normalize_history(raw: pd.DataFrame, ticker: str, interval: str) -> pd.DataFrame:
    """Turn a yfinance frame of any known shape into the cache layout.

    Handles ``Ticker.history`` (single-level columns, tz-aware ``Date``/``Datetime``
    index, extra ``Dividends``/``Stock Splits`` columns) and ``yf.download`` (MultiIndex
    ``(Price, Ticker)`` or ``(Ticker, Price)`` columns, tz-naive daily index).

    Args:
        raw: The frame yfinance returned.
        ticker: Upper-case symbol, used to pick its columns out of a MultiIndex.
        interval: Bar interval; daily and longer bars are reduced to dates.

    Returns:
        A new frame: ``date`` (tz-naive datetime64[ns]: the exchange's local time, at
        midnight for daily and longer bars), then :data:`PRICE_COLUMNS` as float64
        (``Adj Close`` = ``Close`` when yfinance gave none). Rows without any price are
        dropped; sorted, one row per date (the last wins). Empty if ``raw`` holds no bars.

    Raises:
        SourceError: If the frame has a shape seqcast does not know.
    """
    frame = raw
    if isinstance(frame.columns, pd.MultiIndex):
        frame = _one_ticker(frame, ticker)
    frame = frame.rename(columns=lambda c: str(c).strip())
    if not isinstance(frame.index, pd.DatetimeIndex):
        for name in ("Date", "Datetime", "date"):
            if name in frame.columns:
                frame = frame.set_index(name)
                break
    if frame.empty:
        return _empty_prices()
    if "Close" not in frame.columns:
        raise SourceError(
            f"yfinance returned {ticker} prices without a Close column (columns: {', '.join(map(str, frame.columns))}). Upgrade seqcast, or report this with the yfinance version."
        )
    try:
        index = pd.DatetimeIndex(
            frame.index
            if isinstance(frame.index, pd.DatetimeIndex)
            else pd.to_datetime(frame.index, format="ISO8601")
        )
    except (ValueError, TypeError):
        raise SourceError(
            f"yfinance returned {ticker} prices with dates seqcast cannot read (first: {frame.index[0]!r}). Upgrade seqcast, or report this with the yfinance version."
        ) from None
    if index.tz is not None:
        index = index.tz_localize(
            None
        )  # keep the exchange's local wall-clock time and date
    if interval not in INTRADAY_INTERVALS:
        index = index.normalize()
    out = pd.DataFrame({"date": index.astype("datetime64[ns]")})
    for col in PRICE_COLUMNS:
        if col in frame.columns:
            out[col] = pd.to_numeric(frame[col].to_numpy(), errors="coerce").astype(
                np.float64
            )
        elif col == "Adj Close":
            out[col] = out["Close"]
        else:
            out[col] = np.nan
    out = out.dropna(subset=["date"]).dropna(
        subset=["Open", "High", "Low", "Close", "Adj Close"], how="all"
    )
    out = out.drop_duplicates(subset="date", keep="last").sort_values(
        "date", kind="stable"
    )
    return out.reset_index(drop=True)


def _one_ticker(frame: pd.DataFrame, ticker: str) -> pd.DataFrame:
    """Pick one ticker's columns out of yf.download's MultiIndex columns."""
    columns = frame.columns
    for level in range(columns.nlevels):
        for label in columns.get_level_values(level).unique():
            if str(label).upper() != ticker:
                continue
            picked = frame.xs(label, axis=1, level=level)
            if isinstance(picked, pd.DataFrame) and not isinstance(
                picked.columns, pd.MultiIndex
            ):
                return picked
    if columns.nlevels == 2:
        for level in (0, 1):
            prices = {str(v) for v in columns.get_level_values(1 - level)}
            if len(set(columns.get_level_values(level))) == 1 and "Close" in prices:
                return frame.droplevel(level, axis=1)  # one ticker, spelled differently
    others = sorted(
        {
            str(v)
            for level in range(columns.nlevels)
            for v in columns.get_level_values(level)
        }
        - set(PRICE_COLUMNS)
    )
    raise SourceError(
        f"yfinance returned prices for {', '.join(others)} but not for {ticker}. Retry; if it persists, report it with the yfinance version."
    )


def _empty_prices() -> pd.DataFrame:
    out = pd.DataFrame({"date": pd.Series([], dtype="datetime64[ns]")})
    for col in PRICE_COLUMNS:
        out[col] = pd.Series([], dtype=np.float64)
    return out


class _FetchFailure(Exception):
    """A download that did not produce bars; turned into a SourceError or a stale note."""

    def __init__(self, kind: str, reason: str, advice: str) -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason
        self.advice = advice

    def message(
        self, ticker: str, interval: str, start: date | None, end: date | None
    ) -> str:
        if self.kind == "no_data":
            detail = f" ({self.reason})" if self.reason else ""
            return f"Yahoo Finance has no {interval} prices for {ticker} from {_day(start, 'the first trading day')} to {_day(end, 'today')}{detail}; the ticker may be unknown or delisted. Check the symbol on finance.yahoo.com, or widen --start/--end."
        return f"Cannot download {ticker} ({interval}): {self.reason}. {self.advice}"

    @property
    def short_reason(self) -> str:
        if self.kind == "no_data":
            return "Yahoo Finance returned no prices" + (
                f" ({self.reason})" if self.reason else ""
            )
        return self.reason


def _classify(exc: BaseException, timeout: float) -> _FetchFailure:
    """Map an exception from yfinance, requests or curl_cffi to a failure kind, by duck typing.

    A failed DNS lookup is named as such: curl_cffi raises it with a response whose
    status is 0 (no answer at all), which is not an HTTP status.
    """
    names = {cls.__name__ for cls in type(exc).__mro__}
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    status = status if isinstance(status, int) and 100 <= status <= 599 else None
    detail = _one_line(exc)
    host = _unresolved_host(exc)
    if host is not None:
        return _FetchFailure(
            "network",
            f"could not resolve the host {host} (the DNS lookup failed)",
            "Check the network connection and DNS settings, and retry.",
        )
    if "YFRateLimitError" in names or status == 429:
        return _FetchFailure(
            "rate_limit",
            "Yahoo Finance is rate-limiting requests from this machine (HTTP 429)",
            "Wait a few minutes and retry, and refresh fewer tickers at once.",
        )
    if "YFTickerMissingError" in names or status == 404:
        reason = getattr(exc, "rationale", None)
        return _FetchFailure("no_data", str(reason) if reason else "", "")
    if isinstance(exc, TimeoutError) or names & {
        "Timeout",
        "ConnectTimeout",
        "ReadTimeout",
    }:
        return _timeout_failure(timeout)
    if status is not None:
        return _FetchFailure(
            "http", f"Yahoo Finance answered HTTP {status}", "Retry later."
        )
    if isinstance(exc, OSError) or "ConnectionError" in names:
        return _FetchFailure(
            "network",
            f"network error ({type(exc).__name__}: {detail})",
            "Check the network connection and retry.",
        )
    return _FetchFailure(
        "unexpected",
        f"unexpected answer from Yahoo Finance ({type(exc).__name__}: {detail})",
        "Retry later; if it keeps failing, upgrade yfinance (pip install -U yfinance).",
    )


_DNS_NAMES = frozenset({"DNSError", "NameResolutionError", "gaierror"})
_DNS_TEXT = re.compile(
    r"Could not resolve host|Failed to resolve|Name or service not known|"
    r"Temporary failure in name resolution|nodename nor servname|getaddrinfo failed",
    re.IGNORECASE,
)
_HOST = re.compile(
    r"(?:resolve host:?|Failed to resolve|host=)\s*'?([A-Za-z0-9][A-Za-z0-9.-]*[A-Za-z0-9])"
)


def _unresolved_host(exc: BaseException) -> str | None:
    """Return the host a failed DNS lookup named ("the host" if none), else None.

    Looks through the exception and its causes: requests wraps urllib3's
    ``NameResolutionError`` in a ``ConnectionError``, curl_cffi raises ``DNSError``.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        names = {cls.__name__ for cls in type(current).__mro__}
        text = str(current)
        if (
            names & _DNS_NAMES
            or isinstance(current, socket.gaierror)
            or _DNS_TEXT.search(text)
        ):
            found = _HOST.search(text)
            return found.group(1) if found else "of Yahoo Finance"
        current = current.__cause__ or current.__context__
    return None


class _ToLogFile(logging.Handler):
    """Pass yfinance's records to the ``seqcast`` log (``--log-file``), never to stderr."""

    def emit(self, record: logging.LogRecord) -> None:
        with contextlib.suppress(Exception):  # logging must never break a download
            event("yfinance", f"yfinance: {record.getMessage()}", level=logging.INFO)


_TO_LOG_FILE = _ToLogFile()
_quiet_lock = threading.Lock()
_quiet_depth = [0]  # blocks inside quiet_yfinance, across threads


@contextlib.contextmanager
def quiet_yfinance() -> Iterator[None]:
    """Keep yfinance's own log lines off stderr while the block runs.

    yfinance logs warnings such as "Cookie/crumb fetch failed (DNSError), continuing
    without crumb" through the ``yfinance`` logger, which has no handler, so Python's
    last-resort handler prints them on stderr before seqcast's own one-line error.
    Inside the block that logger has a handler passing them to the ``seqcast`` log at
    INFO level instead (the ``--log-file``, if any). A caller who configured logging
    still gets them through the root logger. Re-entrant and thread-safe.
    """
    yf_logger = logging.getLogger("yfinance")
    with _quiet_lock:
        if _quiet_depth[0] == 0:
            yf_logger.addHandler(_TO_LOG_FILE)
        _quiet_depth[0] += 1
    try:
        yield
    finally:
        with _quiet_lock:
            _quiet_depth[0] -= 1
            if _quiet_depth[0] == 0:
                yf_logger.removeHandler(_TO_LOG_FILE)


def _timeout_failure(timeout: float) -> _FetchFailure:
    return _FetchFailure(
        "timeout",
        f"no complete answer within {timeout:g} s",
        "Check the network connection and retry, or raise --timeout.",
    )


def _one_line(exc: BaseException, limit: int = 160) -> str:
    text = " ".join(str(exc).split()) or "no details"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _day(value: date | None, default: str) -> str:
    return default if value is None else value.isoformat()
