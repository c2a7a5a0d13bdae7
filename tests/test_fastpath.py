"""The fast paths: `seqcast forecast` (NumPy engine), `--help` and `info` import nothing heavy."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from seqcast import api
from seqcast.config import Engine, RunConfig

HEAVY = ["keras", "tensorflow", "pandas", "sklearn", "yfinance", "matplotlib", "scipy"]

# Runs the console entry point in a fresh interpreter (-I: no user site, no PYTHONPATH)
# and reports, at exit, which heavy modules ended up in sys.modules.
# The tree under test goes first on the path, so a worktree is not checked against the
# editable install of another checkout.
PROBE = """
import atexit, sys
sys.path.insert(0, {root!r})
heavy = {heavy!r}
atexit.register(lambda: sys.stderr.write("HEAVY=" + ",".join(m for m in heavy if m in sys.modules) + "\\n"))
sys.argv = ["seqcast", *{args!r}]
from seqcast.cli import main
main()
"""


def run_probe(*args: str) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    code = PROBE.format(
        heavy=HEAVY, args=list(args), root=str(Path(__file__).resolve().parents[1])
    )
    result = subprocess.run(
        [sys.executable, "-I", "-c", code], capture_output=True, text=True, timeout=120
    )
    lines = [line for line in result.stderr.splitlines() if line.startswith("HEAVY=")]
    assert len(lines) == 1, result.stderr
    imported = [m for m in lines[0].removeprefix("HEAVY=").split(",") if m]
    return result, imported


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.conftest import make_sine_frame

    root = tmp_path_factory.mktemp("fastpath")
    frame = make_sine_frame(120)[["date", "y"]]
    config = RunConfig().with_overrides(
        {
            "target": "y",
            "window": 8,
            "horizon": 2,
            "units": (4,),
            "epochs": 1,
            "batch_size": 16,
            "seed": 0,
        }
    )
    result = api.train(frame, out=root / "model", config=config)
    assert result.path is not None
    return result.path


@pytest.mark.slow
def test_forecast_imports_neither_keras_nor_pandas(tiny_model: Path) -> None:
    result, imported = run_probe(
        "forecast", str(tiny_model), "--steps", "3", "--format", "csv"
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "date,y"
    assert len(lines) == 4
    assert imported == []


@pytest.mark.slow
def test_fast_forecast_matches_the_pandas_calendar(tiny_model: Path) -> None:
    import pandas as pd

    from seqcast.data.frame import future_index

    forecast = api.load(tiny_model).forecast(5)
    expected = future_index(pd.Timestamp(forecast.origin), "D", 5)
    assert list(forecast.dates) == [d.strftime("%Y-%m-%d") for d in expected]
    assert forecast.engine == "numpy"


@pytest.mark.slow
def test_info_imports_nothing_heavy(tiny_model: Path) -> None:
    result, imported = run_probe("info", str(tiny_model))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"model        {tiny_model}")
    assert imported == []


def test_help_imports_nothing_heavy_and_still_lists_data() -> None:
    result, imported = run_probe("--help")
    assert result.returncode == 0, result.stderr
    assert (
        "data      Fill, refresh and print the local ticker price cache."
        in result.stdout
    )
    assert imported == []


def test_missing_model_error_imports_nothing_heavy(tmp_path: Path) -> None:
    result, imported = run_probe("forecast", str(tmp_path / "nothing"))
    assert result.returncode == 1
    assert "Run `seqcast train` first." in result.stderr
    assert imported == []


def test_data_subcommand_still_loads_on_demand() -> None:
    result, imported = run_probe("data", "--help")
    assert result.returncode == 0, result.stderr
    assert "fetch" in result.stdout
    assert "show" in result.stdout
    assert "pandas" in imported


@pytest.mark.slow
def test_a_calendar_and_holiday_model_forecasts_without_keras_or_pandas(
    tmp_path: Path,
) -> None:
    from tests.conftest import make_sine_frame

    frame = make_sine_frame(120)[["date", "y"]]
    config = RunConfig().with_overrides(
        {"target": "y", "window": 8, "horizon": 2, "units": (4,), "epochs": 1,
         "calendar": ("dow", "weekend"), "holidays": "US"}
    )  # fmt: skip
    result = api.train(frame, out=tmp_path / "model", config=config)
    assert result.path is not None
    probe, imported = run_probe(
        "forecast", str(result.path), "--steps", "5", "--format", "csv"
    )
    assert probe.returncode == 0, probe.stderr
    assert len(probe.stdout.splitlines()) == 6
    assert imported == []
    # the same numbers as the Keras engine, which reads the same known columns
    keras_forecast = api.load(result.path, engine=Engine.KERAS).forecast(5)
    fast = [float(line.split(",")[1]) for line in probe.stdout.splitlines()[1:]]
    np.testing.assert_allclose(fast, keras_forecast.values, rtol=1e-4)
