"""One global model across many series: each series prepared on its own, windows pooled.

Every series gets its own target transform and scaler, fitted on its own training rows
only, and its own time-ordered split. The scaled series are laid end to end in one
array; each series contributes the windows that lie wholly inside it (no window
crosses from one series into the next), and one set of networks learns from all of
them. A series shorter than the window is forecast from its history padded on the left
with its first value (:func:`pad_rows`); a series too short for any training window
still gets a forecast, from weights learned on the others.

With ``refit`` (the default for pooled training) the networks are fitted again on every
window of every series for the epoch count validation chose, so that the newest rows of
every series, held out to choose it, are learned from too; and each series' target
transform is fitted again on all its rows first, so that the final models and their
forecasts use seasonal indices of the whole history, its newest seasons included,
rather than of its oldest 70%. The scaler stays the training part's: the epoch count
was chosen for inputs of that scale (refitting the scaler too lost on M1's yearly
series, 0.802 against 0.744; see docs/ACCURACY.md). The holdout models keep the
training part's preparation, with which they score the validation and test parts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from seqcast._types import FloatArray, IntArray
from seqcast.config import RunConfig
from seqcast.model.pipeline import (
    Members,
    Predict,
    Prep,
    blend,
    fit_prep,
    group_members,
    predict_windows,
    refit_members,
    refit_transform,
    train_members,
)
from seqcast.prep.windows import SplitBounds, newest_starts, split_bounds

if TYPE_CHECKING:
    from seqcast.model.training import FitResult


@dataclass(frozen=True, slots=True)
class PooledFit:
    """Networks fitted on the windows of many series, with each series' preparation.

    Attributes:
        models: The final models, one per ensemble member (refitted on every window
            of every series when ``refit`` is on, else the holdout models).
        holdout: The models fitted on the training parts only; they score the
            validation and test parts.
        preps: Each series' target transform and scaler for the final models: the
            transform fitted on all its rows when ``refit`` refitted them, else on its
            training rows; the scaler always on its training rows.
        holdout_preps: Each series' preparation fitted on its training rows only, for
            the holdout models (the same objects as ``preps`` without a refit).
        bounds: Each series' train/validation/test split.
        fits: Loss history of each member's holdout fit.
        config: The configuration used (window and horizon resolved).
        values: Each series' unscaled rows (n_steps, n_features), as given.
        device: The device the models trained on.
    """

    models: tuple[Any, ...]
    holdout: tuple[Any, ...]
    preps: tuple[Prep, ...]
    holdout_preps: tuple[Prep, ...]
    bounds: tuple[SplitBounds, ...]
    fits: tuple[FitResult, ...]
    config: RunConfig
    values: tuple[FloatArray, ...]
    device: str

    @property
    def refitted(self) -> bool:
        """Whether ``models`` were fitted again on all the history after validation."""
        return self.models is not self.holdout

    def fit_end(self, k: int) -> int:
        """First row of series ``k`` the final models never trained on."""
        b = self.bounds[k]
        return b.n_steps if self.refitted else b.val_end

    def predictor(self, *, holdout: bool = False) -> Members:
        """The ensemble's prediction functions (``config.train.combine`` of the members')."""
        from seqcast.model.predict import KerasModel

        chosen = self.holdout if holdout else self.models
        return group_members([KerasModel(m).predict for m in chosen], self.config.train)

    def predict_starts(self, k: int, starts: IntArray) -> FloatArray:
        """Predict series ``k``'s windows at ``starts`` with the holdout models; unscaled."""
        window, horizon = self.config.train.sizes
        return predict_windows(
            self.predictor(holdout=True),
            self.holdout_preps[k],
            self.values[k],
            starts,
            window,
            horizon,
            self.config.train.window_norm,
            known=self.config.data.n_ahead(self.values[k].shape[1]),
        )


