"""Keras layers as float32 NumPy callables: SimpleRNN, LSTM, GRU, Bidirectional, Dense.

Each layer holds its weights as :mod:`seqcast.model.numpy_engine` reads them from a
``.keras`` archive, and maps float32 arrays as Keras computes them; the activations the
engine accepts are in ``ACTIVATIONS``. Only numpy is imported.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from seqcast._types import Float32Array

__all__ = [
    "ACTIVATIONS",
    "BidirectionalLayer",
    "DenseLayer",
    "Layer",
    "RecurrentLayer",
    "SkipSum",
]

Layer = Callable[[Float32Array], Float32Array]


def _sigmoid(x: Float32Array) -> Float32Array:
    half = np.float32(0.5)
    y: Float32Array = np.tanh(x * half)  # sigmoid(x) = (tanh(x / 2) + 1) / 2
    y *= half  # in place: one temporary, and no overflow where exp(-x) would
    y += half
    return y


def _hard_sigmoid(x: Float32Array) -> Float32Array:
    y: Float32Array = np.clip(x + np.float32(3.0), 0.0, 6.0) / np.float32(6.0)
    return y  # relu6(x + 3) / 6, as Keras computes it


ACTIVATIONS: dict[str, Layer] = {
    "linear": lambda x: x,
    "relu": lambda x: np.maximum(x, np.float32(0.0)),
    "tanh": np.tanh,
    "sigmoid": _sigmoid,
    "hard_sigmoid": _hard_sigmoid,
}


@dataclass(frozen=True, slots=True)
class RecurrentLayer:
    """A SimpleRNN, LSTM or GRU layer, with its weights as Keras stores them.

    LSTM gate columns are reordered at load from Keras' (i, f, c, o) to (i, f, o, c),
    so that one call applies the recurrent activation to all three sigmoid gates.
    """

    kind: str
    kernel: Float32Array  # (n_in, gates * units)
    recurrent_kernel: Float32Array  # (units, gates * units)
    bias: Float32Array | None  # (gates * units,), or (2, 3 * units) for GRU reset_after
    activation: Layer
    recurrent_activation: Layer
    return_sequences: bool
    go_backwards: bool
    reset_after: bool

    def __call__(self, x: Float32Array) -> Float32Array:
        """Map x (n, steps, n_in) to (n, steps, units) or, for the last step, (n, units)."""
        n, steps, n_in = x.shape
        u = self.recurrent_kernel.shape[0]
        act, ract = self.activation, self.recurrent_activation
        rk, bias = self.recurrent_kernel, self.bias
        bias_in = np.zeros(rk.shape[1], np.float32) if bias is None else bias
        bias_rec: Float32Array | None = None
        if bias is not None and bias.ndim == 2:  # GRU reset_after: input, recurrent
            bias_in, bias_rec = bias[0], bias[1]
        # All input projections in one product, time-major: xk[t] is a contiguous block.
        xs = np.ascontiguousarray(
            (x[:, ::-1] if self.go_backwards else x).swapaxes(0, 1)
        )
        xk = (xs.reshape(-1, n_in) @ self.kernel).reshape(steps, n, -1)
        xk += bias_in
        h = np.zeros((n, u), dtype=np.float32)
        c = np.zeros((n, u), dtype=np.float32)
        out = np.empty((steps, n, u), np.float32) if self.return_sequences else None
        one = np.float32(1.0)
        for t in range(steps):
            z = xk[t]  # updated in place: xk is this call's own buffer
            if self.kind == "SimpleRNN":
                z += h @ rk
                h = act(z)
            elif self.kind == "LSTM":  # reordered gates i, f, o, c
                z += h @ rk
                gates = ract(z[:, : 3 * u])
                c = gates[:, u : 2 * u] * c + gates[:, :u] * act(z[:, 3 * u :])
                h = gates[:, 2 * u :] * act(c)
            elif self.reset_after:  # GRU gates z, r, h; reset applied after the product
                inner = h @ rk if bias_rec is None else h @ rk + bias_rec
                zr = ract(z[:, : 2 * u] + inner[:, : 2 * u])
                hh = act(z[:, 2 * u :] + zr[:, u:] * inner[:, 2 * u :])
                h = zr[:, :u] * h + (one - zr[:, :u]) * hh
            else:  # GRU, reset_after=False: reset applied before the product
                zr = ract(z[:, : 2 * u] + h @ rk[:, : 2 * u])
                hh = act(z[:, 2 * u :] + np.matmul(zr[:, u:] * h, rk[:, 2 * u :]))
                h = zr[:, :u] * h + (one - zr[:, :u]) * hh
            if out is not None:
                out[t] = h
        return h if out is None else out.swapaxes(0, 1)


@dataclass(frozen=True, slots=True)
class BidirectionalLayer:
    """Two recurrent layers merged as ``keras.layers.Bidirectional`` merges them."""

    forward: RecurrentLayer
    backward: RecurrentLayer
    merge_mode: str

    def __call__(self, x: Float32Array) -> Float32Array:
        """Run both directions; backward sequences are flipped back into time order."""
        y, y_rev = self.forward(x), self.backward(x)
        if self.backward.return_sequences:
            y_rev = y_rev[:, ::-1]
        if self.merge_mode == "concat":
            return np.concatenate([y, y_rev], axis=-1)
        if self.merge_mode == "sum":
            return y + y_rev
        if self.merge_mode == "mul":
            return y * y_rev
        return (y + y_rev) / np.float32(2.0)  # "ave"


@dataclass(frozen=True, slots=True)
class DenseLayer:
    """A Dense layer on the last axis: activation(x @ kernel + bias)."""

    kernel: Float32Array
    bias: Float32Array | None
    activation: Layer

    def __call__(self, x: Float32Array) -> Float32Array:
        """Apply the layer."""
        y = x @ self.kernel
        return self.activation(y if self.bias is None else y + self.bias)


@dataclass(frozen=True, slots=True)
class SkipSum:
    """A chain of layers plus a linear map of the flattened input, summed.

    Keras' ``Flatten`` -> ``Dense`` -> ``Add`` beside the recurrent chain (see
    ``seqcast.model.build``): ``chain(x) + linear(x.reshape(n, -1))``.
    """

    chain: tuple[Layer, ...]
    linear: DenseLayer

    def __call__(self, x: Float32Array) -> Float32Array:
        """Apply the chain and the skip to windows (n, window, n_features)."""
        y = x
        for layer in self.chain:
            y = layer(y)
        return y + self.linear(x.reshape(len(x), -1))
