from __future__ import annotations

import math
import subprocess
import sys
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from seqcast.config import WindowNorm
from seqcast.errors import ConfigError, DataError
from seqcast.prep.windows import (
    SplitBounds,
    denormalize,
    gather_windows,
    make_windows,
    newest_starts,
    normalize_windows,
    split_bounds,
    window_arrays,
    window_batches,
    window_bytes,
    window_data,
)

PARTS = ("train", "validation", "test")


def _ramp(n: int, n_features: int = 1) -> np.ndarray:
    """Series whose target equals its time index; feature k is index * 10**k."""
    t = np.arange(n, dtype=np.float64)
    return np.stack([t * 10.0**k for k in range(n_features)], axis=1)


@given(n=st.integers(2, 300), window=st.integers(1, 40), horizon=st.integers(1, 10))
def test_windows_are_aligned_views(n: int, window: int, horizon: int) -> None:
    assume(window + horizon <= n)
    values = np.arange(n, dtype=np.float64).reshape(-1, 1)  # value == time index
    x, y = make_windows(values, window=window, horizon=horizon)
    assert x.shape == (n - window - horizon + 1, window, 1)
    np.testing.assert_array_equal(x[:, 0, 0], np.arange(len(x)))  # window i starts at i
    np.testing.assert_array_equal(y[:, 0], x[:, -1, 0] + 1)  # target follows window
    assert np.shares_memory(x, values)
    assert not x.flags.writeable


@settings(max_examples=50)
@given(
    n=st.integers(2, 80),
    window=st.integers(1, 20),
    horizon=st.integers(1, 8),
    n_features=st.integers(1, 3),
)
def test_windows_match_index_oracle_for_every_feature(
    n: int, window: int, horizon: int, n_features: int
) -> None:
    assume(window + horizon <= n)
    values = _ramp(n, n_features)
    x, y = make_windows(values, window, horizon)
    n_windows = n - window - horizon + 1
    assert x.shape == (n_windows, window, n_features)
    assert y.shape == (n_windows, horizon)
    rows = np.arange(n_windows)[:, None] + np.arange(window)[None, :]
    for k in range(n_features):
        np.testing.assert_array_equal(x[:, :, k], rows * 10.0**k)
    np.testing.assert_array_equal(
        y, np.arange(n_windows)[:, None] + window + np.arange(horizon)[None, :]
    )
    assert np.shares_memory(y, values)
    assert not y.flags.writeable


def test_docstring_example_and_one_dimensional_input() -> None:
    x, y = make_windows(np.arange(10, dtype=np.float64), window=3, horizon=2)
    assert x.shape == (6, 3, 1)
    np.testing.assert_array_equal(x[0, :, 0], [0, 1, 2])
    np.testing.assert_array_equal(y[0], [3, 4])
    np.testing.assert_array_equal(x[5, :, 0], [5, 6, 7])
    np.testing.assert_array_equal(y[5], [8, 9])


def test_make_windows_rejects_short_series() -> None:
    with pytest.raises(DataError) as info:
        make_windows(np.zeros((4, 1)), window=3, horizon=2)
    assert (
        str(info.value)
        == "Series has 4 rows but window=3 + horizon=2 needs 5. Use a smaller window or horizon, or load more history."
    )


@pytest.mark.parametrize(
    ("window", "horizon", "message"),
    [
        (0, 1, "window=0 must be at least 1. Use --window 1 or more."),
        (2, -1, "horizon=-1 must be at least 1. Use --horizon 1 or more."),
    ],
)
def test_make_windows_rejects_sizes_below_one(
    window: int, horizon: int, message: str
) -> None:
    with pytest.raises(ConfigError) as info:
        make_windows(np.zeros((10, 1)), window=window, horizon=horizon)
    assert str(info.value) == message


def _oracle_starts(
    bounds: SplitBounds, part: str, window: int, horizon: int
) -> list[int]:
    lo, hi = bounds.rows(part)  # type: ignore[arg-type]
    return [
        s
        for s in range(bounds.n_steps - window - horizon + 1)
        if lo <= s + window and s + window + horizon <= hi
    ]


