from __future__ import annotations

import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from seqcast.errors import ConfigError
from seqcast.evaluation.plots import (
    DPI,
    FIGSIZE,
    plot_backtest,
    plot_forecast,
    plot_losses,
)

WIDTH, HEIGHT = int(FIGSIZE[0] * DPI), int(FIGSIZE[1] * DPI)


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG signature"
    assert data[12:16] == b"IHDR"
    assert data[-8:-4] == b"IEND"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def _dates(n: int, start: str = "2020-01-01") -> list[str]:
    return [str(d) for d in np.arange(np.datetime64(start), np.datetime64(start) + n)]


def test_importing_the_cli_does_not_import_matplotlib() -> None:
    code = "import sys, seqcast.cli, seqcast.evaluation.plots; print('matplotlib' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"


def test_forecast_plot_is_a_png_of_the_expected_size(tmp_path: Path) -> None:
    history = np.sin(np.arange(60) / 3.0)
    forecast = np.sin(np.arange(60, 72) / 3.0)
    bands = {
        "80": (forecast - 0.2, forecast + 0.2),
        "95": (forecast - 0.4, forecast + 0.4),
    }
    path = plot_forecast(
        tmp_path / "f.png",
        history_dates=_dates(60),
        history=history,
        dates=_dates(12, "2020-03-01"),
        forecast=forecast,
        bands=bands,
        baseline=history[-12:],
        target="y",
    )
    assert path == tmp_path / "f.png"
    assert path.stat().st_size > 10_000
    assert png_size(path) == (WIDTH, HEIGHT)
    assert [p.name for p in tmp_path.iterdir()] == ["f.png"]  # no temporary left


def test_loss_plot_and_atomic_replacement(tmp_path: Path) -> None:
    target = tmp_path / "loss.png"
    target.write_bytes(b"old")
    plot_losses(target, [1.0, 0.5, 0.3], [1.2, 0.6, 0.7], best_epoch=2)
    assert png_size(target) == (WIDTH, HEIGHT)
    assert [p.name for p in tmp_path.iterdir()] == ["loss.png"]


def test_plot_path_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        plot_losses(tmp_path / "loss.jpg", [1.0])
    assert str(err.value) == (
        f"Plot file {tmp_path / 'loss.jpg'} does not end in .png. Give a path such as forecast.png."
    )
    with pytest.raises(ConfigError, match="does not exist"):
        plot_losses(tmp_path / "missing" / "loss.png", [1.0])


def test_backtest_plot(tmp_path: Path) -> None:
    from seqcast.evaluation.backtest import pool_folds, score_fold

    target = 10 + np.sin(np.arange(80) / 2.0)
    dates = _dates(80)
    folds = []
    for k, cut in enumerate((74, 77)):
        start = np.array([cut - 10])
        pred = target[None, cut : cut + 3] + 0.1
        folds.append(
            score_fold(k, target, start, pred, 10, 3, 7, 1.0, dates, None, (), 0)
        )
    result = pool_folds(folds, 10, 3, np.array([74, 77]), None, False, dates, target, 7)
    assert result.folds[1].forecasts["model"] == pytest.approx(target[77:80] + 0.1)
    path = plot_backtest(tmp_path / "b.png", result, target="y")
    assert png_size(path) == (WIDTH, HEIGHT)
