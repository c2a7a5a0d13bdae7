"""Run Keras recurrent models in NumPy: read a ``.keras`` archive into float32 layers.

The archive (``config.json`` and ``model.weights.h5``) is checked and opened by
``seqcast.model.archive`` (raising ``Unsafe``); nothing is unpickled.
:func:`read_keras_bytes` accepts a chain of InputLayer, SimpleRNN, LSTM, GRU,
Bidirectional, Dropout and Dense layers, optionally with a ``Flatten`` -> ``Dense`` skip
from the input summed by a final ``Add``, and raises :class:`Rejected`, with the reason,
for anything else. The layers themselves (weights and forward pass) are in
``seqcast.model.numpy_layers``; ``seqcast.model.predict.NumpyModel`` wraps the result.
Only numpy is imported at module level; h5py is imported by the reader.

In ``model.weights.h5`` Keras 3 keys a layer's weights not by the layer's name but by its
snake-cased class name and a per-class counter over ``model.layers`` (``layers/lstm``,
``layers/lstm_1``, ``layers/bidirectional/forward_layer/cell/vars/0``), see
``_save_container_state`` in ``keras/src/saving/saving_lib.py``. Recent Keras also writes
the layer's own name into the ``name`` attribute of each ``vars`` group (``_save_state``);
that is used when present, the counter otherwise.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from seqcast._types import Float32Array
from seqcast.model.archive import Limits, Unsafe, audit_weights, open_archive
from seqcast.model.numpy_layers import (
    ACTIVATIONS,
    BidirectionalLayer,
    DenseLayer,
    Layer,
    RecurrentLayer,
    SkipSum,
)

_Shapes = list[tuple[int, ...]]
_GATES = {"SimpleRNN": 1, "LSTM": 4, "GRU": 3}
_MERGE_MODES = ("concat", "sum", "mul", "ave")
_READ_ERRORS = (
    zipfile.BadZipFile,
    KeyError,
    ValueError,
    TypeError,
    AttributeError,
    OSError,
)


class Rejected(Exception):
    """Why a safe model cannot run on NumPy (Keras may); ``NumpyModel`` wraps it."""


def _snake_case(name: str) -> str:
    """Mirror ``keras.src.utils.naming.to_snake_case`` (``SimpleRNN`` -> ``simple_rnn``)."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def _unpack(spec: Any) -> tuple[str, str, dict[str, Any]]:
    """Return (class_name, name, config) of a built-in float32 layer spec, or reject it."""
    cls, cfg = spec.get("class_name"), spec.get("config")
    if not isinstance(cls, str) or not isinstance(cfg, dict):
        raise Rejected(f"a layer entry is malformed: {str(spec)[:60]}")
    name = str(cfg.get("name", cls))
    module, registered = str(spec.get("module", "keras")), spec.get("registered_name")
    if not module.startswith("keras") or registered not in (None, cls):
        raise Rejected(f"layer '{name}' is a custom layer ({registered})")
    dtype = cfg.get("dtype")
    dtype = dtype.get("config", {}).get("name") if isinstance(dtype, dict) else dtype
    if dtype not in (None, "float32"):
        raise Rejected(f"layer '{name}' computes in {dtype}, not float32")
    return cls, name, cfg


def _activation(cfg: dict[str, Any], key: str, layer: str) -> Layer:
    name = cfg.get(key) or "linear"
    if not isinstance(name, str) or name not in ACTIVATIONS:
        raise Rejected(
            f"layer '{layer}' uses {key}={name!r} (supported: {', '.join(ACTIVATIONS)})"
        )
    return ACTIVATIONS[name]


def _read_vars(group: Any, name: str, expected: _Shapes) -> list[Float32Array]:
    """Read datasets ``vars/0``, ``vars/1``..., checking shapes and dtype before reading.

    Raises:
        Unsafe: If the declared shapes or dtype differ from what the layer's config
            needs: the file is malformed, and no engine may load it.
    """
    found = group["vars"] if group is not None and "vars" in group else {}
    datasets = [found[str(i)] for i in range(len(found)) if str(i) in found]
    shapes = [
        tuple(int(d) for d in getattr(ds, "shape", None) or ()) for ds in datasets
    ]
    if len(datasets) != len(found) or shapes != expected:
        raise Unsafe(
            f"weights of layer '{name}' have shapes {shapes} but its config needs {expected}"
        )
    if any(ds.dtype != np.float32 for ds in datasets):
        raise Unsafe(f"weights of layer '{name}' are not float32")
    return [np.ascontiguousarray(ds[()]) for ds in datasets]


