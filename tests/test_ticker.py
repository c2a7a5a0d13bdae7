"""Ticker source: query validation, yfinance shapes, incremental cache, failures (no network)."""

from __future__ import annotations

import logging
import os
import re
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from seqcast.config import DataConfig, FillPolicy
from seqcast.data import ticker
from seqcast.data.cache import cache_file, read_cache, update_cache
from seqcast.data.pandas_compat import FLOAT_PRECISION
from seqcast.data.ticker import (
    TickerQuery,
    fetch_history,
    normalize_history,
    price_table,
)
from seqcast.errors import ConfigError, DataError, ExitCode, SourceError

FIXTURES = Path(__file__).parent / "fixtures" / "yfinance"
REPO = Path(__file__).resolve().parents[1]
_REAL_DOWNLOAD = ticker._download


def load_yf(name: str) -> pd.DataFrame:
    """Read a fixture the way yfinance's frame looked before ``to_csv``."""
    multi = "download" in name
    frame = pd.read_csv(
        FIXTURES / name,
        header=[0, 1] if multi else 0,
        index_col=0,
        float_precision=FLOAT_PRECISION,  # exact, as yfinance held them
    )
    text = frame.index.astype(str)
    if len(text) and re.search(r"[+-]\d\d:\d\d$", text[0]):
        index = pd.to_datetime(text, utc=True).tz_convert("America/New_York")
    else:
        index = pd.to_datetime(text)
    frame.index = pd.DatetimeIndex(index, name=frame.index.name)
    return frame


class FakeYahoo:
    """Stands in for ``_download``: answers from a script and records every request."""

    def __init__(
        self, *answers: pd.DataFrame | BaseException | Callable[[], Any]
    ) -> None:
        self.answers = list(answers)
        self.calls: list[dict[str, Any]] = []

    def __call__(
        self,
        symbol: str,
        start: date | None,
        end: date | None,
        interval: str,
        **kwargs: Any,
    ) -> pd.DataFrame:
        self.calls.append(
            {
                "ticker": symbol,
                "start": start,
                "end": end,
                "interval": interval,
                **kwargs,
            }
        )
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, BaseException):
            raise answer
        if callable(answer):
            return answer()  # type: ignore[no-any-return]
        return answer.copy()


def _no_network(*args: Any, **kwargs: Any) -> pd.DataFrame:
    raise AssertionError("a test reached the network boundary without a fake _download")


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ticker, "_download", _no_network)


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    return tmp_path / "cache"


def install(monkeypatch: pytest.MonkeyPatch, *answers: Any) -> FakeYahoo:
    fake = FakeYahoo(*answers)
    monkeypatch.setattr(ticker, "_download", fake)
    return fake


def seed_cache(
    cache_dir: Path,
    fixture: str = "aapl_history_1d.csv",
    *,
    fetched_ago: timedelta,
    covered: date | None = date(2024, 3, 1),
) -> Path:
    path = cache_file(cache_dir, "AAPL", "1d")
    frame = normalize_history(load_yf(fixture), "AAPL", "1d")
    update_cache(
        path,
        frame,
        ticker="AAPL",
        interval="1d",
        covered_start=covered,
        now=datetime.now(UTC) - fetched_ago,
    )
    return path


# --- TickerQuery ------------------------------------------------------------------


def test_query_normalises_symbol_column_and_dates() -> None:
    query = TickerQuery(
        " brk-b ",
        start=datetime(2020, 1, 2, 15, 30),
        column="adj_close",
        interval="1wk",
    )
    assert query.ticker == "BRK-B"
    assert query.start == date(2020, 1, 2)
    assert type(query.start) is date
    assert query.column == "Adj Close"
    assert query.freq == "W-MON"
    assert TickerQuery("^GSPC").freq == "B"
    assert TickerQuery("EURUSD=X", interval="1h").freq is None


def test_query_rejects_bad_symbol() -> None:
    with pytest.raises(ConfigError) as info:
        TickerQuery("AA PL")
    assert (
        str(info.value)
        == "ticker='AA PL' is not a Yahoo Finance symbol: use only letters, digits and . ^ = -. Give the symbol as finance.yahoo.com shows it, such as AAPL, BRK-B or ^GSPC."
    )
    with pytest.raises(ConfigError):
        TickerQuery("../etc")
    with pytest.raises(ConfigError):
        TickerQuery("..")


def test_query_rejects_interval_column_and_reversed_dates() -> None:
    with pytest.raises(ConfigError) as info:
        TickerQuery("AAPL", interval="1y")
    assert (
        str(info.value)
        == "interval='1y' is not supported by Yahoo Finance. Use one of: 1m, 2m, 5m, 15m, 30m, 60m, 90m, 1h, 1d, 5d, 1wk, 1mo, 3mo."
    )
    with pytest.raises(ConfigError) as info:
        TickerQuery("AAPL", column="Price")
    assert (
        str(info.value)
        == "column='Price' is not a price column. Use one of: Open, High, Low, Close, Adj Close, Volume."
    )
    with pytest.raises(ConfigError) as info:
        TickerQuery("AAPL", start=date(2024, 2, 1), end=date(2024, 1, 1))
    assert (
        str(info.value)
        == "start=2024-02-01 is after end=2024-01-01. Swap them, or drop --end."
    )


