"""Keras 3 builders for recurrent forecasters (rnn, lstm, gru, stacked, bidirectional).

Keras is imported inside the functions, so importing this module stays cheap. The
models use only built-in layers (no ``Lambda``), so they reload with
``keras.saving.load_model(path, safe_mode=True)`` and the NumPy forward pass in
``seqcast.model.predict`` can read them.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from seqcast.config import Cell, ModelConfig
from seqcast.errors import ConfigError

if TYPE_CHECKING:
    import keras

MODEL_NAME = "seqcast"
HEAD_NAME = "dense_head"
SKIP_FLATTEN = "skip_flatten"
SKIP_NAME = "skip_linear"
SKIP_ADD = "skip_add"
INPUT_NAME = "inputs"

_LAYER_CLASS = {Cell.RNN: "SimpleRNN", Cell.LSTM: "LSTM", Cell.GRU: "GRU"}

# What Keras 3 needs to run a recurrent layer on its fused cuDNN kernel. Source:
# keras-team/keras keras/src/layers/rnn/lstm.py and gru.py (the class docstrings'
# "requirements to use the cuDNN implementation" and ``inner_loop``), and
# keras/src/backend/tensorflow/rnn.py ``cudnn_ok`` / ``_do_lstm_arguments_support_cudnn``
# / ``_do_gru_arguments_support_cudnn`` (jax/rnn.py and torch/rnn.py check the same):
#   activation tanh, recurrent_activation sigmoid, recurrent_dropout 0, unroll False,
#   use_bias True, GRU reset_after True, use_cudnn "auto" or True, no mask (or a
#   strictly right-padded one), a GPU visible to the backend. Input ``dropout`` inside
#   the layer is allowed (it is applied to the sequence before the kernel), and
#   Bidirectional keeps its wrapped layer's ``use_cudnn``. Only LSTM and GRU have a
#   cuDNN path: SimpleRNN always runs the generic step loop. On TensorFlow a layer
#   that takes the cuDNN path sets ``supports_jit = False``, so ``jit_compile="auto"``
#   then turns XLA off for the whole model (cuDNN ops are not XLA-compatible).
_CUDNN_REQUIREMENTS: dict[str, Any] = {
    "activation": "tanh",
    "recurrent_activation": "sigmoid",
    "recurrent_dropout": 0.0,
    "unroll": False,
    "use_bias": True,
}
_GRU_CUDNN_REQUIREMENTS: dict[str, Any] = {"reset_after": True}


def _recurrent_kwargs(cell: Cell) -> dict[str, Any]:
    """Return the keyword arguments ``build_model`` gives every recurrent layer.

    The cuDNN-eligible values are spelled out rather than left to Keras' defaults,
    so that a change of default upstream cannot silently move training off the
    GPU kernel.

    Args:
        cell: Cell type of the layer.

    Returns:
        A new dict of keyword arguments for ``SimpleRNN``, ``LSTM`` or ``GRU``.
    """
    kwargs: dict[str, Any] = {
        "activation": "tanh",
        "use_bias": True,
        "dropout": 0.0,
        "recurrent_dropout": 0.0,
        "unroll": False,
    }
    if cell is not Cell.RNN:
        kwargs["recurrent_activation"] = "sigmoid"
        kwargs["use_cudnn"] = "auto"
    if cell is Cell.GRU:
        kwargs["reset_after"] = True
    return kwargs


def build_model(
    config: ModelConfig, *, window: int, n_features: int, horizon: int
) -> keras.Model:
    """Build an uncompiled recurrent forecaster.

    The graph is ``inputs (window, n_features)`` -> ``recurrent_0`` ... ``recurrent_{k-1}``
    (every layer but the last returns sequences; each wrapped in
    ``Bidirectional(merge_mode="concat")`` when ``config.bidirectional``), each followed
    by ``dropout_{i}`` when ``config.dropout > 0`` -> ``dense_head`` (linear,
    ``horizon`` outputs). With ``config.skip`` the inputs also go through
    ``skip_flatten`` -> ``skip_linear`` (linear, ``horizon`` outputs), and ``skip_add``
    sums the two heads. For ``ModelConfig(model="stacked")`` that is LSTM 128 -> 64
    -> 32 -> Dense(horizon). Call ``seqcast.model.training.set_seed`` first for
    reproducible initial weights.

    Args:
        config: Architecture: cell type, units per layer, bidirectional, dropout.
        window: Time steps per input sample.
        n_features: Input columns per step (target first, then features).
        horizon: Steps predicted at once.

    Returns:
        A functional ``keras.Model`` named ``"seqcast"`` mapping x of shape
        (batch, window, n_features) to y of shape (batch, horizon).

    Raises:
        ConfigError: If window, n_features or horizon is below 1.
    """
    for name, value in (
        ("window", window),
        ("n_features", n_features),
        ("horizon", horizon),
    ):
        if value < 1:
            raise ConfigError(
                f"{name}={value} must be at least 1 to build a model. Use a positive {name}."
            )
    import keras

    cell = config.resolved_cell
    units = config.resolved_units
    layer_class = getattr(keras.layers, _LAYER_CLASS[cell])
    inputs = keras.Input(shape=(window, n_features), name=INPUT_NAME)
    x = inputs
    for i, n_units in enumerate(units):
        return_sequences = i < len(units) - 1
        name = f"recurrent_{i}"
        if config.bidirectional:
            inner = layer_class(
                n_units,
                return_sequences=return_sequences,
                name=f"{cell.value}_{i}",
                **_recurrent_kwargs(cell),
            )
            layer = keras.layers.Bidirectional(inner, merge_mode="concat", name=name)
        else:
            layer = layer_class(
                n_units,
                return_sequences=return_sequences,
                name=name,
                **_recurrent_kwargs(cell),
            )
        x = layer(x)
        if config.dropout > 0.0:
            x = keras.layers.Dropout(config.dropout, name=f"dropout_{i}")(x)
    outputs = keras.layers.Dense(horizon, activation="linear", name=HEAD_NAME)(x)
    if config.skip:
        flat = keras.layers.Flatten(name=SKIP_FLATTEN)(inputs)
        linear = keras.layers.Dense(horizon, activation="linear", name=SKIP_NAME)(flat)
        outputs = keras.layers.Add(name=SKIP_ADD)([outputs, linear])
    return keras.Model(inputs=inputs, outputs=outputs, name=MODEL_NAME)


def joint_model(members: Sequence[keras.Model]) -> keras.Model:
    """Wrap ensemble members into one model that trains them all in one ``fit``.

    The joint model feeds every member the same inputs and lays their outputs side
    by side, (batch, horizon * len(members)); trained on targets repeated as many
    times (``window_batches(..., repeat_targets=len(members))``), its loss is the
    mean of the members' losses, and each member's weights get the gradient of its
    own loss only (divided by the number of members, which Adam's step does not see).
    The members share their weights with it, so after training each is saved and
    reloaded on its own; the joint model itself is never saved. One compilation and
    one pass of the input pipeline then serve every member, which is most of the
    cost of small networks.

    Args:
        members: Models from :func:`build_model`, all with the same input shape.
    """
    return _joint_class()(members)


@functools.cache
def _joint_class() -> type[Any]:
    import keras

    class JointMembers(keras.Model):  # type: ignore[misc]
        """See :func:`joint_model` (a subclass: every member is named ``seqcast``)."""

        def __init__(self, members: Sequence[keras.Model]) -> None:
            super().__init__(name="seqcast_members")
            self.members = list(members)

        def call(self, inputs: Any) -> Any:
            return keras.ops.concatenate([m(inputs) for m in self.members], axis=-1)

    return JointMembers


def cudnn_forfeits(config: ModelConfig) -> list[str]:
    """List why layers built from ``config`` could not use the cuDNN kernels.

    The check compares the arguments ``build_model`` passes to each recurrent layer
    with Keras 3's cuDNN requirements (see ``_CUDNN_REQUIREMENTS``). It says nothing
    about the machine: without a GPU no layer uses cuDNN anyway.

    Args:
        config: The architecture to check.

    Returns:
        One sentence per reason; an empty list when every recurrent layer is
        eligible (the default LSTM and GRU configurations).
    """
    cell = config.resolved_cell
    reasons: list[str] = []
    if cell is Cell.RNN:
        where = "--cell rnn" if config.cell is Cell.RNN else "--model rnn"
        reasons.append(
            f"SimpleRNN layers ({where}) have no cuDNN kernel and run the generic step loop on the GPU. Use lstm or gru for the GPU fast path."
        )
        return reasons
    kwargs = _recurrent_kwargs(cell)
    required = dict(_CUDNN_REQUIREMENTS)
    if cell is Cell.GRU:
        required.update(_GRU_CUDNN_REQUIREMENTS)
    for key, value in required.items():
        if kwargs.get(key) != value:
            reasons.append(
                f"{_LAYER_CLASS[cell]} layers use {key}={kwargs.get(key)!r} but cuDNN needs {key}={value!r}."
            )
    if kwargs.get("use_cudnn") not in ("auto", True):
        reasons.append(
            f"{_LAYER_CLASS[cell]} layers use use_cudnn={kwargs.get('use_cudnn')!r}, which turns the cuDNN kernel off."
        )
    return reasons
