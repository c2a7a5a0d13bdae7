"""Prediction from a trained model: a NumPy forward pass for the fast path, Keras otherwise.

``NumpyModel`` reads a ``.keras`` archive (``config.json`` and ``model.weights.h5``) with
zipfile, json and h5py, and runs a chain of InputLayer, SimpleRNN, LSTM, GRU,
Bidirectional, Dropout and Dense layers in float32 as Keras does, so ``seqcast forecast``
needs neither TensorFlow nor Keras; the reader lives in ``seqcast.model.numpy_engine``
and the layers in ``seqcast.model.numpy_layers``. Anything else raises
``UnsupportedModelError`` and the caller falls back to ``KerasModel``. Nothing is
unpickled.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from seqcast import interrupts
from seqcast._types import Float32Array, FloatArray
from seqcast.errors import ArtifactError, ConfigError, DataError
from seqcast.model.archive import Limits, Unsafe, open_archive
from seqcast.model.numpy_engine import Rejected, read_keras_bytes
from seqcast.model.numpy_layers import Layer

_SIZE_KEYS = ("units", "filters", "output_dim", "input_dim", "key_dim", "num_heads")
_CHUNK = 256  # windows per forward pass in NumpyModel.predict: (256, 4 * units) float32 blocks stay in L2


class UnsupportedModelError(ArtifactError):
    """The NumPy engine cannot reproduce this (safe) model; the Keras engine can."""


class UnsafeModelError(ArtifactError):
    """The model file is malformed or unsafe; neither engine may load it."""


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
    def from_keras_file(cls, path: Path, limits: Limits | None = None) -> NumpyModel:
        """Load a Keras 3 ``.keras`` file; see :meth:`from_keras_bytes`.

        Raises:
            ArtifactError: If ``path`` is not a file, or as :meth:`from_keras_bytes`.
            UnsupportedModelError: As :meth:`from_keras_bytes`.
        """
        path = Path(path)
        if not path.is_file():
            raise ArtifactError(
                f"Model file '{path}' does not exist. Run `seqcast train` first."
            )
        limits = limits or Limits()
        with open(path, "rb") as handle:
            data = handle.read(limits.max_model_bytes + 1)
        return cls.from_keras_bytes(data, str(path), limits)

    @classmethod
    def from_keras_bytes(
        cls, data: bytes, source: str, limits: Limits | None = None
    ) -> NumpyModel:
        """Load a Keras 3 ``.keras`` archive held in memory, with zipfile, json and h5py.

        Args:
            data: The bytes of a file written by ``keras.Model.save``.
            source: Where the bytes came from, for messages.
            limits: Size limits (default :class:`seqcast.model.archive.Limits`).

        Returns:
            The model, ready to ``predict``.

        Raises:
            UnsafeModelError: If the archive is malformed, over a limit, reaches
                outside its own bytes or has weights that do not fit its config; no
                engine may load it.
            UnsupportedModelError: If it holds anything but a chain of supported
                layers; Keras may still run it.
        """
        limits = limits or Limits()
        try:
            if len(data) > limits.max_model_bytes:
                raise Unsafe(f"the file is larger than {limits.max_model_bytes} bytes")
            network = read_keras_bytes(data, limits)
        except Unsafe as exc:
            raise UnsafeModelError(
                f"Model '{source}' is unsafe or malformed, so no engine loads it: {exc}. Retrain with `seqcast train`, or get the model directory from its source again."
            ) from None
        except Rejected as exc:
            raise UnsupportedModelError(
                f"Model '{source}' cannot run on the NumPy engine: {exc}. Use --engine keras."
            ) from None
        return cls(network.layers, network.window, network.n_features, network.horizon)

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
        parts = []
        for i in range(0, len(arr), self.batch_size):
            with interrupts.held():  # a Ctrl-C waits for this chunk, then stops
                chunk = self.model.predict_on_batch(arr[i : i + self.batch_size])
                parts.append(np.asarray(chunk))
        return np.concatenate(parts).astype(np.float64)


def load_keras_bytes(data: bytes, source: str, limits: Limits | None = None) -> Any:
    """Load verified model bytes with Keras in safe mode, after every NumPy-side check.

    The checks of :meth:`NumpyModel.from_keras_bytes` run first; only a file they find
    safe but unsupported, whose layer sizes stay within ``MAX_UNITS``, reaches Keras.
    Keras 3.15's public ``keras.saving.load_model`` takes only paths, so the bytes are
    written to a private temporary directory (mode 0700) and loaded from there:
    Keras never reopens the model directory.

    Raises:
        UnsafeModelError: As :meth:`NumpyModel.from_keras_bytes`, or if a layer
            declares a size over ``MAX_UNITS``.
        ArtifactError: If Keras refuses the file.
    """
    import tempfile

    from seqcast.config import MAX_UNITS
    from seqcast.runtime import import_keras_quietly

    try:
        NumpyModel.from_keras_bytes(data, source, limits)
    except UnsupportedModelError:
        config = open_archive(data, limits or Limits()).config
        big = _largest_size(config)
        if big > MAX_UNITS:
            raise UnsafeModelError(
                f"Model '{source}' is unsafe or malformed, so no engine loads it: a layer declares a size of {big}, over {MAX_UNITS}. Retrain with `seqcast train`, or get the model directory from its source again."
            ) from None
    keras = import_keras_quietly()
    with tempfile.TemporaryDirectory(prefix="seqcast-model-") as private:
        file = Path(private) / "model.keras"
        with open(file, "xb") as handle:
            handle.write(data)
        try:
            with interrupts.held():
                return keras.saving.load_model(file, compile=False, safe_mode=True)
        except Exception as exc:  # Keras raises ValueError/TypeError/OSError variants
            text = str(exc).strip()
            first_line = text.splitlines()[0] if text else type(exc).__name__
            raise ArtifactError(
                f"Keras cannot load {source} safely: {first_line[:200]}. Retrain with `seqcast train`; seqcast never loads models that carry code."
            ) from None


def keras_bytes(model: Any) -> bytes:
    """Return a Keras model saved as a ``.keras`` file, as bytes (the inverse of loading).

    For sending a model trained in a worker process back to the process that saves the
    model directory. Written in a private temporary directory (mode 0700), which is
    removed.
    """
    import tempfile

    with tempfile.TemporaryDirectory(prefix="seqcast-model-") as private:
        file = Path(private) / "model.keras"
        save_keras(model, file)
        return file.read_bytes()


def save_keras(model: Any, path: Path) -> None:
    """``model.save(path)``, with a Ctrl-C or SIGTERM held until Keras has returned."""
    with interrupts.held():
        model.save(path)


def _largest_size(config: Any) -> int:
    """Return the largest integer under a layer-size key anywhere in a Keras config."""
    largest, stack, seen = 0, [config], 0
    while stack and seen < 100_000:
        node, seen = stack.pop(), seen + 1
        if isinstance(node, dict):
            for key, value in node.items():
                if key in _SIZE_KEYS and isinstance(value, int):
                    largest = max(largest, value)
                elif isinstance(value, dict | list):
                    stack.append(value)
        elif isinstance(node, list):
            stack.extend(v for v in node if isinstance(v, dict | list))
    return largest


def recursive_forecast(
    predict: Callable[[Float32Array], FloatArray],
    history: FloatArray,
    steps: int,
    horizon: int,
    *,
    features: Sequence[str] = (),
    known_future: FloatArray | None = None,
) -> FloatArray:
    """Forecast ``steps`` values, feeding predictions back in as the newest inputs.

    Each round predicts ``horizon`` values from the last ``window`` values and appends
    them. With window=3, horizon=2, steps=5 and history ``[a, b, c]``: ``[a, b, c]`` gives
    ``p1, p2``; ``[c, p1, p2]`` gives ``p3, p4``; ``[p2, p3, p4]`` gives ``p5`` (and one
    value that is dropped); the result is ``[p1, p2, p3, p4, p5]``.

    Columns known ahead (the last ``known_future.shape[1]`` of ``history``) are read
    ``horizon`` rows ahead of the others, as in training
    (:func:`seqcast.prep.windows.lead_known`): a round's inputs carry their values
    over the ``horizon`` steps it predicts, taken from ``known_future``.

    Args:
        predict: Maps float32 windows (1, window, n_features) to (1, horizon); wrap any
            per-window normalisation inside it.
        history: The last ``window`` scaled rows, shape (window, n_features); column 0
            is the target, then the past-only features, then the known ones.
        steps: Values to forecast.
        horizon: Values ``predict`` returns per window.
        features: Names of history's past-only columns, for the error message.
        known_future: Scaled values of the known columns at the rows after
            ``history``, at least ``ceil(steps / horizon) * horizon`` of them.

    Returns:
        A new float64 array of shape (steps,) in the scaled units of the target.

    Raises:
        ConfigError: If steps or horizon is below 1, or history has past-only feature
            columns and steps > horizon (their future values are unknown), or
            ``known_future`` is too short.
        ArtifactError: If ``predict`` does not return shape (1, horizon).
    """
    if steps < 1 or horizon < 1 or history.ndim != 2 or len(history) == 0:
        raise ConfigError(
            f"Cannot forecast steps={steps} with horizon={horizon} from history of shape {history.shape}. Use --steps 1 or more and a non-empty (window, n_features) history."
        )
    window, n_features = history.shape
    known = 0 if known_future is None else known_future.shape[1]
    past = n_features - 1 - known
    if past > 0 and steps > horizon:
        names = list(features) or [f"column_{i}" for i in range(1, past + 1)]
        raise ConfigError(
            f"Forecasting {steps} steps needs future values of the features {names}, but the model predicts {horizon} steps at once. Use --steps {horizon} or fewer, or retrain with them in --future-features (seqcast train) if their future values are known."
        )
    rounds = -(-steps // horizon)
    target = np.empty(window + rounds * horizon, dtype=np.float64)
    target[:window] = history[:, 0]
    ahead = None
    if known_future is not None and known:
        if len(known_future) < rounds * horizon:
            raise ConfigError(
                f"Forecasting {steps} steps needs {rounds * horizon} rows of the known features, got {len(known_future)}."
            )
        ahead = np.concatenate([history[:, n_features - known :], known_future])
    inputs = np.array(history, dtype=np.float64)
    for r in range(rounds):
        first = r * horizon
        inputs[:, 0] = target[first : first + window]
        if ahead is not None:
            inputs[:, n_features - known :] = ahead[
                first + horizon : first + horizon + window
            ]
        yhat = np.asarray(predict(inputs.astype(np.float32)[None]), dtype=np.float64)
        if yhat.shape != (1, horizon):
            raise ArtifactError(
                f"The model returned predictions of shape {yhat.shape}, but horizon={horizon} needs (1, {horizon}). Check that seqcast.json belongs to this model.keras."
            )
        target[window + first : window + first + horizon] = yhat[0]
    return target[window : window + steps].copy()
