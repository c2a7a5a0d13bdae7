"""Baseline forecasts to beat (naive, seasonal naive, drift) and seasons for frequencies.

Each baseline forecasts the target (column 0, unscaled) from the windows that begin at
``starts``: a window starting at row s has inputs s .. s+window-1, its forecast origin
is the last input row s+window-1, and step h (0-based) forecasts row origin+h+1.
Starts therefore need s >= 0 and s + window <= n_steps; the forecast rows may lie
beyond the series (a forecast of the future).
"""

from __future__ import annotations

import math
import re

import numpy as np
import numpy.typing as npt

from seqcast._types import FloatArray, IntArray
from seqcast.errors import ConfigError, DataError


def naive(
    values: npt.ArrayLike, starts: npt.ArrayLike, window: int, horizon: int
) -> FloatArray:
    """Repeat the last observed value: ``y_hat[i, h] = target[starts[i] + window - 1]``.

    Example: target = 0, 1, 2, ... (value == row), window=3, horizon=2, starts=[0, 4]
    gives [[2, 2], [6, 6]].

    Args:
        values: Series of shape (n_steps, n_features), or (n_steps,); column 0 is the target.
        starts: Window start rows, shape (n_windows,).
        window: Input steps per window.
        horizon: Steps forecast per window.

    Returns:
        New array of shape (n_windows, horizon).

    Raises:
        ConfigError: If window or horizon is below 1.
        ValueError: If a window reaches outside the series.
    """
    target, origin = _target_and_origins(values, starts, window, horizon)
    return np.repeat(target[origin][:, None], horizon, axis=1)


def seasonal_naive(
    values: npt.ArrayLike, starts: npt.ArrayLike, window: int, horizon: int, season: int
) -> FloatArray:
    """Repeat the last observed season: step h copies the same phase one or more seasons back.

    ``y_hat[i, h] = target[origin + h + 1 - season * ceil((h + 1) / season)]`` with
    origin = starts[i] + window - 1, so the forecast cycles through rows
    origin-season+1 .. origin. Example: value == row, window=4, season=3, horizon=4,
    starts=[0] (origin 3) gives [[1, 2, 3, 1]]. With season > window the copied rows
    precede the input window (still past data, never future data). season=1 equals
    ``naive``.

    Args:
        values: Series of shape (n_steps, n_features), or (n_steps,); column 0 is the target.
        starts: Window start rows, shape (n_windows,).
        window: Input steps per window.
        horizon: Steps forecast per window.
        season: Seasonal period in steps, at least 1.

    Returns:
        New array of shape (n_windows, horizon).

    Raises:
        ConfigError: If window, horizon or season is below 1.
        DataError: If a forecast origin has fewer than ``season`` rows up to it.
        ValueError: If a window reaches outside the series.
    """
    if season < 1:
        raise ConfigError(
            f"season={season} must be at least 1. Use --season 1 or more."
        )
    target, origin = _target_and_origins(values, starts, window, horizon)
    step = np.arange(1, horizon + 1)
    lag = step - season * np.ceil(step / season).astype(np.int64)  # in -(season-1) .. 0
    rows = origin[:, None] + lag[None, :]
    if origin.size and int(origin.min()) - season + 1 < 0:
        raise DataError(
            f"Seasonal naive with season={season} needs {season} rows up to each forecast origin, but the earliest origin is row {int(origin.min())} (window={window}). Use --window {season} or more, or a shorter season."
        )
    return np.array(target[rows], dtype=np.float64)


def drift(
    values: npt.ArrayLike, starts: npt.ArrayLike, window: int, horizon: int
) -> FloatArray:
    """Extend the line through the first and last input values of each window.

    ``y_hat[i, h] = last + (h + 1) * (last - first) / (window - 1)`` with first =
    target[starts[i]] and last = target[starts[i] + window - 1] (h is 0-based, so the
    first forecast is one slope past last). Example: value == row, window=3, horizon=2,
    starts=[0] gives first 0, last 2, slope 1 and [[3, 4]]: exact on a straight line.
    With window=1 there is no slope and this equals ``naive``.

    Args:
        values: Series of shape (n_steps, n_features), or (n_steps,); column 0 is the target.
        starts: Window start rows, shape (n_windows,).
        window: Input steps per window.
        horizon: Steps forecast per window.

    Returns:
        New array of shape (n_windows, horizon).

    Raises:
        ConfigError: If window or horizon is below 1.
        ValueError: If a window reaches outside the series.
    """
    target, origin = _target_and_origins(values, starts, window, horizon)
    last = target[origin]
    if window == 1:
        return np.repeat(last[:, None], horizon, axis=1)
    slope = (last - target[origin - (window - 1)]) / (window - 1)
    steps = np.arange(1, horizon + 1, dtype=np.float64)
    return np.asarray(last[:, None] + steps[None, :] * slope[:, None], dtype=np.float64)