@settings(max_examples=150, deadline=None)
@given(
    n=st.integers(2, 200),
    window=st.integers(1, 30),
    horizon=st.integers(1, 12),
    val_fraction=st.sampled_from([0.0, 0.05, 0.1, 0.15, 0.2, 0.3, 0.45]),
    test_fraction=st.sampled_from([0.0, 0.05, 0.1, 0.15, 0.2, 0.3, 0.45]),
)
def test_split_parts_never_leak(
    n: int, window: int, horizon: int, val_fraction: float, test_fraction: float
) -> None:
    n_test = max(horizon, round(test_fraction * n)) if test_fraction > 0 else 0
    n_val = max(horizon, round(val_fraction * n)) if val_fraction > 0 else 0
    if n - n_val - n_test < window + horizon:
        with pytest.raises(
            DataError,
            match=rf"^Series has {n} rows but window={window} \+ horizon={horizon} needs at least",
        ):
            split_bounds(n, window, horizon, val_fraction, test_fraction)
        return
    bounds = split_bounds(n, window, horizon, val_fraction, test_fraction)
    assert bounds == SplitBounds(n, n - n_val - n_test, n - n_test)
    seen: set[int] = set()
    for part in PARTS:
        starts = bounds.starts(part, window, horizon)  # type: ignore[arg-type]
        assert starts.dtype == np.int64
        # Exactly the windows whose targets all lie in the part, as one contiguous range.
        assert starts.tolist() == _oracle_starts(bounds, part, window, horizon)
        if starts.size:
            np.testing.assert_array_equal(np.diff(starts), 1)
        assert not seen & set(starts.tolist())
        seen |= set(starts.tolist())
        first_target, last_target = starts + window, starts + window + horizon - 1
        lo, hi = bounds.rows(part)  # type: ignore[arg-type]
        assert np.all(first_target >= lo)
        assert np.all(last_target < hi)
    train = bounds.starts("train", window, horizon)
    val = bounds.starts("validation", window, horizon)
    test = bounds.starts("test", window, horizon)
    assert train.size >= 1
    assert np.all(
        train + window + horizon <= bounds.train_end
    )  # train targets never reach validation
    assert np.all(
        val + window + horizon <= bounds.val_end
    )  # validation targets never reach test
    assert np.all(test + window >= bounds.val_end)  # test targets all in the test part
    assert (val.size >= 1) == (val_fraction > 0)
    assert (test.size >= 1) == (test_fraction > 0)


@given(
    n=st.integers(2, 200),
    window=st.integers(1, 20),
    horizon=st.integers(1, 12),
    history=st.sampled_from([0.0, 0.5, 1.0, 1.5, 2.0, 5.0, 40.0]),
)
def test_newest_starts_keep_the_windows_ending_in_the_last_horizons(
    n: int, window: int, horizon: int, history: float
) -> None:
    assume(n >= window + horizon)
    bounds = SplitBounds(n, n, n)
    starts = bounds.starts("train", window, horizon)
    kept = newest_starts(starts, horizon, history)
    if history == 0:
        assert kept is starts
        return
    # Oracle: the last target row of a kept window lies in the newest
    # ceil(history * horizon) rows (at least one window is kept).
    newest_rows = max(1, math.ceil(history * horizon))
    last_target = starts + window + horizon - 1
    want = starts[last_target >= n - newest_rows]
    if not want.size:
        want = starts[-1:]
    assert kept.tolist() == want.tolist()


def test_newest_starts_docstring_example() -> None:
    assert newest_starts(np.arange(10), 2, 1.5).tolist() == [7, 8, 9]


def test_split_bounds_docstring_examples() -> None:
    assert split_bounds(100, 10, 3, 0.15, 0.1) == SplitBounds(100, 75, 90)
    bounds = SplitBounds(20, 12, 16)
    assert bounds.starts("train", 4, 2).tolist() == list(range(7))
    assert bounds.starts("validation", 4, 2).tolist() == [8, 9, 10]
    assert bounds.starts("test", 4, 2).tolist() == [12, 13, 14]
    assert split_bounds(50, 5, 2, 0.0, 0.0) == SplitBounds(50, 50, 50)


def test_split_bounds_rejects_short_series() -> None:
    with pytest.raises(DataError) as info:
        split_bounds(30, 24, 2, 0.2, 0.2)
    assert str(info.value) == (
        "Series has 30 rows but window=24 + horizon=2 needs at least 26 training rows plus 6 validation and 6 test rows."
        " Use a smaller window or horizon, smaller --val-fraction/--test-fraction, or load more history."
    )