def pad_rows(values: FloatArray, window: int) -> FloatArray:
    """Return ``values`` with its first row repeated in front until it has ``window`` rows.

    Example: rows [[5], [6]] with window 4 become [[5], [5], [5], [6]]. A series with
    ``window`` rows or more is returned unchanged (the same object).
    """
    missing = window - len(values)
    if missing <= 0:
        return values
    return np.concatenate([np.repeat(values[:1], missing, axis=0), values])


def pool_bounds(
    n_steps: int, window: int, horizon: int, val_fraction: float, test_fraction: float
) -> SplitBounds:
    """Split one series of a pool: as :func:`split_bounds`, dropping parts a short one lacks.

    A series whose training part cannot hold one window keeps its validation part and
    drops its test part; then both go, and the whole series is training rows (which
    give no holdout window when it is shorter than window + horizon, but are still
    learned from by the final fit and forecast).
    """
    from seqcast.errors import DataError

    for val, test in ((val_fraction, test_fraction), (val_fraction, 0.0)):
        try:
            return split_bounds(n_steps, window, horizon, val, test)
        except DataError:
            continue
    return SplitBounds(n_steps=n_steps, train_end=n_steps, val_end=n_steps)


def fit_pooled(
    series: Sequence[FloatArray],
    config: RunConfig,
    *,
    season: int = 1,
    progress: Callable[[str], None] | None = None,
) -> PooledFit:
    """Fit one set of networks on the windows of every series in ``series``.

    Args:
        series: Unscaled rows of each series, shape (n_steps_k, n_features); column 0
            is the target. Lengths and start dates may differ.
        config: Settings with window and horizon resolved (see
            :func:`seqcast.prep.sizing.resolve_pool_sizes`).
        season: Season length, for deseasonalisation.
        progress: Called with one line per stage, member and epoch.

    Raises:
        DataError: If no series holds a single training window.
    """
    from seqcast import runtime
    from seqcast.errors import DataError

    runtime.import_keras_quietly()
    tc = config.train
    window, horizon = tc.sizes
    preps, bounds, scaled, starts = _prepare(series, config, season)
    if not len(starts["train"]):
        raise DataError(
            f"None of the {len(series)} series holds a training window of window={window} + horizon={horizon} rows. Use a smaller --window or --horizon, or load more history."
        )
    device = runtime.device_description()
    if progress:
        progress(
            f"training {config.model.model.value} on {len(starts['train'])} windows of {len(series)} series ({device})"
        )
    mixed = tc.seasonal_members < tc.ensemble
    holdout, fits = train_members(
        config,
        scaled,
        starts["train"],
        starts["validation"],
        progress,
        raw=_raw_rows(series, preps) if mixed else None,
    )
    final, final_preps = holdout, preps
    if tc.refit and len(starts["validation"]):
        final_preps, everything = _prepare_all(series, preps, config, season)
        final = refit_members(
            config,
            everything,
            starts["all"],
            fits,
            progress,
            raw=_raw_rows(series, final_preps) if mixed else None,
        )
    return PooledFit(
        models=final,
        holdout=holdout,
        preps=final_preps,
        holdout_preps=preps,
        bounds=bounds,
        fits=fits,
        config=config,
        values=tuple(series),
        device=device,
    )


