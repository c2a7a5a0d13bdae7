"""Price cache: location, file format, atomic merge under a lock, concurrent refreshes."""

from __future__ import annotations

import multiprocessing
import os
import re
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import platformdirs
import pytest
from filelock import FileLock

from seqcast.data import ticker
from seqcast.data.cache import (
    PRICE_COLUMNS,
    age_option,
    cache_file,
    format_age,
    merge_prices,
    parse_age,
    read_cache,
    resolve_cache_dir,
    update_cache,
)
from seqcast.data.pandas_compat import FLOAT_PRECISION
from seqcast.data.ticker import TickerQuery, fetch_history, normalize_history
from seqcast.errors import ConfigError, DataError, LockError

FIXTURES = Path(__file__).parent / "fixtures" / "yfinance"
NOW = datetime(2024, 4, 6, 22, 0, tzinfo=UTC)


def load_yf(name: str) -> pd.DataFrame:
    """Read a fixture the way yfinance's frame looked before ``to_csv``."""
    frame = pd.read_csv(
        FIXTURES / name,
        header=[0, 1] if "download" in name else 0,
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


def prices(name: str = "aapl_history_1d.csv", interval: str = "1d") -> pd.DataFrame:
    return normalize_history(load_yf(name), "AAPL", interval)


def _no_network(*args: Any, **kwargs: Any) -> pd.DataFrame:
    raise AssertionError("a test reached the network boundary without a fake _download")


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ticker, "_download", _no_network)


def test_cache_dir_precedence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("SEQCAST_CACHE_DIR", raising=False)
    assert resolve_cache_dir() == Path(platformdirs.user_cache_dir("seqcast"))
    monkeypatch.setenv("SEQCAST_CACHE_DIR", str(tmp_path / "env"))
    assert resolve_cache_dir() == tmp_path / "env"
    assert resolve_cache_dir(tmp_path / "flag") == tmp_path / "flag"
    assert (
        cache_file(tmp_path, "^GSPC", "1wk") == tmp_path / "tickers" / "^GSPC_1wk.csv"
    )


