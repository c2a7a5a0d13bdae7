"""Tests for seqcast.model.training: seeds, early stopping, progress, divergence, inputs."""

from __future__ import annotations

import re
from typing import Any

import keras
import numpy as np
import pytest

from seqcast.config import Loss, ModelConfig, ModelKind, TrainConfig
from seqcast.errors import ConfigError, DataError
from seqcast.model.build import build_model
from seqcast.model.training import (
    XLA_MIN_STEPS,
    FitResult,
    _loss_object,
    _progress_line,
    fit,
    jit_compile_setting,
    set_seed,
)

# Keras 3.15's TensorFlow backend calls np.array(EagerTensor), which numpy 2.4 flags; not ours.
pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning"
)

WINDOW, N_FEATURES, HORIZON = 6, 1, 2
LINE = re.compile(
    r"^epoch (\d+)/(\d+)  loss (\S+)(?:  val_loss (\S+))?  \(\d+\.\d s\)$"
)


class ArrayBatches(keras.utils.PyDataset):
    """Minimal PyDataset: seeded reshuffle each epoch; optional NaN targets from an epoch on."""

    def __init__(
        self,
        x: np.ndarray,
        y: np.ndarray,
        batch_size: int,
        *,
        seed: int = 0,
        nan_from_epoch: int | None = None,
    ) -> None:
        super().__init__()
        self.x, self.y, self.batch_size = (
            x.astype(np.float32),
            y.astype(np.float32),
            batch_size,
        )
        self.rng = np.random.default_rng(seed)
        self.order = self.rng.permutation(len(x))
        self.epoch = 0  # counted in on_epoch_begin: Keras also calls on_epoch_end once before epoch 1
        self.nan_from_epoch = nan_from_epoch

    def __len__(self) -> int:
        return -(-len(self.x) // self.batch_size)

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        rows = self.order[index * self.batch_size : (index + 1) * self.batch_size]
        y = self.y[rows]
        if self.nan_from_epoch is not None and self.epoch >= self.nan_from_epoch:
            y = np.full_like(y, np.nan)
        return self.x[rows], y

    def on_epoch_begin(self) -> None:
        self.epoch += 1

    def on_epoch_end(self) -> None:
        self.order = self.rng.permutation(len(self.x))


def _data(
    n: int = 96, seed: int = 0, target: float | None = None
) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, WINDOW, N_FEATURES)).astype(np.float32)
    if target is None:
        y = np.stack([x[:, -1, 0] * 0.5 + k for k in range(HORIZON)], axis=1)
    else:
        y = np.full((n, HORIZON), target)
    return x, y.astype(np.float32)


def _model(seed: int = 0, **overrides: Any) -> keras.Model:
    set_seed(seed)
    config = ModelConfig(model=ModelKind.LSTM, units=(4,), **overrides)
    return build_model(config, window=WINDOW, n_features=N_FEATURES, horizon=HORIZON)


