"""The training pipeline on arrays: split, scale on the training part, window, build, fit, predict.

``api.train`` wraps it with data preparation and saving; backtests call it once per origin.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from seqcast import interrupts
from seqcast._types import Float32Array, FloatArray, IntArray
from seqcast.config import (
    Combine,
    RunConfig,
    TrainConfig,
    Transform,
    WindowNorm,
)
from seqcast.prep.scaling import Scaler
from seqcast.prep.transforms import TargetTransform, fit_transform
from seqcast.prep.windows import (
    SplitBounds,
    denormalize,
    gather_windows,
    newest_starts,
    normalize_windows,
    split_bounds,
)

if TYPE_CHECKING:
    from seqcast.model.training import FitResult

Predict = Callable[[Float32Array], FloatArray]
"""A forecast function: windows (n, window, n_features) float32 -> (n, horizon) float64."""


@dataclass(frozen=True, slots=True)
class Prep:
    """What maps a series to the network's units and back: target transform, then scaler.

    Attributes:
        transform: Log and deseasonalisation of the target (column 0).
        scaler: Fitted on the transformed training rows.
        raw_scaler: With ``--deseasonalize mixed``, for a series that is log-transformed
            but has no seasonal indices: the scaler fitted on its untransformed training
            rows, which the members of :meth:`raw` read it through. None otherwise.
    """

    transform: TargetTransform
    scaler: Scaler
    raw_scaler: Scaler | None = None

    def apply(self, values: FloatArray, first_row: int = 0) -> FloatArray:
        """Transform then scale rows (n, n_features); row 0 is ``first_row``. A copy."""
        if self.transform.is_identity:
            return self.scaler.transform(values)
        return self.scaler.transform(self.transform.forward_values(values, first_row))

    def invert(self, scaled_target: FloatArray, rows: npt.ArrayLike) -> FloatArray:
        """Map scaled target forecasts back to the series' units; ``rows`` as in the shape."""
        z = self.scaler.inverse_target(scaled_target)
        if self.transform.is_identity:
            return z
        return self.transform.inverse(z, rows)

    def raw(self) -> Prep:
        """The preparation of the members that read the series one step less prepared.

        With ``--deseasonalize mixed`` half the members read each series without one
        step of this preparation: without the seasonal indices (the same log and
        scaler) when it has them; otherwise without the log, through
        :attr:`raw_scaler`. ``self`` when there is neither (or no ``raw_scaler``, as
        in models written before it existed).
        """
        plain = self.transform.without_indices()
        if plain is not self.transform:
            return Prep(plain, self.scaler)
        if self.raw_scaler is not None and self.transform.kind is Transform.LOG:
            return Prep(TargetTransform.identity(), self.raw_scaler)
        return self


@dataclass(frozen=True, slots=True)
class Members:
    """An ensemble's prediction functions, by how its members read the series.

    Attributes:
        seasonal: The members that read it as its :class:`Prep` says (every member,
            unless ``--deseasonalize mixed``), combined by ``--combine``.
        raw: With ``--deseasonalize mixed``, the other members, which read it
            through :meth:`Prep.raw`; None otherwise.
    """

    seasonal: Predict
    raw: Predict | None = None

    def parts(self, prep: Prep) -> list[tuple[Predict, Prep]]:
        """Each group's prediction function with the preparation of its inputs and outputs."""
        if self.raw is None:
            return [(self.seasonal, prep)]
        return [(self.seasonal, prep), (self.raw, prep.raw())]


