"""Training one global model on every series of a long-format file.

``seqcast.train`` comes here when the data holds several series (``id_col``) and no
``series`` picks one. Each series keeps its own transform, scaler, split and MASE scale
(:mod:`seqcast.model.pooled`); the scores pool every series' windows, each error scaled
by its own series; the intervals are calibrated on validation errors as log ratios of
truth to forecast for the series that take logs, and in units of each series' MASE
scale for the others, so that one calibration serves series of any size.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from seqcast.api.records import model_meta, resolved_data, save_models, series_record
from seqcast.config import RunConfig, Transform
from seqcast.data.calendar import iso_dates
from seqcast.evaluation.baselines import season_for_freq
from seqcast.evaluation.metrics import mase_scale
from seqcast.evaluation.references import MAX_POOLED_THETA_FITS, THETA_FIT_SECONDS
from seqcast.evaluation.scoring import Evaluation, pool_evaluations, score_windows
from seqcast.model.pooled import PooledFit, fit_pooled
from seqcast.prep.sizing import resolve_pool_sizes

if TYPE_CHECKING:
    from seqcast.api.training import TrainResult
    from seqcast.data.frame import SeriesSet
    from seqcast.data.source import Source
    from seqcast.evaluation.intervals import Calibration


POOLED_DEFAULTS: dict[str, Any] = {
    "refit": True,
    "patience": 20,
    "epochs": 300,
    "batch_size": 128,
    "lr": 0.003,
    "skip": True,
    "units": (8,),
    "ensemble": 10,
    "deseasonalize": "mixed",
    "val_fraction": 0.3,
}
"""Defaults of a model over several series where they differ from one series' (chosen on
M1, see docs/ACCURACY.md): validation on the last horizon of hundreds of series is noisy
from epoch to epoch, so early stopping waits longer, and up to 300 epochs (M1's yearly
series, a few thousand windows of three rows, were still improving at 100: 0.736
against 0.744 at 300, stopped at 251; the larger categories stop early either way);
and the final fit learns from the
newest rows of every series too; there are far more windows, so batches are larger
(fewer steps per epoch) with a higher learning rate; a linear skip connection beside
the recurrent layers (it helped on M1's yearly and quarterly series); a recurrent
layer of 8 units rather than 64 (better on all three M1 categories, and half the
time); the GRU, since the default for one series too, was first chosen here (all of
M1: 0.784 against the LSTM's 0.789 with seed 0, 0.792 against 0.800 with seed 1); ten
members, five reading each series as prepared and five one step less prepared (with
its seasonal pattern, or where it has no seasonal indices, without its log), each five
trained together in one fit, their forecasts blended (all of M1: 0.753 against 0.784
with five deseasonalised members; monthly 0.787 against 0.817, quarterly 0.716 against
0.742 from the season; yearly 0.684 against 0.727 from the log; a category with neither
indices nor a log trains its ten in one fit); and a validation part of 30% of
each series rather than 15% (several origins on most series rather than one: a steadier
choice of the epoch count, and more calibration windows, whose intervals covered 78.8%
and 93.3% of M1's held-out points at 80% and 95%, against 75.8% and 92.2%). A value
given by the caller or a config file wins."""


def train_pooled(
    series_set: SeriesSet,
    config: RunConfig,
    *,
    data: Any,
    out: Path | None,
    progress: Callable[[str], None] | None,
    command: Sequence[str] | None,
    source: Source | None,
    lock_timeout: float,
) -> TrainResult:
    """Fit one model over every series of ``series_set``, score it, and save it to ``out``.

    The caller holds the lock on ``out``. See :func:`seqcast.api.training.train`.
    """
    from seqcast.api.local import warn_verdict
    from seqcast.api.training import TrainResult

    config = config.with_defaults(POOLED_DEFAULTS)
    config = resolved_data(config, series_set, None)
    values = [s.data.to_numpy(dtype=np.float64) for s in series_set.series]
    dates = [iso_dates(s.data.index) for s in series_set.series]
    season = season_for_freq(series_set.freq)
    sized, sizing_notes = resolve_pool_sizes(
        config.train, [len(v) for v in values], season
    )
    config = dataclasses.replace(config, train=sized)
    fitted = fit_pooled(values, config, season=season, progress=progress)
    scored = sum(
        len(_part_starts(fitted, k, part))
        for k in range(len(values))
        for part in ("validation", "test")
    )
    reference = scored <= MAX_POOLED_THETA_FITS
    if not reference:
        sizing_notes = (
            *sizing_notes,
            f"Theta left out of the validation and test scores: refitting it at each of their {scored} windows over {len(values)} series would take about {max(1, round(scored * THETA_FIT_SECONDS / 60))} min (the limit is {MAX_POOLED_THETA_FITS} windows); naive, seasonal naive and drift are scored. Score one series beside Theta with `seqcast evaluate MODEL DATA.csv --series ID`",
        )
    validation = _pooled_scores(fitted, dates, "validation", season, reference)
    if validation is not None:
        warn_verdict(validation, fitted.fits[0], config.train.epochs)
    evaluation = _pooled_scores(fitted, dates, "test", season, reference)
    calibration = _calibrate(fitted, season)
    coverage = _coverage(fitted, calibration, season)

    tc = config.train
    records = tuple(
        series_record(
            s.id,
            values[k],
            dates[k],
            [n for n in series_set.notes if s.id in n],
            bounds=fitted.bounds[k],
            fit_end=fitted.fit_end(k),
            sizes=tc.sizes,
            prep=fitted.preps[k],
            season=season,
        )
        for k, s in enumerate(series_set.series)
    )
    meta = model_meta(
        config,
        series_set,
        records,
        fitted.fits,
        device=fitted.device,
        origin=(command, source, data),
        scores=(evaluation, coverage, calibration),
    )
    return TrainResult(
        path=save_models(out, fitted.models, meta, lock_timeout),
        config=config,
        fit=fitted.fits[0],
        evaluation=evaluation,
        device=fitted.device,
        notes=(*series_set.notes, *sizing_notes),
        meta=meta,
    )


def _part_starts(fitted: PooledFit, k: int, part: str) -> np.ndarray:
    window, horizon = fitted.config.train.sizes
    if len(fitted.values[k]) < window + horizon:
        return np.empty(0, dtype=np.int64)
    return fitted.bounds[k].starts(part, window, horizon)  # type: ignore[arg-type]


def _scale(fitted: PooledFit, k: int, season: int) -> float:
    return mase_scale(fitted.values[k][: fitted.bounds[k].train_end, 0], season)


def _pooled_scores(
    fitted: PooledFit,
    dates: list[list[str]],
    part: str,
    season: int,
    reference: bool = True,
) -> Evaluation | None:
    """Score every series' windows of ``part`` beside its baselines, pooled; None if none.

    ``reference`` False leaves Theta out (see ``MAX_POOLED_THETA_FITS``).
    """
    window, horizon = fitted.config.train.sizes
    found = []
    for k, values in enumerate(fitted.values):
        starts = _part_starts(fitted, k, part)
        if not len(starts):
            continue
        found.append(
            score_windows(
                values[:, 0],
                starts,
                window,
                horizon,
                fitted.predict_starts(k, starts),
                season=season,
                scale=_scale(fitted, k, season),
                dates=dates[k],
                reference=reference,
            )
        )
    return pool_evaluations(found) if found else None


CALIBRATION_WINDOWS = 100
"""Validation windows the intervals of a model over many series aim at (see _calibrate)."""


def _series_errors(
    fitted: PooledFit, part: str, season: int, *, per_series: int | None = None
) -> list[tuple[int, np.ndarray, np.ndarray, float]]:
    """(series, truths, predictions, MASE scale) of ``part``'s windows, per series.

    With ``per_series``, each series gives its last ``per_series`` windows of the part.
    Series without windows there, or without a usable scale, are left out.
    """
    window, horizon = fitted.config.train.sizes
    found = []
    for k, values in enumerate(fitted.values):
        starts = _part_starts(fitted, k, part)
        if per_series is not None:
            starts = starts[-per_series:]
        scale = _scale(fitted, k, season)
        if not len(starts) or not (np.isfinite(scale) and scale > 0):
            continue
        rows = starts[:, None] + window + np.arange(horizon)[None, :]
        found.append((k, values[rows, 0], fitted.predict_starts(k, starts), scale))
    return found


def _calibrate(fitted: PooledFit, season: int) -> Calibration | None:
    """Conformal residuals of validation windows, pooled over the series.

    Every series gives as many of its last validation windows as the others, as a
    forecast is one per series: with every window, the long series (many windows
    each, usually the easier ones) would set the band for all. The count per series
    is the fewest that make :data:`CALIBRATION_WINDOWS` windows in all (one each for
    100 series or more), so that a small pool still resolves the usual levels.

    A series whose model takes logs, with positive values and forecasts there, gives
    log ratios of truth to forecast (:attr:`Calibration.relative`), which need no
    scale: a band in units of the training part's scale is too narrow for a series
    that has grown since (all of M1: 80.9% / 95.5% covered at 80% / 95%, against
    79.6% / 93.4%). When some series do not take logs (a zero or a negative value),
    they keep the band of every series' errors in units of each one's MASE scale,
    stored as the relative calibration's ``absolute`` one: pooled over all the
    series, so that a handful of such series still resolve the usual levels, and one
    without validation windows of its own still gets a band in its units.
    """
    from seqcast.evaluation.intervals import calibrate

    holding = sum(
        len(_part_starts(fitted, k, "validation")) > 0
        for k in range(len(fitted.values))
    )
    per_series = max(1, math.ceil(CALIBRATION_WINDOWS / max(holding, 1)))
    found = _series_errors(fitted, "validation", season, per_series=per_series)
    if not found:
        return None
    scaled = calibrate(
        np.concatenate([truth / scale for _, truth, _, scale in found]),
        np.concatenate([pred / scale for _, _, pred, scale in found]),
    )
    scaled = dataclasses.replace(scaled, per_scale=True)
    logged = [
        (np.log(truth), np.log(pred))
        for k, truth, pred, _ in found
        if _logged(fitted, k) and np.all(truth > 0.0) and np.all(pred > 0.0)
    ]
    if not logged:
        return scaled
    relative = calibrate(
        np.concatenate([t for t, _ in logged]), np.concatenate([p for _, p in logged])
    )
    every = len(logged) == len(found) and all(
        _logged(fitted, k) for k in range(len(fitted.values))
    )
    return dataclasses.replace(
        relative, relative=True, absolute=None if every else scaled
    )


def _logged(fitted: PooledFit, k: int) -> bool:
    """Whether series ``k``'s model takes logs, for the holdout and the final fit."""
    return all(
        p.transform.kind is Transform.LOG
        for p in (fitted.preps[k], fitted.holdout_preps[k])
    )


def _coverage(
    fitted: PooledFit, calibration: Calibration | None, season: int
) -> dict[str, float] | None:
    """Empirical coverage of the default levels on the test windows of every series.

    Each series is scored with the calibration that serves it in the forecasts
    (:meth:`Calibration.for_series`); the shares are pooled over every test point.
    """
    from seqcast.evaluation.intervals import coverages

    if calibration is None:
        return None
    inside: dict[str, float] = {}
    points = 0
    for k, truth, pred, scale in _series_errors(fitted, "test", season):
        served = calibration.for_series(
            fitted.preps[k].transform.kind is Transform.LOG, scale
        )
        for label, share in coverages(served, truth, pred).items():
            inside[label] = inside.get(label, 0.0) + share * truth.size
        points += truth.size
    if not points:
        return None
    return {label: total / points for label, total in inside.items()}
