"""Shared fixtures: deterministic synthetic series and tiny configurations."""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np
import pandas as pd
import pytest

from seqcast.config import DataConfig, ModelConfig, ModelKind, RunConfig, TrainConfig


def make_sine_frame(
    n: int = 200, *, freq: str = "D", start: str = "2020-01-01", seed: int = 0
) -> pd.DataFrame:
    """Sine (period 7) plus a gentle trend and a little noise, with a date column."""
    rng = np.random.default_rng(seed)
    t = np.arange(n, dtype=np.float64)
    y = 10.0 + 0.05 * t + 2.0 * np.sin(2 * np.pi * t / 7.0) + rng.normal(0.0, 0.1, n)
    temp = 20.0 + 5.0 * np.cos(2 * np.pi * t / 30.0)
    dates = pd.date_range(start, periods=n, freq=freq)
    return pd.DataFrame({"date": dates, "y": y, "temp": temp})


@pytest.fixture
def sine_frame() -> pd.DataFrame:
    return make_sine_frame()


@pytest.fixture
def sample_csv(sine_frame: pd.DataFrame, tmp_path: Path) -> Path:
    path = tmp_path / "sine.csv"
    sine_frame.to_csv(path, index=False, date_format="%Y-%m-%d")
    return path


@pytest.fixture
def tiny_config() -> RunConfig:
    return RunConfig(
        data=DataConfig(target="y", date_col="date"),
        model=ModelConfig(kind=ModelKind.LSTM, units=(4,)),
        train=TrainConfig(
            window=14, horizon=3, epochs=1, batch_size=8, seed=0, patience=0
        ),
    )