def blend(forecasts: Sequence[FloatArray], prep: Prep) -> FloatArray:
    """Average the forecasts of the groups of :class:`Members`, in the transform's units.

    Under a log transform that is their geometric mean (as the members within a group
    are averaged in log units) wherever every group forecasts above zero, and their
    arithmetic mean elsewhere (the members without the log can forecast zero or
    less); without a log, their arithmetic mean. One forecast is returned unchanged.
    """
    if len(forecasts) == 1:
        return forecasts[0]
    stacked = np.asarray(forecasts, dtype=np.float64)
    mean = np.mean(stacked, axis=0)
    if prep.transform.kind is not Transform.LOG:
        return np.asarray(mean)
    positive = np.all(stacked > 0.0, axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        geometric = np.exp(np.mean(np.log(np.where(positive, stacked, 1.0)), axis=0))
    return np.asarray(np.where(positive, geometric, mean))


def group_members(chosen: Sequence[Predict], tc: TrainConfig) -> Members:
    """Combine member prediction functions (member 0 first) into :class:`Members`."""
    k = tc.seasonal_members
    return Members(
        mean_predict(chosen[:k], tc.combine),
        mean_predict(chosen[k:], tc.combine) if len(chosen) > k else None,
    )


@dataclass(frozen=True, slots=True)
class Fitted:
    """Models fitted on the training part of ``values``, with everything needed to predict.

    Attributes:
        models: The final Keras models, one per ensemble member (seeds ``seed``,
            ``seed + 1``, ...): the holdout models, or with ``refit`` the same
            architectures fitted again on every window for their best epoch count.
        holdout: The models fitted on the training part, with their best validation
            weights restored; they score the validation and test parts.
        prep: Target transform and scaler, fitted on rows ``[0, bounds.train_end)`` only.
        bounds: Train/validation/test rows of ``values``.
        fits: Loss history and early-stopping outcome of each member.
        config: The configuration used.
        values: The unscaled series, shape (n_steps, n_features); column 0 is the target.
        device: The device the models trained on.
    """

    models: tuple[Any, ...]
    holdout: tuple[Any, ...]
    prep: Prep
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

    @property
    def refitted(self) -> bool:
        """Whether ``models`` were fitted again on all the history after validation."""
        return self.models is not self.holdout

    @property
    def fit_end(self) -> int:
        """First row the final models never trained on (``n_steps`` after a refit)."""
        return self.bounds.n_steps if self.refitted else self.bounds.val_end

    def predictor(self, *, holdout: bool = False) -> Members:
        """Return the ensemble's prediction functions (``config.train.combine`` of the members').

        Args:
            holdout: Use the models fitted on the training part only (for scoring the
                validation and test parts) rather than the final ones.
        """
        from seqcast.model.predict import KerasModel

        chosen = self.holdout if holdout else self.models
        return group_members([KerasModel(m).predict for m in chosen], self.config.train)

    @property
    def scaler(self) -> Scaler:
        """The scaler fitted on the training part (after the target transform)."""
        return self.prep.scaler

    def predict_starts(self, starts: IntArray) -> FloatArray:
        """Predict windows at ``starts`` with the holdout models; unscaled, (n, horizon)."""
        tc = self.config.train
        return predict_windows(
            self.predictor(holdout=True),
            self.prep,
            self.values,
            starts,
            tc.sizes[0],
            tc.sizes[1],
            tc.window_norm,
            known=self.config.data.n_ahead(self.values.shape[1]),
        )


def fit_values(
    values: FloatArray,
    config: RunConfig,
    *,
    season: int = 1,
    progress: Callable[[str], None] | None = None,
) -> Fitted:
    """Fit a model on ``values`` as ``config`` says, scaling and validating without leakage.

    With ``config.train.ensemble`` = N > 1, N models are fitted on the same scaled data
    and splits from seeds ``seed .. seed + N - 1``, in one joint fit on the same batches
    (see :func:`train_members`); member 0 starts from the weights ``ensemble`` = 1 starts
    from.

    Args:
        values: Unscaled series, shape (n_steps, n_features); column 0 is the target.
        config: Model and training settings (the data section is not used here).
        season: Season length, for deseasonalisation.
        progress: Called with one line per stage, member and epoch.

    Raises:
        DataError: If the series is too short for the window, horizon and splits.
    """
    from seqcast import runtime

    runtime.import_keras_quietly()
    tc = config.train
    bounds = split_bounds(
        len(values), tc.sizes[0], tc.sizes[1], tc.val_fraction, tc.test_fraction
    )
    prep, scaled = fit_prep(values, bounds.train_end, config, season)
    train_starts = newest_starts(
        bounds.starts("train", *tc.sizes), tc.sizes[1], tc.history_horizons
    )
    val_starts = bounds.starts("validation", tc.sizes[0], tc.sizes[1])

    device = runtime.device_description()
    if progress:
        progress(
            f"training {config.model.model.value} on {len(train_starts)} windows ({device})"
        )
    raw = prep.raw().apply(values) if tc.seasonal_members < tc.ensemble else None
    holdout, fits = train_members(
        config, scaled, train_starts, val_starts, progress, raw=raw
    )
    final = holdout  # the same object unless refitted (see Fitted.refitted)
    if tc.refit and len(val_starts):
        all_starts = SplitBounds(
            n_steps=len(scaled), train_end=len(scaled), val_end=len(scaled)
        ).starts("train", *tc.sizes)
        all_starts = newest_starts(all_starts, tc.sizes[1], tc.history_horizons)
        final = refit_members(config, scaled, all_starts, fits, progress, raw=raw)
    return Fitted(
        models=final,
        holdout=holdout,
        prep=prep,
        bounds=bounds,
        fits=fits,
        config=config,
        values=values,
        device=device,
    )


def fit_prep(
    values: FloatArray, train_end: int, config: RunConfig, season: int
) -> tuple[Prep, FloatArray]:
    """Fit the target transform and scaler on rows ``[0, train_end)``; scale every row.

    Later rows are only checked for sign (see :func:`fit_transform`'s ``later``).

    Returns:
        The preparation and the scaled rows, shape (n_steps, n_features).
    """
    tc = config.train
    transform = _fit_target_transform(values, train_end, tc, season)
    z = transform.forward_values(values)
    static = config.data.n_ahead(values.shape[1]) - len(config.data.known)
    scaler = _fit_scaler(z[:train_end], tc, static)
    raw_scaler = None
    if _needs_raw_scaler(transform, tc):
        raw_scaler = _fit_scaler(values[:train_end], tc, static)
    prep = Prep(transform, scaler, raw_scaler)
    return prep, prep.scaler.transform(z)


def _fit_scaler(rows: FloatArray, tc: TrainConfig, static: int) -> Scaler:
    """Fit ``tc.scaler`` on ``rows``; the last ``static`` columns keep centre 0, scale 1."""
    scaler = Scaler(tc.scaler).fit(rows)
    if static > 0:  # 0/1 columns constant over the series: scaling would zero them
        scaler.center_[-static:] = 0.0
        scaler.scale_[-static:] = 1.0
    return scaler


def _needs_raw_scaler(transform: TargetTransform, tc: TrainConfig) -> bool:
    """Whether half the members read the series without its log (see :meth:`Prep.raw`)."""
    return (
        tc.seasonal_members < tc.ensemble
        and transform.kind is Transform.LOG
        and not transform.indices
    )


def refit_transform(
    prep: Prep, values: FloatArray, config: RunConfig, season: int
) -> tuple[Prep, FloatArray]:
    """Fit the target transform again on every row of ``values``, keeping ``prep``'s scaler.

    Returns:
        The new preparation and the rows scaled by it, shape (n_steps, n_features).
    """
    transform = _fit_target_transform(values, len(values), config.train, season)
    keep = _needs_raw_scaler(transform, config.train)
    again = Prep(transform, prep.scaler, prep.raw_scaler if keep else None)
    return again, again.apply(values)


def _fit_target_transform(
    values: FloatArray, train_end: int, tc: TrainConfig, season: int
) -> TargetTransform:
    """Fit the target transform on rows ``[0, train_end)``; later rows only for sign."""
    return fit_transform(
        values[:train_end, 0],
        transform=tc.transform,
        deseasonalize=tc.deseasonalize,
        season=season,
        later=values[train_end:, 0],
    )


def train_members(
    config: RunConfig,
    scaled: FloatArray,
    train_starts: IntArray,
    val_starts: IntArray,
    progress: Callable[[str], None] | None,
    *,
    raw: FloatArray | None = None,
) -> tuple[tuple[Any, ...], tuple[FitResult, ...]]:
    """Fit ``config.train.ensemble`` models (seeds ``seed``, ``seed + 1``, ...) on the windows at ``starts``.

    Every member starts from its own seed's weights; an ensemble trains in one joint
    ``fit`` (:func:`seqcast.model.build.joint_model`), on the same batches, and stops
    at the epoch of lowest mean validation loss of the members. With
    ``--deseasonalize mixed`` the members past :attr:`TrainConfig.seasonal_members` train in a
    second joint fit on ``raw`` (the same rows scaled through :meth:`Prep.raw`), with
    early stopping of their own.

    Args:
        config: Model and training settings, with window and horizon resolved.
        scaled: Scaled rows (n_steps, n_features); several series may lie end to end,
            as long as no start's window crosses from one into the next.
        train_starts: Starts of the training windows in ``scaled``.
        val_starts: Starts of the validation windows (early stopping); may be empty.
        progress: Called with one line per epoch.
        raw: The rows of ``scaled`` through :meth:`Prep.raw`, for the members that
            read each series one step less prepared: with its seasonal pattern, or
            without its log (needed with ``--deseasonalize mixed`` only).

    Returns:
        The models, with their best validation weights restored, and their fits (the
        joint fit once per member of it).
    """
    models: list[Any] = []
    fits: list[FitResult] = []
    for tc, rows in _groups(config.train, scaled, raw):
        if progress and tc.ensemble > 1:
            progress(
                f"{tc.ensemble} members (seeds {tc.seed} to {tc.seed + tc.ensemble - 1}) trained together"
                + (
                    ""
                    if rows is scaled
                    else ", reading each series one step less prepared"
                )
            )
        group, group_fits = _fit_members(
            config, rows, train_starts, val_starts, tc, progress
        )
        models += group
        fits += group_fits
    return tuple(models), tuple(fits)


def _groups(
    tc: TrainConfig, scaled: FloatArray, raw: FloatArray | None
) -> list[tuple[TrainConfig, FloatArray]]:
    """The settings (seeds and member count) and rows of each group of members.

    With ``--deseasonalize mixed`` and neither seasonal indices nor a log in any series
    (a yearly category of series that are not all positive), both groups would read the
    same rows: all members then train in one fit.
    """
    k = tc.seasonal_members
    if k == tc.ensemble:
        return [(tc, scaled)]
    if raw is None:
        raise ValueError("--deseasonalize mixed needs the rows scaled through Prep.raw")
    if np.array_equal(raw, scaled):
        return [(tc, scaled)]
    return [
        (dataclasses.replace(tc, ensemble=k), scaled),
        (dataclasses.replace(tc, ensemble=tc.ensemble - k, seed=tc.seed + k), raw),
    ]


def refit_members(
    config: RunConfig,
    scaled: FloatArray,
    starts: IntArray,
    fits: Sequence[FitResult],
    progress: Callable[[str], None] | None,
    *,
    raw: FloatArray | None = None,
) -> tuple[Any, ...]:
    """Fit the members again from their seeds on the windows at ``starts``, for the best epoch count.

    Each group of members (see :func:`train_members`) gets its own best epoch count.
    """
    models: list[Any] = []
    done = 0
    for tc, rows in _groups(config.train, scaled, raw):
        epochs = max(1, fits[done].best_epoch)
        done += tc.ensemble
        if progress:
            progress(
                f"final fit on all {len(starts)} windows for the best epoch count, {epochs}"
            )
        again = dataclasses.replace(tc, epochs=epochs, patience=0)
        empty = np.empty(0, dtype=np.int64)
        models += _fit_members(config, rows, starts, empty, again, progress)[0]
    return tuple(models)


def _fit_members(
    config: RunConfig,
    scaled: FloatArray,
    train_starts: IntArray,
    val_starts: IntArray,
    tc: TrainConfig,
    progress: Callable[[str], None] | None,
) -> tuple[tuple[Any, ...], tuple[FitResult, ...]]:
    """Build the members from their seeds and train them in one fit (``tc`` says how)."""
    from seqcast.model import build as models
    from seqcast.model import training
    from seqcast.prep.windows import window_data

    window, horizon = tc.sizes
    n = tc.ensemble
    members = []
    with interrupts.held():  # building runs Keras' native code too
        for member in range(n):
            training.set_seed(tc.seed + member)
            members.append(
                models.build_model(
                    config.model,
                    window=window,
                    n_features=scaled.shape[1],
                    horizon=horizon,
                )
            )
    batches = functools.partial(
        window_data,
        scaled,
        window=window,
        horizon=horizon,
        batch_size=tc.batch_size,
        seed=tc.seed,
        norm=tc.window_norm,
        repeat_targets=n,
        known=config.data.n_ahead(scaled.shape[1]),
    )
    train_data = batches(train_starts, shuffle=True)
    val_data = batches(val_starts, shuffle=False) if len(val_starts) else None
    with interrupts.held():
        model = members[0] if n == 1 else models.joint_model(members)
        # Keras shuffles arrays from the seeded generators: the same order for any size
        # of ensemble, so that member 0 trains as a single model would.
        training.set_seed(tc.seed)
        fit = training.fit(model, train_data, val_data, tc, progress=progress)
    return tuple(members), (fit,) * n


def mean_predict(
    predicts: Sequence[Predict], combine: Combine = Combine.MEAN
) -> Predict:
    """Combine ensemble members into one prediction function: the mean or median of their outputs.

    Every step after a member's output (window de-normalisation, inverse scaling, the
    inverse target transform) is the same increasing map for every member, so the
    median of the outputs gives the median of the members' forecasts in the series'
    units; the affine steps also carry the mean over (the exp of a log transform makes
    it the geometric mean of the members' forecasts). A single member is returned
    unchanged.

    Args:
        predicts: Functions mapping windows (n, window, n_features) to (n, horizon).
        combine: ``mean`` or ``median``, taken elementwise over the members.

    Returns:
        A function returning a new float64 array of shape (n, horizon).
    """
    members = tuple(predicts)
    if len(members) == 1:
        return members[0]
    reduce = np.median if Combine(combine) is Combine.MEDIAN else np.mean

    def predict(x: Float32Array) -> FloatArray:
        outputs = np.asarray([m(x) for m in members], dtype=np.float64)
        return np.asarray(reduce(outputs, axis=0), dtype=np.float64)

    return predict


def predict_windows(
    members: Members,
    prep: Prep,
    values: FloatArray,
    starts: IntArray,
    window: int,
    horizon: int,
    norm: WindowNorm,
    first_row: int = 0,
    known: int = 0,
) -> FloatArray:
    """Predict every window in one pass; forecasts in the series' units, (n_windows, horizon).

    Args:
        members: The ensemble's prediction functions; the forecasts of its groups are
            blended (:func:`blend`).
        prep: The fitted target transform and scaler.
        values: Unscaled rows, shape (n_steps, n_features); row i is the transform's
            row ``first_row + i``.
        starts: Window start rows in ``values``.
        window: Input steps.
        horizon: Forecast steps.
        norm: Per-window normalisation.
        first_row: Row of ``values[0]`` counted from the first training row.
        known: Known-ahead columns, last in every row (read ``horizon`` rows ahead).
    """
    rows = first_row + np.asarray(starts)[:, None] + window + np.arange(horizon)
    forecasts = []
    for predict, group_prep in members.parts(prep):
        scaled = group_prep.apply(values, first_row)
        x, y = gather_windows(scaled, starts, window, horizon, known)
        xn, _, offset = normalize_windows(x, y, norm)
        predicted = denormalize(predict(xn.astype(np.float32)), offset)
        forecasts.append(
            group_prep.invert(np.asarray(predicted, dtype=np.float64), rows)
        )
    return blend(forecasts, prep)
