"""A cron-style ticker workflow through the documented commands, against a fake Yahoo boundary."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from seqcast.cli import app
from seqcast.data import ticker
from seqcast.errors import ExitCode

pytestmark = pytest.mark.filterwarnings(
    "ignore:.*__array__ implementation doesn't accept a copy keyword:DeprecationWarning"
)

TINY = [
    "--window",
    "10",
    "--horizon",
    "3",
    "--units",
    "4",
    "--epochs",
    "1",
    "--seed",
    "0",
    "-q",
]


def yahoo_history(start: str, end: str) -> pd.DataFrame:
    """Bars shaped like ``yf.Ticker(...).history(auto_adjust=False)``: tz-aware, business days."""
    days = pd.bdate_range("2023-01-02", end)
    rng = np.random.default_rng(7)
    close = 150 + np.cumsum(rng.normal(0, 1, len(days)))
    frame = pd.DataFrame(
        {
            "Open": close - 0.5,
            "High": close + 1,
            "Low": close - 1,
            "Close": close,
            "Adj Close": close * 0.99,
            "Volume": rng.integers(1e6, 2e6, len(days)).astype(float),
            "Dividends": 0.0,
            "Stock Splits": 0.0,
        },
        index=pd.DatetimeIndex(days.tz_localize("America/New_York"), name="Date"),
    )
    return frame[frame.index.date >= pd.Timestamp(start).date()]


class Yahoo:
    def __init__(self) -> None:
        self.today = "2023-06-30"
        self.down = False
        self.calls: list[tuple[Any, ...]] = []

    def __call__(
        self, symbol: str, start: Any, end: Any, interval: str, **kwargs: Any
    ) -> pd.DataFrame:
        self.calls.append((symbol, start, end, interval))
        if self.down:
            raise ConnectionError("network is unreachable")
        return yahoo_history(str(start or "2023-01-02"), self.today)


@pytest.fixture
def yahoo(monkeypatch: pytest.MonkeyPatch) -> Yahoo:
    fake = Yahoo()
    monkeypatch.setattr(ticker, "_download", fake)
    return fake


def run(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


@pytest.mark.slow
def test_cron_refresh_forecast_and_failures(yahoo: Yahoo, tmp_path: Path) -> None:
    cache = str(tmp_path / "cache")
    model = str(tmp_path / "aapl")
    trained = run(
        "train",
        "--ticker",
        "AAPL",
        "--start",
        "2023-01-02",
        "--column",
        "Close",
        *TINY,
        "--out",
        model,
        "--cache-dir",
        cache,
    )
    assert trained.exit_code == 0, trained.output
    meta = json.loads((Path(model) / "seqcast.json").read_text())
    assert meta["columns"]["freq"] == "B"
    assert meta["provenance"]["source"] == {
        "kind": "ticker",
        "ticker": "AAPL",
        "interval": "1d",
        "column": "Close",
        "adjusted": True,
    }

    # The evening job: refresh, forecast, write the output atomically.
    yahoo.today = "2023-07-07"
    out = tmp_path / "next.csv"
    first = run(
        "forecast",
        model,
        "--ticker",
        "AAPL",
        "--steps",
        "5",
        "--cache-dir",
        cache,
        "--output",
        str(out),
    )
    assert first.exit_code == 0, first.output
    rows = pd.read_csv(out)
    assert list(rows["date"]) == [
        "2023-07-10",
        "2023-07-11",
        "2023-07-12",
        "2023-07-13",
        "2023-07-14",
    ]  # after Fri 7 July, weekdays only
    assert (
        yahoo.calls[-1][1] is not None
    )  # incremental: only recent bars were asked for

    # Offline uses the cache alone and never calls the network.
    calls = len(yahoo.calls)
    offline = run(
        "forecast",
        model,
        "--ticker",
        "AAPL",
        "--steps",
        "5",
        "--cache-dir",
        cache,
        "--offline",
        "--format",
        "json",
    )
    assert offline.exit_code == 0, offline.output
    assert len(yahoo.calls) == calls
    assert [r["date"] for r in json.loads(offline.stdout)] == list(rows["date"])

    # The network fails: exit 3, one line naming the ticker, the previous output untouched.
    yahoo.down = True
    before = out.read_bytes()
    failed = run(
        "forecast",
        model,
        "--ticker",
        "AAPL",
        "--steps",
        "5",
        "--cache-dir",
        cache,
        "--output",
        str(out),
    )
    assert failed.exit_code == ExitCode.SOURCE_UNAVAILABLE
    assert failed.stderr.startswith("error: Cannot refresh AAPL (1d)")
    assert failed.stderr.count("\n") == 1
    assert out.read_bytes() == before

    # With stale data allowed, it goes on from the cache and says so on stderr.
    stale = run(
        "forecast",
        model,
        "--ticker",
        "AAPL",
        "--steps",
        "5",
        "--cache-dir",
        cache,
        "--max-stale",
        "3d",
        "--format",
        "csv",
    )
    assert stale.exit_code == 0, stale.output
    assert "warning: Could not refresh AAPL (1d)" in stale.stderr
    assert stale.stdout.startswith("date,Close\n")


def test_csv_and_ticker_together_is_a_usage_error(
    yahoo: Yahoo, sample_csv: Path, tmp_path: Path
) -> None:
    result = run(
        "train", str(sample_csv), "--ticker", "AAPL", "--out", str(tmp_path / "m")
    )
    assert result.exit_code == ExitCode.USAGE
    assert "not both" in result.stderr
    assert yahoo.calls == []


def test_train_needs_a_csv_or_a_ticker(tmp_path: Path) -> None:
    result = run("train", "--out", str(tmp_path / "m"))
    assert result.exit_code == ExitCode.USAGE
    assert "--ticker" in result.stderr
