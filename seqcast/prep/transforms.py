"""Target transforms fitted on the training part: variance stabilisation and deseasonalisation.

The network never sees the raw target. It sees ``z[t] = g(y[t]) - s[t mod m]``, where ``g``
is ``log`` for a positive series (so multiplicative seasonality and growth become additive)
or the identity, and ``s`` holds ``m`` seasonal indices from a classical decomposition of
``g(y)`` over the training rows (zero when the training part shows no seasonality). A
network whose output is zero then forecasts "the last deseasonalised level, re-seasoned",
and training only has to learn corrections to that. Forecasts are mapped back with
``y = g^-1(z + s[t mod m])``.

Row ``t`` counts from the first row the transform was fitted on, so a window elsewhere
needs its offset: for rows 0..9 with m=4, row 9 has phase 1 and uses ``s[1]``.
Everything here is NumPy and plain numbers, so the forecast path stays TensorFlow- and
pandas-free.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from seqcast._types import FloatArray
from seqcast.config import Deseasonalize, Transform
from seqcast.errors import ArtifactError

SEASONALITY_Z = 1.645
"""One-sided 90% quantile: the seasonality test of the M4 competition's benchmarks."""


@dataclass(frozen=True, slots=True)
class TargetTransform:
    """A fitted target transform (see the module docstring).

    Attributes:
        kind: ``log`` or ``none`` (never ``auto``: that is resolved when fitting).
        season: Season length ``m`` of the indices (1 when there are none).
        indices: ``m`` seasonal indices in transformed units, summing to zero; empty
            when the series is not deseasonalised.
    """

    kind: Transform
    season: int
    indices: tuple[float, ...]

    @classmethod
    def identity(cls) -> TargetTransform:
        """The transform that changes nothing (models trained before transforms existed)."""
        return cls(Transform.NONE, 1, ())

    def without_indices(self) -> TargetTransform:
        """The same variance stabilisation, without deseasonalisation (``self`` if it has none)."""
        return TargetTransform(self.kind, 1, ()) if self.indices else self

    @property
    def is_identity(self) -> bool:
        """Whether forward and inverse return their input unchanged."""
        return self.kind is Transform.NONE and not self.indices

    def describe(self) -> str:
        """Say in a few words what the transform does, for ``info``."""
        parts = ["log" if self.kind is Transform.LOG else "none"]
        if self.indices:
            parts.append(f"deseasonalised (season {self.season})")
        return ", ".join(parts)

    def forward(self, target: npt.ArrayLike, first_row: int = 0) -> FloatArray:
        """Map target values to the network's units; ``target[i]`` is row ``first_row + i``.

        Returns:
            A new float64 array of the same shape (1-D).
        """
        y = np.asarray(target, dtype=np.float64)
        if self.is_identity:
            return y.copy()
        z = np.log(y) if self.kind is Transform.LOG else y.copy()
        if self.indices:
            z -= self._seasonal(first_row + np.arange(len(z)))
        return z

    def inverse(self, z: npt.ArrayLike, rows: npt.ArrayLike) -> FloatArray:
        """Map network-unit forecasts back; ``rows`` gives each value's row (same shape).

        Returns:
            A new float64 array of the same shape as ``z``.
        """
        out = np.asarray(z, dtype=np.float64).copy()
        if self.indices:
            out += self._seasonal(np.asarray(rows, dtype=np.int64))
        if self.kind is Transform.LOG:
            # exp of a value past ~709 overflows to inf; the forecast check reports it.
            with np.errstate(over="ignore"):
                out = np.exp(out)
        return out

    def forward_values(self, values: FloatArray, first_row: int = 0) -> FloatArray:
        """Apply :meth:`forward` to column 0 of ``values`` (n_steps, n_features); a copy."""
        out = np.array(values, dtype=np.float64, copy=True)
        out[:, 0] = self.forward(values[:, 0], first_row)
        return out

    def _seasonal(self, rows: npt.NDArray[np.int64]) -> FloatArray:
        return np.asarray(self.indices, dtype=np.float64)[np.mod(rows, self.season)]

    def to_dict(self) -> dict[str, Any]:
        """Return plain numbers for ``seqcast.json``."""
        return {
            "kind": self.kind.value,
            "season": self.season,
            "indices": list(self.indices),
        }

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> TargetTransform:
        """Rebuild from :meth:`to_dict` output.

        Raises:
            ArtifactError: If the kind is unknown or the indices do not fit the season.
        """
        kind = Transform(raw["kind"])
        season = int(raw["season"])
        indices = tuple(float(v) for v in raw["indices"])
        if kind is Transform.AUTO or season < 1:
            raise ArtifactError(
                f"transform kind={kind.value} season={season} is not a fitted transform. Retrain with `seqcast train`."
            )
        if indices and (len(indices) != season or not all(map(math.isfinite, indices))):
            raise ArtifactError(
                f"transform has {len(indices)} seasonal indices for season {season}. Retrain with `seqcast train`."
            )
        return cls(kind, season, indices)