@pytest.mark.slow
def test_same_seed_gives_identical_weights_and_predictions() -> None:
    x, y = _data()
    config = TrainConfig(
        window=WINDOW, horizon=HORIZON, epochs=2, batch_size=16, patience=0
    )
    runs = []
    for _ in range(2):
        model = _model(seed=3, dropout=0.1)
        initial = model.get_weights()
        result = fit(model, ArrayBatches(x, y, 16, seed=3), None, config)
        runs.append(
            (initial, model.get_weights(), model.predict_on_batch(x[:10]), result)
        )
    (init_a, final_a, pred_a, res_a), (init_b, final_b, pred_b, res_b) = runs
    for a, b in zip(init_a, init_b, strict=True):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(final_a, final_b, strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(pred_a, pred_b)
    assert res_a.loss == res_b.loss
    # Training changed the weights, and a different seed starts elsewhere.
    assert not np.array_equal(init_a[0], final_a[0])
    assert not np.array_equal(_model(seed=4).get_weights()[0], init_a[0])


@pytest.mark.slow
def test_early_stopping_restores_the_best_weights() -> None:
    # Train towards +1 while validation wants -1: validation loss worsens every epoch,
    # so patience=1 stops after epoch 2 and epoch 1's weights come back.
    x, y = _data(64, seed=0, target=1.0)
    xv, yv = _data(32, seed=1, target=-1.0)
    untrained = np.asarray(_model().predict_on_batch(xv), dtype=np.float64)
    model = _model()
    lines: list[str] = []
    config = TrainConfig(
        window=WINDOW, horizon=HORIZON, epochs=6, batch_size=16, lr=0.05, patience=1
    )
    result = fit(
        model,
        ArrayBatches(x, y, 16),
        (xv, yv),
        config,
        progress=lines.append,
    )
    assert result.epochs_run == 2
    assert result.stopped_early is True
    assert result.best_epoch == 1
    assert len(result.loss) == len(result.val_loss) == 2
    assert result.val_loss[1] > result.val_loss[0]
    restored = float(model.evaluate(xv, yv, batch_size=16, verbose=0))
    assert restored == pytest.approx(result.val_loss[0], rel=1e-5)
    assert restored != pytest.approx(result.val_loss[1], rel=1e-5)
    # The untrained network's validation loss is measured before the first epoch; its
    # weights are those _model() builds from the same seed.
    assert result.initial_val_loss == pytest.approx(
        float(np.mean((untrained - yv) ** 2)), rel=1e-5
    )
    assert result.val_loss[0] > result.initial_val_loss  # the first epoch moved away
    assert result.seconds > 0
    assert len(lines) == 2
    for epoch, line in enumerate(lines, start=1):
        match = LINE.match(line)
        assert match is not None, line
        assert match.group(1, 2) == (str(epoch), "6")
        assert float(match.group(3)) == pytest.approx(result.loss[epoch - 1], abs=1e-4)
        assert float(match.group(4)) == pytest.approx(
            result.val_loss[epoch - 1], abs=1e-4
        )


@pytest.mark.slow
def test_arrays_without_validation_monitor_training_loss() -> None:
    x, y = _data()
    model = _model()
    lines: list[str] = []
    config = TrainConfig(
        window=WINDOW,
        horizon=HORIZON,
        epochs=2,
        batch_size=32,
        loss=Loss.HUBER,
        patience=1,
    )
    result = fit(model, (x, y), None, config, progress=lines.append)
    assert isinstance(result, FitResult)
    assert result.val_loss == ()
    assert result.initial_val_loss is None  # nothing to measure it on
    assert result.epochs_run == 2
    assert result.best_epoch == int(np.argmin(result.loss)) + 1
    assert result.stopped_early is False
    assert [
        LINE.match(line) is not None and "val_loss" not in line for line in lines
    ] == [True, True]
    assert isinstance(model.loss, keras.losses.Huber)
    if keras.backend.backend() == "tensorflow":
        # A run this short is not worth compiling: XLA stays off.
        assert model.jit_compile is False


@pytest.mark.slow
def test_nan_loss_raises_with_advice() -> None:
    x, y = _data(32)
    config = TrainConfig(
        window=WINDOW, horizon=HORIZON, epochs=2, batch_size=16, patience=3
    )
    with pytest.raises(ConfigError) as excinfo:
        # NaN targets from the first epoch: when a backend's trainer calls
        # on_epoch_begin relative to prefetching differs (JAX vs TensorFlow).
        fit(_model(), ArrayBatches(x, y, 16, nan_from_epoch=1), None, config)
    assert (
        str(excinfo.value)
        == "Training diverged: loss became nan at epoch 1 with lr=0.001. Lower --lr, or use --scaler standard."
    )


def test_empty_training_data_is_a_data_error() -> None:
    x, y = _data(0)
    config = TrainConfig(window=WINDOW, horizon=HORIZON)
    with pytest.raises(DataError) as excinfo:
        fit(None, (x, y), None, config)  # type: ignore[arg-type]
    assert (
        str(excinfo.value)
        == "Training data has 0 samples: too few rows for window + horizon. Use a smaller --window or --horizon, or load more history."
    )
    xv, yv = _data(4)
    with pytest.raises(DataError, match=r"^Validation data has 0 batches: "):
        fit(None, (xv, yv), ArrayBatches(x, y, 8), config)  # type: ignore[arg-type]


def test_progress_line_format() -> None:
    assert (
        _progress_line(3, 50, 0.0123, 0.015, 0.44)
        == "epoch 3/50  loss 0.0123  val_loss 0.0150  (0.4 s)"
    )
    assert _progress_line(1, 2, 1.5, None, 12.0) == "epoch 1/2  loss 1.5000  (12.0 s)"
    assert (
        _progress_line(1, 2, 0.00001234, None, 0.0)
        == "epoch 1/2  loss 1.234e-05  (0.0 s)"
    )


@pytest.mark.parametrize(
    ("loss", "cls"),
    [
        (Loss.MSE, keras.losses.MeanSquaredError),
        (Loss.MAE, keras.losses.MeanAbsoluteError),
        (Loss.HUBER, keras.losses.Huber),
    ],
)
def test_loss_objects(loss: Loss, cls: type) -> None:
    assert isinstance(_loss_object(keras, loss), cls)


def test_jit_compile_setting_uses_xla_on_cpu_only_tensorflow(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from seqcast import runtime

    monkeypatch.setattr(keras.backend, "backend", lambda: "tensorflow")
    monkeypatch.setattr(runtime, "device_description", lambda: "CPU (x86_64, 2 cores)")
    assert jit_compile_setting() is True
    assert jit_compile_setting(steps=XLA_MIN_STEPS) is True
    assert (
        jit_compile_setting(steps=XLA_MIN_STEPS - 1) is False
    )  # compiling would cost more
    monkeypatch.setattr(runtime, "device_description", lambda: "GPU: NVIDIA H100")
    assert jit_compile_setting() == "auto"
    monkeypatch.setattr(keras.backend, "backend", lambda: "jax")
    assert jit_compile_setting() == "auto"
