"""Training one local model per series of a long-format file, in parallel worker processes.

``seqcast.train(data, id_col=..., per_series=True, jobs=N)`` comes here. Every series is
sized, transformed, fitted, scored and calibrated exactly as a file of that series alone
would be, with the one-series defaults rather than a global model's
(:func:`seqcast.api.local.fit_series`), each in its own task: in ``N`` worker processes
whose thread pools are capped (:func:`seqcast.model.parallel.run_unordered`), in this
process with ``jobs=1``, or on the workers of a Dask cluster with ``dask_scheduler``
(:mod:`seqcast.model.cluster`). Every fit starts from the same seed wherever it runs,
so the models do not depend on ``jobs`` or on where they ran (given the same versions
of seqcast, Keras and its backend). Only this process writes the model directory.

A series that cannot be trained (too short for any window...) is reported with its id
and left out (``ModelMeta.left_out``); the others are saved atomically in one model
directory, one network per series (``series-<k>.keras``, named in each series record;
:class:`seqcast.store.schema.LocalModel`). Forecasts, ``info`` and the pooled test
scores then read as those of a global model.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from seqcast._types import FloatArray
from seqcast.api.local import SeriesFit, fit_series, verdict_warnings
from seqcast.api.records import history, model_meta, resolved_data
from seqcast.config import RunConfig
from seqcast.data.calendar import iso_dates
from seqcast.errors import DataError, SeqcastError
from seqcast.evaluation.baselines import season_for_freq
from seqcast.evaluation.scoring import Evaluation, pool_evaluations
from seqcast.printable import printable
from seqcast.progress import Step
from seqcast.store.layout import series_file
from seqcast.store.schema import LeftOut, LocalModel, ModelMeta, SeriesRecord

if TYPE_CHECKING:
    from seqcast.api.training import TrainResult
    from seqcast.data.frame import SeriesSet
    from seqcast.data.source import Source


@dataclass(frozen=True, slots=True)
class SeriesTask:
    """One series to fit, as sent to a worker process.

    Attributes:
        series_id: Its id.
        values: Its unscaled rows (n_steps, n_features).
        dates: ISO timestamps of every row.
        notes: What data preparation did to it.
        config: The configuration of a run on this series alone (``series`` set).
        season: Season length of the frequency.
    """

    series_id: str
    values: FloatArray
    dates: tuple[str, ...]
    notes: tuple[str, ...]
    config: RunConfig
    season: int


@dataclass(frozen=True, slots=True)
class SeriesOutcome:
    """What a task sends back: the fit and its networks' bytes, or why it failed.

    Attributes:
        series_id: The series' id.
        fit: Its fit and scores, without the Keras models (None if it failed).
        networks: Each member's ``.keras`` file, as bytes.
        reason: Why the series was left out (None if it was trained).
        warnings: The validation verdict's warnings, as (name, message) pairs.
    """

    series_id: str
    fit: SeriesFit | None
    networks: tuple[bytes, ...] = ()
    reason: str | None = None
    warnings: tuple[tuple[str, str], ...] = ()


def fit_task(task: SeriesTask) -> SeriesOutcome:
    """Fit one series with no progress lines; a user-fixable problem leaves it out.

    Runs in a worker process (or in this one with ``jobs=1``). Any exception other
    than a :class:`~seqcast.errors.SeqcastError` is a bug and propagates.
    """
    from seqcast.model.predict import keras_bytes

    try:
        one = fit_series(
            task.series_id,
            task.values,
            list(task.dates),
            task.notes,
            task.config,
            season=task.season,
            progress=None,
        )
    except SeqcastError as exc:
        return SeriesOutcome(task.series_id, None, reason=str(exc))
    warnings: tuple[tuple[str, str], ...] = ()
    if one.validation is not None:
        epochs = one.config.train.epochs
        warnings = tuple(verdict_warnings(one.validation, one.fits[0], epochs))
    return SeriesOutcome(
        task.series_id,
        dataclasses.replace(one, models=()),
        networks=tuple(keras_bytes(m) for m in one.models),
        warnings=warnings,
    )


def train_per_series(
    series_set: SeriesSet,
    config: RunConfig,
    *,
    origin: tuple[Sequence[str] | None, Source | None, Any],
    out: Path | None,
    progress: Callable[[str], None] | None,
    lock_timeout: float,
    jobs: int | None,
    dask_scheduler: str | None = None,
) -> TrainResult:
    """Fit one local model per series of ``series_set``, pool their scores, save them.

    The caller holds the lock on ``out``. See :func:`seqcast.api.training.train`.

    Args:
        series_set: The prepared series.
        config: The configuration, ``per_series`` on.
        origin: (command, source, data), for the provenance.
        out: The model directory to write, or None.
        progress: Called with one :class:`~seqcast.progress.Step` per finished series.
        lock_timeout: Seconds to wait for the lock on ``out`` when saving.
        jobs: Worker processes (default: one per core); 1 fits in this process.
        dask_scheduler: A Dask scheduler's address whose workers fit the series
            instead (``jobs`` is then unused).

    Raises:
        DataError: If no series could be trained; the message gives the first reason.
    """
    from seqcast.api.training import TrainResult
    from seqcast.model.parallel import available_cores, run_unordered

    tasks = _tasks(series_set, config)
    n = len(tasks)
    workers = min(jobs or available_cores(), n)
    results = run_unordered(
        fit_task, tasks, jobs=workers, dask_scheduler=dask_scheduler
    )
    if progress:
        where = "in this process" if workers == 1 else f"in {workers} worker processes"
        if dask_scheduler is not None:
            where = f"on the Dask cluster at {dask_scheduler}"
        progress(
            f"training {n} local {config.model.model.value} models, one per series, {where}"
        )
    outcomes: list[SeriesOutcome | None] = [None] * n
    for done, (i, outcome) in enumerate(results, start=1):
        outcomes[i] = outcome
        if progress:
            progress(Step(_line(done, n, outcome), kind="series", done=done, total=n))
    finished = [o for o in outcomes if o is not None]
    kept = [o for o in finished if o.fit is not None]
    failed = [o for o in finished if o.fit is None]
    if not kept:
        first = failed[0]
        raise DataError(
            f"None of the {n} series could be trained on its own (per_series); the first, {first.series_id!r}: {first.reason}"
        )
    _warn(kept, failed, n)
    top = _shared_config(config, series_set, kept)
    records, networks = _records(series_set, kept, top.train.seed)
    test = _pooled_test(kept)
    meta = model_meta(
        top,
        series_set,
        records,
        kept[0].fit.fits,  # type: ignore[union-attr]
        device=kept[0].fit.device,  # type: ignore[union-attr]
        origin=origin,
        scores=(test, _pooled_coverage(kept), None),
        versions=kept[0].fit.versions,  # type: ignore[union-attr]
    )
    first_local = records[0].local
    meta = dataclasses.replace(
        meta,
        history=first_local.history if first_local else meta.history,
        left_out=tuple(LeftOut(o.series_id, str(o.reason)) for o in failed),
    )
    notes = tuple(
        f"{o.series_id}: {note}"
        for o in kept
        for note in o.fit.notes  # type: ignore[union-attr]
    )
    return TrainResult(
        path=_save(out, networks, meta, lock_timeout),
        config=top,
        fit=kept[0].fit.fits[0],  # type: ignore[union-attr]
        evaluation=test,
        device=kept[0].fit.device,  # type: ignore[union-attr]
        notes=(*series_set.notes, *notes),
        meta=meta,
    )


def _tasks(series_set: SeriesSet, config: RunConfig) -> list[SeriesTask]:
    """One task per series, configured as a run on that series alone (``--series ID``)."""
    alone = dataclasses.replace(
        config, data=dataclasses.replace(config.data, per_series=False)
    )
    season = season_for_freq(series_set.freq)
    return [
        SeriesTask(
            series_id=s.id,
            values=s.data.to_numpy(dtype=np.float64),
            dates=tuple(iso_dates(s.data.index)),
            notes=tuple(n for n in series_set.notes if s.id in n),
            config=resolved_data(alone, series_set, s.id),
            season=season,
        )
        for s in series_set.series
    ]


def _line(done: int, total: int, outcome: SeriesOutcome) -> str:
    """The progress line of a finished series."""
    head = f"series {done}/{total} ({printable(outcome.series_id)})"
    if outcome.fit is None:
        return f"{head}: left out"
    fit = outcome.fit.fits[0]  # an ensemble's members train together: one fit
    return f"{head}: trained {fit.epochs_run} epochs (best {fit.best_epoch}) in {fit.seconds:.1f} s, window {outcome.fit.config.train.window}"


def _ids(ids: Sequence[str]) -> str:
    shown = ", ".join(repr(i) for i in ids[:10])
    return shown + (f" and {len(ids) - 10} more" if len(ids) > 10 else "")


_VERDICTS = {
    "first_epoch": "{k} of {n} series kept the weights of their first epoch, which did not improve on the untrained network, so their forecasts are close to the normalisation's naive one: {ids}. Compare them with `seqcast backtest` before relying on them.",
    "first_epoch_only": "{k} of {n} series kept the weights of their first epoch, the only one that improved their validation loss: {ids}. A lower --lr gives smaller steps to choose from; compare them with `seqcast backtest` before relying on them.",
    "loses_on_validation": "On their validation windows the network loses to a baseline for {k} of {n} series: {ids}. Compare them with `seqcast backtest` before relying on the network.",
}


def _warn(kept: list[SeriesOutcome], failed: list[SeriesOutcome], n: int) -> None:
    """Name the series left out, one warning each; pool the verdicts, one per kind."""
    from seqcast import logs

    for o in failed:
        logs.warn(
            f"Series {o.series_id!r} was left out: {o.reason}",
            name="left_out",
            series=o.series_id,
        )
    by_name: dict[str, list[str]] = {}
    messages: dict[str, str] = {}
    for o in kept:
        for name, message in o.warnings:
            by_name.setdefault(name, []).append(o.series_id)
            messages.setdefault(name, message)
    for name, ids in by_name.items():
        template = _VERDICTS.get(name)
        text = (
            template.format(k=len(ids), n=n, ids=_ids(ids))
            if template
            else f"Series {_ids(ids)}: {messages[name]}"
        )
        logs.warn(text, name=name)


def _shared_config(
    config: RunConfig, series_set: SeriesSet, kept: list[SeriesOutcome]
) -> RunConfig:
    """The configuration every series shares: columns found, horizon resolved.

    The window (and the validation and test shares) stay as asked: each series keeps
    its own in its record's ``local`` part.
    """
    horizon = kept[0].fit.config.train.horizon  # type: ignore[union-attr]
    config = resolved_data(config, series_set, None)
    return dataclasses.replace(
        config, train=dataclasses.replace(config.train, horizon=horizon)
    )


def _records(
    series_set: SeriesSet, kept: list[SeriesOutcome], seed: int
) -> tuple[tuple[SeriesRecord, ...], dict[str, bytes]]:
    """Each kept series' record with its local model, and every network file's bytes."""
    records = []
    networks: dict[str, bytes] = {}
    for k, o in enumerate(kept):
        one = o.fit
        if one is None:  # pragma: no cover - kept outcomes all have a fit
            continue
        names = [series_file(k, m) for m in range(len(o.networks))]
        networks.update(zip(names, o.networks, strict=True))
        tc = one.config.train
        local = LocalModel(
            window=tc.sizes[0],
            val_fraction=tc.val_fraction,
            test_fraction=tc.test_fraction,
            history=history(one.fits, seed, names),
            test=one.test,
            test_coverage=one.coverage,
            intervals=one.calibration,
        )
        records.append(dataclasses.replace(one.record, local=local))
    return tuple(records), networks


def _pooled_test(kept: list[SeriesOutcome]) -> Evaluation | None:
    """Every series' test windows pooled (each error in its own series' MASE units)."""
    found = [o.fit.test for o in kept if o.fit is not None and o.fit.test is not None]
    return pool_evaluations(found) if found else None


def _pooled_coverage(kept: list[SeriesOutcome]) -> dict[str, float] | None:
    """The share of every series' test points inside their bands, per level.

    Each series' coverage is a share of its ``n_windows * horizon`` test points, and
    the horizon is shared, so the pooled share is their mean weighted by windows.
    """
    pairs = [
        (o.fit.coverage, o.fit.test.n_windows)
        for o in kept
        if o.fit is not None and o.fit.coverage and o.fit.test is not None
    ]
    if not pairs:
        return None
    total = sum(w for _, w in pairs)
    labels = [label for label in pairs[0][0] if all(label in c for c, _ in pairs)]
    return {label: sum(c[label] * w for c, w in pairs) / total for label in labels}


def _save(
    out: Path | None, networks: dict[str, bytes], meta: ModelMeta, lock_timeout: float
) -> Path | None:
    """Write the model directory atomically: every series' networks and the metadata."""
    if out is None:
        return None
    from seqcast.store.directory import save_artifact

    def writer(data: bytes) -> Callable[[Path], None]:
        return lambda path: _write_bytes(path, data)

    return save_artifact(
        out,
        None,
        meta,
        lock_timeout=lock_timeout,
        extra_files=[(name, writer(data)) for name, data in networks.items()],
    )


def _write_bytes(path: Path, data: bytes) -> None:
    with open(path, "xb") as handle:
        handle.write(data)