# --- yfinance shapes -----------------------------------------------------------------


def test_history_shape_tz_aware_index_becomes_local_dates() -> None:
    raw = load_yf("aapl_history_1d.csv")
    assert (
        str(pd.DatetimeIndex(raw.index).tz) == "America/New_York"
    )  # the recorded shape
    frame = normalize_history(raw, "AAPL", "1d")
    assert list(frame.columns) == [
        "date",
        "Open",
        "High",
        "Low",
        "Close",
        "Adj Close",
        "Volume",
    ]
    assert frame["date"].dt.tz is None
    # Local trading dates on both sides of the DST change (2024-03-10), never shifted by UTC.
    assert frame["date"].iloc[0] == pd.Timestamp("2024-03-01")
    assert pd.Timestamp("2024-03-11") in set(frame["date"])
    assert (frame["date"] == frame["date"].dt.normalize()).all()
    assert pd.Timestamp("2024-03-29") not in set(frame["date"])  # Good Friday: no bar
    assert len(frame) == 25
    np.testing.assert_allclose(frame["Close"].to_numpy(), raw["Close"].to_numpy())


def test_intraday_keeps_exchange_wall_clock_across_dst() -> None:
    frame = normalize_history(load_yf("aapl_history_1h.csv"), "AAPL", "1h")
    times = frame["date"].dt.strftime("%Y-%m-%d %H:%M")
    assert times.iloc[0] == "2024-03-07 09:30"
    assert "2024-03-08 09:30" in set(times)
    assert "2024-03-11 09:30" in set(times)  # after DST began, still the 09:30 open
    assert len(frame) == 21


@pytest.mark.parametrize("name", ["aapl_download_1d.csv", "aapl_msft_download_1d.csv"])
def test_download_multiindex_columns_pick_the_ticker(name: str) -> None:
    raw = load_yf(name)
    assert isinstance(raw.columns, pd.MultiIndex)
    assert list(raw.columns.names) == ["Price", "Ticker"]
    aapl = normalize_history(raw, "AAPL", "1d")
    assert list(aapl.columns) == [
        "date",
        "Open",
        "High",
        "Low",
        "Close",
        "Adj Close",
        "Volume",
    ]
    np.testing.assert_allclose(
        aapl["Close"].to_numpy(), raw[("Close", "AAPL")].to_numpy()
    )
    if "MSFT" in name:
        msft = normalize_history(raw, "MSFT", "1d")
        np.testing.assert_allclose(
            msft["Adj Close"].to_numpy(), raw[("Adj Close", "MSFT")].to_numpy()
        )
        assert msft["Close"].iloc[0] > 400 > aapl["Close"].iloc[0]


def test_group_by_ticker_columns_are_handled() -> None:
    raw = load_yf("aapl_msft_download_1d.csv")
    by_ticker = raw.swaplevel(0, 1, axis=1).sort_index(
        axis=1
    )  # yf.download(group_by="ticker")
    frame = normalize_history(by_ticker, "MSFT", "1d")
    np.testing.assert_allclose(
        frame["Close"].to_numpy(), raw[("Close", "MSFT")].to_numpy()
    )


def test_multiindex_without_the_ticker_is_an_error() -> None:
    raw = load_yf("aapl_msft_download_1d.csv")
    with pytest.raises(SourceError) as info:
        normalize_history(raw, "GOOG", "1d")
    assert (
        str(info.value)
        == "yfinance returned prices for AAPL, MSFT but not for GOOG. Retry; if it persists, report it with the yfinance version."
    )


@pytest.mark.parametrize("name", ["empty_history.csv", "empty_download.csv"])
def test_empty_frames_normalise_to_empty(name: str) -> None:
    frame = normalize_history(load_yf(name), "NOSUCHTICKER", "1d")
    assert frame.empty
    assert list(frame.columns) == [
        "date",
        "Open",
        "High",
        "Low",
        "Close",
        "Adj Close",
        "Volume",
    ]


def test_auto_adjusted_frames_without_adj_close() -> None:
    raw = load_yf("aapl_history_1d.csv").drop(
        columns=["Adj Close"]
    )  # auto_adjust=True shape
    frame = normalize_history(raw, "AAPL", "1d")
    np.testing.assert_array_equal(
        frame["Adj Close"].to_numpy(), frame["Close"].to_numpy()
    )


def test_price_table_adjusts_like_yfinance_auto_adjust() -> None:
    raw = normalize_history(load_yf("aapl_history_1d.csv"), "AAPL", "1d")
    adjusted = price_table(raw, adjusted=True)
    ratio = raw["Adj Close"] / raw["Close"]
    np.testing.assert_allclose(adjusted["Close"], raw["Adj Close"])
    np.testing.assert_allclose(adjusted["Open"], raw["Open"] * ratio)
    np.testing.assert_allclose(adjusted["Low"], raw["Low"] * ratio)
    np.testing.assert_array_equal(adjusted["Volume"], raw["Volume"])
    assert (adjusted["Close"] < raw["Close"]).all()  # dividends lower the past
    pd.testing.assert_frame_equal(price_table(raw, adjusted=False), raw)


