"""A model of one series: sized for its length, fitted, scored beside the baselines.

:func:`fit_series` is the one-series path of ``seqcast.train`` without the saving: a
file of one series, ``--series ID`` of a long-format file, and every series of a model of
local models (``per_series``, :mod:`seqcast.api.per_series`) go through it alike.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from seqcast import runtime
from seqcast._types import FloatArray, IntArray
from seqcast.api.records import series_record
from seqcast.config import RunConfig, Transform
from seqcast.evaluation.metrics import mase_scale
from seqcast.evaluation.scoring import Evaluation, score_windows
from seqcast.model.pipeline import Fitted, fit_values
from seqcast.prep.sizing import resolve_sizes
from seqcast.store.schema import SeriesRecord

if TYPE_CHECKING:
    from seqcast.evaluation.intervals import Calibration
    from seqcast.model.training import FitResult


@dataclass(frozen=True, slots=True)
class SeriesFit:
    """One series' model fitted and scored as a file of that series alone would be.

    Attributes:
        config: The configuration in force, window and horizon sized for the series.
        record: Its record: split, preparation, MASE scale, last window.
        fits: Loss history of each member.
        validation: Validation-part scores (None without validation windows).
        test: Test-part scores beside the baselines (None without a test part).
        coverage: Test-part coverage of the default interval levels.
        calibration: Conformal calibration on the validation windows.
        device: The device it trained on.
        notes: What sizing changed for the series.
        models: The final Keras models, one per member.
        versions: The versions it trained with (:func:`seqcast.runtime.versions`),
            taken where it trained, so that a parent process of worker fits records
            them without importing Keras itself.
    """

    config: RunConfig
    record: SeriesRecord
    fits: tuple[FitResult, ...]
    validation: Evaluation | None
    test: Evaluation | None
    coverage: dict[str, float] | None
    calibration: Calibration | None
    device: str
    notes: tuple[str, ...]
    models: tuple[Any, ...]
    versions: tuple[tuple[str, str], ...] = ()


def fit_series(
    series_id: str | None,
    values: FloatArray,
    dates: list[str],
    notes: Sequence[str],
    config: RunConfig,
    *,
    season: int,
    progress: Callable[[str], None] | None,
) -> SeriesFit:
    """Size, fit and score a model of one series; the one-series path, saving aside.

    Args:
        series_id: The series' id (None for a file of one series).
        values: Its unscaled rows (n_steps, n_features).
        dates: ISO timestamps of every row.
        notes: What data preparation did to it.
        config: The configuration, columns and frequency resolved, window and
            horizon as asked (None: chosen here for the series' length).
        season: Season length of the frequency.
        progress: Called with one line per stage and epoch.

    Raises:
        DataError: If the series is too short for any model, or for the window asked.
    """
    sized, sizing_notes = resolve_sizes(config.train, len(values), season)
    config = dataclasses.replace(config, train=sized)
    fitted = fit_values(values, config, season=season, progress=progress)
    validation, test, coverage, calibration = _score_one(fitted, values, dates, season)
    record = series_record(
        series_id,
        values,
        dates,
        notes,
        bounds=fitted.bounds,
        fit_end=fitted.fit_end,
        sizes=config.train.sizes,
        prep=fitted.prep,
        season=season,
    )
    return SeriesFit(
        config=config,
        record=record,
        fits=fitted.fits,
        validation=validation,
        test=test,
        coverage=coverage,
        calibration=calibration,
        device=fitted.device,
        notes=sizing_notes,
        models=fitted.models,
        versions=tuple(runtime.versions().items()),
    )


def _score_one(
    fitted: Fitted, values: FloatArray, dates: list[str], season: int
) -> tuple[Evaluation | None, Evaluation | None, dict[str, float] | None, Any]:
    """Return validation scores, test scores, test coverage and calibration."""
    tc = fitted.config.train
    window, horizon = tc.sizes
    val_starts = fitted.bounds.starts("validation", window, horizon)
    test_starts = fitted.bounds.starts("test", window, horizon)
    scale = mase_scale(values[: fitted.bounds.train_end, 0], season)
    calibration, coverage = _calibrate_intervals(fitted, values, season)

    def scored(starts: IntArray, predicted: FloatArray) -> Evaluation:
        return score_windows(
            values[:, 0],
            starts,
            window,
            horizon,
            predicted,
            season=season,
            scale=scale,
            dates=dates,
        )

    validation = None
    if len(val_starts):
        validation = scored(val_starts, fitted.predict_starts(val_starts))
    evaluation = None
    if len(test_starts):
        predicted = fitted.predict_starts(test_starts)
        coverage = _test_coverage(calibration, values, test_starts, tc, predicted)
        evaluation = scored(test_starts, predicted)
    return validation, evaluation, coverage, calibration


def warn_verdict(validation: Evaluation, fit: FitResult, epochs: int) -> None:
    """Say on stderr when the network learned nothing or loses on its validation windows."""
    from seqcast import logs

    for name, message in verdict_warnings(validation, fit, epochs):
        logs.warn(message, name=name)


def verdict_warnings(
    validation: Evaluation, fit: FitResult, epochs: int
) -> list[tuple[str, str]]:
    """The warnings :func:`warn_verdict` gives, as (name, message) pairs."""
    found = []
    if epochs > 1 and fit.best_epoch == 1:
        found.append(_first_epoch_warning(fit))
    losses = validation.losses()
    if losses:
        best = losses[0]
        found.append(
            (
                "loses_on_validation",
                f"On its {validation.n_windows} validation windows the network (MASE {validation.scores['model'].mase:.4g}) loses to {best} (MASE {validation.scores[best].mase:.4g}). Compare them with `seqcast backtest` before relying on the network.",
            )
        )
    return found


def _first_epoch_warning(fit: FitResult) -> tuple[str, str]:
    """Why a fit kept its first epoch: it learned nothing, or learned in that epoch only.

    The two differ in what the first epoch did to the validation loss of the untrained
    network (:attr:`FitResult.initial_val_loss`): on many windows one epoch is
    hundreds of steps, enough to learn most of what the network will.
    """
    head = f"Training kept the weights of its first epoch (best_epoch=1 of {fit.epochs_run})"
    before = fit.initial_val_loss
    after = fit.val_loss[0] if fit.val_loss else None
    if before is not None and after is not None and after < before:
        return (
            "first_epoch_only",
            f"{head}: validation loss fell from {before:.4g} untrained to {after:.4g} in that epoch and rose after it, so the network learned early and later epochs fitted the training windows too closely. A lower --lr gives smaller steps to choose from; compare it with `seqcast backtest` before relying on it.",
        )
    seen = (
        f" (validation loss {after:.4g} after it, {before:.4g} untrained)"
        if before is not None and after is not None
        else ""
    )
    return (
        "first_epoch",
        f"{head}: validation saw no gain from training{seen}, so the forecast is close to the normalisation's naive one. Compare it with `seqcast backtest` before relying on it.",
    )


def _calibrate_intervals(
    fitted: Any, values: FloatArray, season: int
) -> tuple[Any, dict[str, float] | None]:
    """Calibrate conformal intervals on the validation windows (None without any).

    See :func:`seqcast.evaluation.intervals.calibrate_series` (a baseline's errors
    carry the band when the validation windows are few).
    """
    from seqcast.evaluation.intervals import calibrate_series

    window, horizon = fitted.config.train.sizes
    starts = fitted.bounds.starts("validation", window, horizon)
    if not len(starts):
        return None, None
    calibration = calibrate_series(
        values[:, 0], starts, fitted.predict_starts(starts),
        window=window, end=fitted.bounds.val_end, season=season,
        relative=fitted.prep.transform.kind is Transform.LOG,
    )  # fmt: skip
    return calibration, None


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
    from seqcast.evaluation.intervals import coverages

    rows = starts[:, None] + tc.sizes[0] + np.arange(tc.sizes[1])[None, :]
    return coverages(calibration, values[rows, 0], predicted)
