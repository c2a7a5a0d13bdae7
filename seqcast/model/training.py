"""Compile and fit a Keras model: optimiser, loss, early stopping, seeds, progress.

Keras is imported inside the functions. Training is silent (``verbose=0``); progress
goes through a caller-supplied ``progress(line)`` function, which the CLI points at
stderr.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias

import numpy as np
import numpy.typing as npt

from seqcast import interrupts
from seqcast.config import Loss, TrainConfig
from seqcast.errors import ConfigError, DataError
from seqcast.progress import Step

if TYPE_CHECKING:
    import keras

    TrainData: TypeAlias = (
        keras.utils.PyDataset | tuple[npt.NDArray[Any], npt.NDArray[Any]]
    )


@dataclass(frozen=True, slots=True)
class FitResult:
    """What happened during ``fit``.

    Attributes:
        loss: Training loss after each epoch run, first to last.
        val_loss: Validation loss after each epoch run; empty without validation.
        best_epoch: 1-based epoch whose weights the model holds on return: with early
            stopping, the epoch of lowest monitored loss (``val_loss``, or ``loss``
            without validation), whose weights were restored; otherwise the last epoch.
        epochs_run: Number of epochs actually run (at most ``TrainConfig.epochs``).
        stopped_early: Whether early stopping ended training before ``epochs``.
        seconds: Wall-clock time spent in ``model.fit``.
        initial_val_loss: Validation loss of the untrained model, measured before the
            first epoch when early stopping watches validation (None otherwise), so
            that a fit which keeps its first epoch can say whether that epoch helped.
    """

    loss: tuple[float, ...]
    val_loss: tuple[float, ...]
    best_epoch: int
    epochs_run: int
    stopped_early: bool
    seconds: float
    initial_val_loss: float | None = None


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and the Keras backend, for reproducible weights and batches.

    Call it before ``seqcast.model.build.build_model``: initial weights, dropout masks and
    shuffling all draw from these generators. The same seed, data, versions and
    machine then give the same trained weights.

    Args:
        seed: Non-negative integer seed.
    """
    import keras

    keras.utils.set_random_seed(int(seed))


def fit(
    model: keras.Model,
    train: TrainData,
    validation: TrainData | None,
    config: TrainConfig,
    *,
    progress: Callable[[str], None] | None = None,
) -> FitResult:
    """Compile ``model`` with Adam and ``config.loss``, then train it in place.

    Early stopping (with the best weights restored at the end) is on when
    ``config.patience > 0``; it watches ``val_loss`` when ``validation`` is given and
    ``loss`` otherwise. Compilation uses XLA (``jit_compile=True``) on TensorFlow
    when no GPU is visible, where it made a 2 x LSTM(50) epoch about 1.4x faster
    (``benchmarks/training_overhead.py``); elsewhere it uses ``"auto"``, with which
    Keras turns XLA off for layers on the TensorFlow cuDNN path (cuDNN ops are not
    XLA-compatible), keeps eager mode on torch and compiles on JAX. See
    ``jit_compile_setting``.

    Args:
        model: An uncompiled (or compiled; it is recompiled) model from
            ``build_model``.
        train: A ``keras.utils.PyDataset`` of (x, y) batches, which shuffles itself
            (Keras' own shuffling is off), or a tuple of arrays x (n_windows, window,
            n_features) and y (n_windows, horizon), which Keras batches by
            ``config.batch_size`` and shuffles with the seeded generators.
        validation: Batches or arrays in the same form, or None.
        config: Epochs, batch size, learning rate, loss and patience.
        progress: Called once per epoch with a line such as
            ``"epoch 3/50  loss 0.0123  val_loss 0.0150  (0.4 s)"``.

    Returns:
        The loss history and how training ended.

    Raises:
        DataError: If ``train`` or ``validation`` holds no samples.
        ConfigError: If the loss becomes NaN or infinite (training diverged).
    """
    _require_samples(train, "Training")
    if validation is not None:
        _require_samples(validation, "Validation")
    with interrupts.held():
        return _fit(model, train, validation, config, progress)


