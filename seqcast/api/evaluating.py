"""Scoring a trained model on data it never trained or validated on: every window, or folds.

Both ways share one policy for what is unseen (targets after ``fit_last_date``) and one
MASE scale (the in-sample seasonal difference of the rows up to ``train_last_date``, or
the scale stored at training time when the data given starts later).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from seqcast._types import FloatArray, IntArray
from seqcast.data.calendar import iso_dates
from seqcast.errors import DataError
from seqcast.evaluation.backtest import (
    BacktestResult,
    fold_cuts,
    pool_folds,
    score_fold,
)
from seqcast.evaluation.intervals import DEFAULT_LEVELS
from seqcast.evaluation.metrics import mase_scale
from seqcast.evaluation.scoring import Evaluation, score_windows
from seqcast.model.pipeline import predict_windows

if TYPE_CHECKING:
    import pandas as pd

    from seqcast.api.forecaster import Forecaster


@dataclass(frozen=True, slots=True)
class Unseen:
    """A model's data with the rows it never fitted on marked.

    Attributes:
        values: Unscaled rows, shape (n_steps, n_features); column 0 is the target.
        dates: ISO timestamp of every row.
        first_new: First row after the model's ``fit_last_date``.
        season: Season length for seasonal naive and MASE.
        scale: MASE denominator of the model's training part.
        first_row: Row of ``values[0]`` counted from the model's first training row.
    """

    values: FloatArray
    dates: tuple[str, ...]
    first_new: int
    season: int
    scale: float
    first_row: int


def unseen(
    forecaster: Forecaster, data: str | Path | pd.DataFrame, season: int | None
) -> Unseen:
    """Prepare ``data`` for scoring ``forecaster`` (see the module docstring).

    Raises:
        DataError: If the data does not match the model.
    """
    import pandas as pd

    art = forecaster.artifact
    record = art.meta.one
    _, series = forecaster.matching_series(data)
    values = series.data.to_numpy(dtype=np.float64)
    index = series.data.index
    fit_last = pd.Timestamp(record.split.fit_last_date)
    first_new = int(
        np.searchsorted(index.values, np.datetime64(fit_last), side="right")
    )
    use_season = season if season is not None else record.mase.season
    insample = values[index <= pd.Timestamp(record.split.train_last_date), 0]
    if len(insample) > use_season:
        scale = mase_scale(insample, use_season)
    else:
        scale = _stored_scale(forecaster, use_season)
    from seqcast.data.dates import periods_between

    first_row = periods_between(record.first_date, index[0], art.freq)
    return Unseen(
        values, tuple(iso_dates(index)), first_new, use_season, scale, first_row
    )


def evaluate_windows(
    forecaster: Forecaster, data: str | Path | pd.DataFrame, season: int | None
) -> Evaluation:
    """Score every window whose targets all fall after ``fit_last_date``.

    Raises:
        DataError: If no such window exists or the data does not match the model.
    """
    art = forecaster.artifact
    window, horizon = art.window, art.horizon
    u = unseen(forecaster, data, season)
    last_start = len(u.values) - window - horizon
    first_start = max(u.first_new - window, 0)
    if last_start < first_start:
        fit_last = art.meta.one.split.fit_last_date[:10]
        raise DataError(
            f"The data has no {horizon}-step stretch after {fit_last}, the last timestamp the model trained or validated on. Give data that reaches at least {horizon} steps past it (and {window} rows before them)."
        )
    starts: IntArray = np.arange(first_start, last_start + 1, dtype=np.int64)
    evaluation = score_windows(
        u.values[:, 0],
        starts,
        window,
        horizon,
        _predict(forecaster, u.values, starts, u.first_row),
        season=u.season,
        scale=u.scale,
        dates=list(u.dates),
    )
    _check_scores(forecaster, evaluation, u.values)
    return evaluation


def evaluate_each_series(
    forecaster: Forecaster, data: str | Path | pd.DataFrame, season: int | None
) -> Evaluation:
    """Score every series of a model over several series on its rows; pool them.

    Each series is scored as :func:`evaluate_windows` scores a one-series model: the
    series' own model (of a model of local models) or the global model's networks
    with that series' record (window, transform, scaler, split). The pooled scores
    weigh each series by its windows, each error in its own series' MASE units
    (:func:`~seqcast.evaluation.scoring.pool_evaluations`).

    Raises:
        DataError: Naming the first series whose rows cannot be scored.
    """
    from seqcast.evaluation.scoring import pool_evaluations

    return pool_evaluations([e for _, e in evaluate_series(forecaster, data, season)])


def evaluate_series(
    forecaster: Forecaster, data: str | Path | pd.DataFrame, season: int | None
) -> list[tuple[str, Evaluation]]:
    """Score every series of a model over several series on its rows, one by one.

    Returns:
        (series id, its scores beside its own baselines), in the model's order.

    Raises:
        DataError: Naming the first series whose rows cannot be scored.
    """
    from seqcast.data.frame import read_data

    raw = read_data(data)  # read once: ``data`` may be stdin
    found = []
    for series in forecaster.series_ids:
        try:
            found.append(
                (series, evaluate_windows(forecaster.one_series(series), raw, season))
            )
        except DataError as exc:
            raise DataError(f"Series {series!r}: {exc}") from None
    return found


def series_summary(each: Sequence[tuple[str, Evaluation]]) -> dict[str, Any]:
    """Per-series relative MASE, their geometric mean and the network's wins.

    Relative MASE is the network's MASE over seasonal naive's on the same windows;
    series where either is not finite or seasonal naive's is 0 are left out of the mean.
    """
    rows: list[dict[str, Any]] = []
    for series, evaluation in each:
        scores = evaluation.scores
        model, snaive = scores["model"].mase, scores["seasonal_naive"].mase
        rel = (
            model / snaive
            if np.isfinite(model) and np.isfinite(snaive) and snaive > 0
            else float("nan")
        )
        rows.append(
            {
                "series": series,
                "n_windows": evaluation.n_windows,
                "mase": model,
                "seasonal_naive_mase": snaive,
                "relative_mase": rel,
                "smape": scores["model"].smape,
                "best": evaluation.best(),
            }
        )
    finite = [
        r["relative_mase"]
        for r in rows
        if np.isfinite(r["relative_mase"]) and r["relative_mase"] > 0
    ]
    geo = float(np.exp(np.mean(np.log(finite)))) if finite else float("nan")
    return {
        "per_series": rows,
        "geometric_mean_relative_mase": geo,
        "series_scored": len(finite),
        "beats_seasonal_naive": sum(1 for r in finite if r < 1),
    }


def default_folds(
    forecaster: Forecaster, data: str | Path | pd.DataFrame, step: int | None
) -> int:
    """Return how many origins, ``step`` apart, fit after the model's fit data (at least 1)."""
    horizon = forecaster.artifact.horizon
    u = unseen(forecaster, data, None)
    n_after = len(u.values) - u.first_new
    return max(1, (n_after - horizon) // (step or horizon) + 1)


def evaluate_origins(
    forecaster: Forecaster,
    data: str | Path | pd.DataFrame,
    *,
    folds: int | None = None,
    step: int | None = None,
    season: int | None = None,
    levels: Sequence[float] = DEFAULT_LEVELS,
) -> BacktestResult:
    """Score a trained model at several origins without re-training.

    Origins are placed as in :func:`seqcast.evaluation.backtest.backtest`, counting
    back from the end of ``data``; only origins whose targets all fall after the
    model's ``fit_last_date`` are allowed.

    Args:
        forecaster: A loaded model.
        data: CSV path, ``-`` or DataFrame at the model's frequency.
        folds: Number of origins (default: :func:`default_folds`).
        step: Rows between origins (default: the horizon).
        season: Season length (default: the one stored in the model).
        levels: Interval levels whose coverage is reported (needs stored calibration).

    Raises:
        DataError: If an origin would score points the model trained or validated on.
    """
    art = forecaster.artifact
    window, horizon = art.window, art.horizon
    if folds is None:
        folds = default_folds(forecaster, data, step)
    u = unseen(forecaster, data, season)
    cuts = fold_cuts(len(u.values), horizon, folds, step)
    if int(cuts[0]) < max(u.first_new, window):
        fit_last = art.meta.one.split.fit_last_date[:10]
        first = u.dates[int(cuts[0])] if cuts[0] >= 0 else "before the data"
        raise DataError(
            f"The earliest of folds={folds} origins (step={step or horizon}) scores from {first}, but the model trained or validated up to {fit_last}. Use fewer --folds or a smaller --step, or give data reaching further past {fit_last}."
        )
    result = []
    for k, cut in enumerate(int(c) for c in cuts):
        start = np.array([cut - window], dtype=np.int64)
        result.append(
            score_fold(
                k,
                u.values[:, 0],
                start,
                _predict(forecaster, u.values, start, u.first_row),
                window,
                horizon,
                u.season,
                u.scale,
                list(u.dates),
                art.meta.intervals,
                levels,
                0,
            )
        )
    pooled = pool_folds(
        result, window, horizon, cuts, step, False, u.dates, u.values[:, 0], u.season
    )
    _check_scores(forecaster, pooled.overall, u.values)
    return pooled


def _check_scores(
    forecaster: Forecaster, evaluation: Evaluation, values: FloatArray
) -> None:
    """Refuse a model MAE or RMSE that overflowed to nan or inf (MAPE/MASE may be nan)."""
    from seqcast.api.checks import check_finite

    model = evaluation.scores["model"]
    check_finite(
        np.array([model.mae, model.rmse]),
        f"The MAE/RMSE of {forecaster.artifact.path}",
        values,
    )


def _predict(
    forecaster: Forecaster, values: FloatArray, starts: IntArray, first_row: int
) -> FloatArray:
    from seqcast.api.checks import check_finite

    art = forecaster.artifact
    with np.errstate(over="ignore", invalid="ignore"):  # check_finite reports it
        predicted = predict_windows(
            forecaster.predictor(),
            forecaster.prep,
            values,
            starts,
            art.window,
            art.horizon,
            art.config.train.window_norm,
            first_row,
            known=art.config.data.n_ahead(values.shape[1]),
        )
    check_finite(predicted, f"The predictions of {art.path}", values)
    return predicted


def _stored_scale(forecaster: Forecaster, season: int) -> float:
    stored = forecaster.artifact.meta.one.mase
    if season == stored.season:
        value = stored.scale
    elif season == 1:
        value = stored.naive_scale
    else:
        value = None
    return float("nan") if value is None else float(value)
