"""A statistical reference to beat: the Theta method (statsmodels), fitted at each origin.

At a window whose last input row is ``origin``, Theta is fitted on rows 0..origin only
(never on the rows it forecasts) and forecasts the next ``horizon`` rows, so it is scored
on exactly the points the network and the baselines are. statsmodels' ``ThetaModel``
deseasonalises multiplicatively (additively for a series with values <= 0) when a
seasonality test at ``season`` passes, like the M-competition benchmark.

Fitting costs some milliseconds per origin, so evaluations of more than
:data:`MAX_THETA_ORIGINS` windows leave Theta out (a backtest's few folds always have it).
"""

from __future__ import annotations

import warnings

import numpy as np
import numpy.typing as npt

from seqcast._types import FloatArray

MAX_THETA_ORIGINS = 200
"""Windows above which an evaluation leaves Theta out."""

THETA_FIT_SECONDS = 0.009
"""About how long one Theta fit takes on one core (statsmodels, series of some 500 rows)."""

MAX_POOLED_THETA_FITS = 5_000
"""Windows, over every series of a model, above which its pooled scores leave Theta out.

At :data:`THETA_FIT_SECONDS` a fit, 5,000 windows cost some 45 s; a global model over 10,000 series of 500
rows has some 2 million validation and test windows, which would take about 5 hours."""


def theta(
    values: npt.ArrayLike, starts: npt.ArrayLike, window: int, horizon: int, season: int
) -> FloatArray | None:
    """Forecast ``horizon`` steps from each window's origin with the Theta method.

    Args:
        values: Unscaled target of shape (n_steps,) (or column 0 of a 2-D array).
        starts: Window start rows; the origin is ``start + window - 1``.
        window: Input steps per window.
        horizon: Steps to forecast.
        season: Season length (1: no deseasonalisation).

    Returns:
        A new array of shape (n_windows, horizon), or None when statsmodels is not
        installed or there are more than :data:`MAX_THETA_ORIGINS` windows.
    """
    data = np.asarray(values, dtype=np.float64)
    target = data[:, 0] if data.ndim == 2 else data
    origins = np.asarray(starts, dtype=np.int64) + window - 1
    if len(origins) > MAX_THETA_ORIGINS:
        return None
    try:
        from statsmodels.tsa.forecasting.theta import ThetaModel
    except (
        ImportError
    ):  # pragma: no cover - a dependency; kept optional for slim installs
        return None
    out = np.empty((len(origins), horizon), dtype=np.float64)
    for i, origin in enumerate(origins):
        history = target[: origin + 1]
        out[i] = _one(ThetaModel, history, horizon, season)
    return out


def _one(model: type, history: FloatArray, horizon: int, season: int) -> FloatArray:
    if len(history) < 3 or np.ptp(history) == 0.0:
        return np.repeat(history[-1], horizon)  # too short or flat: Theta is naive
    seasonal = season > 1 and len(history) >= 2 * season
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            fitted = model(
                history,
                period=season if seasonal else 1,
                deseasonalize=seasonal,
                method="auto" if np.all(history > 0) else "additive",
            ).fit()
            forecast = np.asarray(fitted.forecast(horizon), dtype=np.float64)
        except (ValueError, np.linalg.LinAlgError):
            return np.repeat(history[-1], horizon)
    return (
        forecast if np.all(np.isfinite(forecast)) else np.repeat(history[-1], horizon)
    )