def _fit(
    model: keras.Model,
    train: TrainData,
    validation: TrainData | None,
    config: TrainConfig,
    progress: Callable[[str], None] | None,
) -> FitResult:
    """``fit``'s Keras part, run with interrupts held (checked before every batch)."""
    import keras

    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=config.lr),
        loss=_loss_object(keras, config.loss),
        jit_compile=jit_compile_setting(
            _batches_per_epoch(train, config.batch_size) * config.epochs
        ),
    )
    callbacks, guard, early_stopping = _callbacks(
        keras, config, "loss" if validation is None else "val_loss", progress
    )
    initial = None
    if validation is not None and early_stopping is not None:
        initial = _validation_loss(
            model, validation, config.batch_size, _make_interrupt_check(keras)
        )
    kwargs: dict[str, Any] = {
        "epochs": config.epochs,
        "callbacks": callbacks,
        "verbose": 0,
    }
    if isinstance(validation, tuple):
        kwargs["validation_data"] = (validation[0], validation[1])
    elif validation is not None:
        kwargs["validation_data"] = validation
    start = time.perf_counter()
    if isinstance(train, tuple):
        history = model.fit(
            train[0], train[1], batch_size=config.batch_size, shuffle=True, **kwargs
        )
    else:
        history = model.fit(train, shuffle=False, **kwargs)
    seconds = time.perf_counter() - start

    if guard.diverged is not None:
        epoch, name, value = guard.diverged
        raise ConfigError(
            f"Training diverged: {name} became {value} at epoch {epoch} with lr={config.lr}. Lower --lr, or use --scaler standard."
        )
    return _result(history.history, early_stopping, config.epochs, seconds, initial)


def _validation_loss(
    model: Any, validation: TrainData, batch_size: int, check: Any
) -> float | None:
    """The compiled ``model``'s loss on ``validation`` as it stands (None if not finite).

    Keras keeps the evaluation function this compiles and validates every epoch of
    the ``fit`` that follows with it, so this costs one pass over the validation windows.
    """
    if isinstance(validation, tuple):
        logs = model.evaluate(
            validation[0],
            validation[1],
            batch_size=batch_size,
            verbose=0,
            return_dict=True,
            callbacks=[check],
        )
    else:
        logs = model.evaluate(
            validation, verbose=0, return_dict=True, callbacks=[check]
        )
    value = float(logs["loss"])
    return value if math.isfinite(value) else None


def _callbacks(
    keras: Any,
    config: TrainConfig,
    monitor: str,
    progress: Callable[[str], None] | None,
) -> tuple[list[Any], Any, Any]:
    """Progress lines, the divergence guard and early stopping (None when patience is 0)."""
    guard = _make_divergence_guard(keras)
    callbacks: list[Any] = [_make_interrupt_check(keras)]
    if progress is not None:
        callbacks.append(_make_progress(keras, progress, config.epochs))
    callbacks.append(guard)
    early_stopping = None
    if config.patience > 0:
        early_stopping = keras.callbacks.EarlyStopping(
            monitor=monitor,
            mode="min",
            patience=config.patience,
            restore_best_weights=True,
            verbose=0,
        )
        callbacks.append(early_stopping)
    return callbacks, guard, early_stopping


def _result(
    history: dict[str, Any],
    early_stopping: Any,
    epochs: int,
    seconds: float,
    initial_val_loss: float | None,
) -> FitResult:
    """Summarise Keras' history and how early stopping ended training."""
    loss = tuple(float(v) for v in history.get("loss", ()))
    val_loss = tuple(float(v) for v in history.get("val_loss", ()))
    epochs_run = len(loss)
    if early_stopping is not None and early_stopping.best_weights is not None:
        best_epoch = int(early_stopping.best_epoch) + 1
        stopped_early = epochs_run < epochs
    else:
        best_epoch = epochs_run
        stopped_early = False
    return FitResult(
        loss=loss,
        val_loss=val_loss,
        best_epoch=best_epoch,
        epochs_run=epochs_run,
        stopped_early=stopped_early,
        seconds=seconds,
        initial_val_loss=initial_val_loss,
    )


XLA_MIN_STEPS = 2000


def jit_compile_setting(steps: int | None = None) -> bool | str:
    """Choose ``jit_compile`` for ``model.compile`` on the active Keras backend.

    Keras' ``"auto"`` turns XLA off on CPU-only TensorFlow, although there XLA fuses
    the recurrent cell's many small ops and runs an epoch faster (1.4-2.5x for a
    2xLSTM(50) epoch in BENCHMARKS.md). So this returns True for TensorFlow with no GPU
    visible (``seqcast.runtime.device_description``), and ``"auto"`` otherwise: on a
    GPU the cuDNN LSTM/GRU kernels are faster and are not XLA-compatible, which
    ``"auto"`` handles, and JAX and torch keep their defaults. Compiling costs a few
    seconds, which about 5 ms saved per step repays only after several hundred steps,
    so runs of fewer than ``XLA_MIN_STEPS`` steps (tiny models, short series, many
    backtest folds) stay uncompiled.

    Args:
        steps: Gradient steps the run may take (batches per epoch times epochs);
            None means unknown, treated as long.

    Returns:
        True, False or ``"auto"``, e.g. True on a CPU-only machine with the TensorFlow
        backend for a run of 10,000 steps.
    """
    import keras

    from seqcast import runtime

    if keras.backend.backend() != "tensorflow":
        return "auto"
    if runtime.device_description().startswith("GPU"):
        return "auto"
    return steps is None or steps >= XLA_MIN_STEPS