# --- fetch_history ---------------------------------------------------------------------


def test_fresh_fetch_writes_cache_and_feeds_frame_prepare(
    monkeypatch: pytest.MonkeyPatch, cache_dir: Path
) -> None:
    fake = install(monkeypatch, load_yf("aapl_history_1d.csv"))
    data = fetch_history(
        TickerQuery("aapl", start=date(2024, 3, 1)), cache_dir=cache_dir, timeout=5
    )
    assert len(fake.calls) == 1
    call = fake.calls[0]
    assert (call["ticker"], call["start"], call["end"], call["interval"]) == (
        "AAPL",
        date(2024, 3, 1),
        None,
        "1d",
    )
    assert call["yf_cache_dir"] == cache_dir / "yfinance"
    assert 0 < call["timeout"] <= 5
    assert list(data.frame.columns) == ["date", "Close"]
    assert len(data.frame) == 25
    assert (data.from_cache, data.stale, data.notes) == (False, False, ())
    assert data.path == cache_dir / "tickers" / "AAPL_1d.csv"
    assert data.freq == "B"
    held = read_cache(data.path)
    assert held is not None
    assert held.meta.covered_start == date(2024, 3, 1)
    assert (datetime.now(UTC) - data.last_fetched) < timedelta(minutes=1)

    from seqcast.data.frame import prepare

    series = prepare(
        data.frame,
        DataConfig(target="Close", date_col="date", freq="B", fill=FillPolicy.FFILL),
    ).single()
    assert len(series.data) == 26  # 25 bars + Good Friday filled; no weekends
    assert pd.Timestamp("2024-03-29") in series.data.index
    assert not (pd.DatetimeIndex(series.data.index).day_of_week >= 5).any()


def test_end_is_inclusive_and_sent_exclusive_to_yfinance(
    monkeypatch: pytest.MonkeyPatch, cache_dir: Path
) -> None:
    fake = install(monkeypatch, load_yf("aapl_history_1d.csv"))
    data = fetch_history(
        TickerQuery("AAPL", start=date(2024, 3, 1), end=date(2024, 3, 8)),
        cache_dir=cache_dir,
    )
    assert fake.calls[0]["end"] == date(2024, 3, 9)
    assert data.frame["date"].iloc[-1] == pd.Timestamp("2024-03-08")
    assert len(data.frame) == 6


def test_incremental_refresh_fetches_only_after_the_cached_bars(
    monkeypatch: pytest.MonkeyPatch, cache_dir: Path
) -> None:
    fake = install(
        monkeypatch,
        load_yf("aapl_history_1d.csv"),
        load_yf("aapl_history_1d_refresh.csv"),
    )
    query = TickerQuery("AAPL", start=date(2024, 3, 1))
    first = fetch_history(query, cache_dir=cache_dir)
    second = fetch_history(query, cache_dir=cache_dir)
    # Last cached bar 2024-04-05; a 7-day overlap picks up a revised last bar.
    assert [c["start"] for c in fake.calls] == [date(2024, 3, 1), date(2024, 3, 29)]
    assert second.notes == ()
    assert len(second.frame) == 30  # 25 + 2024-04-08..12
    assert second.frame["date"].is_unique
    refreshed = normalize_history(load_yf("aapl_history_1d_refresh.csv"), "AAPL", "1d")
    revised = refreshed.set_index("date").loc[pd.Timestamp("2024-04-05"), "Adj Close"]
    old = first.frame.set_index("date").loc["2024-04-05", "Close"]
    new = second.frame.set_index("date").loc["2024-04-05", "Close"]
    assert new == pytest.approx(revised)
    assert new != pytest.approx(old)
    held = read_cache(second.path)
    assert held is not None
    assert held.frame["date"].is_monotonic_increasing


def test_complete_cache_is_not_fetched_again(
    monkeypatch: pytest.MonkeyPatch, cache_dir: Path
) -> None:
    seed_cache(cache_dir, fetched_ago=timedelta(days=30))
    fake = install(monkeypatch, load_yf("aapl_history_1d_refresh.csv"))
    data = fetch_history(
        TickerQuery("AAPL", start=date(2024, 3, 4), end=date(2024, 4, 5)),
        cache_dir=cache_dir,
    )
    assert fake.calls == []
    assert data.from_cache
    assert data.frame["date"].iloc[0] == pd.Timestamp("2024-03-04")
    stale_ok = fetch_history(
        TickerQuery("AAPL", start=date(2024, 3, 4)), cache_dir=cache_dir, refresh=False
    )
    assert fake.calls == []
    assert len(stale_ok.frame) == 24