def _recurrent(spec: Any, group: Any, n_in: int) -> RecurrentLayer:
    """Build a recurrent layer from its spec and HDF5 group (weights in ``cell/vars``)."""
    cls, name, cfg = _unpack(spec)
    if cls not in _GATES or cfg.get("return_state") or cfg.get("stateful"):
        raise Rejected(f"layer '{name}' ({cls}) is not a plain SimpleRNN, LSTM or GRU")
    units, gates = int(cfg["units"]), _GATES[cls]
    reset_after = cls == "GRU" and bool(cfg.get("reset_after", True))
    expected: _Shapes = [(n_in, gates * units), (units, gates * units)]
    if cfg.get("use_bias", True):
        expected.append((2, 3 * units) if reset_after else (gates * units,))
    if group is not None and len(group.get("vars", {})) > 0:
        raise Rejected(f"layer '{name}' keeps variables outside its cell")
    weights = _read_vars(
        group.get("cell") if group is not None else None, name, expected
    )
    if cls == "LSTM":  # (i, f, c, o) -> (i, f, o, c), see RecurrentLayer
        order = np.r_[0 : 2 * units, 3 * units : 4 * units, 2 * units : 3 * units]
        weights = [w[..., order] for w in weights]
    return RecurrentLayer(
        kind=cls,
        kernel=weights[0],
        recurrent_kernel=weights[1],
        bias=weights[2] if len(weights) == 3 else None,
        activation=_activation(cfg, "activation", name),
        recurrent_activation=_activation(cfg, "recurrent_activation", name),
        return_sequences=bool(cfg.get("return_sequences", False)),
        go_backwards=bool(cfg.get("go_backwards", False)),
        reset_after=reset_after,
    )


def _bidirectional(
    cfg: dict[str, Any], name: str, group: Any, n_in: int
) -> BidirectionalLayer:
    """Build a Bidirectional layer from its two inner layer specs."""
    mode = cfg.get("merge_mode")
    if mode not in _MERGE_MODES:
        raise Rejected(
            f"layer '{name}' uses merge_mode={mode!r} (supported: {', '.join(_MERGE_MODES)})"
        )
    sub = (lambda key: group.get(key)) if group is not None else (lambda key: None)
    fwd = _recurrent(cfg.get("layer", {}), sub("forward_layer"), n_in)
    bwd = _recurrent(cfg.get("backward_layer", {}), sub("backward_layer"), n_in)
    units = fwd.recurrent_kernel.shape
    if fwd.return_sequences != bwd.return_sequences or (
        mode != "concat" and units != bwd.recurrent_kernel.shape
    ):
        raise Rejected(f"the two directions of layer '{name}' do not match")
    return BidirectionalLayer(fwd, bwd, mode)


def _sources(spec: Any) -> list[str]:
    """Names of the layers feeding ``spec``'s one call (an ``Add`` lists several)."""
    nodes = spec.get("inbound_nodes") or [{}]
    if len(nodes) != 1:
        raise Rejected(f"layer '{spec.get('name')}' is called more than once")
    args, kwargs = nodes[0].get("args", []), nodes[0].get("kwargs", {})
    if not (set(kwargs) <= {"training", "mask"} and kwargs.get("mask") is None):
        raise Rejected(f"layer '{spec.get('name')}' is called with a mask")
    if len(args) == 1 and isinstance(args[0], list):  # Add([a, b])
        args = args[0]
    history = [arg.get("config", {}).get("keras_history") for arg in args]
    if not all(isinstance(h, list) and h and h[1:] == [0, 0] for h in history):
        raise Rejected(
            f"layer '{spec.get('name')}' has inputs this reader does not follow"
        )
    return [str(h[0]) for h in history]


def _path(by_name: dict[str, Any], last: str, first: str) -> list[Any]:
    """The specs from just after ``first`` to ``last``, each fed by the one before alone."""
    path: list[Any] = []
    name = last
    while name != first:
        if name not in by_name or len(path) > len(by_name):
            raise Rejected(f"layer '{name}' is not on a path from the input")
        spec = by_name[name]
        path.insert(0, spec)
        sources = _sources(spec)
        if len(sources) != 1:
            raise Rejected(f"layer '{name}' is not fed by one layer alone")
        name = sources[0]
    return path


