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

Pooling still leaves one series' band on a handful of overlapping windows, and M1's and
Tourism's one-series models then covered about 60% of the held-out points at 80% and
65-72% at 95%. Where a baseline that needs no fitting (seasonal naive, or naive) can be
scored at many more origins, :func:`calibrate_by_reference` leans on its errors: the
baseline is forecast from every origin whose targets lie in the rows the model was
trained or validated on; the band's tails are those of its errors (pooled over steps,
each in units of its step's mean error), its size the baseline's mean error times the
ratio of the model's mean validation error to the baseline's on the same windows (never
below 1), and its growth over the horizon sqrt(step), as above.

A positive series whose model takes logs is calibrated on log ratios of truth to
forecast (:attr:`Calibration.relative`, :func:`calibrate_series`): a band of past
absolute errors of a growing series is too narrow for its present level.

NumPy only: this module is on the forecast path.
"""

from __future__ import annotations

import dataclasses
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
            (a model over many series pools its series' errors that way); serve a
            series through :meth:`for_series`, which multiplies them by its scale.
        steps_pooled: Whether every step's residuals are the errors of all steps,
            each divided by sqrt(its step) and multiplied by sqrt(this one) (too few
            windows for per-step sets; see the module docstring).
        reference: The baseline whose errors, scaled, are the residuals
            (``seasonal_naive`` or ``naive``; see :func:`calibrate_by_reference`), or
            None when they are the model's own errors.
        reference_ratio: The scale applied to the baseline's errors: the model's mean
            absolute validation error over the baseline's, at least 1.
        relative: Whether the residuals are log ratios, ``|log(truth / forecast)|``,
            of a positive series: a band of half-width w is then ``forecast *
            exp(-w)`` to ``forecast * exp(w)``, so that it follows the series' level
            (errors measured when a growing series was smaller would be too narrow
            now).
        absolute: With ``relative``, in a model over several series, the calibration
            (``per_scale``) of the series that do not take logs (a series with a
            zero or a negative value); None when every series takes logs.
    """

    residuals: tuple[tuple[float, ...], ...]
    n_windows: int
    per_scale: bool = False
    steps_pooled: bool = False
    reference: str | None = None
    reference_ratio: float | None = None
    relative: bool = False
    absolute: Calibration | None = None

    def for_series(self, logged: bool, scale: float) -> Calibration:
        """The calibration that serves one series, in that series' own units.

        Args:
            logged: Whether the series' model takes logs: a relative calibration
                serves it; one that does not is served by ``absolute`` (a model over
                several series stores one whenever some series does not take logs;
                a one-series model is relative only when it takes logs).
            scale: The series' MASE scale, by which ``per_scale`` residuals are
                multiplied (the result is no longer ``per_scale``).
        """
        found = self
        if self.relative and not logged and self.absolute is not None:
            found = self.absolute
        found = dataclasses.replace(found, absolute=None)
        if not found.per_scale:
            return found
        return dataclasses.replace(
            found,
            residuals=tuple(tuple(v * scale for v in r) for r in found.residuals),
            per_scale=False,
        )

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

    def bounds(self, values: FloatArray, level: float) -> tuple[FloatArray, FloatArray]:
        """Return (lower, upper) around forecasts ``values`` of shape (steps,) or (n, steps).

        The residuals are taken as they are: a ``per_scale`` calibration serves a
        series through :meth:`for_series` first. With ``relative`` the band is
        multiplicative (see the class docstring); a forecast of 0 or less then gets
        no band (NaN bounds).
        """
        data = np.asarray(values, dtype=np.float64)
        width = self.half_widths(level, data.shape[-1])
        if self.relative:
            with np.errstate(invalid="ignore", divide="ignore"):
                centre = np.where(data > 0.0, data, np.nan)
                return centre * np.exp(-width), centre * np.exp(width)
        return data - width, data + width

    def to_dict(self) -> dict[str, Any]:
        """Return plain numbers for ``seqcast.json``."""
        if self.reference is not None:
            method = f"split-conformal absolute errors of {self.reference} per step, times the model's validation error ratio"
        else:
            method = "split-conformal absolute residuals per step"
            if self.steps_pooled:
                method += ", pooled over steps in units of sqrt(step)"
        if self.relative:
            method += ", as log ratios of truth to forecast"
        out: dict[str, Any] = {
            "method": method,
            "n_windows": self.n_windows,
            "residuals": [list(r) for r in self.residuals],
        }
        if self.per_scale:
            out["per_scale"] = True
        if self.steps_pooled:
            out["steps_pooled"] = True
        if self.reference is not None:
            out["reference"] = self.reference
            out["reference_ratio"] = self.reference_ratio
        if self.relative:
            out["relative"] = True
        if self.absolute is not None:
            out["absolute"] = self.absolute.to_dict()
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
            reference=raw.get("reference"),
            relative=bool(raw.get("relative", False)),
            reference_ratio=(
                None
                if raw.get("reference_ratio") is None
                else float(raw["reference_ratio"])
            ),
            absolute=cls.from_dict(raw["absolute"]) if raw.get("absolute") else None,
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


