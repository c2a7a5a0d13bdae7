"""Sliding windows as views, time-ordered splits, and batches that never copy every window."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeVar, overload

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view

from seqcast._types import Float32Array, FloatArray, IntArray
from seqcast.config import WindowNorm
from seqcast.errors import ConfigError, DataError

if TYPE_CHECKING:
    import keras

Part = Literal["train", "validation", "test"]

_A = TypeVar("_A", FloatArray, Float32Array)


def make_windows(
    values: FloatArray, window: int, horizon: int, known: int = 0
) -> tuple[FloatArray, FloatArray]:
    """Cut a scaled series into supervised (input, target) pairs without copying.

    Args:
        values: Series of shape (n_steps, n_features); column 0 is the target. A 1-D
            series is treated as one column.
        window: Steps fed to the model per sample.
        horizon: Target steps predicted per sample.
        known: The last ``known`` columns are known ahead: x reads them ``horizon``
            rows later than the others, so a window's last ``horizon`` rows carry
            their values over the forecast period (see :func:`lead_known`).

    Returns:
        Read-only views: x of shape (n_windows, window, n_features) and y of shape
        (n_windows, horizon), n_windows = n_steps - window - horizon + 1. For steps
        0..9 with window=3 and horizon=2: x[0] = steps 0-2, y[0] = steps 3-4, and the
        last pair is x[5] = steps 5-7, y[5] = steps 8-9. The views share memory with
        ``values`` (after a conversion to float64, which copies only if needed);
        with ``known``, x views one led copy of the series instead.

    Raises:
        ConfigError: If window or horizon is below 1.
        DataError: If n_steps < window + horizon.
    """
    data = _as_2d(values)
    _check_sizes(window, horizon)
    n_steps = data.shape[0]
    if n_steps < window + horizon:
        raise DataError(
            f"Series has {n_steps} rows but window={window} + horizon={horizon} needs {window + horizon}. Use a smaller window or horizon, or load more history."
        )
    inputs = lead_known(data, known, horizon) if known else data[: n_steps - horizon]
    # (n_windows, n_features, window) -> (n_windows, window, n_features); both read-only views.
    x = sliding_window_view(inputs, window, axis=0).transpose(0, 2, 1)
    y = sliding_window_view(data[window:, 0], horizon)
    return x, y


def lead_known(values: FloatArray, known: int, lead: int) -> FloatArray:
    """Return the rows a window reads: the last ``known`` columns ``lead`` rows ahead.

    Row s of the result holds the other columns of row s and the known columns of row
    ``s + lead``; it has ``n_steps - lead`` rows. Example: target ``[1, 2, 3, 4]``
    beside a known column ``[10, 20, 30, 40]`` with lead 2 gives rows ``(1, 30), (2,
    40)``: the input row of time 1 carries the known value of time 3. A window whose
    targets are rows ``t + 1 .. t + lead`` then sees the known values of those rows
    in its last ``lead`` input rows, and never any row past its last target.

    Args:
        values: Rows (n_steps, n_features), known columns last.
        known: How many of the last columns are known ahead (1 or more).
        lead: Rows ahead they are read (the horizon).
    """
    n = len(values) - lead
    out = np.empty((max(n, 0), values.shape[1]), dtype=np.float64)
    split = values.shape[1] - known
    out[:, :split] = values[:n, :split]
    out[:, split:] = values[lead : lead + n, split:]
    return out


def gather_windows(
    values: FloatArray,
    starts: npt.ArrayLike,
    window: int,
    horizon: int,
    known: int = 0,
) -> tuple[FloatArray, FloatArray]:
    """Copy the windows that begin at ``starts`` into contiguous arrays, in one pass.

    Args:
        values: Series of shape (n_steps, n_features); column 0 is the target.
        starts: Window start rows, shape (n,); each s needs s + window + horizon <= n_steps.
        window: Steps fed to the model per sample.
        horizon: Target steps predicted per sample.
        known: Known-ahead columns, last (see :func:`make_windows`).

    Returns:
        New float64 arrays x of shape (n, window, n_features) and y of shape
        (n, horizon), equal to ``make_windows(values, window, horizon)`` indexed by
        ``starts``: x[i] = rows starts[i] .. starts[i]+window-1, y[i] = column 0 of rows
        starts[i]+window .. starts[i]+window+horizon-1.

    Raises:
        ConfigError: If window or horizon is below 1.
        DataError: If the series is shorter than window + horizon.
        ValueError: If a start lies outside 0 .. n_steps - window - horizon.
    """
    x_view, y_view = make_windows(values, window, horizon, known)
    index = _check_starts(starts, len(x_view))
    return np.array(x_view[index], dtype=np.float64), np.array(
        y_view[index], dtype=np.float64
    )


@dataclass(frozen=True, slots=True)
class SplitBounds:
    """Row boundaries of a time-ordered train/validation/test split.

    Rows [0, train_end) are training, [train_end, val_end) validation and
    [val_end, n_steps) test. A window belongs to the part that holds all its target
    rows; its inputs may reach back into earlier parts, never forward.

    Attributes:
        n_steps: Rows in the series.
        train_end: First row after the training part.
        val_end: First row after the validation part (= train_end when there is none).
    """

    n_steps: int
    train_end: int
    val_end: int

    def __post_init__(self) -> None:
        if not 0 <= self.train_end <= self.val_end <= self.n_steps:
            raise ValueError(
                f"SplitBounds needs 0 <= train_end <= val_end <= n_steps, got train_end={self.train_end}, val_end={self.val_end}, n_steps={self.n_steps}."
            )

    def rows(self, part: Part) -> tuple[int, int]:
        """Return the half-open row range [first, stop) of one part."""
        if part == "train":
            return 0, self.train_end
        if part == "validation":
            return self.train_end, self.val_end
        if part == "test":
            return self.val_end, self.n_steps
        raise ValueError(f"part={part!r} is not one of: train, validation, test.")

    def starts(self, part: Part, window: int, horizon: int) -> IntArray:
        """Return the window starts whose target rows all lie in ``part``.

        A start s has inputs at rows s .. s+window-1 and targets at rows
        s+window .. s+window+horizon-1. For a part spanning rows [lo, hi) the starts
        are max(0, lo - window) .. hi - window - horizon, inclusive. Example with
        n_steps=20, train_end=12, val_end=16, window=4, horizon=2: train starts 0..6
        (targets up to row 11), validation starts 8..10 (targets rows 12..15), test
        starts 12..14 (targets rows 16..19).

        Args:
            part: ``"train"``, ``"validation"`` or ``"test"``.
            window: Steps fed to the model per sample.
            horizon: Target steps predicted per sample.

        Returns:
            Contiguous, increasing int64 starts of shape (n_windows,); empty when the
            part holds fewer than horizon rows.

        Raises:
            ConfigError: If window or horizon is below 1.
        """
        _check_sizes(window, horizon)
        lo, hi = self.rows(part)
        first = max(0, lo - window)
        last = hi - window - horizon
        return np.arange(first, max(first, last + 1), dtype=np.int64)


def newest_starts(starts: IntArray, horizon: int, history_horizons: float) -> IntArray:
    """Keep the starts of windows whose targets end in the last ``history_horizons`` horizons.

    ``starts`` are contiguous and increasing (:meth:`SplitBounds.starts`), so the windows
    whose last target row lies within the newest ``ceil(history_horizons * horizon)``
    rows of the part are its last that many starts. Example: starts 0..9, horizon 2,
    history_horizons 1.5 keep starts 7, 8, 9. ``history_horizons`` 0 keeps them all
    (the same array).
    """
    if history_horizons <= 0:
        return starts
    keep = max(1, math.ceil(history_horizons * horizon))
    return starts[-keep:]


def split_bounds(
    n_steps: int, window: int, horizon: int, val_fraction: float, test_fraction: float
) -> SplitBounds:
    """Split n_steps rows into train, validation and test parts, in time order.

    The test part is the last ``max(horizon, round(test_fraction * n_steps))`` rows
    when test_fraction > 0 (else empty), the validation part the same many rows
    before it for val_fraction, and training the rest, which must hold at least
    window + horizon rows. Example: n_steps=100, window=10, horizon=3,
    val_fraction=0.15, test_fraction=0.1 gives train rows 0-74, validation 75-89,
    test 90-99 (SplitBounds(100, 75, 90)).

    Args:
        n_steps: Rows in the series.
        window: Steps fed to the model per sample.
        horizon: Target steps predicted per sample.
        val_fraction: Share of rows for validation, 0 <= val_fraction < 1.
        test_fraction: Share of rows for the test part, 0 <= test_fraction < 1.

    Returns:
        The bounds.

    Raises:
        ConfigError: If window or horizon is below 1, or a fraction is out of range.
        DataError: If the training part would be shorter than window + horizon.
    """
    _check_sizes(window, horizon)
    for name, value in (
        ("val_fraction", val_fraction),
        ("test_fraction", test_fraction),
    ):
        if not 0.0 <= value < 1.0:
            raise ConfigError(
                f"{name}={value} must be at least 0 and below 1. Use a share such as 0.15."
            )
    n_test = max(horizon, round(test_fraction * n_steps)) if test_fraction > 0 else 0
    n_val = max(horizon, round(val_fraction * n_steps)) if val_fraction > 0 else 0
    train_end = n_steps - n_val - n_test
    if train_end < window + horizon:
        raise DataError(
            f"Series has {n_steps} rows but window={window} + horizon={horizon} needs at least {window + horizon} training rows plus {n_val} validation and {n_test} test rows. Use a smaller window or horizon, smaller --val-fraction/--test-fraction, or load more history."
        )
    return SplitBounds(n_steps=n_steps, train_end=train_end, val_end=train_end + n_val)


@overload
def normalize_windows(x: _A, y: _A, norm: WindowNorm) -> tuple[_A, _A, _A]: ...
@overload
def normalize_windows(x: _A, y: None, norm: WindowNorm) -> tuple[_A, None, _A]: ...
def normalize_windows(
    x: _A, y: _A | None, norm: WindowNorm
) -> tuple[_A, _A | None, _A]:
    """Express each window relative to its own level: its last observed target, or their mean.

    With ``WindowNorm.LAST`` the offset of window i is ``x[i, -1, 0]``, with
    ``WindowNorm.MEAN`` the mean of ``x[i, :, 0]``; it is subtracted from the target
    column of the inputs, ``x[i, :, 0]``, and from the targets ``y[i]``. Feature
    columns are left alone. Example: x[i, :, 0] = [3, 4, 5] and y[i] = [6, 7] become
    [-2, -1, 0] and [1, 2] with offset[i] = [5] (``LAST``), or [-1, 0, 1] and [2, 3]
    with offset[i] = [4] (``MEAN``).

    Args:
        x: Inputs of shape (n_windows, window, n_features), float32 or float64.
        y: Targets of shape (n_windows, horizon), or None (when forecasting).
        norm: ``WindowNorm.NONE``, ``LAST`` or ``MEAN``.

    Returns:
        (x, y, offset), offset of shape (n_windows, 1) in x's dtype. With ``NONE`` x
        and y are returned as given (no copy) and offset is zeros; otherwise x and y
        are new arrays.
    """
    offset = np.zeros((x.shape[0], 1), dtype=x.dtype)
    kind = WindowNorm(norm)
    if kind is WindowNorm.NONE:
        return x, y, offset
    offset[:, 0] = x[:, -1, 0] if kind is WindowNorm.LAST else x[:, :, 0].mean(axis=1)
    x_out = x.copy()
    x_out[:, :, 0] -= offset
    y_out = None if y is None else (y - offset).astype(x.dtype, copy=False)
    return x_out, y_out, offset


def denormalize(yhat: _A, offset: npt.NDArray[np.floating[Any]]) -> _A:
    """Undo ``normalize_windows`` on predictions: ``yhat + offset``.

    Args:
        yhat: Predictions of shape (n_windows, horizon) in window-relative units.
        offset: Offsets of shape (n_windows, 1) returned by ``normalize_windows``.

    Returns:
        A new array of yhat's shape and dtype, in (globally scaled) series units.
    """
    return (yhat + offset).astype(yhat.dtype, copy=False)


def window_batches(
    values: FloatArray,
    starts: npt.ArrayLike,
    window: int,
    horizon: int,
    batch_size: int,
    *,
    shuffle: bool,
    seed: int,
    norm: WindowNorm,
    repeat_targets: int = 1,
    known: int = 0,
) -> keras.utils.PyDataset:
    """Serve float32 (x, y) batches to Keras, copying only one batch of windows at a time.

    The dataset keeps the series and the starts; each ``dataset[i]`` gathers the
    windows of batch i from read-only views by fancy indexing, applies ``norm`` and
    casts to float32. With shuffle, the order of starts is a permutation drawn from
    ``(seed, epoch)``, so it changes every epoch (``on_epoch_end``) and repeats across
    runs with the same seed; pass ``shuffle=False`` to ``model.fit`` so Keras does
    not reorder batches as well. Example: 10 starts with batch_size=4 give 3 batches
    of 4, 4 and 2 windows.

    Args:
        values: Scaled series of shape (n_steps, n_features); column 0 is the target.
        starts: Window start rows, shape (n_windows,), e.g. ``SplitBounds.starts``.
        window: Steps fed to the model per sample.
        horizon: Target steps predicted per sample.
        batch_size: Windows per batch (the last batch may be smaller).
        shuffle: Shuffle the windows each epoch (training) or keep them in order.
        seed: Seed of the shuffle.
        norm: Per-window normalisation applied to every batch.
        repeat_targets: Serve y repeated this many times side by side, (b, horizon *
            repeat_targets), for a joint model of that many members whose outputs
            are laid side by side (see ``seqcast.model.build.joint_model``).
        known: Known-ahead columns, last (see :func:`make_windows`).

    Returns:
        A ``keras.utils.PyDataset`` of ceil(n_windows / batch_size) batches, each x of
        shape (b, window, n_features) and y of shape (b, horizon * repeat_targets),
        float32.

    Raises:
        ConfigError: If window, horizon or batch_size is below 1.
        DataError: If the series is shorter than window + horizon, or starts is empty.
        ValueError: If a start lies outside 0 .. n_steps - window - horizon.
    """
    if batch_size < 1:
        raise ConfigError(
            f"batch_size={batch_size} must be at least 1. Use --batch-size 1 or more."
        )
    data = _as_2d(values)
    x_view, _ = make_windows(data, window, horizon)  # views: checks sizes, counts
    index = _check_starts(starts, len(x_view))
    if index.size == 0:
        raise DataError(
            f"No windows to batch: 0 starts for window={window} and horizon={horizon}. Use a smaller window or horizon, or load more history."
        )
    dataset_class = _window_dataset_class()
    dataset: keras.utils.PyDataset = dataset_class(
        data,
        index.copy(),
        window,
        horizon,
        batch_size,
        shuffle=shuffle,
        seed=seed,
        norm=WindowNorm(norm),
        repeat_targets=repeat_targets,
        known=known,
    )
    return dataset


WINDOW_ARRAYS_MAX_BYTES = 128 * 2**20
"""Largest float32 copy of every training window that :func:`window_data` makes.

