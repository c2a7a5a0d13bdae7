"""The Python API: train, load, forecast and evaluate; everything the CLI does, importable.

Example:
    >>> import seqcast
    >>> result = seqcast.train("sample_data/air_passengers.csv", target="passengers",
    ...                        window=24, horizon=12, out="models/air")
    >>> model = seqcast.load("models/air")
    >>> print(model.forecast(12).to_frame())
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from seqcast import __version__
from seqcast._types import FloatArray, IntArray
from seqcast.artifacts import (
    DEFAULT_LOCK_TIMEOUT,
    member_file,
    save_artifact,
)
from seqcast.baselines import season_for_freq
from seqcast.calendar import iso_dates
from seqcast.config import RunConfig
from seqcast.evaluation import Evaluation, score_windows
from seqcast.forecaster import Forecast, Forecaster, load
from seqcast.metrics import mase_scale
from seqcast.pipeline import fit_values

__all__ = ["Forecast", "Forecaster", "TrainResult", "load", "train"]

if TYPE_CHECKING:
    import pandas as pd

    from seqcast.training import FitResult


@dataclass(frozen=True, slots=True)
class TrainResult:
    """What a training run produced.

    Attributes:
        path: Where the model directory was written, or None when ``out`` was not given.
        config: The configuration in force, with detected columns and frequency filled in.
        fit: Loss history and early-stopping outcome (of the first member of an
            ensemble; ``meta["history"]["members"]`` summarises every member).
        evaluation: Scores on the held-out test part beside the baselines (None when
            ``test_fraction`` is 0).
        device: The device the model trained on.
        notes: What data preparation did (filled values, sorting, time zones…).
        meta: The metadata saved as ``seqcast.json``.
    """

    path: Path | None
    config: RunConfig
    fit: FitResult
    evaluation: Evaluation | None
    device: str
    notes: tuple[str, ...]
    meta: dict[str, Any]


def train(
    data: str | Path | pd.DataFrame,
    *,
    out: str | Path | None = None,
    config: RunConfig | None = None,
    progress: Callable[[str], None] | None = None,
    command: Sequence[str] | None = None,
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
    source: dict[str, Any] | None = None,
    **options: Any,
) -> TrainResult:
    """Train a model on a series, score it on the held-out tail, and optionally save it.

    Args:
        data: CSV path, ``-`` for stdin, or a DataFrame with a date column.
        out: Model directory to write (atomically); None keeps the model in memory only.
        config: Base configuration; ``options`` (flat names such as ``window=24``) override it.
        progress: Called with one line per epoch and per stage.
        command: The command line to record in the artifact.
        lock_timeout: Seconds to wait for another process writing the same ``out``.
        source: Where the data came from (e.g. a ticker), recorded in the artifact.
        **options: Any field of DataConfig, ModelConfig or TrainConfig.

    Returns:
        The training result, including the test-part evaluation.

    Raises:
        DataError: If the data cannot be used (see :func:`seqcast.frame.prepare`).
        ConfigError: If options contradict each other or the data.
    """
    from seqcast import runtime
    from seqcast.frame import prepare_series

    config = (config or RunConfig()).with_overrides(options)
    series_set, series = prepare_series(data, config.data)
    config = dataclasses.replace(
        config,
        data=dataclasses.replace(
            config.data,
            target=series_set.target,
            date_col=series_set.date_col,
            features=series_set.features,
            freq=series_set.freq,
            series=series.id if len(series_set.series) > 1 else config.data.series,
        ),
    )
    tc = config.train
    values = series.data.to_numpy(dtype=np.float64)
    dates = iso_dates(series.data.index)
    fitted = fit_values(values, config, progress=progress)
    bounds, fit, device = fitted.bounds, fitted.fit, fitted.device
    train_starts = bounds.starts("train", tc.window, tc.horizon)
    val_starts = bounds.starts("validation", tc.window, tc.horizon)
    test_starts = bounds.starts("test", tc.window, tc.horizon)

    season = season_for_freq(series_set.freq)
    scale = mase_scale(values[: bounds.train_end, 0], season)
    calibration, coverage = _calibrate_intervals(fitted, values)
    evaluation = None
    if len(test_starts):
        predicted = fitted.predict_starts(test_starts)
        coverage = _test_coverage(calibration, values, test_starts, tc, predicted)
        evaluation = score_windows(
            values[:, 0],
            test_starts,
            tc.window,
            tc.horizon,
            predicted,
            season=season,
            scale=scale,
            dates=dates,
        )

    meta: dict[str, Any] = {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "seqcast_version": __version__,
        "versions": runtime.versions(),
        "hardware": device,
        "command": list(command) if command is not None else list(sys.argv),
        "seed": tc.seed,
        "ensemble": tc.ensemble,
        "source": source
        or {
            "kind": "csv" if isinstance(data, str | Path) else "dataframe",
            "path": str(data) if isinstance(data, str | Path) else None,
        },
        "config": config.to_dict(),
        "data": {
            "target": series_set.target,
            "features": list(series_set.features),
            "date_col": series_set.date_col,
            "freq": series_set.freq,
            "series_id": series.id,
            "n_rows": len(values),
            "first_date": dates[0],
            "last_date": dates[-1],
            "notes": list(series_set.notes),
        },
        "split": {
            "train_end": bounds.train_end,
            "val_end": bounds.val_end,
            "n_steps": bounds.n_steps,
            "train_last_date": dates[bounds.train_end - 1],
            "fit_last_date": dates[bounds.val_end - 1],
            "n_train_windows": len(train_starts),
            "n_val_windows": len(val_starts),
            "n_test_windows": len(test_starts),
        },
        "scaler": fitted.scaler.to_dict(),
        "mase": {
            "season": season,
            "scale": scale,
            "naive_scale": mase_scale(values[: bounds.train_end, 0], 1),
        },
        "last_window": {
            "dates": dates[-tc.window :],
            "values": values[-tc.window :].tolist(),
        },
        "history": {
            "loss": list(fit.loss),
            "val_loss": list(fit.val_loss),
            "best_epoch": fit.best_epoch,
            "epochs_run": fit.epochs_run,
            "stopped_early": fit.stopped_early,
            "seconds": fit.seconds,
            "members": [
                {
                    "seed": tc.seed + i,
                    "file": member_file(i),
                    "best_epoch": f.best_epoch,
                    "epochs_run": f.epochs_run,
                    "seconds": f.seconds,
                }
                for i, f in enumerate(fitted.fits)
            ],
        },
        "metrics": {
            "test": evaluation.as_dict() if evaluation else None,
            "test_coverage": coverage,
        },
        "intervals": calibration.to_dict() if calibration else None,
    }
    path = None
    if out is not None:
        path = save_artifact(
            Path(out),
            fitted.models[0].save,
            meta,
            lock_timeout=lock_timeout,
            extra_files=[
                (member_file(i), member.save)
                for i, member in enumerate(fitted.models[1:], start=1)
            ],
        )
    return TrainResult(
        path=path,
        config=config,
        fit=fit,
        evaluation=evaluation,
        device=device,
        notes=series_set.notes,
        meta=meta,
    )


def _calibrate_intervals(
    fitted: Any, values: FloatArray
) -> tuple[Any, dict[str, float] | None]:
    """Calibrate conformal intervals on the validation windows (None without any)."""
    from seqcast.intervals import calibrate

    tc = fitted.config.train
    starts = fitted.bounds.starts("validation", tc.window, tc.horizon)
    if not len(starts):
        return None, None
    rows = starts[:, None] + tc.window + np.arange(tc.horizon)[None, :]
    return calibrate(values[rows, 0], fitted.predict_starts(starts)), None


def _test_coverage(
    calibration: Any,
    values: FloatArray,
    starts: IntArray,
    tc: Any,
    predicted: FloatArray,
) -> dict[str, float] | None:
    """Return the empirical coverage of the default interval levels on the test part."""
    if calibration is None:
        return None
    from seqcast.intervals import coverages

    rows = starts[:, None] + tc.window + np.arange(tc.horizon)[None, :]
    return coverages(calibration, values[rows, 0], predicted)