def _prepare(
    series: Sequence[FloatArray], config: RunConfig, season: int
) -> tuple[tuple[Prep, ...], tuple[SplitBounds, ...], FloatArray, dict[str, IntArray]]:
    """Split, transform and scale each series on its own; lay them end to end.

    Returns each series' preparation and split, the scaled rows of every series in
    one array, and the window starts into it: ``train`` and ``validation`` (the
    holdout fit) and ``all`` (every window, for the final fit).
    """
    tc = config.train
    window, horizon = tc.sizes
    preps: list[Prep] = []
    bounds: list[SplitBounds] = []
    scaled_parts: list[FloatArray] = []
    parts: dict[str, list[IntArray]] = {"train": [], "validation": [], "all": []}
    offset = 0
    for values in series:
        n = len(values)
        b = pool_bounds(n, window, horizon, tc.val_fraction, tc.test_fraction)
        prep, scaled = fit_prep(values, b.train_end, config, season)
        preps.append(prep)
        bounds.append(b)
        scaled_parts.append(scaled)
        if n >= window + horizon:  # shorter series hold no window, only a forecast
            everything = SplitBounds(n_steps=n, train_end=n, val_end=n)
            train = b.starts("train", window, horizon)
            train = newest_starts(train, horizon, tc.history_horizons)
            parts["train"].append(train + offset)
            parts["validation"].append(b.starts("validation", window, horizon) + offset)
            every = everything.starts("train", window, horizon)
            every = newest_starts(every, horizon, tc.history_horizons)
            parts["all"].append(every + offset)
        offset += n
    starts = {
        name: np.concatenate(found) if found else np.empty(0, dtype=np.int64)
        for name, found in parts.items()
    }
    return tuple(preps), tuple(bounds), np.concatenate(scaled_parts), starts


def _raw_rows(series: Sequence[FloatArray], preps: Sequence[Prep]) -> FloatArray:
    """Every series scaled through :meth:`Prep.raw`, end to end as :func:`_prepare` lays them."""
    return np.concatenate(
        [prep.raw().apply(values) for values, prep in zip(series, preps, strict=True)]
    )


def _prepare_all(
    series: Sequence[FloatArray],
    holdout: Sequence[Prep],
    config: RunConfig,
    season: int,
) -> tuple[tuple[Prep, ...], FloatArray]:
    """Refit each series' target transform on all its rows (:func:`refit_transform`); lay them end to end.

    The rows and their order are those of :func:`_prepare`, so its ``all`` starts index
    the result too.
    """
    preps, scaled = zip(
        *(
            refit_transform(prep, values, config, season)
            for values, prep in zip(series, holdout, strict=True)
        ),
        strict=True,
    )
    return tuple(preps), np.concatenate(scaled)


def forecast_pooled(
    fitted: PooledFit, ks: Sequence[int] | None = None
) -> list[FloatArray]:
    """Forecast the next horizon of each series in ``ks`` (default: all) from its last window.

    One forward pass per group of members covers every series. A series shorter than the window is padded
    (:func:`pad_rows`). Returns one array of ``horizon`` values per series, in the
    series' units.
    """
    chosen = list(range(len(fitted.values)) if ks is None else ks)
    members = fitted.predictor()
    # One forward pass per group of members, each series through that group's prep.
    groups = zip(*(members.parts(fitted.preps[k]) for k in chosen), strict=True)
    per_group = [
        _forecast_last(fitted, chosen, parts[0][0], [prep for _, prep in parts])
        for parts in groups
    ]
    return [
        blend([group[j] for group in per_group], fitted.preps[k])
        for j, k in enumerate(chosen)
    ]


def _forecast_last(
    fitted: PooledFit, chosen: Sequence[int], predict: Predict, preps: Sequence[Prep]
) -> list[FloatArray]:
    """Forecast each series in ``chosen`` from its last window with one function and prep each."""
    from seqcast.prep.windows import denormalize, normalize_windows

    window, horizon = fitted.config.train.sizes
    inputs, rows = [], []
    for k, prep in zip(chosen, preps, strict=True):
        values = fitted.values[k]
        # Row numbers count from the series' first row; padding sits at negative ones.
        last = pad_rows(values, window)[-window:]
        inputs.append(prep.apply(last, len(values) - window))
        rows.append(len(values) + np.arange(horizon))
    x = np.stack(inputs)
    xn, _, offset = normalize_windows(x, None, fitted.config.train.window_norm)
    predicted = denormalize(
        np.asarray(predict(xn.astype(np.float32)), dtype=np.float64), offset
    )
    return [
        prep.invert(predicted[j : j + 1], rows[j][None, :])[0]
        for j, prep in enumerate(preps)
    ]
