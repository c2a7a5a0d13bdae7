"""`seqcast data fetch` and `seqcast data show`, run through Typer's CliRunner (no network)."""

from __future__ import annotations

import io
import json
import re
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner, Result

from seqcast.cli.data import data_app
from seqcast.cli.edge import state
from seqcast.data import ticker
from seqcast.data.cache import read_cache
from seqcast.data.ticker import normalize_history, price_table
from seqcast.errors import SeqcastError, SourceError

FIXTURES = Path(__file__).parent / "fixtures" / "yfinance"


def load_yf(name: str) -> pd.DataFrame:
    """Read a fixture the way yfinance's frame looked before ``to_csv``."""
    frame = pd.read_csv(
        FIXTURES / name, header=[0, 1] if "download" in name else 0, index_col=0
    )
    text = frame.index.astype(str)
    if len(text) and re.search(r"[+-]\d\d:\d\d$", text[0]):
        index = pd.to_datetime(text, utc=True).tz_convert("America/New_York")
    else:
        index = pd.to_datetime(text)
    frame.index = pd.DatetimeIndex(index, name=frame.index.name)
    return frame


def _no_network(*args: Any, **kwargs: Any) -> pd.DataFrame:
    raise AssertionError("a test reached the network boundary without a fake _download")


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ticker, "_download", _no_network)


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    return tmp_path / "cache"


class Yahoo:
    """Fake ``_download``: per-symbol recorded frames, like yf.download's MultiIndex for two tickers."""

    def __init__(self, frames: dict[str, pd.DataFrame]) -> None:
        self.frames = frames
        self.calls: list[tuple[str, date | None]] = []

    def __call__(
        self,
        symbol: str,
        start: date | None,
        end: date | None,
        interval: str,
        **kwargs: Any,
    ) -> pd.DataFrame:
        self.calls.append((symbol, start))
        return self.frames.get(symbol, load_yf("empty_history.csv")).copy()


def run(args: list[str]) -> tuple[Result, SeqcastError | None]:
    """Invoke the sub-app; SeqcastError propagates to the caller, as it does to the lead's app edge."""
    state["debug"] = True  # the edge re-raises, so tests see the typed error
    try:
        result = CliRunner().invoke(data_app, args)
    finally:
        state["debug"] = False
    error = result.exception if isinstance(result.exception, SeqcastError) else None
    if (
        result.exception is not None
        and error is None
        and not isinstance(result.exception, SystemExit)
    ):
        raise result.exception
    return result, error


def test_fetch_prints_what_the_cache_holds(
    monkeypatch: pytest.MonkeyPatch, cache_dir: Path
) -> None:
    both = load_yf("aapl_msft_download_1d.csv")
    yahoo = Yahoo({"AAPL": both, "MSFT": both})
    monkeypatch.setattr(ticker, "_download", yahoo)
    result, error = run(
        [
            "fetch",
            "aapl",
            "MSFT",
            "--start",
            "2024-03-01",
            "--cache-dir",
            str(cache_dir),
        ]
    )
    assert error is None
    assert result.exit_code == 0, result.output
    assert yahoo.calls == [("AAPL", date(2024, 3, 1)), ("MSFT", date(2024, 3, 1))]
    aapl_file = cache_dir / "tickers" / "AAPL_1d.csv"
    msft_file = cache_dir / "tickers" / "MSFT_1d.csv"
    width = len(str(aapl_file))
    assert result.stdout == (
        "ticker  interval  rows  first       last        status   file\n"
        f"------  --------  ----  ----------  ----------  -------  {'-' * width}\n"
        f"AAPL    1d        6     2024-03-01  2024-03-08  updated  {aapl_file}\n"
        f"MSFT    1d        6     2024-03-01  2024-03-08  updated  {msft_file}\n"
    )
    assert result.stderr == ""
    msft = read_cache(msft_file)
    assert msft is not None
    assert msft.frame["Close"].iloc[0] > 400  # MSFT's columns, not AAPL's


