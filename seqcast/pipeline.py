"""The training pipeline on arrays: split, scale on the training part, window, build, fit, predict.

``api.train`` wraps it with data preparation and saving; backtests call it once per origin.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from seqcast._types import Float32Array, FloatArray, IntArray
from seqcast.config import RunConfig, WindowNorm
from seqcast.scaling import Scaler
from seqcast.windows import (
    SplitBounds,
    denormalize,
    gather_windows,
    normalize_windows,
    split_bounds,
)

if TYPE_CHECKING:
    from seqcast.training import FitResult

Predict = Callable[[Float32Array], FloatArray]


@dataclass(frozen=True, slots=True)
class Fitted:
    """A model fitted on the training part of ``values``, with everything needed to predict.

    Attributes:
        model: The Keras model, best validation weights restored.
        scaler: Fitted on rows ``[0, bounds.train_end)`` only.
        bounds: Train/validation/test rows of ``values``.
        fit: Loss history and early-stopping outcome.
        config: The configuration used.
        values: The unscaled series, shape (n_steps, n_features); column 0 is the target.
        device: The device the model trained on.
    """

    model: Any
    scaler: Scaler
    bounds: SplitBounds
    fit: FitResult
    config: RunConfig
    values: FloatArray
    device: str

    def predict_starts(self, starts: IntArray) -> FloatArray:
        """Predict the windows starting at ``starts`` in one pass; unscaled, (n, horizon)."""
        from seqcast.inference import KerasModel

        tc = self.config.train
        return predict_windows(
            KerasModel(self.model).predict,
            self.scaler,
            self.scaler.transform(self.values),
            starts,
            tc.window,
            tc.horizon,
            tc.window_norm,
        )


def fit_values(
    values: FloatArray,
    config: RunConfig,
    *,
    progress: Callable[[str], None] | None = None,
) -> Fitted:
    """Fit a model on ``values`` as ``config`` says, scaling and validating without leakage.

    Args:
        values: Unscaled series, shape (n_steps, n_features); column 0 is the target.
        config: Model and training settings (the data section is not used here).
        progress: Called with one line per stage and epoch.

    Raises:
        DataError: If the series is too short for the window, horizon and splits.
    """
    from seqcast import runtime

    runtime.import_keras_quietly()
    from seqcast import models, training
    from seqcast.windows import window_batches

    tc = config.train
    bounds = split_bounds(
        len(values), tc.window, tc.horizon, tc.val_fraction, tc.test_fraction
    )
    scaler = Scaler(tc.scaler).fit(values[: bounds.train_end])
    scaled = scaler.transform(values)
    train_starts = bounds.starts("train", tc.window, tc.horizon)
    val_starts = bounds.starts("validation", tc.window, tc.horizon)

    training.set_seed(tc.seed)
    train_data = window_batches(
        scaled,
        train_starts,
        tc.window,
        tc.horizon,
        tc.batch_size,
        shuffle=True,
        seed=tc.seed,
        norm=tc.window_norm,
    )
    val_data = (
        window_batches(
            scaled,
            val_starts,
            tc.window,
            tc.horizon,
            tc.batch_size,
            shuffle=False,
            seed=tc.seed,
            norm=tc.window_norm,
        )
        if len(val_starts)
        else None
    )
    model = models.build_model(
        config.model, window=tc.window, n_features=values.shape[1], horizon=tc.horizon
    )
    device = runtime.device_description()
    if progress:
        progress(
            f"training {config.model.kind.value} on {len(train_starts)} windows ({device})"
        )
    fit = training.fit(model, train_data, val_data, tc, progress=progress)
    return Fitted(
        model=model,
        scaler=scaler,
        bounds=bounds,
        fit=fit,
        config=config,
        values=values,
        device=device,
    )


def predict_windows(
    predict: Predict,
    scaler: Scaler,
    scaled: FloatArray,
    starts: IntArray,
    window: int,
    horizon: int,
    norm: WindowNorm,
) -> FloatArray:
    """Predict every window in one pass and return unscaled predictions (n_windows, horizon)."""
    x, y = gather_windows(scaled, starts, window, horizon)
    xn, _, offset = normalize_windows(x, y, norm)
    predicted = denormalize(predict(xn.astype(np.float32)), offset)
    return scaler.inverse_target(np.asarray(predicted, dtype=np.float64))
