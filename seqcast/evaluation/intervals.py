"""Conformal prediction intervals: per-step residual quantiles, bounds and coverage.

At training time the model forecasts every validation window; the absolute errors of
each horizon step, sorted, are the calibration set. For a level ``a`` and ``n`` stored
residuals of step h, the half-width is the k-th smallest one with
``k = ceil((n + 1) * a)`` (split-conformal finite-sample quantile, level k/n), so that a
new error exchangeable with the stored ones falls inside with probability >= a. Example:
residuals 1..9 of one step (n=9) and a=0.8 give k=ceil(8.0)=8, half-width 8. When
k > n (too few residuals for that level) the largest residual is used and the interval
cannot promise the level; :attr:`Calibration.n_residuals` tells how many there were.

A series whose validation part holds fewer than :data:`POOL_STEPS_BELOW` windows (often
one: a validation part of one horizon) would give one residual per step, and then every
level the same band. Its steps are pooled instead: each error divided by sqrt(step),
the growth of a random walk's error, so that the errors of all steps form one set, and
step h's band is that set's quantile times sqrt(h). The band then rests on
``n_windows * horizon`` errors and an assumption about their growth, where the per-step
bands rest on none.

NumPy only: this module is on the forecast path.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from seqcast._types import FloatArray
from seqcast.errors import ConfigError

MAX_RESIDUALS = 2000
"""Residuals kept per horizon step (evenly thinned from the sorted set beyond this)."""

DEFAULT_LEVELS = (0.8, 0.95)

POOL_STEPS_BELOW = 19
"""Calibrations of fewer windows pool their steps (19 windows resolve a 95% band)."""


def check_level(level: float) -> float:
    """Return ``level`` if it lies strictly between 0 and 1.

    Raises:
        ConfigError: Otherwise.
    """
    if not 0.0 < level < 1.0:
        raise ConfigError(
            f"level={level} must lie strictly between 0 and 1. Use a level such as --level 0.8 or --level 0.95."
        )
    return float(level)


def level_label(level: float) -> str:
    """Return the column suffix of a level: 0.8 -> ``80``, 0.995 -> ``99.5``."""
    return format(round(level * 100, 6), "g")


def conformal_quantile(sorted_abs: FloatArray, level: float) -> float:
    """Return the k-th smallest of n sorted absolute residuals, k = ceil((n + 1) * level).

    Example: [1, 2, ..., 9] with level 0.8 gives 8.0; with level 0.95, k = 10 > 9 and
    the largest residual, 9.0, is returned. An empty array gives NaN.
    """
    n = len(sorted_abs)
    if n == 0:
        return float("nan")
    k = math.ceil((n + 1) * check_level(level) - 1e-9)
    return float(sorted_abs[min(max(k, 1), n) - 1])


@dataclass(frozen=True, slots=True)
class Calibration:
    """Sorted absolute residuals per horizon step.

    Attributes:
        residuals: ``residuals[h]`` holds the sorted absolute errors of step h (0-based)
            over the calibration windows, at most :data:`MAX_RESIDUALS` of them.
        n_windows: Windows the residuals came from (before any thinning).
        per_scale: Whether the residuals are in units of each series' MASE scale
            (a model over many series pools its series' errors that way); bounds
            then take the series' scale.
        steps_pooled: Whether every step's residuals are the errors of all steps,
            each divided by sqrt(its step) and multiplied by sqrt(this one) (too few
            windows for per-step sets; see the module docstring).
    """

    residuals: tuple[tuple[float, ...], ...]
    n_windows: int
    per_scale: bool = False
    steps_pooled: bool = False

    @property
    def horizon(self) -> int:
        """Steps calibrated."""
        return len(self.residuals)

    @property
    def n_residuals(self) -> int:
        """Residuals stored per step."""
        return len(self.residuals[0]) if self.residuals else 0

    def half_widths(self, level: float, steps: int | None = None) -> FloatArray:
        """Return the interval half-width of each step, shape (steps,).

        Steps beyond the calibrated horizon (recursive forecasts) reuse the last step's
        half-width scaled by sqrt(step / horizon), the growth of a random walk; those
        are not calibrated.
        """
        steps = self.horizon if steps is None else steps
        base = np.array(
            [conformal_quantile(np.asarray(r), level) for r in self.residuals],
            dtype=np.float64,
        )
        if steps <= self.horizon:
            return base[:steps]
        extra = np.arange(self.horizon + 1, steps + 1, dtype=np.float64)
        grown = base[-1] * np.sqrt(extra / self.horizon)
        return np.concatenate([base, grown])

    def bounds(
        self, values: FloatArray, level: float, scale: float = 1.0
    ) -> tuple[FloatArray, FloatArray]:
        """Return (lower, upper) around forecasts ``values`` of shape (steps,) or (n, steps).

        ``scale`` multiplies the half-widths: the series' MASE scale when
        ``per_scale``, else 1.
        """
        data = np.asarray(values, dtype=np.float64)
        width = self.half_widths(level, data.shape[-1]) * scale
        return data - width, data + width

    def to_dict(self) -> dict[str, Any]:
        """Return plain numbers for ``seqcast.json``."""
        method = "split-conformal absolute residuals per step"
        if self.steps_pooled:
            method += ", pooled over steps in units of sqrt(step)"
        out: dict[str, Any] = {
            "method": method,
            "n_windows": self.n_windows,
            "residuals": [list(r) for r in self.residuals],
        }
        if self.per_scale:
            out["per_scale"] = True
        if self.steps_pooled:
            out["steps_pooled"] = True
        return out

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Calibration:
        """Rebuild from :meth:`to_dict` output."""
        return cls(
            residuals=tuple(
                tuple(sorted(float(v) for v in r)) for r in raw["residuals"]
            ),
            n_windows=int(raw["n_windows"]),
            per_scale=bool(raw.get("per_scale", False)),
            steps_pooled=bool(raw.get("steps_pooled", False)),
        )


def calibrate(
    y_true: npt.ArrayLike,
    y_pred: npt.ArrayLike,
    *,
    cap: int = MAX_RESIDUALS,
    pool_steps_below: int = POOL_STEPS_BELOW,
) -> Calibration:
    """Calibrate from predictions of shape (n_windows, horizon) and their truths.

    Beyond ``cap`` windows the sorted residuals are thinned to ``cap`` evenly spaced
    order statistics (quantiles are kept, to within 1/cap). Below
    ``pool_steps_below`` windows the steps are pooled (see the module docstring).
    """
    truth = np.asarray(y_true, dtype=np.float64)
    pred = np.asarray(y_pred, dtype=np.float64)
    if truth.shape != pred.shape or truth.ndim != 2:
        raise ValueError(
            f"y_true and y_pred must both have shape (n_windows, horizon), got {truth.shape} and {pred.shape}."
        )
    errors = np.abs(truth - pred)
    n, horizon = errors.shape
    if 0 < n < pool_steps_below and horizon > 1:
        growth = np.sqrt(np.arange(1, horizon + 1, dtype=np.float64))
        unit = np.sort((errors / growth).ravel())
        if unit.size > cap:
            unit = unit[np.round(np.linspace(0, unit.size - 1, cap)).astype(np.int64)]
        return Calibration(
            residuals=tuple(tuple(float(v) for v in unit * g) for g in growth),
            n_windows=n,
            steps_pooled=True,
        )
    errors = np.sort(errors, axis=0)
    if n > cap:
        keep = np.round(np.linspace(0, n - 1, cap)).astype(np.int64)
        errors = errors[keep]
    return Calibration(
        residuals=tuple(
            tuple(float(v) for v in errors[:, h]) for h in range(errors.shape[1])
        ),
        n_windows=n,
    )


def coverage(
    y_true: npt.ArrayLike, lower: npt.ArrayLike, upper: npt.ArrayLike
) -> float:
    """Return the share of ``y_true`` inside [lower, upper] (same shapes); NaN if empty."""
    truth = np.asarray(y_true, dtype=np.float64)
    if truth.size == 0:
        return float("nan")
    inside = (truth >= np.asarray(lower)) & (truth <= np.asarray(upper))
    return float(np.mean(inside))


def coverages(
    calibration: Calibration,
    y_true: FloatArray,
    y_pred: FloatArray,
    levels: Sequence[float] = DEFAULT_LEVELS,
) -> dict[str, float]:
    """Return the empirical coverage of each level's intervals, keyed by ``level_label``."""
    result: dict[str, float] = {}
    for level in levels:
        lower, upper = calibration.bounds(y_pred, level)
        result[level_label(level)] = coverage(y_true, lower, upper)
    return result