REFERENCES = ("seasonal_naive", "naive")
"""Baselines :func:`calibrate_by_reference` may borrow errors from."""


def calibrate_by_reference(
    model_errors: npt.ArrayLike,
    reference_errors: npt.ArrayLike,
    history_errors: npt.ArrayLike,
    reference: str,
    *,
    cap: int = MAX_RESIDUALS,
) -> Calibration | None:
    """Calibrate from a baseline's errors at many origins, scaled to the model's.

    Three things make the band, each from where it can be estimated:

    - its size: the baseline's mean absolute error over its history, times the ratio
      of the model's mean absolute error to the baseline's on the same validation
      windows (a paired ratio: a turbulent validation period inflates both), never
      below 1;
    - its tails: the baseline's errors, each divided by the mean error of its step,
      pooled over every origin and step (many more than the validation windows);
    - its growth over the horizon: sqrt(step), normalised to a mean of 1, as when the
      model's own few errors are pooled (a seasonal baseline's errors barely grow
      within a season, a model's do).

    Step h's residuals are ``unit * size * g[h]``, with ``unit`` the sorted pooled
    errors and ``g[h] = sqrt(h) / mean(sqrt(1..horizon))``.

    Args:
        model_errors: The model's errors on its validation windows, (n_val, horizon).
        reference_errors: The baseline's errors on the same windows, same shape.
        history_errors: The baseline's errors at every origin of the calibration
            rows, (n_origins, horizon).
        reference: The baseline's name, one of :data:`REFERENCES`.
        cap: Pooled units kept at most (evenly thinned from the sorted set beyond).

    Returns:
        The calibration; None when the baseline made no error on the validation
        windows or at some step of its history (no ratio or no unit), or an error is
        not finite.

    Example: one step, model error 3 where the baseline's was 2 (ratio 1.5), and
    baseline errors 2, 4, 6 at three origins (mean 4, so size 6 and units 0.5, 1,
    1.5) give residuals ((3, 6, 9),); a model error of 1 (ratio 0.5, floored at 1)
    gives ((2, 4, 6),).
    """
    if reference not in REFERENCES:
        raise ValueError(f"reference={reference!r} is not one of {REFERENCES}")
    model = np.abs(np.asarray(model_errors, dtype=np.float64))
    ref = np.abs(np.asarray(reference_errors, dtype=np.float64))
    history = np.abs(np.asarray(history_errors, dtype=np.float64))
    if model.shape != ref.shape or model.ndim != 2 or history.ndim != 2:
        raise ValueError(
            f"model and reference errors must share a shape (n_windows, horizon) and history errors be 2-D, got {model.shape}, {ref.shape} and {history.shape}."
        )
    horizon = model.shape[1]
    if history.shape[1] != horizon:
        raise ValueError(
            f"history errors cover {history.shape[1]} steps, the model's {horizon}."
        )
    arrays = (model, ref, history)
    if not all(a.size and np.all(np.isfinite(a)) for a in arrays):
        return None
    per_step = history.mean(axis=0)
    if not (float(ref.mean()) > 0.0 and np.all(per_step > 0.0)):
        return None
    # Never narrower than the baseline's band: an edge over it measured on a few
    # validation windows, which early stopping chose the weights on, is optimistic
    # (M1 sample: 67.5%/75.3% covered at 80%/95% with the raw ratio, 79.9%/87.6%
    # with this floor).
    ratio = max(1.0, float(model.mean()) / float(ref.mean()))
    unit = np.sort((history / per_step).ravel())
    if unit.size > cap:
        unit = unit[np.round(np.linspace(0, unit.size - 1, cap)).astype(np.int64)]
    growth = np.sqrt(np.arange(1, horizon + 1, dtype=np.float64))
    growth /= growth.mean()
    size = ratio * float(history.mean())
    return Calibration(
        residuals=tuple(tuple(float(v) for v in unit * size * g) for g in growth),
        n_windows=len(history),
        steps_pooled=True,
        reference=reference,
        reference_ratio=ratio,
    )


