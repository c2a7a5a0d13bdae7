"""Forecast error metrics: MAE, RMSE, MAPE, sMAPE and MASE, in NumPy only.

Every metric flattens its arrays, so (n_windows, horizon) forecasts are scored over
all steps at once, and returns a plain ``float``. Empty inputs give NaN, as does any
NaN in the inputs. No metric emits a NumPy warning.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from seqcast._types import FloatArray
from seqcast.errors import ConfigError


def mae(y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> float:
    """Return the mean absolute error, ``mean(|y_true - y_pred|)``.

    Args:
        y_true: Actual values, any shape.
        y_pred: Forecasts, same number of elements as y_true.

    Returns:
        The error in the series' units; NaN when the inputs are empty.
    """
    true, pred = _pair(y_true, y_pred)
    if true.size == 0:
        return float("nan")
    return float(np.mean(np.abs(true - pred)))


def rmse(y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> float:
    """Return the root mean squared error, ``sqrt(mean((y_true - y_pred) ** 2))``.

    Args:
        y_true: Actual values, any shape.
        y_pred: Forecasts, same number of elements as y_true.

    Returns:
        The error in the series' units; NaN when the inputs are empty.
    """
    true, pred = _pair(y_true, y_pred)
    if true.size == 0:
        return float("nan")
    return float(np.sqrt(np.mean((true - pred) ** 2)))


def mape(y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> float:
    """Return the mean absolute percentage error, ``100 * mean(|y_true - y_pred| / |y_true|)``.

    MAPE is undefined when an actual value is 0, so any zero in y_true makes the
    result NaN (silently; no warning). Unlike scikit-learn, no epsilon is put in the
    denominator. Example: y_true=[100, 200], y_pred=[110, 180] gives 10.0.

    Args:
        y_true: Actual values, any shape.
        y_pred: Forecasts, same number of elements as y_true.

    Returns:
        The error in percent (0 is perfect); NaN when empty or y_true holds a zero.
    """
    true, pred = _pair(y_true, y_pred)
    if true.size == 0 or np.any(true == 0.0):
        return float("nan")
    return float(100.0 * np.mean(np.abs(true - pred) / np.abs(true)))


def smape(y_true: npt.ArrayLike, y_pred: npt.ArrayLike) -> float:
    """Return the symmetric MAPE, ``100 * mean(2 |y_true - y_pred| / (|y_true| + |y_pred|))``.

    A step where both values are 0 counts as a perfect 0 (0/0 := 0). Example:
    y_true=[100, 0], y_pred=[110, 0] gives 100 * (20/210 + 0) / 2 ≈ 4.7619.

    Args:
        y_true: Actual values, any shape.
        y_pred: Forecasts, same number of elements as y_true.

    Returns:
        The error in percent, between 0 and 200; NaN when the inputs are empty.
    """
    true, pred = _pair(y_true, y_pred)
    if true.size == 0:
        return float("nan")
    num = 2.0 * np.abs(true - pred)
    den = np.abs(true) + np.abs(pred)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(den == 0.0, 0.0, num / np.where(den == 0.0, 1.0, den))
    return float(100.0 * np.mean(ratio))


def mase(
    y_true: npt.ArrayLike, y_pred: npt.ArrayLike, insample: npt.ArrayLike, season: int
) -> float:
    """Return the mean absolute scaled error: MAE over the in-sample seasonal-naive MAE.

    The scale is ``mean(|insample[t] - insample[t - season]|)`` over t = season ..
    len(insample) - 1. Example: insample=[1, 2, 4, 7] with season=1 has differences
    [1, 2, 3], scale 2, so a forecast with MAE 1 scores 0.5. If insample has no
    more than ``season`` values, season 1 is used instead; below 2 values, or with a
    zero scale (a flat or exactly periodic history), the result is NaN.

    Args:
        y_true: Actual values, any shape.
        y_pred: Forecasts, same number of elements as y_true.
        insample: Training values of the target in time order (flattened), in the
            same units as y_true.
        season: Seasonal period in steps, at least 1 (1 = plain naive).

    Returns:
        The scaled error (1 = as good as the in-sample seasonal naive forecast).

    Raises:
        ConfigError: If season is below 1.
    """
    if season < 1:
        raise ConfigError(
            f"season={season} must be at least 1. Use --season 1 or more."
        )
    scale = mase_scale(insample, season)
    if scale == 0.0 or not np.isfinite(scale):
        return float("nan")
    return mae(y_true, y_pred) / scale


def mase_scale(insample: npt.ArrayLike, season: int) -> float:
    """Return MASE's denominator: the in-sample seasonal-naive MAE.

    ``mean(|insample[t] - insample[t - season]|)``; season 1 when ``insample`` has no
    more than ``season`` values, NaN below 2 values. May be 0 for a constant series.
    """
    history = np.asarray(insample, dtype=np.float64).ravel()
    if history.size <= season:
        season = 1
    if history.size < 2:
        return float("nan")
    return float(np.mean(np.abs(history[season:] - history[:-season])))


def _pair(
    y_true: npt.ArrayLike, y_pred: npt.ArrayLike
) -> tuple[FloatArray, FloatArray]:
    true = np.asarray(y_true, dtype=np.float64).ravel()
    pred = np.asarray(y_pred, dtype=np.float64).ravel()
    if true.size != pred.size:
        raise ValueError(
            f"y_true and y_pred differ in size: {true.size} and {pred.size}."
        )
    return true, pred