def _batches_per_epoch(data: Any, batch_size: int) -> int:
    """Batches in one epoch of a PyDataset or an (x, y) pair of arrays."""
    if isinstance(data, tuple):
        return -(-len(data[0]) // batch_size)
    return len(data)


def _loss_object(keras: Any, loss: Loss) -> Any:
    if loss is Loss.MSE:
        return keras.losses.MeanSquaredError()
    if loss is Loss.MAE:
        return keras.losses.MeanAbsoluteError()
    return keras.losses.Huber(delta=1.0)


def _require_samples(data: Any, part: str) -> None:
    n = len(data[0]) if isinstance(data, tuple) else len(data)
    if n == 0:
        unit = "samples" if isinstance(data, tuple) else "batches"
        raise DataError(
            f"{part} data has 0 {unit}: too few rows for window + horizon. Use a smaller --window or --horizon, or load more history."
        )


def _format_loss(value: float) -> str:
    if math.isfinite(value) and value != 0.0 and abs(value) < 1e-3:
        return f"{value:.3e}"
    return f"{value:.4f}"


def _progress_line(
    epoch: int, epochs: int, loss: float, val_loss: float | None, seconds: float
) -> Step:
    """Format one epoch, e.g. ``epoch 3/50  loss 0.0123  val_loss 0.0150  (0.4 s)``.

    The line is a :class:`seqcast.progress.Step` of kind ``epoch``, ``epoch`` of
    ``epochs`` done, so that a terminal draws it as a bar.
    """
    parts = [f"epoch {epoch}/{epochs}", f"loss {_format_loss(loss)}"]
    if val_loss is not None:
        parts.append(f"val_loss {_format_loss(val_loss)}")
    parts.append(f"({seconds:.1f} s)")
    return Step("  ".join(parts), kind="epoch", done=epoch, total=epochs)


def _make_interrupt_check(keras: Any) -> Any:
    """A callback that raises a held Ctrl-C or SIGTERM before each batch.

    The checks are on ``*_batch_begin``, which Keras always calls on the main thread:
    overriding ``*_batch_end`` would stop Keras from dispatching the other callbacks'
    batch ends asynchronously.
    """

    class _InterruptCheck(keras.callbacks.Callback):  # type: ignore[misc]
        def on_train_batch_begin(
            self, batch: int, logs: dict[str, Any] | None = None
        ) -> None:
            interrupts.check()

        def on_test_batch_begin(
            self, batch: int, logs: dict[str, Any] | None = None
        ) -> None:
            interrupts.check()

    return _InterruptCheck()


def _make_progress(keras: Any, progress: Callable[[str], None], epochs: int) -> Any:
    class _Progress(keras.callbacks.Callback):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            self._start = 0.0

        def on_epoch_begin(
            self, epoch: int, logs: dict[str, Any] | None = None
        ) -> None:
            self._start = time.perf_counter()

        def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
            logs = logs or {}
            val = logs.get("val_loss")
            line = _progress_line(
                epoch + 1,
                epochs,
                float(logs.get("loss", float("nan"))),
                None if val is None else float(val),
                time.perf_counter() - self._start,
            )
            progress(line)

    return _Progress()


def _make_divergence_guard(keras: Any) -> Any:
    """Return a callback that stops training on a non-finite epoch loss.

    Like ``keras.callbacks.TerminateOnNaN``, but it checks once per epoch (a NaN
    batch loss makes the epoch mean NaN, and per-batch hooks force a host sync on
    every step), prints nothing (``TerminateOnNaN`` writes to stdout), and records
    the epoch so that ``fit`` can raise a useful error.
    """

    class _DivergenceGuard(keras.callbacks.Callback):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            self.diverged: tuple[int, str, str] | None = None

        def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
            logs = logs or {}
            for name in ("loss", "val_loss"):
                if name not in logs:
                    continue
                value = float(logs[name])
                if not np.isfinite(value):
                    self.diverged = (epoch + 1, name, str(value))
                    self.model.stop_training = True
                    return

    return _DivergenceGuard()