def _graph(config: Any) -> tuple[list[Any], list[Any], list[Any] | None]:
    """Return every layer spec, the chain (input first), and the skip path if there is one.

    A Functional model is either a chain (each layer fed by the one before it alone)
    or such a chain and a ``Flatten`` -> ``Dense`` skip from the input, summed by a
    final ``Add`` (``seqcast.model.build`` with ``skip``).
    """
    cls, inner = config.get("class_name"), config.get("config", {})
    layers: list[Any] = inner.get("layers") or [{}]
    if cls == "Sequential":
        return layers, layers, None
    if cls not in ("Functional", "Model"):
        raise Rejected(f"the model is a {cls}, not a Sequential or Functional model")
    ends = [inner.get("input_layers"), inner.get("output_layers")]
    ends = [e[0] if isinstance(e, list) and len(e) == 1 else e for e in ends]
    if not all(isinstance(e, list) and len(e) == 3 for e in ends):
        raise Rejected("the model does not have exactly one input and one output")
    first, last = str(ends[0][0]), str(ends[1][0])
    by_name = {str(spec.get("name")): spec for spec in layers}
    if first not in by_name or last not in by_name:
        raise Rejected("the model's input or output layer is missing")
    if by_name[last].get("class_name") != "Add":
        chain = _path(by_name, last, first)
        if len(layers) != 1 + len(chain):
            raise Rejected("the model has layers off the chain from its input")
        return layers, [by_name[first], *chain], None
    sources = _sources(by_name[last])
    if len(sources) != 2:
        raise Rejected(f"layer '{last}' (Add) does not sum two branches")
    paths = [_path(by_name, source, first) for source in sources]
    kinds = [[spec.get("class_name") for spec in path] for path in paths]
    if ["Flatten", "Dense"] not in kinds:
        raise Rejected(f"layer '{last}' (Add) does not sum a Flatten -> Dense skip")
    skip = paths[kinds.index(["Flatten", "Dense"])]
    chain = paths[1 - kinds.index(["Flatten", "Dense"])]
    if len(layers) != 2 + len(chain) + len(skip):
        raise Rejected("the model has layers off its chain and skip")
    return layers, [by_name[first], *chain], skip


def _weight_groups(root: Any, specs: list[Any]) -> list[Any]:
    """Find each layer's HDF5 group by its stored ``name`` attribute, else by counter.

    The counter runs per class over the model's layers: the first LSTM is ``lstm``,
    the second ``lstm_1``. The InputLayer, absent from a Sequential model's list, has
    its own counter and no weights, so it shifts nothing.
    """
    by_name = {}
    for group in root.values():
        label = group["vars"].attrs.get("name") if "vars" in group else None
        if label is not None:
            by_name[label.decode() if isinstance(label, bytes) else str(label)] = group
    used: dict[str, int] = {}
    groups: list[Any] = []
    for spec in specs:
        key = _snake_case(str(spec.get("class_name")))
        used[key] = count = used.get(key, -1) + 1
        key = f"{key}_{count}" if count else key  # lstm, lstm_1, lstm_2, ...
        name = spec.get("config", {}).get("name")
        groups.append(by_name.get(name) if by_name else root.get(key))
    return groups


def _build(
    specs: list[Any], groups: list[Any]
) -> tuple[list[Layer], int | None, int, int]:
    """Build the layers; return them with window, n_features and horizon."""
    cls, name, cfg = _unpack(specs[0])
    shape = cfg.get("batch_shape")
    if cls != "InputLayer" or not isinstance(shape, list) or len(shape) != 3:
        raise Rejected(
            f"the first layer is {cls} '{name}' with shape {shape}, not an input of shape (None, window, n_features)"
        )
    window, n_features = shape[1], int(shape[2])
    width, sequence = n_features, True  # last axis size; whether a time axis remains
    layers: list[Layer] = []
    for spec, group in zip(specs[1:], groups[1:], strict=True):
        cls, name, cfg = _unpack(spec)
        if cls == "Dropout":  # identity at inference
            continue
        if cls in ("Bidirectional", *_GATES) and not sequence:
            raise Rejected(f"layer '{name}' ({cls}) receives no time axis")
        if cls in _GATES:
            rnn = _recurrent(spec, group, width)
            layers.append(rnn)
            width, sequence = rnn.recurrent_kernel.shape[0], rnn.return_sequences
        elif cls == "Bidirectional":
            bi = _bidirectional(cfg, name, group, width)
            layers.append(bi)
            width = bi.forward.recurrent_kernel.shape[0]
            if bi.merge_mode == "concat":
                width += bi.backward.recurrent_kernel.shape[0]
            sequence = bi.forward.return_sequences
        elif cls == "Dense":
            if cfg.get("lora_rank") or cfg.get("quantization_config"):
                raise Rejected(f"layer '{name}' (Dense) is LoRA-adapted or quantised")
            units, use_bias = int(cfg["units"]), bool(cfg.get("use_bias", True))
            shapes: _Shapes = (
                [(width, units), (units,)] if use_bias else [(width, units)]
            )
            w = _read_vars(group, name, shapes)
            bias = w[1] if use_bias else None
            layers.append(DenseLayer(w[0], bias, _activation(cfg, "activation", name)))
            width = units
        else:
            raise Rejected(f"layer '{name}' ({cls}) is not supported")
    if sequence:
        raise Rejected(
            "the model output keeps a time axis instead of being (n, horizon)"
        )
    return layers, window, n_features, width


