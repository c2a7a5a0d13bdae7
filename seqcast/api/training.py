"""Training from data: prepare, size, fit, calibrate, score and save; and re-trained backtests.

Example:
    >>> import seqcast
    >>> result = seqcast.train("sample_data/air_passengers.csv", target="passengers",
    ...                        horizon=12, out="models/air")
    >>> result.evaluation.best()  # the best of the network and its references
    >>> seqcast.backtest("sample_data/air_passengers.csv", target="passengers", folds=3)
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from seqcast.api.local import fit_series, warn_verdict
from seqcast.api.records import model_meta, resolved_data, save_models
from seqcast.atomic import DEFAULT_LOCK_TIMEOUT
from seqcast.config import RunConfig
from seqcast.data.calendar import iso_dates
from seqcast.data.source import Source
from seqcast.errors import ArtifactError, ConfigError
from seqcast.evaluation.backtest import DEFAULT_FOLDS, BacktestResult
from seqcast.evaluation.baselines import season_for_freq
from seqcast.evaluation.intervals import DEFAULT_LEVELS
from seqcast.evaluation.scoring import Evaluation
from seqcast.prep.sizing import default_horizon, resolve_sizes
from seqcast.store.directory import (
    check_replaceable,
    output_lock,
)
from seqcast.store.schema import (
    ModelMeta,
)

__all__ = ["TrainResult", "backtest", "train"]

if TYPE_CHECKING:
    import pandas as pd

    from seqcast.data.frame import Series, SeriesSet
    from seqcast.model.training import FitResult


@dataclass(frozen=True, slots=True)
class TrainResult:
    """What a training run produced.

    Attributes:
        path: Where the model directory was written, or None when ``out`` was not given.
        config: The configuration in force, with detected columns and frequency filled in.
        fit: Loss history and early-stopping outcome (of the first member of an
            ensemble; ``meta.history.members`` summarises every member; with
            ``per_series``, of the first series, each series' own being in
            ``meta.series[k].local.history``).
        evaluation: Scores on the held-out test part beside the baselines (None when
            ``test_fraction`` is 0); of several series, every series' test windows
            pooled.
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
    meta: ModelMeta


def train(
    data: str | Path | pd.DataFrame,
    *,
    out: str | Path | None = None,
    config: RunConfig | None = None,
    progress: Callable[[str], None] | None = None,
    command: Sequence[str] | None = None,
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
    source: Source | None = None,
    jobs: int | None = None,
    dask_scheduler: str | None = None,
    **options: Any,
) -> TrainResult:
    """Train a model on a series, score it on the held-out tail, and optionally save it.

    A long-format file (``id_col``) trains one global model over every series; with
    ``per_series=True``, one local model per series instead, each exactly as a file of
    that series alone would train, in ``jobs`` worker processes
    (:mod:`seqcast.api.per_series`).

    Example:
        >>> seqcast.train("long.csv", id_col="store", target="sales",
        ...               per_series=True, jobs=2, out="models/stores")

    Args:
        data: CSV path, ``-`` for stdin, or a DataFrame with a date column.
        out: Model directory to write (atomically); None keeps the model in memory only.
        config: Base configuration; ``options`` (flat names such as ``window=24``) override it.
        progress: Called with one line per epoch and per stage.
        command: The command line to record in the artifact.
        lock_timeout: Seconds to wait for another process writing the same ``out``.
        source: Where the data came from (e.g. a ticker), recorded in the artifact.
        jobs: With ``per_series``: worker processes fitting series at the same time
            (default: one per core; 1 fits them in turn in this process). The models
            are the same whatever ``jobs`` is.
        dask_scheduler: With ``per_series``: the address of a Dask scheduler
            (``tcp://HOST:PORT``) whose workers fit the series instead of local
            processes; needs ``seqcast[dask]``. The models are the same as with
            ``jobs=1``, and only this process writes ``out``.
        **options: Any field of DataConfig, ModelConfig or TrainConfig, such as
            ``window=24``, ``id_col="store"`` or ``per_series=True``.

    Returns:
        The training result, including the test-part evaluation.

    Raises:
        DataError: If the data cannot be used (see :func:`seqcast.data.frame.prepare`),
            or, with ``per_series``, if no series could be trained.
        ConfigError: If options contradict each other or the data, ``jobs`` or
            ``dask_scheduler`` is given without ``per_series``, both are given,
            ``dask_scheduler`` is malformed, or Dask is not installed.
        ClusterError: If the Dask scheduler cannot be reached within a few seconds,
            or the cluster loses the workers of the run; ``out`` is left as it was.
        LockError: If another process holds the lock on ``out`` for longer than
            ``lock_timeout``; checked once the data is read, before any epoch is run.
    """
    args = (data, config, progress, command, source, options)
    with contextlib.ExitStack() as stack:
        return _train(
            *args,
            out=None if out is None else Path(out),
            lock_timeout=lock_timeout,
            stack=stack,
            jobs=jobs,
            dask_scheduler=dask_scheduler,
        )