def reference_calibration(
    target: npt.ArrayLike,
    val_origins: npt.ArrayLike,
    model_errors: npt.ArrayLike,
    end: int,
    season: int,
    *,
    min_origins: int = 4,
    min_units: int = POOL_STEPS_BELOW,
) -> Calibration | None:
    """Calibrate one series' intervals on a baseline's errors (:func:`calibrate_by_reference`).

    The baseline is seasonal naive when ``season`` > 1, else naive. It forecasts from
    every origin o whose targets o+1 .. o+horizon lie before row ``end`` (the first
    row the calibration may not see: the test part's), and from each validation
    window's origin, whose model errors are ``model_errors`` (n_val, horizon).

    Args:
        target: The series' target values, oldest first.
        val_origins: Each validation window's last input row.
        model_errors: The model's errors on those windows (truth - forecast).
        end: Rows from ``end`` on are never used.
        season: Season length (1: naive).
        min_origins: Fewer baseline origins than this give None (use the model's own
            errors then).
        min_units: Fewer pooled errors (origins times horizon steps) than this give
            None too: 19 resolve a 95% band. Counting origins alone (19 of them)
            left a short yearly series (Tourism: a few dozen rows) on the model's one
            or two validation windows, whose 80% and 95% bands were then the same.

    Returns:
        The calibration, or None when the baseline has too few origins, cannot
        forecast a validation origin (fewer than ``season`` rows before it), or made
        no error there.
    """
    from seqcast.evaluation.baselines import seasonal_naive

    y = np.asarray(target, dtype=np.float64)
    errors = np.asarray(model_errors, dtype=np.float64)
    origins = np.asarray(val_origins, dtype=np.int64)
    horizon = errors.shape[1]
    m = max(1, season)
    history = np.arange(m - 1, end - horizon, dtype=np.int64)
    enough = len(history) >= min_origins and len(history) * horizon >= min_units
    if not enough or not len(origins) or origins.min() < m - 1:
        return None
    steps = np.arange(1, horizon + 1)

    def errors_at(at: npt.NDArray[np.int64]) -> FloatArray:
        forecast = seasonal_naive(y, at, 1, horizon, m)
        return y[at[:, None] + steps[None, :]] - forecast

    name = "seasonal_naive" if m > 1 else "naive"
    return calibrate_by_reference(errors, errors_at(origins), errors_at(history), name)


def calibrate_series(
    target: npt.ArrayLike,
    val_starts: npt.ArrayLike,
    predicted: npt.ArrayLike,
    *,
    window: int,
    end: int,
    season: int,
    relative: bool = False,
) -> Calibration:
    """Calibrate one series' model on its validation windows, leaning on a baseline if few.

    With :data:`POOL_STEPS_BELOW` validation windows or more, :func:`calibrate` on the
    model's own errors; with fewer, :func:`reference_calibration` when its baseline
    can be scored at enough origins before row ``end``, else :func:`calibrate`.

    Args:
        target: The series' target values (rows from ``end`` on are never read).
        val_starts: Starts of the validation windows (non-empty).
        predicted: The model's forecasts of them, (n_val, horizon).
        window: Input rows per window.
        end: First row the calibration may not see (the test part's).
        season: Season length.
        relative: Calibrate log ratios (:attr:`Calibration.relative`), when the
            target up to ``end`` and the forecasts are all above zero (else
            absolute errors, as without it).
    """
    y = np.asarray(target, dtype=np.float64)
    starts = np.asarray(val_starts, dtype=np.int64)
    pred = np.asarray(predicted, dtype=np.float64)
    rows = starts[:, None] + window + np.arange(pred.shape[1])[None, :]
    relative = relative and bool(np.all(y[:end] > 0.0)) and bool(np.all(pred > 0.0))
    if relative:
        y = np.concatenate([np.log(y[:end]), np.full(len(y) - end, np.nan)])
        pred = np.log(pred)
    truth = y[rows]
    found = None
    if len(starts) < POOL_STEPS_BELOW:
        found = reference_calibration(y, starts + window - 1, truth - pred, end, season)
    if found is None:
        found = calibrate(truth, pred)
    return dataclasses.replace(found, relative=relative)


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