def _skip_linear(
    spec: Any, group: Any, window: int | None, n_features: int, horizon: int
) -> DenseLayer:
    """Read the skip's Dense layer: (window * n_features) -> horizon, linear."""
    _, name, cfg = _unpack(spec)
    if window is None:
        raise Rejected("a skip connection needs a fixed window")
    if cfg.get("lora_rank") or cfg.get("quantization_config"):
        raise Rejected(f"layer '{name}' (Dense) is LoRA-adapted or quantised")
    if int(cfg["units"]) != horizon:
        raise Rejected(f"layer '{name}' has {cfg['units']} units, the head {horizon}")
    use_bias = bool(cfg.get("use_bias", True))
    width = window * n_features
    shapes: _Shapes = [(width, horizon), (horizon,)] if use_bias else [(width, horizon)]
    w = _read_vars(group, name, shapes)
    return DenseLayer(
        w[0], w[1] if use_bias else None, _activation(cfg, "activation", name)
    )


@dataclass(frozen=True, slots=True)
class Network:
    """Layers read from a ``.keras`` archive, and the shapes they map between.

    Attributes:
        layers: Callables mapping float32 arrays, applied in order; the last returns
            (n, horizon).
        window: Steps per input window (None if the model accepts any length).
        n_features: Input columns per step; column 0 is the target.
        horizon: Values predicted per window.
    """

    layers: Sequence[Layer]
    window: int | None
    n_features: int
    horizon: int


def read_keras_file(path: Path, limits: Limits | None = None) -> Network:
    """Read a Keras 3 ``.keras`` file into NumPy layers; see :func:`read_keras_bytes`.

    Raises:
        Unsafe: If the file is over the size limit, or as :func:`read_keras_bytes`.
        Rejected: As :func:`read_keras_bytes`.
        OSError: If the file cannot be read.
    """
    limits = limits or Limits()
    with open(path, "rb") as handle:
        data = handle.read(limits.max_model_bytes + 1)
    if len(data) > limits.max_model_bytes:
        raise Unsafe(f"the file is larger than {limits.max_model_bytes} bytes")
    return read_keras_bytes(data, limits)


def read_keras_bytes(data: bytes, limits: Limits) -> Network:
    """Read a Keras 3 ``.keras`` archive held in memory into NumPy layers.

    Every safety check (:func:`seqcast.model.archive.open_archive`,
    :func:`seqcast.model.archive.audit_weights`) runs before the architecture is
    looked at, so a :class:`Rejected` file is safe for Keras to load.

    Args:
        data: The bytes of a file written by ``keras.Model.save``.
        limits: Size limits.

    Returns:
        The layers, with the model's window, n_features and horizon.

    Raises:
        Unsafe: If the archive is malformed, over a limit, reaches outside its own
            bytes, or has weights whose shapes do not fit its config.
        Rejected: If it holds anything but a chain of supported layers.
    """
    import h5py  # ~35 ms on top of numpy, so only the loader pays for it

    archive = open_archive(data, limits)
    try:
        h5 = h5py.File(io.BytesIO(archive.weights), "r")
    except (OSError, ValueError) as exc:
        raise Unsafe(
            f"its weights are not a readable HDF5 file ({type(exc).__name__}: {' '.join(str(exc).split())})"
        ) from None
    with h5:
        audit_weights(h5, limits)
        try:
            every, chain, skip = _graph(archive.config)
            if "layers" not in h5:
                raise Unsafe("the weights file has no 'layers' group")
            found = _weight_groups(h5["layers"], every)
            group = {id(spec): g for spec, g in zip(every, found, strict=True)}
            layers, window, n_features, width = _build(
                chain, [group[id(spec)] for spec in chain]
            )
            if skip is not None:
                linear = _skip_linear(
                    skip[1], group[id(skip[1])], window, n_features, width
                )
                layers = [SkipSum(tuple(layers), linear)]
            return Network(layers, window, n_features, width)
        except _READ_ERRORS as exc:  # a config this reader does not understand
            detail = " ".join(str(exc).split())  # one line
            raise Rejected(
                f"its config is not one the NumPy engine reads ({type(exc).__name__}: {detail[:200]})"
            ) from exc
