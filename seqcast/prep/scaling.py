"""Per-column scalers fitted on the training part only, stored as plain numbers."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Self

import numpy as np
import numpy.typing as npt

from seqcast._types import FloatArray
from seqcast.config import ScalerKind
from seqcast.errors import ArtifactError, DataError, SeqcastError

_EPS = float(np.finfo(np.float64).eps)


class NotFittedError(SeqcastError, RuntimeError):
    """A scaler was used before ``fit`` (or ``from_dict``) gave it parameters."""


class Scaler:
    """Scale each column as ``(values - center_) / scale_``, like scikit-learn's scalers.

    ``kind`` picks the centre and scale of each column:

    ==========  ======================  ================================================
    kind        ``center_``             ``scale_``
    ==========  ======================  ================================================
    minmax      minimum                 maximum - minimum (``MinMaxScaler``, range 0-1)
    standard    mean                    population std, ddof=0 (``StandardScaler``)
    robust      median                  25th-75th percentile range (``RobustScaler``)
    none        0                       1
    ==========  ======================  ================================================

    A constant column gets scale 1, as in scikit-learn: a range below 10 machine
    epsilons, or a variance within the rounding error of the mean, counts as constant.
    Fit on the training rows only; the parameters then never depend on later rows.

    Args:
        kind: Which scaler to use.

    Attributes:
        kind: The scaler kind given.
        center_: Per-column centres, shape (n_features,). Set by ``fit``.
        scale_: Per-column scales, shape (n_features,), all > 0. Set by ``fit``.
        n_features_in_: Number of columns seen by ``fit``.

    Example:
        >>> s = Scaler(ScalerKind.MINMAX).fit(np.array([[0.0], [10.0]]))
        >>> s.transform(np.array([[5.0]])).tolist()
        [[0.5]]
    """

    center_: FloatArray
    scale_: FloatArray
    n_features_in_: int

    def __init__(self, kind: ScalerKind = ScalerKind.MINMAX) -> None:
        self.kind = kind

    def __repr__(self) -> str:
        return f"Scaler(kind={ScalerKind(self.kind).value!r})"

    def fit(self, values: npt.ArrayLike) -> Self:
        """Compute per-column centres and scales.

        Args:
            values: Training rows only, shape (n_rows, n_features); column 0 is the target.

        Returns:
            The scaler itself, fitted.

        Raises:
            DataError: If values is not 2-D, has no rows, or holds NaN or infinity.
        """
        data = np.asarray(values, dtype=np.float64)
        if data.ndim != 2 or data.shape[0] == 0 or data.shape[1] == 0:
            raise DataError(
                f"Cannot fit a scaler on an array of shape {data.shape}: it needs at least one row and one column. Pass the training rows as (n_rows, n_features)."
            )
        finite = np.isfinite(data)
        if not finite.all():
            row, col = (int(i) for i in np.argwhere(~finite)[0])
            raise DataError(
                f"Cannot fit a scaler on values with NaN or infinity: {int((~finite).sum())} found, first at row {row}, column {col}. Fill or drop missing values first (--fill)."
            )
        kind = ScalerKind(self.kind)
        n_rows, n_cols = data.shape
        if kind is ScalerKind.MINMAX:
            center = data.min(axis=0)
            scale = data.max(axis=0) - center
            constant = scale < 10 * _EPS
        elif kind is ScalerKind.STANDARD:
            center = data.mean(axis=0)
            var = data.var(axis=0)  # population variance (ddof=0), as scikit-learn
            scale = np.sqrt(var)
            # scikit-learn's test for a variance that is only rounding error.
            constant = var <= n_rows * _EPS * var + (n_rows * center * _EPS) ** 2
        elif kind is ScalerKind.ROBUST:
            center = np.median(data, axis=0)
            q25, q75 = np.percentile(data, [25.0, 75.0], axis=0)
            scale = q75 - q25
            constant = scale < 10 * _EPS
        else:
            center = np.zeros(n_cols)
            scale = np.ones(n_cols)
            constant = np.zeros(n_cols, dtype=bool)
        scale = np.where(constant, 1.0, scale)
        self.center_ = np.ascontiguousarray(center, dtype=np.float64)
        self.scale_ = np.ascontiguousarray(scale, dtype=np.float64)
        self.n_features_in_ = int(n_cols)
        return self

    def transform(self, values: npt.ArrayLike) -> FloatArray:
        """Scale values: ``(values - center_) / scale_``.

        Args:
            values: Array whose last axis holds the n_features columns, e.g.
                (n_rows, n_features) or windows (n_windows, window, n_features).

        Returns:
            A new float64 array of the same shape.

        Raises:
            NotFittedError: If the scaler has not been fitted.
            DataError: If the last axis does not have n_features_in_ columns.
        """
        data = self._check_columns(values)
        return (data - self.center_) / self.scale_

    def inverse_transform(self, values: npt.ArrayLike) -> FloatArray:
        """Undo ``transform`` for all columns: ``values * scale_ + center_``.

        Args:
            values: Array whose last axis holds the n_features columns.

        Returns:
            A new float64 array of the same shape, in original units.

        Raises:
            NotFittedError: If the scaler has not been fitted.
            DataError: If the last axis does not have n_features_in_ columns.
        """
        data = self._check_columns(values)
        return data * self.scale_ + self.center_

    def inverse_target(self, values: npt.ArrayLike) -> FloatArray:
        """Undo ``transform`` for target values only (column 0's parameters).

        Args:
            values: Scaled target values of any shape, e.g. forecasts (n_windows, horizon).

        Returns:
            A new float64 array of the same shape, in original units.

        Raises:
            NotFittedError: If the scaler has not been fitted.
        """
        self._check_fitted()
        data = np.asarray(values, dtype=np.float64)
        return np.asarray(data * self.scale_[0] + self.center_[0], dtype=np.float64)

    def to_dict(self) -> dict[str, Any]:
        """Return the parameters as JSON-ready plain Python values.

        Returns:
            ``{"kind": "minmax", "center": [float, ...], "scale": [float, ...]}``.

        Raises:
            NotFittedError: If the scaler has not been fitted.
        """
        self._check_fitted()
        return {
            "kind": ScalerKind(self.kind).value,
            "center": [float(v) for v in self.center_],
            "scale": [float(v) for v in self.scale_],
        }

    @classmethod
    def from_dict(cls, params: Mapping[str, Any]) -> Scaler:
        """Rebuild a fitted scaler from ``to_dict`` output read from an artifact.

        Args:
            params: Mapping with keys ``kind``, ``center`` and ``scale``; other keys
                are ignored.

        Returns:
            A fitted scaler.

        Raises:
            ArtifactError: If a key is missing, the kind is unknown, the lists differ
                in length or are empty, or a value is not a finite number (scales > 0).
        """
        fix = "Retrain the model with `seqcast train`."
        if not isinstance(params, Mapping):
            raise ArtifactError(
                f"Scaler parameters in the artifact are not a mapping: got {type(params).__name__}. {fix}"
            )
        missing = [key for key in ("kind", "center", "scale") if key not in params]
        if missing:
            raise ArtifactError(
                f"Scaler parameters in the artifact lack {', '.join(missing)}. {fix}"
            )
        kind_value = params["kind"]
        try:
            kind = ScalerKind(kind_value)
        except ValueError:
            choices = ", ".join(k.value for k in ScalerKind)
            raise ArtifactError(
                f"Scaler kind={kind_value!r} in the artifact is not one of: {choices}. {fix}"
            ) from None
        center = _finite_list(params["center"], "center", fix)
        scale = _finite_list(params["scale"], "scale", fix)
        if len(center) != len(scale):
            raise ArtifactError(
                f"Scaler parameters in the artifact disagree: {len(center)} centers but {len(scale)} scales. {fix}"
            )
        if not all(s > 0.0 for s in scale):
            raise ArtifactError(
                f"Scaler scale in the artifact must be above 0, got scale={scale}. {fix}"
            )
        scaler = cls(kind)
        scaler.center_ = np.array(center, dtype=np.float64)
        scaler.scale_ = np.array(scale, dtype=np.float64)
        scaler.n_features_in_ = len(center)
        return scaler

    def _check_fitted(self) -> None:
        if not hasattr(self, "scale_"):
            raise NotFittedError(
                f"{self!r} is not fitted yet. Call fit() on the training rows first."
            )

    def _check_columns(self, values: npt.ArrayLike) -> FloatArray:
        self._check_fitted()
        data = np.asarray(values, dtype=np.float64)
        n_cols = data.shape[-1] if data.ndim else 0
        if n_cols != self.n_features_in_:
            raise DataError(
                f"Values have {n_cols} columns but the scaler was fitted on {self.n_features_in_} (target plus features). Pass the same target and features as in training."
            )
        return data


def _finite_list(raw: Any, name: str, fix: str) -> list[float]:
    """Check that ``raw`` is a non-empty list of finite real numbers (no booleans)."""
    if not isinstance(raw, list | tuple) or not raw:
        raise ArtifactError(
            f"Scaler {name} in the artifact must be a non-empty list of numbers, got {name}={raw!r}. {fix}"
        )
    out: list[float] = []
    for value in raw:
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise ArtifactError(
                f"Scaler {name} in the artifact must hold finite numbers, got {name}={list(raw)!r}. {fix}"
            )
        out.append(float(value))
    return out