def test_earlier_start_refetches_the_whole_range(
    monkeypatch: pytest.MonkeyPatch, cache_dir: Path
) -> None:
    seed_cache(
        cache_dir,
        "aapl_history_1d_refresh.csv",
        fetched_ago=timedelta(hours=1),
        covered=date(2024, 4, 1),
    )
    fake = install(monkeypatch, load_yf("aapl_history_1d.csv"))
    data = fetch_history(
        TickerQuery("AAPL", start=date(2024, 3, 1)), cache_dir=cache_dir
    )
    assert (fake.calls[0]["start"], fake.calls[0]["end"]) == (date(2024, 3, 1), None)
    held = read_cache(data.path)
    assert held is not None
    assert held.meta.covered_start == date(2024, 3, 1)
    assert held.last == pd.Timestamp("2024-04-05")  # replaced, one adjustment basis


def test_dividend_in_overlap_refetches_whole_history(
    monkeypatch: pytest.MonkeyPatch, cache_dir: Path
) -> None:
    seed_cache(cache_dir, fetched_ago=timedelta(days=1))
    rebased = load_yf("aapl_history_1d_refresh.csv")
    rebased["Adj Close"] *= 0.99  # a dividend went ex since the last fetch
    full = load_yf("aapl_history_1d.csv")
    full["Adj Close"] *= 0.99
    fake = install(monkeypatch, rebased, full)
    data = fetch_history(
        TickerQuery("AAPL", start=date(2024, 3, 1)), cache_dir=cache_dir
    )
    assert [c["start"] for c in fake.calls] == [date(2024, 3, 29), date(2024, 3, 1)]
    assert fake.calls[1]["end"] is None
    assert data.notes == (
        "AAPL (1d) prices before 2024-04-05 changed since the last fetch (a dividend or split); fetched the whole history again.",
    )
    np.testing.assert_allclose(
        data.frame["Close"].to_numpy(), full["Adj Close"].to_numpy()
    )


def test_offline_hit_never_downloads(cache_dir: Path) -> None:
    seed_cache(cache_dir, fetched_ago=timedelta(days=400))
    data = fetch_history(
        TickerQuery("AAPL", column="Open", adjusted=False),
        cache_dir=cache_dir,
        offline=True,
    )
    assert (data.from_cache, data.stale) == (True, False)
    assert list(data.frame.columns) == ["date", "Open"]
    assert data.frame["Open"].iloc[0] == pytest.approx(181.75999450683594)


def test_offline_miss_says_how_to_fill_the_cache(cache_dir: Path) -> None:
    with pytest.raises(SourceError) as info:
        fetch_history(TickerQuery("AAPL"), cache_dir=cache_dir, offline=True)
    assert (
        str(info.value)
        == f"No cached data for AAPL (1d) in {cache_dir}. Run `seqcast data fetch AAPL` while online, or drop --offline."
    )
    assert info.value.exit_code == 3
    with pytest.raises(
        SourceError, match=r"Run `seqcast data fetch AAPL --interval 1h` while online"
    ):
        fetch_history(
            TickerQuery("AAPL", interval="1h"), cache_dir=cache_dir, offline=True
        )


def test_offline_cache_not_reaching_start_adds_a_note(cache_dir: Path) -> None:
    seed_cache(cache_dir, fetched_ago=timedelta(days=1))
    data = fetch_history(
        TickerQuery("AAPL", start=date(2024, 1, 2)), cache_dir=cache_dir, offline=True
    )
    assert data.notes == (
        "The cached AAPL (1d) data starts on 2024-03-01, after start 2024-01-02; run `seqcast data fetch AAPL --start 2024-01-02` while online to fill the gap.",
    )
    with pytest.raises(SourceError) as info:
        fetch_history(
            TickerQuery("AAPL", start=date(2023, 1, 2), end=date(2023, 2, 1)),
            cache_dir=cache_dir,
            offline=True,
        )
    assert (
        str(info.value)
        == "No 1d prices for AAPL from 2023-01-02 to 2023-02-01; the cached data runs from 2024-03-01 to 2024-04-05. Change --start/--end to overlap it."
    )


@pytest.mark.parametrize("name", ["empty_history.csv", "empty_download.csv"])
def test_unknown_ticker_empty_frame(
    monkeypatch: pytest.MonkeyPatch, cache_dir: Path, name: str
) -> None:
    install(monkeypatch, load_yf(name))
    with pytest.raises(SourceError) as info:
        fetch_history(
            TickerQuery("NOSUCHTICKER", start=date(2024, 3, 1)), cache_dir=cache_dir
        )
    assert (
        str(info.value)
        == "Yahoo Finance has no 1d prices for NOSUCHTICKER from 2024-03-01 to today; the ticker may be unknown or delisted. Check the symbol on finance.yahoo.com, or widen --start/--end."
    )
    assert not cache_file(cache_dir, "NOSUCHTICKER", "1d").exists()


