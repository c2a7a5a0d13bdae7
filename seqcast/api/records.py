"""The parts of a model directory's metadata that every training path builds alike.

One series or many, the record of each series (split, transform, scaler, MASE scale,
last window), the provenance and the loss history are built here, so that
``api.training`` and ``api.pooled`` write the same fields the same way.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from seqcast._types import FloatArray
from seqcast._version import __version__
from seqcast.data.source import Source, source_of
from seqcast.evaluation.metrics import mase_scale
from seqcast.model.predict import save_keras
from seqcast.store.directory import member_file, save_artifact
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

if TYPE_CHECKING:
    from pathlib import Path

    from seqcast.config import RunConfig
    from seqcast.data.frame import SeriesSet
    from seqcast.evaluation.intervals import Calibration
    from seqcast.evaluation.scoring import Evaluation
    from seqcast.model.pipeline import Prep
    from seqcast.model.training import FitResult
    from seqcast.prep.windows import SplitBounds


def finite_or_none(value: float) -> float | None:
    """``value`` as a float, or None when it is nan or infinite (JSON has neither)."""
    return float(value) if np.isfinite(value) else None


def series_record(
    series_id: str | None,
    values: FloatArray,
    dates: Sequence[str],
    notes: Sequence[str],
    *,
    bounds: SplitBounds,
    fit_end: int,
    sizes: tuple[int, int],
    prep: Prep,
    season: int,
) -> SeriesRecord:
    """Describe one trained series: its split, preparation, MASE scale and last window.

    Args:
        series_id: The series' id (None for a file of one series).
        values: Its unscaled rows (n_steps, n_features).
        dates: ISO timestamps of every row.
        notes: What data preparation did to it.
        bounds: Its train/validation/test split.
        fit_end: First row the final model never trained on.
        sizes: (window, horizon).
        prep: Its fitted target transform and scaler.
        season: Season length of MASE.
    """
    window, horizon = sizes
    n = len(values)
    counts = [
        len(bounds.starts(part, window, horizon)) if n >= window + horizon else 0
        for part in ("train", "validation", "test")
    ]
    train_rows = values[: bounds.train_end, 0]
    stored = values[-window:]
    return SeriesRecord(
        id=series_id,
        n_rows=n,
        first_date=dates[0],
        last_date=dates[-1],
        notes=tuple(notes),
        split=Split(
            train_end=bounds.train_end,
            val_end=bounds.val_end,
            n_steps=bounds.n_steps,
            train_last_date=dates[bounds.train_end - 1],
            fit_last_date=dates[fit_end - 1],
            n_train_windows=counts[0],
            n_val_windows=counts[1],
            n_test_windows=counts[2],
        ),
        transform=prep.transform,
        scaler=prep.scaler,
        raw_scaler=prep.raw_scaler,
        mase=MaseScale(
            season=season,
            scale=finite_or_none(mase_scale(train_rows, season)),
            naive_scale=finite_or_none(mase_scale(train_rows, 1)),
        ),
        last_window=LastWindow(
            dates=tuple(dates[-window:]),
            values=tuple(tuple(float(v) for v in row) for row in stored),
        ),
    )


def provenance(
    *,
    command: Sequence[str] | None,
    seed: int,
    device: str,
    source: Source | None,
    data: Any,
    versions: tuple[tuple[str, str], ...] = (),
) -> Provenance:
    """Who made the model, when, with what versions, from which data.

    ``versions`` are those the fit ran with, when it ran elsewhere (a worker process);
    by default this process's, which imports Keras.
    """
    from seqcast import runtime

    return Provenance(
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        seqcast_version=__version__,
        versions=versions or tuple(runtime.versions().items()),
        hardware=device,
        command=tuple(command) if command is not None else tuple(sys.argv),
        seed=seed,
        source=source or source_of(data),
    )


def history(
    fits: Sequence[FitResult], seed: int, files: Sequence[str] | None = None
) -> History:
    """The first member's loss history, with every member's outcome summarised.

    ``files`` names each member's network (default: ``model.keras``, ``model-1.keras``...).
    """
    fit = fits[0]
    names = (
        list(files) if files is not None else [member_file(i) for i in range(len(fits))]
    )
    return History(
        loss=tuple(fit.loss),
        val_loss=tuple(fit.val_loss),
        best_epoch=fit.best_epoch,
        epochs_run=fit.epochs_run,
        stopped_early=fit.stopped_early,
        seconds=fit.seconds,
        members=tuple(
            Member(
                seed=seed + i,
                file=names[i],
                best_epoch=f.best_epoch,
                epochs_run=f.epochs_run,
                seconds=f.seconds,
            )
            for i, f in enumerate(fits)
        ),
    )


def resolved_data(
    config: RunConfig, series_set: SeriesSet, series: str | None
) -> RunConfig:
    """``config`` with the columns and frequency the data preparation found filled in."""
    import dataclasses

    return dataclasses.replace(
        config,
        data=dataclasses.replace(
            config.data,
            target=series_set.target,
            date_col=series_set.date_col,
            features=series_set.features,
            calendar=series_set.calendar,
            freq=series_set.freq,
            series=series,
        ),
    )


def model_meta(
    config: RunConfig,
    series_set: SeriesSet,
    records: tuple[SeriesRecord, ...],
    fits: Sequence[FitResult],
    *,
    device: str,
    origin: tuple[Sequence[str] | None, Source | None, Any],
    scores: tuple[Evaluation | None, dict[str, float] | None, Calibration | None],
    versions: tuple[tuple[str, str], ...] = (),
) -> ModelMeta:
    """Assemble the whole ``seqcast.json``.

    ``origin`` is (command, source, data); ``scores`` is (test evaluation, test
    coverage, interval calibration); ``versions`` as in :func:`provenance`.
    """
    command, source, data = origin
    test, coverage, calibration = scores
    seed = config.train.seed
    return ModelMeta(
        provenance=provenance(
            command=command,
            seed=seed,
            device=device,
            source=source,
            data=data,
            versions=versions,
        ),
        config=config,
        columns=Columns(
            target=series_set.target,
            features=tuple(series_set.features),
            date_col=series_set.date_col,
            freq=series_set.freq,
            date_format=series_set.date_format,
            known=series_set.known,
            static=series_set.static,
        ),
        series=records,
        history=history(fits, seed),
        test=test,
        test_coverage=coverage,
        intervals=calibration,
    )


def save_models(
    out: Path | None, models: Sequence[Any], meta: ModelMeta, lock_timeout: float
) -> Path | None:
    """Write the model directory atomically (member 0 and the others); None without ``out``."""
    if out is None:
        return None
    return save_artifact(
        out,
        functools.partial(save_keras, models[0]),
        meta,
        lock_timeout=lock_timeout,
        extra_files=[
            (member_file(i), functools.partial(save_keras, member))
            for i, member in enumerate(models[1:], start=1)
        ],
    )
