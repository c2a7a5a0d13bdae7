from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from seqcast.errors import ConfigError, DataError
from seqcast.evaluation.baselines import drift, naive, season_for_freq, seasonal_naive
from seqcast.prep.windows import make_windows


def _ramp(n: int) -> np.ndarray:
    """Target equals its time index; a second column that baselines must ignore."""
    t = np.arange(n, dtype=np.float64)
    return np.stack([t, -1000.0 - t], axis=1)


windows_and_starts = st.tuples(
    st.integers(2, 80), st.integers(1, 15), st.integers(1, 8)
).flatmap(
    lambda nwh: st.tuples(
        st.just(nwh),
        st.lists(st.integers(0, max(0, nwh[0] - nwh[1])), min_size=1, max_size=10),
    )
)


@settings(max_examples=80, deadline=None)
@given(case=windows_and_starts)
def test_naive_repeats_the_origin(case: tuple[tuple[int, int, int], list[int]]) -> None:
    (n, window, horizon), starts = case
    assume(window <= n)
    forecast = naive(_ramp(n), np.array(starts), window, horizon)
    assert forecast.shape == (len(starts), horizon)
    origin = (
        np.array(starts) + window - 1
    )  # value == row, so the forecast is the origin row
    np.testing.assert_array_equal(forecast, np.repeat(origin[:, None], horizon, axis=1))


@settings(max_examples=80, deadline=None)
@given(case=windows_and_starts)
def test_drift_is_exact_on_a_straight_line(
    case: tuple[tuple[int, int, int], list[int]],
) -> None:
    (n, window, horizon), starts = case
    assume(window <= n)
    forecast = drift(_ramp(n), np.array(starts), window, horizon)
    origin = np.array(starts)[:, None] + window - 1
    if window == 1:
        np.testing.assert_array_equal(
            forecast, np.repeat(origin, horizon, axis=1)
        )  # no slope: naive
    else:
        np.testing.assert_allclose(
            forecast, origin + np.arange(1, horizon + 1)[None, :]
        )  # the next rows


@settings(max_examples=80, deadline=None)
@given(case=windows_and_starts, season=st.integers(1, 15))
def test_seasonal_naive_copies_the_same_phase_from_the_last_season(
    case: tuple[tuple[int, int, int], list[int]], season: int
) -> None:
    (n, window, horizon), starts = case
    assume(window <= n)
    values = _ramp(n)
    origins = np.array(starts) + window - 1
    if origins.min() - season + 1 < 0:
        with pytest.raises(DataError, match=f"season={season}"):
            seasonal_naive(values, np.array(starts), window, horizon, season)
        return
    forecast = seasonal_naive(values, np.array(starts), window, horizon, season)
    for i, origin in enumerate(origins):
        for h in range(horizon):
            target_row = origin + h + 1
            copied = int(forecast[i, h])  # value == row
            assert copied <= origin  # never the future
            assert copied > origin - season  # from the last season
            assert (target_row - copied) % season == 0  # same phase
    if season == 1:
        np.testing.assert_array_equal(
            forecast, naive(values, np.array(starts), window, horizon)
        )


def test_hand_examples() -> None:
    values = np.arange(10, dtype=np.float64)
    np.testing.assert_array_equal(naive(values, [0, 4], 3, 2), [[2, 2], [6, 6]])
    np.testing.assert_array_equal(seasonal_naive(values, [0], 4, 4, 3), [[1, 2, 3, 1]])
    np.testing.assert_array_equal(drift(values, [0], 3, 2), [[3, 4]])
    weekly = np.array([5.0, 1.0, 2.0, 3.0, 9.0, 1.0, 2.0])
    np.testing.assert_array_equal(
        seasonal_naive(weekly, [1], 6, 5, 3), [[9, 1, 2, 9, 1]]
    )
    np.testing.assert_allclose(
        drift(np.array([10.0, 4.0, 7.0, 4.0]), [0], 4, 3), [[2, 0, -2]]
    )


def test_baselines_match_the_windows_they_forecast() -> None:
    values = _ramp(30)
    x, y = make_windows(values, 5, 3)
    starts = np.arange(len(x))
    np.testing.assert_array_equal(naive(values, starts, 5, 3)[:, 0], x[:, -1, 0])
    np.testing.assert_allclose(drift(values, starts, 5, 3), y)  # exact on a line


def test_future_forecast_from_the_last_window_is_allowed() -> None:
    values = np.arange(10, dtype=np.float64)
    np.testing.assert_array_equal(naive(values, [7], 3, 4), [[9, 9, 9, 9]])


def test_seasonal_naive_rejects_too_little_history() -> None:
    with pytest.raises(DataError) as info:
        seasonal_naive(np.arange(30, dtype=np.float64), [0, 5], 4, 2, 7)
    assert (
        str(info.value)
        == "Seasonal naive with season=7 needs 7 rows up to each forecast origin, but the earliest origin is row 3 (window=4). Use --window 7 or more, or a shorter season."
    )
    # Reaching back before the window is fine when the rows exist.
    np.testing.assert_array_equal(
        seasonal_naive(np.arange(30, dtype=np.float64), [5], 4, 2, 7), [[2, 3]]
    )


def test_bad_arguments() -> None:
    values = np.arange(10, dtype=np.float64)
    with pytest.raises(ConfigError, match=r"^season=0 must be at least 1\."):
        seasonal_naive(values, [0], 3, 1, 0)
    with pytest.raises(ConfigError, match=r"^horizon=0 must be at least 1\."):
        naive(values, [0], 3, 0)
    with pytest.raises(
        ValueError,
        match=r"starts must lie in 0\.\.7 for 10 rows and window=3, got 0\.\.8",
    ):
        drift(values, [0, 8], 3, 1)
    with pytest.raises(ValueError, match="starts must be a 1-D array of integers"):
        naive(values, [0.5], 3, 1)


@pytest.mark.parametrize(
    ("freq", "season"),
    [
        ("MS", 12), ("ME", 12), ("M", 12), ("BMS", 12),
        ("QS", 4), ("QS-OCT", 4), ("QE-DEC", 4), ("Q", 4),
        ("YS", 1), ("YS-JAN", 1), ("YE", 1), ("A", 1), ("A-DEC", 1),
        ("W", 52), ("W-SUN", 52), ("W-MON", 52), ("2W", 26),
        ("D", 7), ("7D", 1), ("2D", 7), ("B", 5), ("C", 5),
        ("h", 24), ("H", 24), ("2h", 12), ("3h", 8), ("5h", 24), ("bh", 8),
        ("min", 60), ("15min", 4), ("T", 60), ("s", 60), ("30s", 2),
        ("ms", 1), ("us", 1), ("ns", 1), ("3MS", 4), ("SMS", 24),
        ("", 1), ("nonsense", 1), ("-", 1), ("0D", 1), (" D ", 7),
    ],
)  # fmt: skip
def test_season_for_freq(freq: str, season: int) -> None:
    assert season_for_freq(freq) == season