def test_unknown_ticker_raised_by_yfinance(
    monkeypatch: pytest.MonkeyPatch, cache_dir: Path
) -> None:
    from yfinance.exceptions import YFPricesMissingError, YFTzMissingError

    install(
        monkeypatch,
        YFPricesMissingError(
            "XYZQ", "", yahoo_reason="No data found, symbol may be delisted"
        ),
    )
    with pytest.raises(SourceError) as info:
        fetch_history(TickerQuery("XYZQ", end=date(2024, 1, 31)), cache_dir=cache_dir)
    assert (
        str(info.value)
        == "Yahoo Finance has no 1d prices for XYZQ from the first trading day to 2024-01-31 (No data found, symbol may be delisted); the ticker may be unknown or delisted. Check the symbol on finance.yahoo.com, or widen --start/--end."
    )
    install(monkeypatch, YFTzMissingError("XYZQ"))
    with pytest.raises(
        SourceError,
        match=r"\(no timezone found\); the ticker may be unknown or delisted",
    ):
        fetch_history(TickerQuery("XYZQ"), cache_dir=cache_dir)


class _HTTPError(OSError):
    def __init__(self, status: int) -> None:
        super().__init__(f"HTTP Error {status}")
        self.response = type("Response", (), {"status_code": status})()


def _curl_dns_error() -> BaseException:
    """What curl_cffi raises with no network: a DNSError whose response has status 0."""
    from curl_cffi.requests import Response
    from curl_cffi.requests.exceptions import DNSError

    response = Response()
    response.status_code = 0
    return DNSError(
        "Failed to perform, curl: (6) Could not resolve host: query2.finance.yahoo.com (Domain name not found). See https://curl.se/libcurl/c/libcurl-errors.html first for more details.",
        6,
        response,
    )


def _wrapped(cause: BaseException) -> BaseException:
    """A library's own error raised from the socket error that caused it."""
    try:
        raise RuntimeError("download failed") from cause
    except RuntimeError as exc:
        return exc


def test_failures_map_to_one_line_source_errors(
    monkeypatch: pytest.MonkeyPatch, cache_dir: Path
) -> None:
    import requests
    from curl_cffi.requests.exceptions import Timeout as CurlTimeout
    from yfinance.exceptions import YFRateLimitError

    query = TickerQuery("AAPL")
    expected = {
        YFRateLimitError(): "Cannot download AAPL (1d): Yahoo Finance is rate-limiting requests from this machine (HTTP 429). Wait a few minutes and retry, and refresh fewer tickers at once.",
        _HTTPError(
            429
        ): "Cannot download AAPL (1d): Yahoo Finance is rate-limiting requests from this machine (HTTP 429). Wait a few minutes and retry, and refresh fewer tickers at once.",
        requests.exceptions.ConnectionError(
            "Failed to resolve 'query2.finance.yahoo.com'\n(more)"
        ): "Cannot download AAPL (1d): could not resolve the host query2.finance.yahoo.com (the DNS lookup failed). Check the network connection and DNS settings, and retry.",
        _curl_dns_error(): "Cannot download AAPL (1d): could not resolve the host query2.finance.yahoo.com (the DNS lookup failed). Check the network connection and DNS settings, and retry.",
        _wrapped(
            socket.gaierror(-2, "Name or service not known")
        ): "Cannot download AAPL (1d): could not resolve the host of Yahoo Finance (the DNS lookup failed). Check the network connection and DNS settings, and retry.",
        requests.exceptions.ConnectionError(
            "Connection refused"
        ): "Cannot download AAPL (1d): network error (ConnectionError: Connection refused). Check the network connection and retry.",
        CurlTimeout(
            "Operation timed out after 30001 milliseconds"
        ): "Cannot download AAPL (1d): no complete answer within 30 s. Check the network connection and retry, or raise --timeout.",
        _HTTPError(
            503
        ): "Cannot download AAPL (1d): Yahoo Finance answered HTTP 503. Retry later.",
        KeyError(
            "chart"
        ): "Cannot download AAPL (1d): unexpected answer from Yahoo Finance (KeyError: 'chart'). Retry later; if it keeps failing, upgrade yfinance (pip install -U yfinance).",
    }
    for exc, message in expected.items():
        install(monkeypatch, exc)
        with pytest.raises(SourceError) as info:
            fetch_history(query, cache_dir=cache_dir)
        assert str(info.value) == message
        assert "\n" not in str(info.value)
    install(monkeypatch, _HTTPError(404))
    with pytest.raises(SourceError, match="the ticker may be unknown or delisted"):
        fetch_history(query, cache_dir=cache_dir)


@pytest.fixture
def release() -> Iterator[threading.Event]:
    event = threading.Event()
    yield event
    event.set()  # let the abandoned download thread finish


def test_timeout_bounds_the_whole_download(
    monkeypatch: pytest.MonkeyPatch, cache_dir: Path, release: threading.Event
) -> None:
    def hang() -> pd.DataFrame:
        release.wait(30)
        return load_yf("aapl_history_1d.csv")

    install(monkeypatch, hang)
    began = time.monotonic()
    with pytest.raises(SourceError) as info:
        fetch_history(TickerQuery("AAPL"), cache_dir=cache_dir, timeout=0.3)
    assert time.monotonic() - began < 3
    assert (
        str(info.value)
        == "Cannot download AAPL (1d): no complete answer within 0.3 s. Check the network connection and retry, or raise --timeout."
    )


