"""Tests for seqcast.model.build: architecture, cuDNN-eligible defaults, safe save/load."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

from seqcast.config import Cell, ModelConfig, ModelKind
from seqcast.errors import ConfigError
from seqcast.model.build import build_model, cudnn_forfeits

# Keras 3.15's TensorFlow backend calls np.array(EagerTensor), which numpy 2.4 flags; not ours.
pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning"
)

REPO = Path(__file__).resolve().parents[1]
RECURRENT_TYPES = {Cell.RNN: "SimpleRNN", Cell.LSTM: "LSTM", Cell.GRU: "GRU"}


def _config(
    kind: ModelKind, *, bidirectional: bool = False, dropout: float = 0.0
) -> ModelConfig:
    units = (4, 2) if kind is ModelKind.STACKED else (3,)
    return ModelConfig(
        model=kind, units=units, bidirectional=bidirectional, dropout=dropout
    )


def _recurrent_layers(model: keras.Model) -> list[keras.layers.Layer]:
    """The recurrent layers themselves (both directions when wrapped)."""
    found = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.Bidirectional):
            found += [layer.forward_layer, layer.backward_layer]
        elif isinstance(layer, keras.layers.RNN):
            found.append(layer)
    return found


@pytest.mark.parametrize("kind", list(ModelKind))
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("dropout", [0.0, 0.25])
def test_output_shape_is_batch_by_horizon(
    kind: ModelKind, bidirectional: bool, dropout: float
) -> None:
    keras.utils.set_random_seed(0)
    model = build_model(
        _config(kind, bidirectional=bidirectional, dropout=dropout),
        window=5,
        n_features=2,
        horizon=3,
    )
    x = np.random.default_rng(0).normal(size=(7, 5, 2)).astype(np.float32)
    y = keras.ops.convert_to_numpy(model(x, training=False))
    assert y.shape == (7, 3)
    assert model.input_shape == (None, 5, 2)
    assert model.output_shape == (None, 3)
    n_dropout = sum(isinstance(layer, keras.layers.Dropout) for layer in model.layers)
    assert n_dropout == (len(_config(kind).resolved_units) if dropout > 0 else 0)


def test_stacked_bidirectional_layers_names_units_and_order() -> None:
    config = ModelConfig(
        model=ModelKind.STACKED,
        cell=Cell.GRU,
        units=(4, 3, 2),
        bidirectional=True,
        dropout=0.1,
        skip=False,
    )
    model = build_model(config, window=6, n_features=3, horizon=2)
    assert model.name == "seqcast"
    assert [layer.name for layer in model.layers] == [
        "inputs",
        "recurrent_0",
        "dropout_0",
        "recurrent_1",
        "dropout_1",
        "recurrent_2",
        "dropout_2",
        "dense_head",
    ]
    wrappers = [model.get_layer(f"recurrent_{i}") for i in range(3)]
    assert all(
        isinstance(w, keras.layers.Bidirectional) and w.merge_mode == "concat"
        for w in wrappers
    )
    assert [type(w.forward_layer).__name__ for w in wrappers] == ["GRU"] * 3
    assert [w.forward_layer.units for w in wrappers] == [4, 3, 2]
    assert [w.forward_layer.return_sequences for w in wrappers] == [True, True, False]
    assert [w.output.shape[-1] for w in wrappers] == [
        8,
        6,
        4,
    ]  # concat doubles the width
    assert [model.get_layer(f"dropout_{i}").rate for i in range(3)] == [0.1] * 3
    head = model.get_layer("dense_head")
    assert isinstance(head, keras.layers.Dense)
    assert head.units == 2
    assert head.get_config()["activation"] == "linear"
    assert not any(type(layer).__name__ == "Lambda" for layer in model.layers)


@pytest.mark.parametrize(
    ("config", "cell", "units"),
    [
        (ModelConfig(model=ModelKind.RNN, units=(3,)), Cell.RNN, [3]),
        (ModelConfig(model=ModelKind.GRU, units=(3,), layers=2), Cell.GRU, [3, 3]),
        (ModelConfig(model=ModelKind.STACKED), Cell.LSTM, [128, 64, 32]),
        (
            ModelConfig(model=ModelKind.STACKED, cell=Cell.RNN, units=(4, 2)),
            Cell.RNN,
            [4, 2],
        ),
    ],
)
def test_layer_types_and_units_follow_config(
    config: ModelConfig, cell: Cell, units: list[int]
) -> None:
    model = build_model(config, window=4, n_features=1, horizon=1)
    recurrent = _recurrent_layers(model)
    assert [type(layer).__name__ for layer in recurrent] == [
        RECURRENT_TYPES[cell]
    ] * len(units)
    assert [layer.units for layer in recurrent] == units
    assert [layer.name for layer in recurrent] == [
        f"recurrent_{i}" for i in range(len(units))
    ]
    assert [layer.return_sequences for layer in recurrent] == [True] * (
        len(units) - 1
    ) + [False]


@pytest.mark.parametrize("kind", [ModelKind.LSTM, ModelKind.GRU, ModelKind.RNN])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_recurrent_layers_use_cudnn_eligible_settings(
    kind: ModelKind, bidirectional: bool
) -> None:
    model = build_model(
        ModelConfig(model=kind, units=(2,), layers=2, bidirectional=bidirectional),
        window=4,
        n_features=1,
        horizon=1,
    )
    recurrent = _recurrent_layers(model)
    assert len(recurrent) == (4 if bidirectional else 2)
    for layer in recurrent:
        cfg = layer.get_config()
        assert cfg["activation"] == "tanh"
        assert cfg["use_bias"] is True
        assert cfg["recurrent_dropout"] == 0.0
        assert cfg["dropout"] == 0.0
        assert cfg["unroll"] is False
        if kind is not ModelKind.RNN:
            assert cfg["recurrent_activation"] == "sigmoid"
            assert layer.use_cudnn == "auto"
        if kind is ModelKind.GRU:
            assert cfg["reset_after"] is True
    if bidirectional:
        inner = model.get_layer("recurrent_0").get_config()["layer"]["config"]
        assert inner["activation"] == "tanh"
        assert inner["recurrent_dropout"] == 0.0


@pytest.mark.parametrize(
    "config",
    [
        ModelConfig(),
        ModelConfig(model=ModelKind.GRU),
        ModelConfig(model=ModelKind.STACKED),
        ModelConfig(
            model=ModelKind.STACKED, cell=Cell.GRU, bidirectional=True, dropout=0.2
        ),
    ],
)
def test_cudnn_forfeits_is_empty_for_lstm_and_gru(config: ModelConfig) -> None:
    # cudnn_forfeits compares build's own constants with each other, so check the
    # layers actually built against Keras 3's cuDNN conditions, copied from its docs
    # (keras.layers.LSTM / GRU: "Based on available runtime hardware and constraints").
    model = build_model(config, window=4, n_features=1, horizon=1)
    for layer in _recurrent_layers(model):
        assert layer.activation is keras.activations.tanh, layer.name
        assert layer.recurrent_activation is keras.activations.sigmoid, layer.name
        assert layer.get_config()["recurrent_dropout"] == 0, layer.name
        assert layer.get_config()["unroll"] is False, layer.name
        assert layer.use_bias, layer.name
        if isinstance(layer, keras.layers.GRU):
            assert layer.get_config()["reset_after"] is True, layer.name
    assert cudnn_forfeits(config) == []


def test_cudnn_forfeits_names_simple_rnn() -> None:
    assert cudnn_forfeits(ModelConfig(model=ModelKind.RNN)) == [
        "SimpleRNN layers (--model rnn) have no cuDNN kernel and run the generic step loop on the GPU. Use lstm or gru for the GPU fast path."
    ]
    assert cudnn_forfeits(ModelConfig(model=ModelKind.STACKED, cell=Cell.RNN)) == [
        "SimpleRNN layers (--cell rnn) have no cuDNN kernel and run the generic step loop on the GPU. Use lstm or gru for the GPU fast path."
    ]


@pytest.mark.parametrize(
    ("dims", "message"),
    [
        (
            {"window": 0, "n_features": 1, "horizon": 1},
            "window=0 must be at least 1 to build a model. Use a positive window.",
        ),
        (
            {"window": 3, "n_features": 0, "horizon": 1},
            "n_features=0 must be at least 1 to build a model. Use a positive n_features.",
        ),
        (
            {"window": 3, "n_features": 1, "horizon": -2},
            "horizon=-2 must be at least 1 to build a model. Use a positive horizon.",
        ),
    ],
)
def test_build_model_rejects_non_positive_dims(
    dims: dict[str, int], message: str
) -> None:
    with pytest.raises(ConfigError) as excinfo:
        build_model(ModelConfig(), **dims)
    assert str(excinfo.value) == message


@pytest.mark.parametrize(
    "config",
    [
        ModelConfig(model=ModelKind.RNN, units=(3,)),
        ModelConfig(model=ModelKind.LSTM, units=(3,)),
        ModelConfig(
            model=ModelKind.STACKED,
            cell=Cell.GRU,
            units=(4, 2),
            bidirectional=True,
            dropout=0.2,
        ),
    ],
)
def test_save_and_safe_load_round_trip_predicts_the_same(
    config: ModelConfig, tmp_path: Path
) -> None:
    keras.utils.set_random_seed(0)
    model = build_model(config, window=5, n_features=2, horizon=3)
    x = np.random.default_rng(1).normal(size=(6, 5, 2)).astype(np.float32)
    before = model.predict_on_batch(x)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert loaded.name == "seqcast"
    assert [layer.name for layer in loaded.layers] == [
        layer.name for layer in model.layers
    ]
    np.testing.assert_array_equal(loaded.predict_on_batch(x), before)


@pytest.mark.parametrize(
    "path", sorted((REPO / "seqcast").rglob("*.py")), ids=lambda p: p.stem
)
def test_source_never_imports_tensorflow_and_keras_only_lazily(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    assert "import tensorflow" not in source
    assert "from tensorflow" not in source
    tree = ast.parse(source)
    top_level = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            top_level |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            top_level.add(node.module.split(".")[0])
    assert not top_level & {"keras", "tensorflow", "jax", "torch"}


def test_importing_the_modules_loads_no_keras() -> None:
    code = (
        "import sys; import seqcast.model.build, seqcast.model.training, seqcast.runtime; "
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in {'keras', 'tensorflow', 'jax', 'torch'}); "
        "print(heavy)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "[]"


def test_skip_adds_a_linear_map_of_the_window_to_the_head() -> None:
    model = build_model(
        ModelConfig(units=(3,), skip=True), window=5, n_features=2, horizon=4
    )
    names = [layer.name for layer in model.layers]
    assert {"skip_flatten", "skip_linear", "skip_add"} <= set(names)
    assert model.get_layer("skip_linear").get_weights()[0].shape == (10, 4)
    # The output is the recurrent head plus the skip: zero the head and the skip alone
    # remains, x.flatten() @ kernel + bias.
    head = model.get_layer("dense_head")
    head.set_weights([np.zeros_like(w) for w in head.get_weights()])
    x = np.random.default_rng(1).standard_normal((3, 5, 2)).astype(np.float32)
    kernel, bias = model.get_layer("skip_linear").get_weights()
    np.testing.assert_allclose(
        model.predict(x, verbose=0),
        x.reshape(3, -1) @ kernel + bias,
        rtol=1e-5,
        atol=1e-6,
    )