def test_split_bounds_rejects_bad_fraction() -> None:
    with pytest.raises(ConfigError) as info:
        split_bounds(100, 5, 1, 1.0, 0.1)
    assert (
        str(info.value)
        == "val_fraction=1.0 must be at least 0 and below 1. Use a share such as 0.15."
    )


def test_split_bounds_validates_order() -> None:
    with pytest.raises(ValueError, match="train_end=5, val_end=4"):
        SplitBounds(10, 5, 4)


@settings(max_examples=50, deadline=None)
@given(
    x=st.tuples(st.integers(1, 6), st.integers(1, 5), st.integers(1, 3)).flatmap(
        lambda s: arrays(
            np.float64, s, elements=st.floats(-1e3, 1e3, allow_subnormal=False)
        )
    ),
    horizon=st.integers(1, 4),
    norm=st.sampled_from(list(WindowNorm)),
    dtype=st.sampled_from([np.float64, np.float32]),
)
def test_normalize_then_denormalize_round_trips(
    x: np.ndarray, horizon: int, norm: WindowNorm, dtype: type
) -> None:
    x = x.astype(dtype)
    y: np.ndarray = (x[:, -1:, 0] + np.arange(1, horizon + 1)).astype(dtype)
    x_n, y_n, offset = normalize_windows(x, y, norm)
    assert offset.shape == (len(x), 1)
    assert x_n.dtype == y_n.dtype == offset.dtype == dtype
    tol = 1e-3 if dtype is np.float32 else 1e-9
    np.testing.assert_allclose(denormalize(y_n, offset), y, atol=tol)
    np.testing.assert_allclose(x_n[:, :, 0] + offset, x[:, :, 0], atol=tol)
    np.testing.assert_array_equal(x_n[:, :, 1:], x[:, :, 1:])  # features untouched
    if norm is WindowNorm.LAST:
        np.testing.assert_array_equal(x_n[:, -1, 0], 0.0)
        np.testing.assert_array_equal(offset[:, 0], x[:, -1, 0])
    elif norm is WindowNorm.MEAN:
        np.testing.assert_allclose(x_n[:, :, 0].mean(axis=1), 0.0, atol=tol * 10)
        np.testing.assert_allclose(
            offset[:, 0], [sum(map(float, w)) / len(w) for w in x[:, :, 0]], atol=tol
        )
    else:
        assert x_n is x
        assert y_n is y
        np.testing.assert_array_equal(offset, 0.0)


def test_normalize_last_example_and_without_targets() -> None:
    x, y = make_windows(np.arange(3, 8, dtype=np.float64), window=3, horizon=2)
    x_n, y_n, offset = normalize_windows(x, y, WindowNorm.LAST)
    np.testing.assert_array_equal(x_n[0, :, 0], [-2, -1, 0])
    np.testing.assert_array_equal(y_n[0], [1, 2])
    np.testing.assert_array_equal(offset, [[5.0]])
    assert not np.shares_memory(x_n, x)
    x_only, none, offset_only = normalize_windows(x, None, WindowNorm.LAST)
    assert none is None
    np.testing.assert_array_equal(x_only, x_n)
    np.testing.assert_array_equal(offset_only, offset)
    x_m, y_m, offset_m = normalize_windows(x, y, WindowNorm.MEAN)
    np.testing.assert_array_equal(x_m[0, :, 0], [-1, 0, 1])
    np.testing.assert_array_equal(y_m[0], [2, 3])
    np.testing.assert_array_equal(offset_m, [[4.0]])


def test_gather_windows_copies_selected_windows() -> None:
    values = _ramp(30, 2)
    starts = np.array([7, 0, 20])
    x, y = gather_windows(values, starts, window=5, horizon=3)
    x_view, y_view = make_windows(values, 5, 3)
    np.testing.assert_array_equal(x, x_view[starts])
    np.testing.assert_array_equal(y, y_view[starts])
    assert x.dtype == y.dtype == np.float64
    assert x.flags.writeable
    assert not np.shares_memory(x, values)


@pytest.mark.parametrize("starts", [[-1], [23], [[0]], [0.5]])
def test_gather_windows_rejects_bad_starts(starts: list[object]) -> None:
    with pytest.raises(ValueError, match="starts must"):
        gather_windows(_ramp(30), np.array(starts), window=5, horizon=3)


