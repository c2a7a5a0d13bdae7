"""Tests for seqcast.model.predict: the NumPy engine against Keras, recursion, lean imports."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from seqcast.errors import ArtifactError, ConfigError, DataError
from seqcast.model import predict as inference
from seqcast.model.predict import (
    KerasModel,
    NumpyModel,
    UnsafeModelError,
    UnsupportedModelError,
    recursive_forecast,
)

# Keras 3.15's TensorFlow backend calls np.array(EagerTensor), which numpy 2.4 flags; not ours.
pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning"
)

REPO = Path(__file__).resolve().parents[1]
HEAVY = ("keras", "tensorflow", "pandas", "sklearn")


def _save(
    path: Path,
    make_layers: Callable[[Any], list[Any]],
    shape: tuple[int, int] = (6, 2),
    *,
    functional: bool = False,
) -> Any:
    """Build a tiny model with random non-zero weights (biases too) and save it."""
    import keras

    keras.utils.set_random_seed(0)
    layers = make_layers(keras.layers)
    if functional:
        inputs = keras.Input(shape, name="window")
        x = inputs
        for layer in layers:
            x = layer(x)
        model = keras.Model(inputs, x)
    else:
        model = keras.Sequential([keras.Input(shape), *layers])
    rng = np.random.default_rng(1)
    model.set_weights(
        [rng.normal(0.0, 0.5, w.shape).astype("float32") for w in model.get_weights()]
    )
    model.save(path)
    return model


def _windows(model: Any, n: int = 7) -> np.ndarray:
    _, window, n_features = model.input_shape
    return np.random.default_rng(2).normal(size=(n, window, n_features))


ARCHITECTURES: dict[str, tuple[Callable[[Any], list[Any]], tuple[int, int]]] = {
    "simple_rnn": (lambda L: [L.SimpleRNN(4), L.Dense(1)], (6, 1)),
    "lstm": (lambda L: [L.LSTM(4), L.Dense(3)], (6, 1)),
    "gru_reset_after": (lambda L: [L.GRU(4), L.Dense(2)], (6, 1)),
    "gru_reset_before": (lambda L: [L.GRU(4, reset_after=False), L.Dense(2)], (6, 1)),
    "stacked_mixed": (
        lambda L: [
            L.LSTM(4, return_sequences=True),
            L.GRU(3, return_sequences=True),
            L.SimpleRNN(2),
            L.Dense(2),
        ],
        (5, 2),
    ),
    "stacked_dropout": (
        lambda L: [
            L.LSTM(4, return_sequences=True),
            L.Dropout(0.3),
            L.LSTM(3),
            L.Dropout(0.3),
            L.Dense(4),
        ],
        (6, 1),
    ),
    "multi_feature": (lambda L: [L.GRU(3), L.Dense(5)], (8, 4)),
    "activations": (
        lambda L: [
            L.LSTM(
                3,
                activation="relu",
                recurrent_activation="hard_sigmoid",
                return_sequences=True,
            ),
            L.GRU(3, use_bias=False, go_backwards=True),
            L.Dense(4, activation="relu"),
            L.Dense(3, activation="sigmoid"),
            L.Dense(2, activation="tanh", use_bias=False),
        ],
        (5, 2),
    ),
    "bidirectional_gru_reset_before": (
        lambda L: [L.Bidirectional(L.GRU(3, reset_after=False)), L.Dense(2)],
        (5, 1),
    ),
    **{
        f"bidirectional_{mode}": (
            lambda L, mode=mode: [
                L.Bidirectional(L.LSTM(3, return_sequences=True), merge_mode=mode),
                L.Bidirectional(L.SimpleRNN(2), merge_mode=mode),
                L.Dense(3),
            ],
            (5, 2),
        )
        for mode in ("concat", "sum", "mul", "ave")
    },
}


@pytest.mark.slow
@pytest.mark.parametrize("arch", list(ARCHITECTURES))
def test_numpy_model_matches_keras(arch: str, tmp_path: Path) -> None:
    make_layers, shape = ARCHITECTURES[arch]
    model = _save(tmp_path / "m.keras", make_layers, shape)
    x = _windows(model)
    expected = model.predict(x, verbose=0)
    engine = NumpyModel.from_keras_file(tmp_path / "m.keras")
    got = engine.predict(x)
    assert got.dtype == np.float64
    assert got.shape == expected.shape == (7, engine.horizon)
    assert (engine.window, engine.n_features) == shape
    assert np.abs(got - expected).max() <= 1e-5


def _named_chain(L: Any) -> list[Any]:
    """A functional chain named like models.build_model names its layers."""
    return [
        L.Bidirectional(L.LSTM(3, return_sequences=True), name="recurrent_0"),
        L.Dropout(0.2, name="dropout_0"),
        L.LSTM(2, return_sequences=True, name="recurrent_1"),
        L.LSTM(2, name="recurrent_2"),
        L.Dense(3, name="dense_head"),
    ]


def _strip_name_attrs(path: Path) -> None:
    """Rewrite the archive as Keras releases without ``vars`` name attributes would."""
    import h5py

    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    buffer = io.BytesIO(members["model.weights.h5"])
    with h5py.File(buffer, "r+") as h5:
        groups: list[Any] = []
        h5.visititems(lambda _, obj: groups.append(obj))  # returns None: visits all
        for obj in groups:
            obj.attrs.pop("name", None)
        assert not any("name" in obj.attrs for obj in groups)
    members["model.weights.h5"] = buffer.getvalue()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)


@pytest.mark.slow
@pytest.mark.parametrize("with_names", [True, False])
def test_functional_chain_maps_weights_by_name_or_class_counter(
    with_names: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(inference, "_CHUNK", 3)  # 7 windows: chunks of 3, 3 and 1
    path = tmp_path / "m.keras"
    model = _save(path, _named_chain, (6, 2), functional=True)
    if not with_names:
        _strip_name_attrs(path)
    x = _windows(model)
    got = NumpyModel.from_keras_file(path).predict(x)
    assert np.abs(got - model.predict(x, verbose=0)).max() <= 1e-5


@pytest.mark.slow
def test_sequential_built_without_input_layer(tmp_path: Path) -> None:
    import keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.layers.LSTM(3), keras.layers.Dense(2)])
    x = _windows_of(5, 6, 1)
    model(x.astype("float32"))  # builds the model from data
    model.save(tmp_path / "m.keras")
    got = NumpyModel.from_keras_file(tmp_path / "m.keras").predict(x)
    assert np.abs(got - model.predict(x, verbose=0)).max() <= 1e-5


def _windows_of(n: int, window: int, n_features: int) -> np.ndarray:
    return np.random.default_rng(3).normal(size=(n, window, n_features))


@pytest.mark.slow
def test_unsupported_layer_is_rejected_by_name(tmp_path: Path) -> None:
    path = tmp_path / "conv.keras"
    _save(
        path,
        lambda L: [L.Conv1D(2, 3, name="conv"), L.GlobalAveragePooling1D(), L.Dense(1)],
    )
    with pytest.raises(UnsupportedModelError) as info:
        NumpyModel.from_keras_file(path)
    assert str(info.value) == (
        f"Model '{path}' cannot run on the NumPy engine: layer 'conv' (Conv1D) is not supported. Use --engine keras."
    )
    assert isinstance(info.value, ArtifactError)


@pytest.mark.slow
def test_unsupported_activation_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "gelu.keras"
    _save(path, lambda L: [L.LSTM(3, activation="gelu", name="lstm_a"), L.Dense(1)])
    with pytest.raises(UnsupportedModelError) as info:
        NumpyModel.from_keras_file(path)
    assert str(info.value) == (
        f"Model '{path}' cannot run on the NumPy engine: layer 'lstm_a' uses activation='gelu' (supported: linear, relu, tanh, sigmoid, hard_sigmoid). Use --engine keras."
    )


@pytest.mark.slow
def test_branching_functional_model_is_rejected(tmp_path: Path) -> None:
    import keras

    inputs = keras.Input((5, 1))
    a = keras.layers.LSTM(2, name="a")(inputs)
    b = keras.layers.GRU(2, name="b")(inputs)
    merged = keras.layers.Add(name="add")([a, b])
    path = tmp_path / "branch.keras"
    keras.Model(inputs, keras.layers.Dense(1)(merged)).save(path)
    with pytest.raises(
        UnsupportedModelError, match="layer 'add' is not fed by one layer alone"
    ):
        NumpyModel.from_keras_file(path)


@pytest.mark.slow
def test_two_summed_recurrent_branches_are_not_a_skip(tmp_path: Path) -> None:
    import keras

    inputs = keras.Input((5, 1))
    a = keras.layers.Dense(2)(keras.layers.LSTM(2, name="a")(inputs))
    b = keras.layers.Dense(2)(keras.layers.GRU(2, name="b")(inputs))
    path = tmp_path / "sum.keras"
    keras.Model(inputs, keras.layers.Add(name="add")([a, b])).save(path)
    with pytest.raises(
        UnsupportedModelError,
        match=r"layer 'add' \(Add\) does not sum a Flatten -> Dense skip",
    ):
        NumpyModel.from_keras_file(path)


@pytest.mark.slow
@pytest.mark.parametrize("with_names", [True, False])
@pytest.mark.parametrize("model_kind", ["lstm", "stacked", "gru"])
def test_skip_connection_model_matches_keras(
    model_kind: str, with_names: bool, tmp_path: Path
) -> None:
    """build_model's skip (Flatten -> Dense, summed with the head) runs on NumPy too."""
    from seqcast.config import ModelConfig, ModelKind
    from seqcast.model.build import build_model
    from seqcast.model.training import set_seed

    set_seed(3)
    config = ModelConfig(
        model=ModelKind(model_kind),
        units=(4, 3) if model_kind == "stacked" else (5,),
        bidirectional=model_kind == "gru",
        skip=True,
    )
    model = build_model(config, window=6, n_features=2, horizon=3)
    # Make the skip matter: its kernel is far from zero, and differs from the head's.
    skip = model.get_layer("skip_linear")
    kernel, bias = skip.get_weights()
    skip.set_weights([kernel + 0.5, bias + 0.25])
    path = tmp_path / "skip.keras"
    model.save(path)
    if not with_names:
        _strip_name_attrs(path)
    x = np.random.default_rng(0).standard_normal((7, 6, 2)).astype(np.float32)
    engine = NumpyModel.from_keras_file(path)
    assert (engine.window, engine.n_features, engine.horizon) == (6, 2, 3)
    expected = model.predict(x, verbose=0)
    assert np.abs(engine.predict(x) - expected).max() <= 1e-5
    # Without the skip's part the outputs differ: the reader did not drop it.
    no_skip = keras_without_skip(model, x)
    assert np.abs(no_skip - expected).max() > 0.1