def test_network_error_with_cache_and_no_max_stale(
    monkeypatch: pytest.MonkeyPatch, cache_dir: Path
) -> None:
    seed_cache(cache_dir, fetched_ago=timedelta(days=2, hours=1))
    install(monkeypatch, ConnectionError("boom"))
    with pytest.raises(SourceError) as info:
        fetch_history(TickerQuery("AAPL", start=date(2024, 3, 1)), cache_dir=cache_dir)
    assert (
        str(info.value)
        == f"Cannot refresh AAPL (1d): network error (ConnectionError: boom). The cached copy in {cache_dir} was fetched 2 days ago; pass --max-stale 3d to use it, or retry later."
    )
    with pytest.raises(SourceError) as info:
        fetch_history(
            TickerQuery("AAPL", start=date(2024, 3, 1)),
            cache_dir=cache_dir,
            max_age=timedelta(days=1),
        )
    assert (
        str(info.value)
        == f"Cannot refresh AAPL (1d): network error (ConnectionError: boom). The cached copy in {cache_dir} was fetched 2 days ago, older than the 1 day allowed; pass --max-stale 3d to use it, or retry later."
    )


def test_network_error_with_recent_enough_cache_goes_on_stale(
    monkeypatch: pytest.MonkeyPatch, cache_dir: Path
) -> None:
    path = seed_cache(cache_dir, fetched_ago=timedelta(hours=5))
    before = path.read_bytes()
    from yfinance.exceptions import YFRateLimitError

    install(monkeypatch, YFRateLimitError())
    data = fetch_history(
        TickerQuery("AAPL", start=date(2024, 3, 1)),
        cache_dir=cache_dir,
        max_age=timedelta(days=1),
    )
    assert (data.from_cache, data.stale) == (True, True)
    assert len(data.frame) == 25
    assert data.notes == (
        "Could not refresh AAPL (1d): Yahoo Finance is rate-limiting requests from this machine (HTTP 429); using the cached copy fetched 5 hours ago (last bar 2024-04-05).",
    )
    assert path.read_bytes() == before


def test_empty_answer_on_refresh_is_a_failed_refresh(
    monkeypatch: pytest.MonkeyPatch, cache_dir: Path
) -> None:
    seed_cache(cache_dir, fetched_ago=timedelta(hours=2))
    install(monkeypatch, load_yf("empty_history.csv"))
    data = fetch_history(
        TickerQuery("AAPL", start=date(2024, 3, 1)),
        cache_dir=cache_dir,
        max_age=timedelta(hours=3),
    )
    assert data.stale
    assert data.notes[0].startswith(
        "Could not refresh AAPL (1d): Yahoo Finance returned no prices; using the cached copy fetched 2 hours ago"
    )


def test_damaged_cache_is_refetched_online_and_reported_offline(
    monkeypatch: pytest.MonkeyPatch, cache_dir: Path
) -> None:
    path = cache_file(cache_dir, "AAPL", "1d")
    path.parent.mkdir(parents=True)
    path.write_text("date,Close\n2024-01-02,1\n", encoding="utf-8")
    with pytest.raises(DataError) as info:
        fetch_history(TickerQuery("AAPL"), cache_dir=cache_dir, offline=True)
    assert (
        str(info.value)
        == f"Cache file {path} is damaged: its first line is not a seqcast cache header. Delete it and run `seqcast data fetch` again."
    )
    install(monkeypatch, load_yf("aapl_history_1d.csv"))
    data = fetch_history(TickerQuery("AAPL"), cache_dir=cache_dir)
    assert data.notes == (
        f"Ignored the damaged cache file {path}; fetching AAPL (1d) afresh.",
    )
    assert read_cache(path) is not None


def test_adjusted_and_raw_column_choice(
    monkeypatch: pytest.MonkeyPatch, cache_dir: Path
) -> None:
    install(monkeypatch, load_yf("aapl_history_1d.csv"))
    raw_close = fetch_history(TickerQuery("AAPL", adjusted=False), cache_dir=cache_dir)
    adj_close = fetch_history(TickerQuery("AAPL"), cache_dir=cache_dir, refresh=False)
    adj_column = fetch_history(
        TickerQuery("AAPL", column="Adj Close", adjusted=False),
        cache_dir=cache_dir,
        refresh=False,
    )
    fixture = load_yf("aapl_history_1d.csv")
    np.testing.assert_allclose(raw_close.frame["Close"], fixture["Close"])
    np.testing.assert_allclose(adj_close.frame["Close"], fixture["Adj Close"])
    np.testing.assert_allclose(adj_column.frame["Adj Close"], fixture["Adj Close"])
    volume = fetch_history(
        TickerQuery("AAPL", column="volume"), cache_dir=cache_dir, refresh=False
    )
    np.testing.assert_array_equal(
        volume.frame["Volume"], fixture["Volume"].astype(float)
    )