def test_importing_windows_leaves_heavy_modules_out() -> None:
    code = "import sys, seqcast.prep.windows; print(sorted(m for m in ('keras', 'tensorflow', 'pandas', 'sklearn', 'jax', 'torch') if m in sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


def test_window_batches_match_make_windows_in_order() -> None:
    import keras

    values = _ramp(40, 2)
    starts = np.arange(3, 30)  # 27 windows
    ds = window_batches(
        values, starts, 6, 2, 8, shuffle=False, seed=0, norm=WindowNorm.NONE
    )
    assert isinstance(ds, keras.utils.PyDataset)
    assert len(ds) == math.ceil(27 / 8) == 4
    x_view, y_view = make_windows(values, 6, 2)
    sizes = []
    for i in range(len(ds)):
        x, y = ds[i]
        assert x.dtype == y.dtype == np.float32
        chunk = starts[i * 8 : (i + 1) * 8]
        np.testing.assert_array_equal(x, x_view[chunk].astype(np.float32))
        np.testing.assert_array_equal(y, y_view[chunk].astype(np.float32))
        sizes.append(len(x))
    assert sizes == [8, 8, 8, 3]
    with pytest.raises(IndexError):
        ds[4]


def test_window_arrays_equal_the_unshuffled_batches_end_to_end() -> None:
    values = _ramp(60, 2)
    starts = np.array([40, 3, 17, 17, 25])  # any order, repeats allowed
    x, y = window_arrays(
        values, starts, 6, 3, norm=WindowNorm.LAST, repeat_targets=2, chunk=2
    )
    ds = window_batches(
        values,
        starts,
        6,
        3,
        2,
        shuffle=False,
        seed=0,
        norm=WindowNorm.LAST,
        repeat_targets=2,
    )
    assert x.dtype == y.dtype == np.float32
    assert x.shape == (5, 6, 2)
    assert y.shape == (5, 6)
    np.testing.assert_array_equal(x, np.concatenate([ds[i][0] for i in range(len(ds))]))
    np.testing.assert_array_equal(y, np.concatenate([ds[i][1] for i in range(len(ds))]))
    # On a ramp, LAST leaves inputs -5..0 and targets 1..3, repeated side by side.
    np.testing.assert_array_equal(x[1, :, 0], np.arange(-5.0, 1.0))
    np.testing.assert_array_equal(y[1], [1, 2, 3, 1, 2, 3])
    np.testing.assert_array_equal(x[1, :, 1], 10.0 * np.arange(3, 9))


def test_window_data_cuts_arrays_under_the_cap_and_streams_above_it() -> None:
    import keras

    values = _ramp(100, 1)
    starts = np.arange(0, 80)
    size = window_bytes(80, 10, 4, 1)
    assert size == 4 * 80 * (10 + 4)
    common = {"shuffle": True, "seed": 0, "norm": WindowNorm.NONE}
    arrays = window_data(values, starts, 10, 4, 16, max_bytes=size, **common)
    assert isinstance(arrays, tuple)
    np.testing.assert_array_equal(arrays[1][:, 0], starts + 10.0)
    streamed = window_data(values, starts, 10, 4, 16, max_bytes=size - 1, **common)
    assert isinstance(streamed, keras.utils.PyDataset)
    assert len(streamed) == 5
    with pytest.raises(DataError, match="0 starts"):
        window_data(values, starts[:0], 10, 4, 16, **common)


def test_window_batches_repeat_targets_side_by_side_for_joint_members() -> None:
    values = _ramp(40, 2)
    starts = np.arange(3, 30)
    plain = window_batches(
        values, starts, 6, 2, 8, shuffle=True, seed=3, norm=WindowNorm.LAST
    )
    tripled = window_batches(
        values, starts, 6, 2, 8, shuffle=True, seed=3, norm=WindowNorm.LAST,
        repeat_targets=3,
    )  # fmt: skip
    for i in range(len(plain)):
        (x, y), (x3, y3) = plain[i], tripled[i]
        np.testing.assert_array_equal(x3, x)
        assert y3.shape == (len(y), 6)
        for member in range(3):
            np.testing.assert_array_equal(y3[:, 2 * member : 2 * member + 2], y)