def keras_without_skip(model: Any, x: np.ndarray) -> np.ndarray:
    """The model's output minus its skip branch, computed in Keras."""
    skip = model.get_layer("skip_linear")
    kernel, bias = skip.get_weights()
    return np.asarray(model.predict(x, verbose=0)) - (
        x.reshape(len(x), -1) @ kernel + bias
    )


@pytest.mark.slow
def test_weights_that_do_not_fit_the_config_are_rejected(tmp_path: Path) -> None:
    path = tmp_path / "m.keras"
    _save(path, lambda L: [L.LSTM(4, name="lstm_a"), L.Dense(1)], (6, 2))
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    config = json.loads(members["config.json"])
    config["config"]["layers"][1]["config"]["units"] = 5  # the LSTM claims 5 units
    members["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    with pytest.raises(UnsafeModelError) as info:  # malformed: Keras may not load it
        NumpyModel.from_keras_file(path)
    assert str(info.value) == (
        f"Model '{path}' is unsafe or malformed, so no engine loads it: weights of layer 'lstm_a' have shapes [(2, 16), (4, 16), (16,)] but its config needs [(2, 20), (5, 20), (20,)]. Retrain with `seqcast train`, or get the model directory from its source again."
    )
    assert not isinstance(info.value, UnsupportedModelError)


def test_damaged_archive_is_unsafe_for_every_engine(tmp_path: Path) -> None:
    path = tmp_path / "model.keras"
    path.write_bytes(b"not a zip file")
    with pytest.raises(
        UnsafeModelError, match=r"it is not a readable \.keras file \(BadZipFile"
    ) as info:
        NumpyModel.from_keras_file(path)
    assert not isinstance(info.value, UnsupportedModelError)


def test_missing_model_file_says_to_train(tmp_path: Path) -> None:
    path = tmp_path / "model.keras"
    with pytest.raises(ArtifactError) as info:
        NumpyModel.from_keras_file(path)
    assert not isinstance(info.value, UnsupportedModelError)
    assert (
        str(info.value)
        == f"Model file '{path}' does not exist. Run `seqcast train` first."
    )


def test_predict_runs_in_chunks_and_rejects_windows_of_the_wrong_shape() -> None:
    model = NumpyModel([lambda x: x[:, -1, :]], window=3, n_features=1, horizon=1)
    x = np.arange(3.0 * 2500).reshape(2500, 3, 1)  # more than one chunk
    got = model.predict(x)
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got[:, 0], x[:, -1, 0])
    assert model.predict(x[:0]).shape == (0, 1)
    with pytest.raises(DataError) as info:
        model.predict(np.zeros((2, 4, 1)))
    assert str(info.value) == (
        "The model expects windows of shape (n, window=3, n_features=1) but got (2, 4, 1). Use the window and features it was trained with."
    )