def lock_out(out: Path, lock_timeout: float) -> contextlib.AbstractContextManager[None]:
    """Return the lock on the model directory ``out``, creating its parent if needed.

    The lock is re-entrant within the thread, so the atomic save under the same lock
    nests inside it.

    Raises:
        ArtifactError: If the parent directory cannot be created.
    """
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ArtifactError(
            f"Cannot create the directory {out.parent}: {exc.strerror}. Choose an --out in a writable place."
        ) from None
    return output_lock(out, lock_timeout, option="--out")


def _train(
    data: str | Path | pd.DataFrame,
    config: RunConfig | None,
    progress: Callable[[str], None] | None,
    command: Sequence[str] | None,
    source: Source | None,
    options: dict[str, Any],
    *,
    out: Path | None,
    lock_timeout: float,
    stack: contextlib.ExitStack,
    jobs: int | None,
    dask_scheduler: str | None,
) -> TrainResult:
    from seqcast.data.frame import prepare, read_data

    config = (config or RunConfig()).with_overrides(options)
    per_series = config.data.per_series
    _check_cluster(dask_scheduler, jobs=jobs, per_series=per_series)
    if jobs is not None and jobs < 1:
        raise ConfigError(f"jobs={jobs} must be at least 1. Use --jobs 1 or more.")
    if jobs is not None and not per_series:
        raise ConfigError(
            f"jobs={jobs} sets the worker processes of per-series training, but per_series is off. Add --per-series (with --id-col), or drop --jobs."
        )
    series_set = prepare(read_data(data), config.data)
    several = len(series_set.series) > 1 and config.data.series is None
    pooled = several and not per_series
    series = (
        series_set.series[0]
        if several or per_series
        else series_set.single(config.data.series)
    )
    if out is not None:  # bad data leaves no lock; a busy --out fails before training
        check_replaceable(out)
        stack.enter_context(lock_out(out, lock_timeout))
    if per_series:
        from seqcast.api.per_series import train_per_series

        return train_per_series(
            series_set,
            config,
            origin=(command, source, data),
            out=out,
            progress=progress,
            lock_timeout=lock_timeout,
            jobs=jobs,
            dask_scheduler=dask_scheduler,
        )
    if pooled:
        from seqcast.api.pooled import train_pooled

        return train_pooled(
            series_set,
            config,
            data=data,
            out=out,
            progress=progress,
            command=command,
            source=source,
            lock_timeout=lock_timeout,
        )
    return _train_one(
        series_set,
        series,
        config,
        progress=progress,
        origin=(command, source, data),
        out=out,
        lock_timeout=lock_timeout,
    )


def _check_cluster(address: str | None, *, jobs: int | None, per_series: bool) -> None:
    """Refuse a Dask scheduler where it does not apply, or one that is malformed."""
    if address is None:
        return
    if not per_series:
        raise ConfigError(
            f"dask_scheduler={address!r} sends per-series training to a Dask cluster, but per_series is off. Add --per-series (with --id-col), or drop --dask-scheduler."
        )
    if jobs is not None:
        raise ConfigError(
            f"jobs={jobs} sets the worker processes on this machine, but dask_scheduler={address!r} sends the series to the cluster's workers, which decide how many run at once. Drop --jobs, or drop --dask-scheduler."
        )
    from seqcast.model.cluster import check_address

    check_address(address)