def test_window_batches_keep_only_the_series_and_starts() -> None:
    values = _ramp(500, 3)
    starts = np.arange(0, 400)
    ds = window_batches(
        values, starts, 50, 5, 16, shuffle=True, seed=1, norm=WindowNorm.LAST
    )
    arrays_held = [v for v in vars(ds).values() if isinstance(v, np.ndarray)]
    assert arrays_held
    for held in arrays_held:
        # Either a (view of) the series itself, or no bigger than the list of starts.
        assert (
            np.shares_memory(held, values)
            or held.nbytes <= starts.astype(np.int64).nbytes
        )
    all_windows_bytes = len(starts) * 50 * 3 * 8
    assert (
        sum(a.nbytes for a in arrays_held if not np.shares_memory(a, values))
        < all_windows_bytes / 50
    )


def test_window_batches_shuffle_per_epoch_deterministically() -> None:
    values = _ramp(60)
    starts = np.arange(0, 40)

    def epoch_starts(ds: Any) -> list[int]:
        firsts = [ds[i][0][:, 0, 0] for i in range(len(ds))]
        return [int(v) for v in np.concatenate(firsts)]

    ds = window_batches(
        values, starts, 4, 1, 16, shuffle=True, seed=7, norm=WindowNorm.NONE
    )
    epoch0 = epoch_starts(ds)
    assert sorted(epoch0) == starts.tolist()  # every window once per epoch
    assert epoch0 != starts.tolist()
    assert epoch_starts(ds) == epoch0  # stable within an epoch
    ds.on_epoch_end()
    epoch1 = epoch_starts(ds)
    assert sorted(epoch1) == starts.tolist()
    assert epoch1 != epoch0
    again = window_batches(
        values, starts, 4, 1, 16, shuffle=True, seed=7, norm=WindowNorm.NONE
    )
    assert epoch_starts(again) == epoch0
    again.on_epoch_end()
    assert epoch_starts(again) == epoch1
    other = window_batches(
        values, starts, 4, 1, 16, shuffle=True, seed=8, norm=WindowNorm.NONE
    )
    assert epoch_starts(other) != epoch0


def test_window_batches_apply_window_norm() -> None:
    values = _ramp(20, 2)
    ds = window_batches(
        values, [0, 5], 3, 2, 4, shuffle=False, seed=0, norm=WindowNorm.LAST
    )
    x, y = ds[0]
    np.testing.assert_array_equal(x[:, :, 0], [[-2, -1, 0], [-2, -1, 0]])
    np.testing.assert_array_equal(x[:, :, 1], [[0, 10, 20], [50, 60, 70]])
    np.testing.assert_array_equal(y, [[1, 2], [1, 2]])


def test_window_batches_reject_empty_starts_and_bad_batch_size() -> None:
    with pytest.raises(DataError) as info:
        window_batches(
            _ramp(20),
            np.array([], dtype=np.int64),
            3,
            2,
            4,
            shuffle=False,
            seed=0,
            norm=WindowNorm.NONE,
        )
    assert (
        str(info.value)
        == "No windows to batch: 0 starts for window=3 and horizon=2. Use a smaller window or horizon, or load more history."
    )
    with pytest.raises(ConfigError, match=r"^batch_size=0 must be at least 1\."):
        window_batches(
            _ramp(20), [0], 3, 2, 0, shuffle=False, seed=0, norm=WindowNorm.NONE
        )


@pytest.mark.slow
def test_keras_fits_on_window_batches() -> None:
    import keras

    keras.utils.set_random_seed(0)
    values = np.sin(np.arange(60, dtype=np.float64) / 3).reshape(-1, 1)
    train = window_batches(
        values, np.arange(0, 40), 6, 2, 8, shuffle=True, seed=0, norm=WindowNorm.NONE
    )
    val = window_batches(
        values, np.arange(40, 53), 6, 2, 8, shuffle=False, seed=0, norm=WindowNorm.NONE
    )
    model = keras.Sequential(
        [keras.Input((6, 1)), keras.layers.Flatten(), keras.layers.Dense(2)]
    )
    model.compile(optimizer="adam", loss="mse")
    history = model.fit(train, validation_data=val, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2
    # Keras calls on_epoch_end after each epoch (and once before the first, after
    # sampling batches to build the model), so the order changed between epochs.
    assert train.epoch >= 2
