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
from seqcast.config import RunConfig, Transform
from seqcast.errors import ConfigError, DataError
from seqcast.evaluation import baselines, references
from seqcast.evaluation.intervals import DEFAULT_LEVELS, Calibration, calibrate_series
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


@dataclass(frozen=True, slots=True)
class FoldTask:
    """Everything one fold needs, as plain data, so that it can run in another process.

    Attributes:
        index: Fold number, 0-based, oldest first.
        cut: First target row of the fold.
        values: The whole series (n_steps, n_features); the fold trains on rows
            ``[0, cut)`` and reads the rows it scores only to score them.
        dates: ISO timestamp of every row.
        config: Settings of the fit (no test part).
        season: Season length for seasonal naive and MASE.
        levels: Interval levels whose coverage is scored.
    """

    index: int
    cut: int
    values: FloatArray
    dates: tuple[str, ...]
    config: RunConfig
    season: int
    levels: tuple[float, ...]


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
    jobs: int = 1,
    dask_scheduler: str | None = None,
) -> BacktestResult:
    """Re-train at ``folds`` origins and score each next horizon beside the baselines.

    The folds are independent fits. With ``jobs`` above 1 they run in that many worker
    processes at once (each with its share of the cores), or with ``dask_scheduler``
    on that Dask cluster's workers (:func:`seqcast.model.parallel.run_unordered`);
    each fold seeds its own fit, so the scores are those of ``jobs=1``, which runs
    them here, in turn, with a progress line per epoch.

    Args:
        values: Unscaled series, shape (n_steps, n_features); column 0 is the target.
        dates: ISO timestamp of every row.
        config: Settings of every fit; its ``test_fraction`` is replaced by 0.
        folds: Number of origins.
        step: Rows between origins (default: the horizon, so folds do not overlap).
        season: Season length for seasonal naive and MASE.
        levels: Interval levels whose coverage is reported (calibrated per fold on its
            validation windows).
        progress: Called with one line per fold (and per epoch with ``jobs=1``).
        jobs: Folds trained at once in worker processes (1: here, in turn).
        dask_scheduler: A Dask scheduler (``tcp://HOST:PORT``) whose workers train
            the folds instead.

    Returns:
        The per-fold and pooled scores.

    Raises:
        DataError: If the earliest fold leaves too little history to train on.
        ConfigError: If folds or step is below 1.
        ClusterError: If the Dask cluster cannot be reached or loses its workers.
    """
    from seqcast.model.parallel import run_unordered

    tc = config.train
    window, horizon = tc.sizes
    cuts = fold_cuts(len(values), horizon, folds, step)
    _check_first_cut(int(cuts[0]), window, horizon, season, folds, step)
    fold_config = dataclasses.replace(
        config, train=dataclasses.replace(tc, test_fraction=0.0)
    )
    tasks = [
        FoldTask(k, int(cut), values, tuple(dates), fold_config, season, tuple(levels))
        for k, cut in enumerate(cuts)
    ]
    result: list[Fold | None] = [None] * folds
    if jobs == 1 and dask_scheduler is None:
        for task in tasks:
            if progress:
                progress(_fold_step(task, folds, "training on"))
            result[task.index] = run_fold(task, progress)
    else:
        where = dask_scheduler or f"{min(jobs, folds)} worker processes"
        if progress:
            progress(
                Step(
                    f"training {folds} folds on {where}",
                    kind="fold",
                    done=0,
                    total=folds,
                )
            )
        for k, fold in run_unordered(
            run_fold, tasks, jobs=jobs, dask_scheduler=dask_scheduler
        ):
            result[k] = fold
            if progress:
                done = sum(f is not None for f in result)
                progress(_fold_step(tasks[k], folds, "trained on", done))
    return pool_folds(
        [f for f in result if f is not None],
        window,
        horizon,
        cuts,
        step,
        True,
        dates,
        values[:, 0],
        season,
    )


def _fold_step(task: FoldTask, folds: int, verb: str, done: int | None = None) -> Step:
    """A progress line such as ``fold 2/4: training on rows 0..90 (up to 2020-03-01)``."""
    return Step(
        f"fold {task.index + 1}/{folds}: {verb} rows 0..{task.cut - 1} (up to {task.dates[task.cut - 1]})",
        kind="fold",
        done=task.index if done is None else done,
        total=folds,
    )


def run_fold(task: FoldTask, progress: Callable[[str], None] | None = None) -> Fold:
    """Train fold ``task.index`` on the rows before its cut and score its next horizon."""
    from seqcast.model.pipeline import fit_values

    values, cut, season = task.values, task.cut, task.season
    window, horizon = task.config.train.sizes
    fitted = fit_values(values[:cut], task.config, season=season, progress=progress)
    start = np.array([cut - window], dtype=np.int64)
    prediction = _predict_future(fitted, values, start)
    val_starts = fitted.bounds.starts("validation", window, horizon)
    calibration = None
    if len(val_starts):
        calibration = calibrate_series(
            values[:, 0], val_starts, fitted.predict_starts(val_starts),
            window=window, end=fitted.bounds.val_end, season=season,
            relative=fitted.prep.transform.kind is Transform.LOG,
        )  # fmt: skip
    return score_fold(
        task.index,
        values[:, 0],
        start,
        prediction,
        window,
        horizon,
        season,
        mase_scale(values[:cut, 0], season),
        list(task.dates),
        calibration,
        task.levels,
        fitted.fit.epochs_run,
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