def test_fetch_refresh_reports_cached_rows_and_json(
    monkeypatch: pytest.MonkeyPatch, cache_dir: Path
) -> None:
    monkeypatch.setattr(
        ticker, "_download", Yahoo({"AAPL": load_yf("aapl_history_1d.csv")})
    )
    assert run(["fetch", "AAPL", "--cache-dir", str(cache_dir)])[0].exit_code == 0
    yahoo = Yahoo({"AAPL": load_yf("aapl_history_1d_refresh.csv")})
    monkeypatch.setattr(ticker, "_download", yahoo)
    result, error = run(
        ["fetch", "AAPL", "--cache-dir", str(cache_dir), "--format", "json"]
    )
    assert error is None
    assert yahoo.calls == [("AAPL", date(2024, 3, 29))]
    assert json.loads(result.stdout) == [
        {
            "ticker": "AAPL",
            "interval": "1d",
            "rows": 30,
            "first": "2024-03-01",
            "last": "2024-04-12",
            "status": "updated",
            "file": str(cache_dir / "tickers" / "AAPL_1d.csv"),
        }
    ]


def test_fetch_one_bad_ticker_among_several(
    monkeypatch: pytest.MonkeyPatch, cache_dir: Path
) -> None:
    monkeypatch.setattr(
        ticker, "_download", Yahoo({"AAPL": load_yf("aapl_history_1d.csv")})
    )
    result, error = run(
        [
            "fetch",
            "NOSUCHTICKER",
            "AAPL",
            "--start",
            "2024-03-01",
            "--cache-dir",
            str(cache_dir),
            "--format",
            "csv",
        ]
    )
    assert isinstance(error, SourceError)
    assert (
        str(error)
        == "Could not fetch 1 of 2 tickers: NOSUCHTICKER. See the errors above; the other tickers were cached."
    )
    assert (
        result.stderr
        == "error: Yahoo Finance has no 1d prices for NOSUCHTICKER from 2024-03-01 to today; the ticker may be unknown or delisted. Check the symbol on finance.yahoo.com, or widen --start/--end.\n"
    )
    assert result.stdout.splitlines()[1].startswith(
        "AAPL,1d,25,2024-03-01,2024-04-05,updated,"
    )


def test_fetch_single_failure_propagates_one_error(
    monkeypatch: pytest.MonkeyPatch, cache_dir: Path
) -> None:
    monkeypatch.setattr(ticker, "_download", Yahoo({}))
    result, error = run(["fetch", "NOSUCHTICKER", "--cache-dir", str(cache_dir)])
    assert isinstance(error, SourceError)
    assert error.exit_code == 3
    assert (
        str(error)
        == "Yahoo Finance has no 1d prices for NOSUCHTICKER from the first trading day to today; the ticker may be unknown or delisted. Check the symbol on finance.yahoo.com, or widen --start/--end."
    )
    assert result.stdout == ""


def test_fetch_max_stale_lets_cron_go_on(
    monkeypatch: pytest.MonkeyPatch, cache_dir: Path
) -> None:
    monkeypatch.setattr(
        ticker, "_download", Yahoo({"AAPL": load_yf("aapl_history_1d.csv")})
    )
    assert run(["fetch", "AAPL", "--cache-dir", str(cache_dir)])[0].exit_code == 0
    from yfinance.exceptions import YFRateLimitError

    def limited(*args: Any, **kwargs: Any) -> pd.DataFrame:
        raise YFRateLimitError()

    monkeypatch.setattr(ticker, "_download", limited)
    _, error = run(["fetch", "AAPL", "--cache-dir", str(cache_dir)])
    assert isinstance(error, SourceError)
    assert "pass --max-stale 1h to use it" in str(error)
    result, error = run(
        ["fetch", "AAPL", "--cache-dir", str(cache_dir), "--max-stale", "1h"]
    )
    assert error is None
    assert result.exit_code == 0
    assert result.stderr.startswith(
        "warning: Could not refresh AAPL (1d): Yahoo Finance is rate-limiting requests from this machine (HTTP 429); using the cached copy fetched "
    )
    assert " stale " in result.stdout


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["fetch", "AA PL"], "TICKER"),
        (["fetch", "AAPL", "--max-stale", "soon"], "--max-stale"),
        (["fetch", "AAPL", "--start", "2024/01/01"], "--start"),
        (["fetch", "AAPL", "--interval", "1y"], "--interval"),
        (["show", "AAPL", "--tail", "0"], "--tail"),
    ],
)
def test_usage_errors_name_the_option(args: list[str], option: str) -> None:
    result, error = run(args)
    assert error is None
    assert result.exit_code == 2
    assert option in result.stderr