# Seasonal period, in steps of one unit of the frequency (pandas aliases, anchors stripped).
_SEASON_ALIASES: tuple[tuple[int, tuple[str, ...]], ...] = (
    # yearly: no shorter cycle
    (1, ("Y", "YE", "YS", "BY", "BYE", "BYS", "A", "AS", "BA", "BAS")),
    (4, ("Q", "QE", "QS", "BQ", "BQE", "BQS")),  # a year
    (12, ("M", "ME", "MS", "BM", "BME", "BMS", "CBME", "CBMS", "WOM")),  # a year
    (24, ("SM", "SME", "SMS")),  # semi-monthly: a year
    (52, ("W",)),  # a year of 52 weeks
    (7, ("D",)),  # a week
    (5, ("B", "C")),  # a business week
    (24, ("h", "H")),  # a day
    (8, ("bh", "BH", "cbh", "CBH")),  # a business day, 09:00-17:00
    (60, ("min", "T", "s", "S")),  # an hour, a minute
)
_SEASONS: dict[str, int] = {
    alias: period for period, aliases in _SEASON_ALIASES for alias in aliases
}

_ALIAS = re.compile(r"^\s*(\d*)\s*([A-Za-z]+)(?:-.*)?\s*$")


def season_for_freq(freq: str | None) -> int:
    """Return the usual seasonal period, in steps, of a pandas frequency alias.

    Monthly (``MS``, ``ME``, ``M``) -> 12, quarterly (``QS``, ``QE-DEC``) -> 4, yearly
    -> 1, weekly (``W``, ``W-SUN``) -> 52, daily ``D`` -> 7, business-daily ``B`` -> 5,
    hourly ``h`` -> 24, minutes -> 60, seconds -> 60; anchors after ``-`` are ignored.
    A multiple k divides the period by gcd(period, k), the steps after which the same
    phase returns: ``2h`` -> 12, ``3MS`` -> 4, ``7D`` -> 1, ``2D`` -> 7 (14 days).
    Unknown aliases (and sub-second ones) give 1, i.e. no seasonality.

    Args:
        freq: A pandas frequency alias such as ``"MS"``, ``"W-SUN"`` or ``"2h"``.

    Returns:
        The season length, at least 1.
    """
    if not freq:
        return 1
    match = _ALIAS.match(freq)
    if match is None:
        return 1
    multiple = int(match.group(1)) if match.group(1) else 1
    period = _SEASONS.get(match.group(2), 1)
    if multiple < 1:
        return 1
    return period // math.gcd(period, multiple)


def _target_and_origins(
    values: npt.ArrayLike, starts: npt.ArrayLike, window: int, horizon: int
) -> tuple[FloatArray, IntArray]:
    """Return the target column and each window's forecast origin (its last input row)."""
    for name, value in (("window", window), ("horizon", horizon)):
        if value < 1:
            raise ConfigError(
                f"{name}={value} must be at least 1. Use --{name} 1 or more."
            )
    data = np.asarray(values, dtype=np.float64)
    if data.ndim not in (1, 2):
        raise DataError(
            f"Series values must have shape (n_steps, n_features), got shape {data.shape}. Pass one row per time step."
        )
    target = data if data.ndim == 1 else data[:, 0]
    index = np.asarray(starts)
    if index.ndim != 1 or (index.size and not np.issubdtype(index.dtype, np.integer)):
        raise ValueError(
            f"starts must be a 1-D array of integers, got shape {index.shape} and dtype {index.dtype}."
        )
    index = index.astype(np.int64, copy=False)
    if index.size and (index.min() < 0 or index.max() + window > target.size):
        raise ValueError(
            f"starts must lie in 0..{target.size - window} for {target.size} rows and window={window}, got {int(index.min())}..{int(index.max())}."
        )
    return target, index + (window - 1)