def _train_one(
    series_set: SeriesSet,
    series: Series,
    config: RunConfig,
    *,
    progress: Callable[[str], None] | None,
    origin: tuple[Sequence[str] | None, Source | None, Any],
    out: Path | None,
    lock_timeout: float,
) -> TrainResult:
    """Fit, score and save a model of one series (the caller holds the lock on ``out``)."""
    several = len(series_set.series) > 1
    config = resolved_data(
        config, series_set, series.id if several else config.data.series
    )
    season = season_for_freq(series_set.freq)
    one = fit_series(
        series.id,
        series.data.to_numpy(dtype=np.float64),
        iso_dates(series.data.index),
        series_set.notes,
        config,
        season=season,
        progress=progress,
    )
    if one.validation is not None:
        warn_verdict(one.validation, one.fits[0], one.config.train.epochs)
    meta = model_meta(
        one.config,
        series_set,
        (one.record,),
        one.fits,
        device=one.device,
        origin=origin,
        scores=(one.test, one.coverage, one.calibration),
    )
    return TrainResult(
        path=save_models(out, one.models, meta, lock_timeout),
        config=one.config,
        fit=one.fits[0],
        evaluation=one.test,
        device=one.device,
        notes=(*series_set.notes, *one.notes),
        meta=meta,
    )


def backtest(
    data: str | Path | pd.DataFrame,
    *,
    folds: int = DEFAULT_FOLDS,
    step: int | None = None,
    season: int | None = None,
    config: RunConfig | None = None,
    levels: Sequence[float] = DEFAULT_LEVELS,
    progress: Callable[[str], None] | None = None,
    jobs: int | None = None,
    dask_scheduler: str | None = None,
    **options: Any,
) -> BacktestResult:
    """Re-train at ``folds`` origins of a series and score each next horizon beside the baselines.

    Args:
        data: CSV path, ``-`` for stdin, or a DataFrame with a date column.
        folds: Forecast origins, each re-trained on everything before it.
        step: Rows between origins (default: the horizon, so folds do not overlap).
        season: Season length for seasonal naive and MASE (default: from the frequency).
        config: Base configuration; ``options`` override it, as in :func:`train`.
        levels: Interval levels whose coverage is reported.
        progress: Called with one line per fold (and per epoch with ``jobs=1``).
        jobs: Folds trained at once in worker processes, each with its share of the
            cores (default 1: here, in turn). The scores are the same either way.
        dask_scheduler: A Dask scheduler (``tcp://HOST:PORT``, needs ``seqcast[dask]``)
            whose workers train the folds instead of local processes.
        **options: Any configuration field, as in :func:`train`.

    Returns:
        Per-fold and pooled scores; ``notes`` says what data preparation did.

    Raises:
        DataError: If the earliest fold leaves too little history to train on.
        ConfigError: If options contradict each other or the data, or
            ``per_series`` is set.
    """
    from seqcast.data.frame import prepare_series
    from seqcast.evaluation.backtest import backtest as run_backtest

    config = (config or RunConfig()).with_overrides(options)
    if config.data.per_series:
        raise ConfigError(
            "backtest re-trains one series at a time, so per_series=True does not apply. Drop --per-series, and pick a series with --series."
        )
    if jobs is not None and jobs < 1:
        raise ConfigError(f"jobs={jobs} must be at least 1. Use --jobs 1 or more.")
    if dask_scheduler is not None:
        if jobs is not None:
            raise ConfigError(
                f"jobs={jobs} sets the worker processes on this machine, but dask_scheduler={dask_scheduler!r} sends the folds to the cluster's workers, which decide how many run at once. Drop --jobs, or drop --dask-scheduler."
            )
        from seqcast.model.cluster import check_address

        check_address(dask_scheduler)
    series_set, series = prepare_series(data, config.data)
    season = season or season_for_freq(series_set.freq)
    values = series.data.to_numpy(dtype=np.float64)
    # Sized for the earliest fold, the shortest history any fold trains on.
    horizon = config.train.horizon or default_horizon(season)
    shortest = len(values) - horizon - (folds - 1) * (step or horizon)
    sized, sizing_notes = resolve_sizes(
        dataclasses.replace(config.train, test_fraction=0.0), max(shortest, 1), season
    )
    config = dataclasses.replace(
        config,
        data=dataclasses.replace(
            config.data,
            target=series_set.target,
            freq=series_set.freq,
            calendar=series_set.calendar,
        ),
        train=sized,
    )
    result = run_backtest(
        values,
        iso_dates(series.data.index),
        config,
        folds=folds,
        step=step,
        season=season,
        levels=levels,
        progress=progress,
        jobs=jobs or 1,
        dask_scheduler=dask_scheduler,
    )
    notes = (*series_set.notes, *sizing_notes)
    return dataclasses.replace(result, notes=notes, name=series_set.target)