@pytest.mark.slow
def test_keras_model_predicts_in_chunks_as_float64(tmp_path: Path) -> None:
    model = _save(tmp_path / "m.keras", lambda L: [L.GRU(3), L.Dense(2)], (4, 1))
    x = _windows(model, n=10)
    got = KerasModel(model, batch_size=4).predict(x)
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, model.predict(x, verbose=0), atol=1e-6)
    assert KerasModel(model).predict(x[:0]).shape == (0, 2)


def _last_plus(x: np.ndarray, horizon: int) -> np.ndarray:
    """Fake model: the window's last value + 1, + 2, ... + horizon."""
    return x[:, -1, :1] + np.arange(1, horizon + 1)


def test_recursive_forecast_feeds_predictions_back() -> None:
    seen: list[np.ndarray] = []

    def predict(x: np.ndarray) -> np.ndarray:
        seen.append(x)
        return _last_plus(x, 2)

    history = np.array([[1.0], [2.0], [3.0]])
    got = recursive_forecast(predict, history, steps=5, horizon=2)
    np.testing.assert_array_equal(got, [4.0, 5.0, 6.0, 7.0, 8.0])  # 3 rounds, 1 dropped
    assert [x.shape for x in seen] == [(1, 3, 1)] * 3
    assert all(x.dtype == np.float32 for x in seen)
    np.testing.assert_array_equal(seen[1][0, :, 0], [3.0, 4.0, 5.0])
    np.testing.assert_array_equal(seen[2][0, :, 0], [5.0, 6.0, 7.0])


