"""Rolling-origin backtests: re-train at several origins and score the next horizon each time.

Fold k of ``folds`` (0-based) cuts the series at row
``cut_k = n_steps - horizon - (folds - 1 - k) * step``: the model trains (with its own
validation split, no test part) on rows ``[0, cut_k)`` and forecasts rows
``cut_k .. cut_k + horizon - 1`` from the window that starts at ``cut_k - window``.
Example: n_steps=100, horizon=3, step=3, folds=3 gives cuts 91, 94, 97, scoring rows
91-93, 94-96 and 97-99. The baselines forecast the very same rows from the same
origins, and MASE divides by each fold's in-sample seasonal difference.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from seqcast._types import FloatArray, IntArray
from seqcast.config import RunConfig
from seqcast.errors import ConfigError, DataError
from seqcast.evaluation import baselines, references
from seqcast.evaluation.intervals import DEFAULT_LEVELS, Calibration, calibrate
from seqcast.evaluation.metrics import mase_scale
from seqcast.evaluation.scoring import Evaluation, Scores, score_windows
from seqcast.progress import Step


@dataclass(frozen=True, slots=True)
class Fold:
    """One forecast origin of a backtest.

    Attributes:
        index: Fold number, 0-based, oldest first.
        cut: First target row; the model saw rows ``[0, cut)`` only.
        start: Start row of the input window (``cut - window``).
        evaluation: Model and baseline scores on rows ``cut .. cut + horizon - 1``.
        forecasts: ``model`` and each baseline mapped to its forecast, shape (horizon,).
        actual: The true values of the scored rows, shape (horizon,).
        bands: Interval level label mapped to (lower, upper), each shape (horizon,).
        scale: MASE denominator of this fold's training part.
        epochs_run: Epochs trained by the first ensemble member (0 when the model was
            not re-trained).
    """

    index: int
    cut: int
    start: int
    evaluation: Evaluation
    forecasts: dict[str, FloatArray]
    actual: FloatArray
    bands: dict[str, tuple[FloatArray, FloatArray]]
    scale: float
    epochs_run: int

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return {
            "fold": self.index,
            "cut": self.cut,
            "epochs_run": self.epochs_run,
            "mase_scale": self.scale,
            **self.evaluation.as_dict(),
            "coverage": {
                label: _inside(self.actual, lo, hi)
                for label, (lo, hi) in self.bands.items()
            },
        }


@dataclass(frozen=True, slots=True)
class BacktestResult:
    """Per-fold and pooled scores of a backtest.

    Attributes:
        folds: The folds, oldest first.
        overall: Scores pooled over every scored point of every fold (MASE scales each
            error by its own fold's denominator).
        coverage: Interval level label (``"80"``) mapped to the share of scored points
            inside the intervals, pooled over folds (empty without calibration).
        window: Input steps per forecast.
        horizon: Steps per forecast.
        step: Rows between consecutive origins.
        retrained: Whether each fold re-trained the model.
        dates: ISO timestamps of every row of the series.
        target: The series values (column 0), shape (n_steps,).
        name: The target column's name (empty when unknown).
        notes: What data preparation did before the backtest.
    """

    folds: tuple[Fold, ...]
    overall: Evaluation
    coverage: dict[str, float]
    window: int
    horizon: int
    step: int
    retrained: bool
    dates: tuple[str, ...]
    target: FloatArray
    name: str = ""
    notes: tuple[str, ...] = ()

    def relative_mase(self, baseline: str = "seasonal_naive") -> float:
        """Pooled MASE of the model divided by the baseline's (below 1: model wins)."""
        return self.overall.relative_mase(baseline)

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict (NaN stays NaN; the renderer writes null)."""
        return {
            "folds": len(self.folds),
            "window": self.window,
            "horizon": self.horizon,
            "step": self.step,
            "retrained": self.retrained,
            "overall": self.overall.as_dict(),
            "coverage": dict(self.coverage),
            "per_fold": [f.as_dict() for f in self.folds],
        }


DEFAULT_FOLDS = 5
"""Origins of a backtest when none are asked for."""


def fold_cuts(n_steps: int, horizon: int, folds: int, step: int | None) -> IntArray:
    """Return each fold's first target row, oldest first (see the module docstring).

    Raises:
        ConfigError: If folds or step is below 1.
    """
    if folds < 1:
        raise ConfigError(f"folds={folds} must be at least 1. Use --folds 1 or more.")
    step = horizon if step is None else step
    if step < 1:
        raise ConfigError(f"step={step} must be at least 1. Use --step 1 or more.")
    k = np.arange(folds, dtype=np.int64)
    return n_steps - horizon - (folds - 1 - k) * step


def backtest(
    values: FloatArray,
    dates: Sequence[str],
    config: RunConfig,
    *,
    folds: int,
    step: int | None = None,
    season: int,
    levels: Sequence[float] = DEFAULT_LEVELS,
    progress: Callable[[str], None] | None = None,
) -> BacktestResult:
    """Re-train at ``folds`` origins and score each next horizon beside the baselines.

    Args:
        values: Unscaled series, shape (n_steps, n_features); column 0 is the target.
        dates: ISO timestamp of every row.
        config: Settings of every fit; its ``test_fraction`` is replaced by 0.
        folds: Number of origins.
        step: Rows between origins (default: the horizon, so folds do not overlap).
        season: Season length for seasonal naive and MASE.
        levels: Interval levels whose coverage is reported (calibrated per fold on its
            validation windows).
        progress: Called with one line per fold (and per epoch).

    Returns:
        The per-fold and pooled scores.

    Raises:
        DataError: If the earliest fold leaves too little history to train on.
        ConfigError: If folds or step is below 1.
    """
    from seqcast.model.pipeline import fit_values

    tc = config.train
    window, horizon = tc.sizes
    cuts = fold_cuts(len(values), horizon, folds, step)
    _check_first_cut(int(cuts[0]), window, horizon, season, folds, step)
    fold_config = dataclasses.replace(
        config, train=dataclasses.replace(tc, test_fraction=0.0)
    )
    result: list[Fold] = []
    for k, cut in enumerate(int(c) for c in cuts):
        if progress:
            progress(
                Step(
                    f"fold {k + 1}/{folds}: training on rows 0..{cut - 1} (up to {dates[cut - 1]})",
                    kind="fold",
                    done=k,
                    total=folds,
                )
            )
        fitted = fit_values(values[:cut], fold_config, season=season, progress=progress)
        start = np.array([cut - window], dtype=np.int64)
        prediction = _predict_future(fitted, values, start)
        val_starts = fitted.bounds.starts("validation", window, horizon)
        calibration = None
        if len(val_starts):
            rows = val_starts[:, None] + window + np.arange(horizon)[None, :]
            calibration = calibrate(values[rows, 0], fitted.predict_starts(val_starts))
        scale = mase_scale(values[:cut, 0], season)
        result.append(
            score_fold(
                k,
                values[:, 0],
                start,
                prediction,
                window,
                horizon,
                season,
                scale,
                list(dates),
                calibration,
                levels,
                fitted.fit.epochs_run,
            )
        )
    return pool_folds(
        result, window, horizon, cuts, step, True, dates, values[:, 0], season
    )


def _predict_future(fitted: Any, values: FloatArray, start: IntArray) -> FloatArray:
    """Predict from the window at ``start`` using only rows before the cut."""
    from seqcast.model.pipeline import predict_windows

    tc = fitted.config.train
    # Only rows start .. start+window-1 are read; targets beyond are never used.
    history = values[: int(start[0]) + tc.sizes[0]]
    padded = np.concatenate([history, np.repeat(history[-1:], tc.sizes[1], axis=0)])
    return predict_windows(
        fitted.predictor(),
        fitted.prep,
        padded,
        start,
        tc.sizes[0],
        tc.sizes[1],
        tc.window_norm,
        known=fitted.config.data.n_ahead(padded.shape[1]),
    )


def score_fold(
    k: int,
    target: FloatArray,
    start: IntArray,
    prediction: FloatArray,
    window: int,
    horizon: int,
    season: int,
    scale: float,
    dates: list[str],
    calibration: Calibration | None,
    levels: Sequence[float],
    epochs_run: int,
) -> Fold:
    """Score one origin: the model's and each baseline's forecast of the same rows.

    Args:
        k: Fold number, 0-based.
        target: The whole target series, shape (n_steps,).
        start: The input window's first row, shape (1,).
        prediction: The model's forecast, shape (1, horizon).
        window: Input steps.
        horizon: Forecast steps; the scored rows are
            ``start + window .. start + window + horizon - 1``.
        season: Season length for seasonal naive and MASE.
        scale: MASE denominator of this fold's training part.
        dates: ISO timestamp of every row.
        calibration: Interval calibration of this fold's model, or None.
        levels: Interval levels to draw bands for.
        epochs_run: Epochs the fold's model trained (0 when not re-trained).
    """
    evaluation = score_windows(
        target,
        start,
        window,
        horizon,
        prediction,
        season=season,
        scale=scale,
        dates=dates,
    )
    s = int(start[0])
    actual = np.array(target[s + window : s + window + horizon], dtype=np.float64)
    forecasts = {
        "model": np.asarray(prediction[0], dtype=np.float64),
        "naive": baselines.naive(target, start, window, horizon)[0],
        "seasonal_naive": baselines.seasonal_naive(
            target, start, window, horizon, season
        )[0],
        "drift": baselines.drift(target, start, window, horizon)[0],
    }
    reference = references.theta(target, start, window, horizon, season)
    if reference is not None:
        forecasts["theta"] = reference[0]
    bands: dict[str, tuple[FloatArray, FloatArray]] = {}
    if calibration is not None:
        from seqcast.evaluation.intervals import level_label

        for level in levels:
            bands[level_label(level)] = calibration.bounds(forecasts["model"], level)
    return Fold(
        index=k,
        cut=s + window,
        start=s,
        evaluation=evaluation,
        forecasts=forecasts,
        actual=actual,
        bands=bands,
        scale=scale,
        epochs_run=epochs_run,
    )


def pool_folds(
    folds: list[Fold],
    window: int,
    horizon: int,
    cuts: IntArray,
    step: int | None,
    retrained: bool,
    dates: Sequence[str],
    target: FloatArray,
    season: int,
) -> BacktestResult:
    """Pool the folds' scores into one result (MASE scales each error by its fold's scale)."""
    actual = np.stack([f.actual for f in folds])
    scales = np.array([f.scale for f in folds], dtype=np.float64)
    scores: dict[str, Scores] = {}
    for name in folds[0].forecasts:
        pred = np.stack([f.forecasts[name] for f in folds])
        pooled = Scores.compute(actual, pred, 1.0)
        scaled = np.abs(actual - pred) / scales[:, None]
        mase = float(np.mean(scaled)) if np.all(scales > 0) else float("nan")
        scores[name] = dataclasses.replace(pooled, mase=mase)
    overall = Evaluation(
        n_windows=len(folds),
        horizon=horizon,
        season=season,
        first_date=dates[int(cuts[0])],
        last_date=dates[int(cuts[-1]) + horizon - 1],
        scores=scores,
    )
    coverage: dict[str, float] = {}
    for label in folds[0].bands if folds else ():
        lower = np.stack([f.bands[label][0] for f in folds])
        upper = np.stack([f.bands[label][1] for f in folds])
        coverage[label] = _inside(actual, lower, upper)
    return BacktestResult(
        folds=tuple(folds),
        overall=overall,
        coverage=coverage,
        window=window,
        horizon=horizon,
        step=horizon if step is None else step,
        retrained=retrained,
        dates=tuple(dates),
        target=np.asarray(target, dtype=np.float64),
    )


def _inside(actual: FloatArray, lower: FloatArray, upper: FloatArray) -> float:
    from seqcast.evaluation.intervals import coverage

    return coverage(actual, lower, upper)


def _check_first_cut(
    cut: int, window: int, horizon: int, season: int, folds: int, step: int | None
) -> None:
    if cut - window < 0 or cut <= season:
        raise DataError(
            f"The earliest of folds={folds} origins (step={step or horizon}) leaves {max(cut, 0)} rows of history, fewer than window={window} and season={season} need. Use fewer --folds, a smaller --step, or load more history."
        )