def test_reversed_dates_are_a_config_error() -> None:
    _, error = run(["fetch", "AAPL", "--start", "2024-03-01", "--end", "2024-01-01"])
    assert error is not None
    assert (
        str(error)
        == "start=2024-03-01 is after end=2024-01-01. Swap them, or drop --end."
    )


@pytest.fixture
def filled(monkeypatch: pytest.MonkeyPatch, cache_dir: Path) -> pd.DataFrame:
    monkeypatch.setattr(
        ticker, "_download", Yahoo({"AAPL": load_yf("aapl_download_1d.csv")})
    )
    assert run(["fetch", "AAPL", "--cache-dir", str(cache_dir)])[0].exit_code == 0
    monkeypatch.setattr(ticker, "_download", _no_network)  # show must stay offline
    return normalize_history(load_yf("aapl_download_1d.csv"), "AAPL", "1d")


def test_show_csv_is_the_adjusted_series(filled: pd.DataFrame, cache_dir: Path) -> None:
    result, error = run(
        ["show", "aapl", "--format", "csv", "--cache-dir", str(cache_dir)]
    )
    assert error is None
    assert result.exit_code == 0
    shown = pd.read_csv(io.StringIO(result.stdout))
    assert list(shown.columns) == [
        "date",
        "Open",
        "High",
        "Low",
        "Close",
        "Adj Close",
        "Volume",
    ]
    assert shown["date"].tolist() == [
        "2024-03-01",
        "2024-03-04",
        "2024-03-05",
        "2024-03-06",
        "2024-03-07",
        "2024-03-08",
    ]
    expected = price_table(filled, adjusted=True)
    for col in ["Open", "Close", "Volume"]:
        pd.testing.assert_series_equal(
            shown[col].astype(float), expected[col], check_names=False, rtol=1e-9
        )
    assert result.stdout.splitlines()[1].endswith(",62756572")


def test_show_raw_column_json_and_tail(filled: pd.DataFrame, cache_dir: Path) -> None:
    result, _ = run(
        [
            "show",
            "AAPL",
            "--raw-prices",
            "--column",
            "close",
            "--tail",
            "2",
            "--format",
            "json",
            "--cache-dir",
            str(cache_dir),
        ]
    )
    assert result.exit_code == 0
    assert json.loads(result.stdout) == [
        {"date": "2024-03-07", "Close": filled["Close"].iloc[-2]},
        {"date": "2024-03-08", "Close": filled["Close"].iloc[-1]},
    ]


def test_show_table(filled: pd.DataFrame, cache_dir: Path) -> None:
    result, _ = run(
        ["show", "AAPL", "--column", "Volume", "--cache-dir", str(cache_dir)]
    )
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "date        Volume"
    assert lines[1] == "----------  --------"
    assert lines[2] == "2024-03-01  62756572"
    assert len(lines) == 2 + 6


def test_show_without_cache_says_fetch_first(cache_dir: Path) -> None:
    result, error = run(
        ["show", "AAPL", "--interval", "1h", "--cache-dir", str(cache_dir)]
    )
    assert isinstance(error, SourceError)
    assert (
        str(error)
        == f"No cached data for AAPL (1h) in {cache_dir}. Run `seqcast data fetch AAPL --interval 1h` first."
    )
    assert result.stdout == ""


def test_commands_have_help() -> None:
    command = typer.main.get_command(data_app)
    commands = getattr(command, "commands", {})
    assert sorted(commands) == ["fetch", "show"]
    for name, sub in commands.items():
        doc = (sub.help or "").strip()
        summary, _, rest = doc.partition("\n")
        assert 0 < len(summary) <= 60, name
        assert rest.strip().startswith("Example: seqcast data "), name
        assert CliRunner().invoke(data_app, [name, "--help"]).exit_code == 0


def test_the_app_renders_data_errors_as_one_line(tmp_path: Path) -> None:
    from seqcast.cli import app
    from seqcast.errors import ExitCode

    result = CliRunner().invoke(
        app, ["data", "show", "AAPL", "--cache-dir", str(tmp_path)]
    )
    assert result.exit_code in (ExitCode.USER_ERROR, ExitCode.SOURCE_UNAVAILABLE)
    assert result.stderr.startswith("error: No cached data for AAPL (1d)")
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.output
