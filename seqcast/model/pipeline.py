"""The training pipeline on arrays: split, scale on the training part, window, build, fit, predict.

``api.train`` wraps it with data preparation and saving; backtests call it once per origin.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from seqcast._types import Float32Array, FloatArray, IntArray
from seqcast.config import RunConfig, WindowNorm
from seqcast.prep.scaling import Scaler
from seqcast.prep.windows import (
    SplitBounds,
    denormalize,
    gather_windows,
    normalize_windows,
    split_bounds,
)

if TYPE_CHECKING:
    from seqcast.model.training import FitResult

Predict = Callable[[Float32Array], FloatArray]
"""A forecast function: windows (n, window, n_features) float32 -> (n, horizon) float64."""


@dataclass(frozen=True, slots=True)
class Fitted:
    """Models fitted on the training part of ``values``, with everything needed to predict.

    Attributes:
        models: The Keras models, one per ensemble member (seeds ``seed``,
            ``seed + 1``, ...), each with its best validation weights restored.
        scaler: Fitted on rows ``[0, bounds.train_end)`` only.
        bounds: Train/validation/test rows of ``values``.
        fits: Loss history and early-stopping outcome of each member.
        config: The configuration used.
        values: The unscaled series, shape (n_steps, n_features); column 0 is the target.
        device: The device the models trained on.
    """

    models: tuple[Any, ...]
    scaler: Scaler
    bounds: SplitBounds
    fits: tuple[FitResult, ...]
    config: RunConfig
    values: FloatArray
    device: str

    @property
    def model(self) -> Any:
        """The first member (seed ``seed``), the whole model when ``ensemble`` is 1."""
        return self.models[0]

    @property
    def fit(self) -> FitResult:
        """Loss history of the first member."""
        return self.fits[0]

    def predictor(self) -> Predict:
        """Return the ensemble's prediction function (the mean of every member's)."""
        from seqcast.model.predict import KerasModel

        return mean_predict([KerasModel(m).predict for m in self.models])

    def predict_starts(self, starts: IntArray) -> FloatArray:
        """Predict the windows starting at ``starts`` in one pass; unscaled, (n, horizon)."""
        tc = self.config.train
        return predict_windows(
            self.predictor(),
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

    With ``config.train.ensemble`` = N > 1, N models are fitted on the same scaled data
    and splits with seeds ``seed .. seed + N - 1``; member 0 is exactly the model that
    ``ensemble`` = 1 gives.

    Args:
        values: Unscaled series, shape (n_steps, n_features); column 0 is the target.
        config: Model and training settings (the data section is not used here).
        progress: Called with one line per stage, member and epoch.

    Raises:
        DataError: If the series is too short for the window, horizon and splits.
    """
    from seqcast import runtime

    runtime.import_keras_quietly()
    from seqcast.model import build as models
    from seqcast.model import training
    from seqcast.prep.windows import window_batches

    tc = config.train
    bounds = split_bounds(
        len(values), tc.window, tc.horizon, tc.val_fraction, tc.test_fraction
    )
    scaler = Scaler(tc.scaler).fit(values[: bounds.train_end])
    scaled = scaler.transform(values)
    train_starts = bounds.starts("train", tc.window, tc.horizon)
    val_starts = bounds.starts("validation", tc.window, tc.horizon)

    device = runtime.device_description()
    if progress:
        progress(
            f"training {config.model.model.value} on {len(train_starts)} windows ({device})"
        )
    fitted_models: list[Any] = []
    fits: list[FitResult] = []
    for member in range(tc.ensemble):
        seed = tc.seed + member
        if progress and tc.ensemble > 1:
            progress(f"member {member + 1}/{tc.ensemble} (seed {seed})")
        training.set_seed(seed)
        train_data = window_batches(
            scaled,
            train_starts,
            tc.window,
            tc.horizon,
            tc.batch_size,
            shuffle=True,
            seed=seed,
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
                seed=seed,
                norm=tc.window_norm,
            )
            if len(val_starts)
            else None
        )
        model = models.build_model(
            config.model,
            window=tc.window,
            n_features=values.shape[1],
            horizon=tc.horizon,
        )
        fits.append(training.fit(model, train_data, val_data, tc, progress=progress))
        fitted_models.append(model)
    return Fitted(
        models=tuple(fitted_models),
        scaler=scaler,
        bounds=bounds,
        fits=tuple(fits),
        config=config,
        values=values,
        device=device,
    )


def mean_predict(predicts: Sequence[Predict]) -> Predict:
    """Combine ensemble members into one prediction function: the mean of their outputs.

    Every step after a member's output (window de-normalisation, inverse scaling) is
    affine, so the mean of the outputs gives the mean of the members' unscaled forecasts.
    A single member is returned unchanged.

    Args:
        predicts: Functions mapping windows (n, window, n_features) to (n, horizon).

    Returns:
        A function returning a new float64 array of shape (n, horizon).
    """
    members = tuple(predicts)
    if len(members) == 1:
        return members[0]

    def predict(x: Float32Array) -> FloatArray:
        return np.asarray(
            np.mean([m(x) for m in members], axis=0, dtype=np.float64),
            dtype=np.float64,
        )

    return predict


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