def test_env_var_sets_the_cache_dir(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SEQCAST_CACHE_DIR", str(tmp_path / "from-env"))
    install(monkeypatch, load_yf("aapl_history_1d.csv"))
    data = fetch_history(TickerQuery("AAPL"))
    assert data.path == tmp_path / "from-env" / "tickers" / "AAPL_1d.csv"


# --- the one network function, with yfinance's classes replaced -------------------------


def test_download_calls_ticker_history_with_explicit_options(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import yfinance as yf

    seen: dict[str, Any] = {}

    class FakeTicker:
        def __init__(self, symbol: str) -> None:
            seen["symbol"] = symbol

        def history(self, **kwargs: Any) -> pd.DataFrame:
            seen["kwargs"] = kwargs
            seen["hide_during"] = yf.config.debug.hide_exceptions
            return load_yf("aapl_history_1d.csv")

    locations: list[str] = []
    monkeypatch.setattr(yf, "Ticker", FakeTicker)
    monkeypatch.setattr(yf, "set_tz_cache_location", locations.append)
    before = yf.config.debug.hide_exceptions
    frame = _REAL_DOWNLOAD(
        "AAPL",
        date(2024, 3, 1),
        date(2024, 3, 9),
        "1d",
        timeout=7.5,
        yf_cache_dir=tmp_path / "yf",
    )
    assert len(frame) == 25
    assert locations == [str(tmp_path / "yf")]
    assert seen["symbol"] == "AAPL"
    assert seen["kwargs"] == {
        "interval": "1d",
        "auto_adjust": False,
        "actions": False,
        "repair": False,
        "prepost": False,
        "keepna": False,
        "timeout": 7.5,
        "start": "2024-03-01",
        "end": "2024-03-09",
    }
    assert seen["hide_during"] is False  # raise rate limits instead of logging them
    assert yf.config.debug.hide_exceptions == before

    _REAL_DOWNLOAD("AAPL", None, None, "1h", timeout=3, yf_cache_dir=tmp_path / "yf")
    assert seen["kwargs"]["period"] == "max"
    assert "start" not in seen["kwargs"]
    assert "end" not in seen["kwargs"]


def test_download_restores_yfinance_config_when_it_raises(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import yfinance as yf
    from yfinance.exceptions import YFRateLimitError

    class Limited:
        def __init__(self, symbol: str) -> None:
            pass

        def history(self, **kwargs: Any) -> pd.DataFrame:
            raise YFRateLimitError()

    monkeypatch.setattr(yf, "Ticker", Limited)
    monkeypatch.setattr(yf, "set_tz_cache_location", lambda path: None)
    before = yf.config.debug.hide_exceptions
    with pytest.raises(YFRateLimitError):
        _REAL_DOWNLOAD("AAPL", None, None, "1d", timeout=1, yf_cache_dir=tmp_path)
    assert yf.config.debug.hide_exceptions == before


def test_fetch_never_imports_keras_or_tensorflow(tmp_path: Path) -> None:
    """yfinance must make its HTTP session before TensorFlow loads; fetching imports neither."""
    script = textwrap.dedent(
        f"""
        import sys
        from datetime import date
        from pathlib import Path
        import pandas as pd
        import seqcast.data.ticker as ticker
        assert "yfinance" not in sys.modules, "importing the module must not import yfinance"
        raw = pd.read_csv({str(FIXTURES / "aapl_history_1d.csv")!r}, index_col=0)
        raw.index = pd.to_datetime(raw.index, utc=True).tz_convert("America/New_York")

        def fake(*args, **kwargs):
            import yfinance  # the real import, as _download does
            return raw

        ticker._download = fake
        data = ticker.fetch_history(ticker.TickerQuery("AAPL"), cache_dir=Path({str(tmp_path)!r}))
        assert len(data.frame) == 25
        assert "yfinance" in sys.modules
        loaded = sorted(m for m in ("keras", "tensorflow", "jax", "torch") if m in sys.modules)
        print("loaded:", loaded)
        sys.exit(1 if loaded else 0)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "loaded: []" in done.stdout


# --- hostile caches (issue 14) ------------------------------------------------------


@pytest.mark.parametrize(
    ("tail", "detail"),
    [
        ("2024-04-08,170.1,17", "its last row (line 28) is cut off"),
        (
            "2024-04-08,170.1,171\n",
            "line 28 has 3 fields instead of 7 (a row cut off or run together)",
        ),
        (
            "2024-04-08,1,1,1,1,1,12024-04-09,1,1,1,1,1,1\n",
            "line 28 has 13 fields instead of 7 (a row cut off or run together)",
        ),
    ],
)
def test_a_row_cut_mid_append_is_damage_not_missing_prices(
    cache_dir: Path, tail: str, detail: str
) -> None:
    path = seed_cache(cache_dir, fetched_ago=timedelta(hours=1))
    assert len(path.read_text().splitlines()) == 27  # metadata, header, 25 bars
    with path.open("a") as handle:
        handle.write(tail)
    with pytest.raises(DataError) as info:
        read_cache(path)
    assert str(info.value) == (
        f"Cache file {path} is damaged: {detail}. Delete it and run `seqcast data fetch` again."
    )
    with pytest.raises(DataError):  # --offline cannot forward-fill it either
        fetch_history(TickerQuery("AAPL"), cache_dir=cache_dir, offline=True)


def test_blank_prices_in_complete_rows_are_still_read(cache_dir: Path) -> None:
    path = seed_cache(cache_dir, fetched_ago=timedelta(hours=1))
    with path.open("a") as handle:
        handle.write("2024-04-08,,,,,,\n")
    assert read_cache(path) is not None


def _read_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every cache folder unwritable, as a read-only mount is (root ignores chmod)."""
    import seqcast.data.cache as cache

    real = cache.os.access
    monkeypatch.setattr(
        cache.os, "access", lambda p, mode: False if mode == os.W_OK else real(p, mode)
    )


def test_read_only_cache_with_max_stale_uses_the_cached_copy(
    monkeypatch: pytest.MonkeyPatch, cache_dir: Path
) -> None:
    path = seed_cache(cache_dir, fetched_ago=timedelta(hours=5))
    before = path.read_bytes()
    install(monkeypatch, load_yf("aapl_history_1d_refresh.csv"))
    _read_only(monkeypatch)
    data = fetch_history(
        TickerQuery("AAPL", start=date(2024, 3, 1)),
        cache_dir=cache_dir,
        max_age=timedelta(days=1),
    )
    assert (data.from_cache, data.stale) == (True, True)
    assert len(data.frame) == 25
    assert data.notes == (
        f"Could not update the cache ({path}: {path.parent} is not writable); using the cached copy of AAPL (1d) fetched 5 hours ago (last bar 2024-04-05).",
    )
    assert path.read_bytes() == before


def test_read_only_cache_without_max_stale_says_how_to_use_it(
    monkeypatch: pytest.MonkeyPatch, cache_dir: Path
) -> None:
    path = seed_cache(cache_dir, fetched_ago=timedelta(hours=5))
    install(monkeypatch, load_yf("aapl_history_1d_refresh.csv"))
    _read_only(monkeypatch)
    with pytest.raises(ConfigError) as info:
        fetch_history(TickerQuery("AAPL", start=date(2024, 3, 1)), cache_dir=cache_dir)
    assert str(info.value) == (
        f"Cannot update the cache for AAPL (1d): {path}: {path.parent} is not writable. Free some space in the cache or make it writable, pass --cache-dir with another folder, or pass --max-stale 6h to use the copy fetched 5 hours ago."
    )


@pytest.mark.parametrize("offline", [False, True])
def test_cache_dir_that_is_a_file_is_named_as_such(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, offline: bool
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    monkeypatch.setenv("SEQCAST_CACHE_DIR", str(blocker))
    install(monkeypatch, load_yf("aapl_history_1d.csv"))
    with pytest.raises(ConfigError) as info:
        fetch_history(TickerQuery("AAPL"), offline=offline)
    assert str(info.value) == (
        f"The cache directory {blocker} is a file, not a folder. Pass --cache-dir or set SEQCAST_CACHE_DIR to a folder (seqcast creates it if needed)."
    )


def test_without_network_stderr_carries_seqcasts_line_only(tmp_path: Path) -> None:
    # A real process: under pytest, its logging plugin would catch yfinance's line
    # before Python's last-resort handler could print it on stderr.
    log, cache = tmp_path / "run.log", tmp_path / "cache"
    script = textwrap.dedent(
        f"""
        import logging, sys
        from curl_cffi.requests import Response
        from curl_cffi.requests.exceptions import DNSError
        import seqcast.data.ticker as ticker

        def offline(*args, **kwargs):
            # What yfinance 1.x does with no network: warn through its logger, then raise.
            logging.getLogger("yfinance").warning(
                "Cookie/crumb fetch failed (DNSError), continuing without crumb"
            )
            response = Response()
            response.status_code = 0
            raise DNSError(
                "Failed to perform, curl: (6) Could not resolve host: query2.finance.yahoo.com (Domain name not found).",
                6,
                response,
            )

        ticker._download = offline
        from seqcast.cli import main
        sys.argv = ["seqcast", "--log-file", {str(log)!r}, "data", "fetch", "AAPL", "--cache-dir", {str(cache)!r}]
        main()
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == ExitCode.SOURCE_UNAVAILABLE, done.stderr
    assert done.stdout == ""
    assert done.stderr == (
        "error: Cannot download AAPL (1d): could not resolve the host query2.finance.yahoo.com (the DNS lookup failed). Check the network connection and DNS settings, and retry.\n"
    )
    assert "yfinance: Cookie/crumb fetch failed (DNSError)" in log.read_text()


def test_quiet_yfinance_restores_the_logger() -> None:
    from seqcast.data.yahoo import quiet_yfinance

    yf_logger = logging.getLogger("yfinance")
    before = list(yf_logger.handlers)
    with quiet_yfinance(), quiet_yfinance():
        assert len(yf_logger.handlers) == len(before) + 1
    assert yf_logger.handlers == before
