"""Shared fixtures: deterministic synthetic series and tiny configurations."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np
import pandas as pd
import pytest

from seqcast.config import (
    DataConfig,
    Deseasonalize,
    ModelConfig,
    ModelKind,
    RunConfig,
    TrainConfig,
    Transform,
)


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
        model=ModelConfig(model=ModelKind.LSTM, units=(4,)),
        train=TrainConfig(
            window=14,
            horizon=3,
            epochs=1,
            batch_size=8,
            seed=0,
            patience=0,
            transform=Transform.NONE,
            deseasonalize=Deseasonalize.NONE,
        ),
    )


def make_meta(tag: str = "a", **config: object) -> Any:
    """A small but complete model-directory record; ``tag`` is kept as the command line."""
    from seqcast.data.source import Source
    from seqcast.prep.scaling import Scaler
    from seqcast.prep.transforms import TargetTransform
    from seqcast.store.schema import (
        Columns,
        History,
        LastWindow,
        MaseScale,
        Member,
        ModelMeta,
        Provenance,
        SeriesRecord,
        Split,
    )

    run = RunConfig(train=TrainConfig(window=2, horizon=1)).with_overrides(dict(config))
    window = run.train.window
    scaler = Scaler.from_dict({"kind": "minmax", "center": [0.0], "scale": [1.0]})
    dates = tuple(f"2020-01-{d:02d}" for d in range(1, window + 1))
    return ModelMeta(
        provenance=Provenance(
            created="2020-01-01T00:00:00+00:00",
            seqcast_version="0",
            versions=(("seqcast", "0"),),
            hardware="CPU",
            command=("tag", tag),
            seed=0,
            source=Source(kind="dataframe"),
        ),
        config=run,
        columns=Columns(target="y", features=(), date_col="date", freq="D"),
        series=(
            SeriesRecord(
                id=None,
                n_rows=window,
                first_date=dates[0],
                last_date=dates[-1],
                notes=(),
                split=Split(1, 1, window, dates[0], dates[0], 0, 0, 0),
                transform=TargetTransform.identity(),
                scaler=scaler,
                mase=MaseScale(season=1, scale=1.0, naive_scale=1.0),
                last_window=LastWindow(dates, tuple((1.0,) for _ in dates)),
            ),
        ),
        history=History(
            loss=(1.0,),
            val_loss=(),
            best_epoch=1,
            epochs_run=1,
            stopped_early=False,
            seconds=0.1,
            members=tuple(
                Member(
                    seed=i,
                    file="model.keras" if i == 0 else f"model-{i}.keras",
                    best_epoch=1,
                    epochs_run=1,
                    seconds=0.1,
                )
                for i in range(run.train.ensemble)
            ),
        ),
        test=None,
        test_coverage=None,
        intervals=None,
    )


def tag_of(artifact: object) -> str:
    """The ``tag`` that :func:`make_meta` stored."""
    return str(artifact.meta.provenance.command[1])  # type: ignore[attr-defined]
