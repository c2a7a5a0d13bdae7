"""Scoring forecasts beside naive baselines on exactly the same points."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from seqcast._types import FloatArray, IntArray
from seqcast.evaluation import baselines, metrics, references

BASELINES = ("naive", "seasonal_naive", "drift")


@dataclass(frozen=True, slots=True)
class Scores:
    """Accuracy of one forecaster over a set of windows (MAPE and sMAPE in percent)."""

    mae: float
    rmse: float
    mape: float
    smape: float
    mase: float

    @classmethod
    def compute(
        cls, y_true: FloatArray, y_pred: FloatArray, mase_scale: float
    ) -> Scores:
        """Score ``y_pred`` against ``y_true`` (same shape); MASE divides MAE by ``mase_scale``."""
        mae = metrics.mae(y_true, y_pred)
        mase = (
            mae / mase_scale
            if mase_scale > 0 and np.isfinite(mase_scale)
            else float("nan")
        )
        return cls(
            mae=mae,
            rmse=metrics.rmse(y_true, y_pred),
            mape=metrics.mape(y_true, y_pred),
            smape=metrics.smape(y_true, y_pred),
            mase=float(mase),
        )

    def as_dict(self) -> dict[str, float]:
        """Return the scores keyed by metric name."""
        return {f.name: float(getattr(self, f.name)) for f in fields(self)}


@dataclass(frozen=True, slots=True)
class Evaluation:
    """Model and baseline scores on the same windows.

    Attributes:
        n_windows: Forecast origins scored; each predicts ``horizon`` steps.
        horizon: Steps per forecast.
        season: Season length used by seasonal naive and MASE.
        first_date: First target timestamp scored (ISO).
        last_date: Last target timestamp scored (ISO).
        scores: ``model`` and each baseline name mapped to its scores.
    """

    n_windows: int
    horizon: int
    season: int
    first_date: str
    last_date: str
    scores: dict[str, Scores]

    def best(self) -> str:
        """Name the forecaster with the lowest MASE (``model`` on a tie)."""
        finite = {k: s.mase for k, s in self.scores.items() if np.isfinite(s.mase)}
        if not finite:
            return "model"
        low = min(finite.values())
        return (
            "model"
            if finite.get("model") == low
            else min(finite, key=finite.__getitem__)
        )

    def losses(self) -> list[str]:
        """Name the references whose MASE is below the model's, lowest first."""
        model = self.scores["model"].mase
        if not np.isfinite(model):
            return []
        beaten = [
            (s.mase, k)
            for k, s in self.scores.items()
            if k != "model" and s.mase < model
        ]
        return [k for _, k in sorted(beaten)]

    def relative_mase(self, baseline: str = "seasonal_naive") -> float:
        """MASE of the model divided by the baseline's (below 1 means the model wins)."""
        base = self.scores[baseline].mase
        model = self.scores["model"].mase
        return float(model / base) if base > 0 and np.isfinite(base) else float("nan")

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return {
            "n_windows": self.n_windows,
            "horizon": self.horizon,
            "season": self.season,
            "first_date": self.first_date,
            "last_date": self.last_date,
            "scores": {name: s.as_dict() for name, s in self.scores.items()},
            "relative_mase": self.relative_mase(),
            "best": self.best(),
            "loses_to": self.losses(),
        }

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Evaluation:
        """Rebuild from :meth:`as_dict` output (None read back as NaN)."""
        scores = {
            name: Scores(
                **{k: float("nan") if v is None else float(v) for k, v in s.items()}
            )
            for name, s in raw["scores"].items()
        }
        return cls(
            n_windows=int(raw["n_windows"]),
            horizon=int(raw["horizon"]),
            season=int(raw["season"]),
            first_date=str(raw["first_date"]),
            last_date=str(raw["last_date"]),
            scores=scores,
        )


def score_windows(
    target: FloatArray,
    starts: IntArray,
    window: int,
    horizon: int,
    predictions: FloatArray,
    *,
    season: int,
    scale: float,
    dates: list[str],
    reference: bool = True,
) -> Evaluation:
    """Score model predictions and the baselines on the same windows.

    Args:
        target: Unscaled target series, shape (n_steps,).
        starts: Window start rows; window i reads rows starts[i] .. starts[i]+window-1
            and predicts rows starts[i]+window .. starts[i]+window+horizon-1.
        window: Input steps per window.
        horizon: Predicted steps per window.
        predictions: Unscaled model predictions, shape (len(starts), horizon).
        season: Season length for seasonal naive.
        scale: MASE denominator from the training part (see :func:`seqcast.evaluation.metrics.mase_scale`).
        dates: ISO timestamps of every row of ``target``.
        reference: Fit Theta at every window too (False leaves it out, as a caller
            scoring too many windows to refit it at each does).

    Returns:
        The evaluation; ``scores`` holds ``model``, every name in :data:`BASELINES`
        and ``theta`` (see :mod:`seqcast.evaluation.references`) when it could be fitted.
    """
    offsets = np.arange(horizon)
    rows = starts[:, None] + window + offsets[None, :]
    y_true = target[rows]
    forecasts = {
        "model": predictions,
        "naive": baselines.naive(target, starts, window, horizon),
        "seasonal_naive": baselines.seasonal_naive(
            target, starts, window, horizon, season
        ),
        "drift": baselines.drift(target, starts, window, horizon),
    }
    fitted = (
        references.theta(target, starts, window, horizon, season) if reference else None
    )
    if fitted is not None:
        forecasts["theta"] = fitted
    return Evaluation(
        n_windows=len(starts),
        horizon=horizon,
        season=season,
        first_date=dates[int(rows.min())],
        last_date=dates[int(rows.max())],
        scores={
            name: Scores.compute(y_true, pred, scale)
            for name, pred in forecasts.items()
        },
    )


def pool_evaluations(evaluations: Sequence[Evaluation]) -> Evaluation:
    """Pool the evaluations of several series into one, weighting each by its points.

    MAE, MAPE, sMAPE and MASE are means over every scored point, so the pooled value
    is the mean of the series' values weighted by their windows (every window has
    ``horizon`` points); RMSE pools the squared errors. MASE stays comparable across
    series because each series' errors were scaled by its own training part. A
    forecaster missing from one series (Theta where it could not be fitted) is pooled
    over the series that have it.

    Raises:
        ValueError: If ``evaluations`` is empty.
    """
    if not evaluations:
        raise ValueError("pool_evaluations needs at least one evaluation.")
    if len(evaluations) == 1:
        return evaluations[0]
    first = evaluations[0]
    names = [n for n in first.scores if all(n in e.scores for e in evaluations)]
    names += sorted({n for e in evaluations for n in e.scores} - set(names))
    scores = {}
    for name in names:
        having = [e for e in evaluations if name in e.scores]
        weights = np.array([e.n_windows for e in having], dtype=np.float64)
        table = {
            metric: np.array([getattr(e.scores[name], metric) for e in having])
            for metric in ("mae", "rmse", "mape", "smape", "mase")
        }
        means = {m: float(np.average(v, weights=weights)) for m, v in table.items()}
        means["rmse"] = float(np.sqrt(np.average(table["rmse"] ** 2, weights=weights)))
        scores[name] = Scores(**means)
    return Evaluation(
        n_windows=sum(e.n_windows for e in evaluations),
        horizon=first.horizon,
        season=first.season,
        first_date=min(e.first_date for e in evaluations),
        last_date=max(e.last_date for e in evaluations),
        scores=scores,
    )