def test_round_trip_is_readable_csv_with_one_header_line(tmp_path: Path) -> None:
    path = cache_file(tmp_path, "AAPL", "1d")
    frame = prices()
    written = update_cache(
        path,
        frame,
        ticker="AAPL",
        interval="1d",
        covered_start=date(2024, 3, 1),
        now=NOW,
    )
    lines = path.read_text(encoding="utf-8").splitlines()
    assert (
        lines[0]
        == '# seqcast-ticker-cache {"version": 1, "ticker": "AAPL", "interval": "1d", "fetched_at": "2024-04-06T22:00:00+00:00", "covered_start": "2024-03-01", "prices": "raw"}'
    )
    assert lines[1] == "date,Open,High,Low,Close,Adj Close,Volume"
    assert lines[2].startswith("2024-03-01,181.75999450683594,")
    assert lines[2].endswith(",62756572")  # whole-number volume, not 62756572.0
    assert len(lines) == 2 + 25
    held = read_cache(path)
    assert held is not None
    assert held.meta == written.meta
    assert held.meta.fetched_at == NOW
    pd.testing.assert_frame_equal(held.frame, frame)
    assert (held.first, held.last) == (
        pd.Timestamp("2024-03-01"),
        pd.Timestamp("2024-04-05"),
    )
    assert [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")] == []


def test_intraday_round_trip_keeps_times(tmp_path: Path) -> None:
    path = cache_file(tmp_path, "AAPL", "1h")
    frame = prices("aapl_history_1h.csv", "1h")
    update_cache(path, frame, ticker="AAPL", interval="1h", covered_start=None, now=NOW)
    assert (
        path.read_text(encoding="utf-8")
        .splitlines()[2]
        .startswith("2024-03-07 09:30:00,")
    )
    held = read_cache(path)
    assert held is not None
    assert held.meta.covered_start is None
    pd.testing.assert_frame_equal(held.frame, frame)


def test_missing_file_reads_as_none(tmp_path: Path) -> None:
    assert read_cache(tmp_path / "tickers" / "AAPL_1d.csv") is None


def test_merge_keeps_the_newest_bar_once() -> None:
    old = prices()
    new = prices("aapl_history_1d_refresh.csv")
    merged = merge_prices(old, new)
    assert len(merged) == 30
    assert merged["date"].is_unique
    assert merged["date"].is_monotonic_increasing
    last_old = merged.set_index("date").loc[pd.Timestamp("2024-04-05")]
    assert (
        last_old["Close"]
        == new.set_index("date").loc[pd.Timestamp("2024-04-05"), "Close"]
    )
    assert merged.index.equals(pd.RangeIndex(30))


def test_update_merges_or_replaces_and_tracks_coverage(tmp_path: Path) -> None:
    path = cache_file(tmp_path, "AAPL", "1d")
    update_cache(
        path,
        prices("aapl_history_1d_refresh.csv"),
        ticker="AAPL",
        interval="1d",
        covered_start=date(2024, 4, 1),
        now=NOW,
    )
    merged = update_cache(
        path,
        prices(),
        ticker="AAPL",
        interval="1d",
        covered_start=date(2024, 3, 1),
        now=NOW,
    )
    assert len(merged.frame) == 30
    assert merged.meta.covered_start == date(2024, 3, 1)
    whole = update_cache(
        path, prices(), ticker="AAPL", interval="1d", covered_start=None, now=NOW
    )
    assert whole.meta.covered_start is None  # None = the whole history was asked for
    replaced = update_cache(
        path,
        prices("aapl_history_1d_refresh.csv"),
        ticker="AAPL",
        interval="1d",
        covered_start=date(2024, 4, 1),
        replace=True,
        now=NOW,
    )
    assert len(replaced.frame) == 10
    held = read_cache(path)
    assert held is not None
    assert len(held.frame) == 10
    assert held.meta.covered_start == date(2024, 4, 1)


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        ("date,Close\n2024-01-02,1\n", "its first line is not a seqcast cache header"),
        (
            '# seqcast-ticker-cache {"version": 9}\n',
            "cache format version 9, expected 1",
        ),
        ('# seqcast-ticker-cache {"version": 1}\n', "unreadable header (KeyError)"),
        (
            '# seqcast-ticker-cache {"version": 1, "ticker": "AAPL", "interval": "1d", "fetched_at": "2024-04-06T22:00:00+00:00", "covered_start": null}\ndate,Close\n2024-01-02,1\n',
            "columns date, Close",
        ),
        (
            '# seqcast-ticker-cache {"version": 1, "ticker": "AAPL", "interval": "1d", "fetched_at": "2024-04-06T22:00:00+00:00", "covered_start": null}\ndate,Open,High,Low,Close,Adj Close,Volume\n2024-01-03,1,1,1,1,1,1\n2024-01-02,1,1,1,1,1,1\n',
            "its dates are missing, unordered or repeated",
        ),
    ],
)
def test_damaged_files_are_reported(tmp_path: Path, text: str, detail: str) -> None:
    path = cache_file(tmp_path, "AAPL", "1d")
    path.parent.mkdir(parents=True)
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataError) as info:
        read_cache(path)
    assert (
        str(info.value)
        == f"Cache file {path} is damaged: {detail}. Delete it and run `seqcast data fetch` again."
    )