def test_recursive_forecast_slides_the_whole_window() -> None:
    # sum of the window: [1, 2, 3] -> 6; [2, 3, 6] -> 11; [3, 6, 11] -> 20
    got = recursive_forecast(
        lambda x: x.sum(axis=1), np.array([[1.0], [2.0], [3.0]]), steps=3, horizon=1
    )
    np.testing.assert_array_equal(got, [6.0, 11.0, 20.0])


@given(
    window=st.integers(1, 6),
    horizon=st.integers(1, 5),
    steps=st.integers(1, 20),
    last=st.integers(-50, 50),
)
def test_recursive_forecast_counts_up(
    window: int, horizon: int, steps: int, last: int
) -> None:
    history = np.full((window, 1), float(last))
    got = recursive_forecast(lambda x: _last_plus(x, horizon), history, steps, horizon)
    np.testing.assert_array_equal(got, last + np.arange(1, steps + 1))


def test_recursive_forecast_with_features_needs_steps_within_horizon() -> None:
    history = np.column_stack([np.arange(4.0), np.full(4, 20.0)])
    got = recursive_forecast(lambda x: _last_plus(x, 12), history, steps=5, horizon=12)
    np.testing.assert_array_equal(got, [4.0, 5.0, 6.0, 7.0, 8.0])
    with pytest.raises(ConfigError) as info:
        recursive_forecast(
            lambda x: _last_plus(x, 12),
            history,
            steps=24,
            horizon=12,
            features=["temp"],
        )
    assert str(info.value) == (
        "Forecasting 24 steps needs future values of the features ['temp'], but the model predicts 12 steps at once. Use --steps 12 or fewer, or retrain with them in --future-features (seqcast train) if their future values are known."
    )


def test_recursive_forecast_rejects_a_mismatched_model() -> None:
    with pytest.raises(
        ArtifactError, match=r"shape \(1, 3\), but horizon=2 needs \(1, 2\)"
    ):
        recursive_forecast(
            lambda x: _last_plus(x, 3), np.ones((4, 1)), steps=4, horizon=2
        )
    with pytest.raises(ConfigError, match="steps=0"):
        recursive_forecast(
            lambda x: _last_plus(x, 2), np.ones((4, 1)), steps=0, horizon=2
        )


def _run(code: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


def test_import_leaves_heavy_modules_out() -> None:
    code = f"import sys, seqcast.model.predict; print([m for m in {(*HEAVY, 'h5py')!r} if m in sys.modules])"
    assert _run(code) == "[]"


@pytest.mark.slow
def test_loading_and_predicting_imports_no_heavy_module(tmp_path: Path) -> None:
    path = tmp_path / "m.keras"
    model = _save(path, lambda L: [L.Bidirectional(L.GRU(3)), L.Dense(2)], (5, 1))
    x = _windows(model)
    np.save(tmp_path / "x.npy", x)
    code = (
        "import sys, numpy as np\n"
        "from seqcast.model.predict import NumpyModel\n"
        f"y = NumpyModel.from_keras_file({str(path)!r}).predict(np.load({str(tmp_path / 'x.npy')!r}))\n"
        f"np.save({str(tmp_path / 'y.npy')!r}, y)\n"
        f"print([m for m in {HEAVY!r} if m in sys.modules])"
    )
    assert _run(code) == "[]"
    assert (
        np.abs(np.load(tmp_path / "y.npy") - model.predict(x, verbose=0)).max() <= 1e-5
    )