Below it the windows are cut once into arrays, which Keras slices and shuffles
itself: serving a ``PyDataset``'s batches one by one from Python cost a small network
1.5x to 1.9x the time of a plain ``model.fit`` on arrays (BENCHMARKS.md, section 4).
Above it, batches are cut on demand (:func:`window_batches`), so memory stays bounded
however many series and rows there are. Keras may hold one more copy of the arrays
while it trains, so the cap bounds about twice this."""


def window_bytes(
    n_windows: int, window: int, horizon: int, n_features: int, repeat_targets: int = 1
) -> int:
    """Bytes of float32 inputs and targets for ``n_windows`` windows (see :func:`window_arrays`).

    Example: 1,000 windows of 30 rows by 2 columns with a horizon of 6 take
    1,000 * (30 * 2 + 6) * 4 = 264,000 bytes.
    """
    return 4 * n_windows * (window * n_features + horizon * repeat_targets)


def window_arrays(
    values: FloatArray,
    starts: npt.ArrayLike,
    window: int,
    horizon: int,
    *,
    norm: WindowNorm,
    repeat_targets: int = 1,
    known: int = 0,
    chunk: int = 65_536,
) -> tuple[Float32Array, Float32Array]:
    """Cut the windows at ``starts`` into float32 arrays, normalised as ``norm`` says.

    The same windows, in the same order, as the batches of :func:`window_batches`
    without shuffling, laid end to end: x (n, window, n_features) and y (n, horizon *
    repeat_targets). They are filled ``chunk`` windows at a time, so the float64
    intermediates never exceed one chunk.

    Raises:
        ConfigError: If window or horizon is below 1.
        DataError: If the series is shorter than window + horizon.
        ValueError: If a start lies outside 0 .. n_steps - window - horizon.
    """
    data = _as_2d(values)
    x_view, y_view = make_windows(data, window, horizon, known)
    index = _check_starts(starts, len(x_view))
    n = index.size
    x = np.empty((n, window, data.shape[1]), dtype=np.float32)
    y = np.empty((n, horizon * repeat_targets), dtype=np.float32)
    for lo in range(0, n, chunk):
        batch = index[lo : lo + chunk]
        xb, yb, _ = normalize_windows(x_view[batch], y_view[batch], WindowNorm(norm))
        x[lo : lo + len(batch)] = xb
        y[lo : lo + len(batch)] = np.tile(yb, (1, repeat_targets))
    return x, y


def window_data(
    values: FloatArray,
    starts: npt.ArrayLike,
    window: int,
    horizon: int,
    batch_size: int,
    *,
    shuffle: bool,
    seed: int,
    norm: WindowNorm,
    repeat_targets: int = 1,
    known: int = 0,
    max_bytes: int = WINDOW_ARRAYS_MAX_BYTES,
) -> Any:
    """Training or validation data for ``seqcast.model.training.fit``: arrays or batches.

    Returns a pair of float32 arrays (:func:`window_arrays`) when every window fits in
    ``max_bytes``; Keras then batches them by ``batch_size`` and, for training,
    shuffles them every epoch from the seeded generators. Otherwise returns the
    on-demand batches of :func:`window_batches` (which shuffle themselves from
    ``seed``). Either way the model sees the same windows, normalised alike.
    """
    data = _as_2d(values)
    n = np.asarray(starts).size
    # No starts goes to window_batches, which says so.
    if (
        n
        and window_bytes(n, window, horizon, data.shape[1], repeat_targets) <= max_bytes
    ):
        return window_arrays(
            data,
            starts,
            window,
            horizon,
            norm=norm,
            repeat_targets=repeat_targets,
            known=known,
        )
    return window_batches(
        data,
        starts,
        window,
        horizon,
        batch_size,
        shuffle=shuffle,
        seed=seed,
        norm=norm,
        repeat_targets=repeat_targets,
        known=known,
    )


@functools.cache
def _window_dataset_class() -> type[Any]:
    """Define the PyDataset subclass on first use, so importing this module skips Keras."""
    import keras

    class WindowBatches(keras.utils.PyDataset):  # type: ignore[misc]
        """Batches of windows cut from a series on demand; see ``window_batches``."""

        def __init__(
            self,
            values: FloatArray,
            starts: IntArray,
            window: int,
            horizon: int,
            batch_size: int,
            *,
            shuffle: bool,
            seed: int,
            norm: WindowNorm,
            repeat_targets: int = 1,
            known: int = 0,
        ) -> None:
            super().__init__()
            self.values = values
            self.starts = starts
            # Read-only views of ``values``: indexing them copies one batch only.
            self._x_view, self._y_view = make_windows(values, window, horizon, known)
            self.window = window
            self.horizon = horizon
            self.batch_size = batch_size
            self.shuffle = shuffle
            self.seed = seed
            self.norm = norm
            self.repeat_targets = repeat_targets
            self.epoch = 0
            self.order = self._order_for(0)

        def _order_for(self, epoch: int) -> IntArray | None:
            """Positions into ``starts`` in this epoch's order; None keeps them in order.

            Batches index ``starts`` through these positions, so an epoch holds one
            permutation (8 bytes per window) rather than a shuffled copy of the starts too.
            """
            if not self.shuffle:
                return None
            rng = np.random.default_rng([self.seed, epoch])
            return rng.permutation(self.starts.size)

        def __len__(self) -> int:
            return math.ceil(self.starts.size / self.batch_size)

        def __getitem__(self, index: int) -> tuple[Float32Array, Float32Array]:
            if not 0 <= index < len(self):
                raise IndexError(
                    f"batch index={index} is out of range for {len(self)} batches."
                )
            rows = slice(index * self.batch_size, (index + 1) * self.batch_size)
            batch = self.starts[rows if self.order is None else self.order[rows]]
            x, y, _ = normalize_windows(
                self._x_view[batch], self._y_view[batch], self.norm
            )
            if self.repeat_targets > 1:
                y = np.tile(y, (1, self.repeat_targets))
            return x.astype(np.float32), y.astype(np.float32)

        def on_epoch_end(self) -> None:
            self.epoch += 1
            self.order = self._order_for(self.epoch)

    return WindowBatches


def _as_2d(values: npt.ArrayLike) -> FloatArray:
    data = np.asarray(values, dtype=np.float64)
    if data.ndim == 1:
        return data.reshape(-1, 1)
    if data.ndim != 2:
        raise DataError(
            f"Series values must have shape (n_steps, n_features), got shape {data.shape}. Pass one row per time step."
        )
    return data


def _check_sizes(window: int, horizon: int) -> None:
    for name, value in (("window", window), ("horizon", horizon)):
        if value < 1:
            raise ConfigError(
                f"{name}={value} must be at least 1. Use --{name} 1 or more."
            )


def _check_starts(starts: npt.ArrayLike, n_windows: int) -> IntArray:
    index = np.asarray(starts)
    if index.ndim != 1 or (index.size and not np.issubdtype(index.dtype, np.integer)):
        raise ValueError(
            f"starts must be a 1-D array of integers, got shape {index.shape} and dtype {index.dtype}."
        )
    index = index.astype(np.int64, copy=False)
    if index.size and (index.min() < 0 or index.max() >= n_windows):
        raise ValueError(
            f"starts must lie in 0..{n_windows - 1}, got {int(index.min())}..{int(index.max())}."
        )
    return index