def test_failed_write_keeps_the_old_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = cache_file(tmp_path, "AAPL", "1d")
    update_cache(
        path, prices(), ticker="AAPL", interval="1d", covered_start=None, now=NOW
    )
    before = path.read_bytes()

    def disk_full(src: Any, dst: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", disk_full)
    with pytest.raises(ConfigError) as info:
        update_cache(
            path,
            prices("aapl_history_1d_refresh.csv"),
            ticker="AAPL",
            interval="1d",
            covered_start=None,
        )
    assert (
        str(info.value)
        == f"Cannot write the cache file {path}: No space left on device. Free some disk space or make {path.parent} writable, or pass --cache-dir with another folder."
    )
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == ["AAPL_1d.csv"]


def test_unwritable_cache_dir_is_a_config_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder", encoding="utf-8")
    path = cache_file(blocker, "AAPL", "1d")
    with pytest.raises(
        ConfigError,
        match=r"^The cache directory .*/file is a file, not a folder\. Pass --cache-dir or set SEQCAST_CACHE_DIR to a folder \(seqcast creates it if needed\)\.$",
    ):
        update_cache(path, prices(), ticker="AAPL", interval="1d", covered_start=None)


def test_held_lock_times_out_with_lock_error(tmp_path: Path) -> None:
    path = cache_file(tmp_path, "AAPL", "1d")
    path.parent.mkdir(parents=True)
    with FileLock(f"{path}.lock"):
        began = time.monotonic()
        with pytest.raises(LockError) as info:
            update_cache(
                path,
                prices(),
                ticker="AAPL",
                interval="1d",
                covered_start=None,
                lock_timeout=0.2,
            )
        assert time.monotonic() - began < 2
    assert (
        str(info.value)
        == f"Another seqcast process has held the cache lock {path}.lock for over 0.2 s. Wait for it to finish and retry."
    )
    assert info.value.exit_code == 4
    assert not path.exists()


def _refresh_in_child(cache_dir: str, fixture: str, delay: float, barrier: Any) -> None:
    """Child process: a cron job whose (fake) download is slow, then writes the cache."""
    frame = load_yf(fixture)

    def slow_download(*args: Any, **kwargs: Any) -> pd.DataFrame:
        time.sleep(delay)
        return frame

    ticker._download = slow_download
    barrier.wait(30)  # both see the empty cache and download at the same time
    data = fetch_history(
        TickerQuery("AAPL", start=date(2024, 3, 1)),
        cache_dir=Path(cache_dir),
        timeout=20,
    )
    if data.frame.empty:
        raise SystemExit(2)


def _append_in_child(cache_dir: str, first_day: str, count: int, barrier: Any) -> None:
    path = cache_file(Path(cache_dir), "AAPL", "1d")
    barrier.wait(30)
    for day in pd.bdate_range(first_day, periods=count):
        row = pd.DataFrame(
            {"date": [day], **{c: [float(day.day)] for c in PRICE_COLUMNS}}
        )
        update_cache(
            path, row, ticker="AAPL", interval="1d", covered_start=None, lock_timeout=20
        )


def _run_children(target: Any, args: list[tuple[Any, ...]]) -> None:
    """Run separate interpreters (spawn, like cron jobs), released together by a barrier."""
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(len(args))
    children = [ctx.Process(target=target, args=(*a, barrier)) for a in args]
    for child in children:
        child.start()
    for child in children:
        child.join(60)
    assert [child.exitcode for child in children] == [0] * len(children)


def test_concurrent_refreshes_leave_a_valid_merged_file(tmp_path: Path) -> None:
    cache_dir = tmp_path / "cache"
    _run_children(
        _refresh_in_child,
        [
            (str(cache_dir), "aapl_history_1d.csv", 0.4),
            (str(cache_dir), "aapl_history_1d_refresh.csv", 0.4),
        ],
    )
    path = cache_file(cache_dir, "AAPL", "1d")
    held = read_cache(path)  # parses: header, columns, sorted unique dates
    assert held is not None
    # Both downloads survive (no lost update): 2024-03-01..04-05 and 04-01..04-12.
    assert len(held.frame) == 30
    assert (held.first, held.last) == (
        pd.Timestamp("2024-03-01"),
        pd.Timestamp("2024-04-12"),
    )
    assert path.read_text(encoding="utf-8").count("# seqcast-ticker-cache") == 1
    assert not np.isnan(held.frame[list(PRICE_COLUMNS)].to_numpy()).any()
    assert [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")] == []


def test_many_writers_lose_no_rows(tmp_path: Path) -> None:
    cache_dir = tmp_path / "cache"
    starts = ["2024-01-01", "2024-02-01", "2024-03-01", "2024-04-01"]
    _run_children(_append_in_child, [(str(cache_dir), s, 6) for s in starts])
    held = read_cache(cache_file(cache_dir, "AAPL", "1d"))
    assert held is not None
    assert len(held.frame) == 24


def test_parse_and_describe_ages() -> None:
    assert parse_age("90m") == timedelta(minutes=90)
    assert parse_age("12h") == timedelta(hours=12)
    assert parse_age("3") == timedelta(days=3)
    assert parse_age(" 2W ") == timedelta(weeks=2)
    assert parse_age("1.5d") == timedelta(hours=36)
    with pytest.raises(ConfigError) as info:
        parse_age("three days")
    assert (
        str(info.value)
        == "max_stale='three days' is not an age. Use a number with a unit, such as 12h, 3d or 2w."
    )
    assert format_age(timedelta(seconds=20)) == "1 minute"
    assert format_age(timedelta(minutes=45)) == "45 minutes"
    assert format_age(timedelta(hours=5, minutes=10)) == "5 hours"
    assert format_age(timedelta(days=1)) == "1 day"
    assert format_age(timedelta(days=3, hours=2)) == "3 days"
    assert age_option(timedelta(days=3, hours=2)) == "4d"
    assert age_option(timedelta(days=3)) == "4d"
    assert age_option(timedelta(hours=5, minutes=10)) == "6h"
    assert parse_age(age_option(timedelta(days=3, hours=23))) > timedelta(
        days=3, hours=23
    )
