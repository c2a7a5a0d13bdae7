"""Prediction from a trained model: a NumPy forward pass for the fast path, Keras otherwise.

``NumpyModel`` reads a ``.keras`` archive (``config.json`` and ``model.weights.h5``) with
zipfile, json and h5py, and runs a chain of InputLayer, SimpleRNN, LSTM, GRU,
Bidirectional, Dropout and Dense layers in float32 as Keras does, so ``seqcast forecast``
needs neither TensorFlow nor Keras; the reader and the layers live in
``seqcast.model.numpy_engine``. Anything else raises ``UnsupportedModelError`` and the
caller falls back to ``KerasModel``. Nothing is unpickled.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from seqcast._types import Float32Array, FloatArray
from seqcast.errors import ArtifactError, ConfigError, DataError
from seqcast.model.numpy_engine import Layer, Rejected, read_keras_file

_CHUNK = 256  # windows per forward pass in NumpyModel.predict: (256, 4 * units) float32 blocks stay in L2


class UnsupportedModelError(ArtifactError):
    """The NumPy engine cannot reproduce this model; the Keras engine can."""


class Predictor(Protocol):
    """Maps windows (n, window, n_features) to float64 forecasts (n, horizon)."""

    def predict(self, x: FloatArray | Float32Array) -> FloatArray:
        """Forecast every window."""
        ...


class NumpyModel:
    """A recurrent forecasting model run as a NumPy forward pass, without Keras.

    Load one with ``NumpyModel.from_keras_file(path)``. It computes in float32, as
    Keras does, and agrees with ``keras_model.predict`` to about 1e-6.

    Args:
        layers: Callables mapping float32 arrays, applied in order; the last returns
            (n, horizon).
        window: See Attributes.
        n_features: See Attributes.
        horizon: See Attributes.

    Attributes:
        window: Steps per input window (None if the model accepts any length).
        n_features: Input columns per step; column 0 is the target.
        horizon: Values predicted per window.
    """

    __slots__ = ("_layers", "horizon", "n_features", "window")

    def __init__(
        self,
        layers: Sequence[Layer],
        window: int | None,
        n_features: int,
        horizon: int,
    ) -> None:
        self._layers = tuple(layers)
        self.window = window
        self.n_features = n_features
        self.horizon = horizon

    @classmethod
    def from_keras_file(cls, path: Path) -> NumpyModel:
        """Load a Keras 3 ``.keras`` archive with zipfile, json and h5py.

        Args:
            path: A file written by ``keras.Model.save``.

        Returns:
            The model, ready to ``predict``.

        Raises:
            ArtifactError: If ``path`` is not a file.
            UnsupportedModelError: If the archive cannot be read, holds anything but a
                chain of supported layers, or has weights that do not fit its config.
        """
        path = Path(path)
        if not path.is_file():
            raise ArtifactError(
                f"Model file '{path}' does not exist. Run `seqcast train` first."
            )
        try:
            network = read_keras_file(path)
        except Rejected as exc:
            reason = str(exc)
        else:
            return cls(
                network.layers, network.window, network.n_features, network.horizon
            )
        raise UnsupportedModelError(
            f"Model '{path}' cannot run on the NumPy engine: {reason}. Use --engine keras."
        )

    def predict(self, x: FloatArray | Float32Array) -> FloatArray:
        """Forecast all windows at once, looping over time steps only.

        Args:
            x: Scaled windows of shape (n, window, n_features).

        Returns:
            A new float64 array of shape (n, horizon), computed in float32.

        Raises:
            DataError: If x does not have the model's window and n_features.
        """
        arr = np.asarray(x, dtype=np.float32)
        if (
            arr.ndim != 3
            or arr.shape[2] != self.n_features
            or self.window not in (None, arr.shape[1])
        ):
            raise DataError(
                f"The model expects windows of shape (n, window={self.window}, n_features={self.n_features}) but got {arr.shape}. Use the window and features it was trained with."
            )
        out = np.empty((len(arr), self.horizon), dtype=np.float64)
        for start in range(0, len(arr), _CHUNK):  # bounds memory, keeps blocks in cache
            y = arr[start : start + _CHUNK]
            for layer in self._layers:
                y = layer(y)
            out[start : start + _CHUNK] = y
        return out


class KerasModel:
    """A loaded ``keras.Model`` behind the same ``predict`` as ``NumpyModel``.

    Args:
        model: The Keras model (loaded with ``keras.saving.load_model``).
        batch_size: Windows per forward pass; large, so that few calls are made.
    """

    __slots__ = ("batch_size", "model")

    def __init__(self, model: Any, batch_size: int = 8192) -> None:
        self.model = model
        self.batch_size = batch_size

    def predict(self, x: FloatArray | Float32Array) -> FloatArray:
        """Forecast all windows with ``model.predict_on_batch`` in large chunks.

        ``predict_on_batch`` runs Keras' compiled predict function (traced once per
        chunk shape) on a whole chunk, without ``model.predict``'s per-batch loop and
        callbacks, and unlike an eager ``model(x)`` call it does not dispatch every
        op of every time step from Python: on 10,000 windows it was 2.4-6x faster
        than ``model.predict`` (``benchmarks/predict_batch.py``).

        Args:
            x: Scaled windows of shape (n, window, n_features).

        Returns:
            A new float64 array of shape (n, horizon).
        """
        arr = np.ascontiguousarray(x, dtype=np.float32)
        if len(arr) == 0:
            return np.empty((0, int(self.model.output_shape[-1])), dtype=np.float64)
        parts = [
            np.asarray(self.model.predict_on_batch(arr[i : i + self.batch_size]))
            for i in range(0, len(arr), self.batch_size)
        ]
        return np.concatenate(parts).astype(np.float64)


def recursive_forecast(
    predict: Callable[[Float32Array], FloatArray],
    history: FloatArray,
    steps: int,
    horizon: int,
    *,
    features: Sequence[str] = (),
) -> FloatArray:
    """Forecast ``steps`` values, feeding predictions back in as the newest inputs.

    Each round predicts ``horizon`` values from the last ``window`` values and appends
    them. With window=3, horizon=2, steps=5 and history ``[a, b, c]``: ``[a, b, c]`` gives
    ``p1, p2``; ``[c, p1, p2]`` gives ``p3, p4``; ``[p2, p3, p4]`` gives ``p5`` (and one
    value that is dropped); the result is ``[p1, p2, p3, p4, p5]``.

    Args:
        predict: Maps float32 windows (1, window, n_features) to (1, horizon); wrap any
            per-window normalisation inside it.
        history: The last ``window`` scaled rows, shape (window, n_features); column 0
            is the target.
        steps: Values to forecast.
        horizon: Values ``predict`` returns per window.
        features: Names of history's columns 1.., for the error message.

    Returns:
        A new float64 array of shape (steps,) in the scaled units of the target.

    Raises:
        ConfigError: If steps or horizon is below 1, or history has feature columns and
            steps > horizon (their future values are unknown).
        ArtifactError: If ``predict`` does not return shape (1, horizon).
    """
    if steps < 1 or horizon < 1 or history.ndim != 2 or len(history) == 0:
        raise ConfigError(
            f"Cannot forecast steps={steps} with horizon={horizon} from history of shape {history.shape}. Use --steps 1 or more and a non-empty (window, n_features) history."
        )
    window, n_features = history.shape
    if n_features > 1 and steps > horizon:
        names = list(features) or [f"column_{i}" for i in range(1, n_features)]
        raise ConfigError(
            f"Forecasting {steps} steps needs future values of the features {names}, but the model predicts {horizon} steps at once. Use --steps {horizon} or fewer, or train without --features."
        )
    rounds = -(-steps // horizon)
    target = np.empty(window + rounds * horizon, dtype=np.float64)
    target[:window] = history[:, 0]
    for r in range(rounds):
        inputs = (
            history
            if n_features > 1
            else target[r * horizon : r * horizon + window, None]
        )
        yhat = np.asarray(predict(inputs.astype(np.float32)[None]), dtype=np.float64)
        if yhat.shape != (1, horizon):
            raise ArtifactError(
                f"The model returned predictions of shape {yhat.shape}, but horizon={horizon} needs (1, {horizon}). Check that seqcast.json belongs to this model.keras."
            )
        target[window + r * horizon : window + (r + 1) * horizon] = yhat[0]
    return target[window : window + steps].copy()