def fit_transform(
    train_target: npt.ArrayLike,
    *,
    transform: Transform,
    deseasonalize: Deseasonalize,
    season: int,
    later: npt.ArrayLike = (),
) -> TargetTransform:
    """Fit the target transform on the training part of a series.

    Args:
        train_target: The target's training rows, oldest first (row 0 = phase 0).
        transform: ``log``, ``none``, or ``auto`` (log when every training value is
            above zero).
        deseasonalize: ``classical``, ``none``, ``test`` (classical when the training
            part holds at least three seasons and passes :func:`is_seasonal`) or
            ``auto`` (classical whenever the training part holds two seasons: on M1 it
            beat the test, which leaves too many seasonal series alone); ``mixed`` is
            fitted as ``auto`` (the members that read the series with its seasonal
            pattern drop the indices: :meth:`seqcast.model.pipeline.Prep.raw`).
        season: Season length ``m``; 1 turns deseasonalisation off.
        later: The target's rows after the training part, which the model reads as
            inputs (validation windows, the final fit, the stored last window). Only
            their sign is looked at: log needs them positive too, or a zero there
            would become -inf. Nothing is fitted on them.

    Returns:
        The fitted transform.
    """
    y = np.asarray(train_target, dtype=np.float64)
    rest = np.asarray(later, dtype=np.float64)
    positive = bool(len(y)) and bool(np.all(y > 0.0)) and bool(np.all(rest > 0.0))
    if transform is Transform.AUTO:
        kind = Transform.LOG if positive else Transform.NONE
    elif transform is Transform.LOG and not positive:
        kind = Transform.NONE  # log needs positive values; the choice is recorded
    else:
        kind = transform
    g = np.log(y) if kind is Transform.LOG else y
    use = (
        deseasonalize is not Deseasonalize.NONE and season > 1 and len(y) >= 2 * season
    )
    if use and deseasonalize is Deseasonalize.TEST:
        use = len(y) >= 3 * season and is_seasonal(g, season)
    if not use:
        return TargetTransform(kind, 1, ())
    return TargetTransform(kind, season, classical_indices(g, season))


def is_seasonal(values: FloatArray, season: int) -> bool:
    """Test for seasonality as the M4 benchmarks do: the autocorrelation at lag ``season``.

    The series is seasonal when ``|r_m| > 1.645 * sqrt((1 + 2 * sum_{k<m} r_k^2) / n)``
    (Bartlett's standard error at lag m, 90% one-sided).
    """
    x = np.asarray(values, dtype=np.float64)
    n = len(x)
    if season < 2 or n < 3 * season:
        return False
    dev = x - x.mean()
    denom = float(np.dot(dev, dev))
    if denom <= 0.0:
        return False
    acf = np.array(
        [np.dot(dev[: n - k], dev[k:]) / denom for k in range(1, season + 1)]
    )
    limit = SEASONALITY_Z * math.sqrt((1.0 + 2.0 * float(np.sum(acf[:-1] ** 2))) / n)
    return bool(abs(acf[-1]) > limit)


def classical_indices(values: FloatArray, season: int) -> tuple[float, ...]:
    """Return additive seasonal indices of a classical decomposition, summing to zero.

    The trend is a centred moving average of ``season`` terms (2 x m when m is even);
    index j is the mean of ``values - trend`` over the rows of phase j (row mod m).

    Example:
        A series 10, 12, 10, 8 repeated has indices (0, 2, 0, -2) for season 4.
    """
    x = np.asarray(values, dtype=np.float64)
    m = season
    kernel = np.full(m, 1.0 / m) if m % 2 else np.r_[0.5, np.ones(m - 1), 0.5] / m
    trend = np.convolve(x, kernel, mode="valid")
    half = (len(kernel) - 1) // 2
    detrended = x[half : half + len(trend)] - trend
    phases = (np.arange(len(detrended)) + half) % m
    sums = np.bincount(phases, weights=detrended, minlength=m)
    counts = np.bincount(phases, minlength=m)
    means = np.divide(sums, counts, out=np.zeros(m), where=counts > 0)
    means -= means.mean()
    return tuple(float(v) for v in means)
