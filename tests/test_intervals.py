from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from seqcast.errors import ConfigError
from seqcast.evaluation.intervals import (
    Calibration,
    calibrate,
    conformal_quantile,
    coverage,
    coverages,
    level_label,
    reference_calibration,
)


def test_conformal_quantile_hand_example() -> None:
    residuals = np.arange(1.0, 10.0)  # 1..9, n=9
    assert conformal_quantile(residuals, 0.8) == 8.0  # k = ceil(10*0.8) = 8
    assert conformal_quantile(residuals, 0.5) == 5.0  # k = ceil(5.0) = 5
    assert conformal_quantile(residuals, 0.51) == 6.0  # k = ceil(5.1) = 6
    assert conformal_quantile(residuals, 0.95) == 9.0  # k = 10 > n: the largest
    assert math.isnan(conformal_quantile(np.array([]), 0.8))


def test_calibrate_sorts_abs_residuals_per_step() -> None:
    y_true = np.array([[1.0, 10.0], [2.0, 20.0], [3.0, 30.0]])
    y_pred = np.array([[1.5, 7.0], [0.0, 20.0], [3.25, 31.0]])
    cal = calibrate(y_true, y_pred, pool_steps_below=0)
    assert cal.residuals == ((0.25, 0.5, 2.0), (0.0, 1.0, 3.0))
    assert not cal.steps_pooled
    assert cal.n_windows == 3
    assert cal.horizon == 2
    # n=3, level 0.5: k = ceil(4*0.5) = 2
    np.testing.assert_array_equal(cal.half_widths(0.5), [0.5, 1.0])
    lower, upper = cal.bounds(np.array([100.0, 200.0]), 0.5)
    np.testing.assert_array_equal(lower, [99.5, 199.0])
    np.testing.assert_array_equal(upper, [100.5, 201.0])


def test_few_windows_pool_their_steps_in_units_of_sqrt_step() -> None:
    # One window of 4 steps: errors 1, 2, 3, 4 at steps 1..4.
    y_true = np.array([[11.0, 22.0, 33.0, 44.0]])
    y_pred = np.array([[10.0, 20.0, 30.0, 40.0]])
    cal = calibrate(y_true, y_pred)
    assert cal.steps_pooled
    assert cal.n_windows == 1
    assert cal.n_residuals == 4
    unit = sorted([1.0, 2.0 / math.sqrt(2), 3.0 / math.sqrt(3), 4.0 / math.sqrt(4)])
    for step in range(4):
        np.testing.assert_allclose(
            cal.residuals[step], [u * math.sqrt(step + 1) for u in unit]
        )
    # Levels now differ (per step, one residual gave one band for every level).
    assert (cal.half_widths(0.5) < cal.half_widths(0.75)).all()
    back = Calibration.from_dict(cal.to_dict())
    assert back == cal
    assert back.steps_pooled
    # 19 windows or more keep per-step residuals.
    many = calibrate(np.zeros((19, 4)), np.ones((19, 4)))
    assert not many.steps_pooled
    assert many.n_residuals == 19


def test_steps_beyond_the_horizon_grow_like_a_random_walk() -> None:
    cal = Calibration(residuals=((1.0, 2.0, 3.0), (2.0, 4.0, 6.0)), n_windows=3)
    width = cal.half_widths(0.5, steps=4)  # k = 2: [2, 4], then 4*sqrt(3/2), 4*sqrt(2)
    np.testing.assert_allclose(
        width, [2.0, 4.0, 4.0 * math.sqrt(1.5), 4.0 * math.sqrt(2.0)]
    )


def test_round_trip_through_plain_json() -> None:
    import json

    cal = calibrate(np.zeros((5, 3)), np.arange(15.0).reshape(5, 3))
    back = Calibration.from_dict(json.loads(json.dumps(cal.to_dict())))
    assert back == cal


def test_cap_thins_but_keeps_the_extremes() -> None:
    rng = np.random.default_rng(0)
    errors = rng.normal(size=(5000, 1))
    cal = calibrate(errors, np.zeros_like(errors), cap=100)
    assert cal.n_residuals == 100
    assert cal.n_windows == 5000
    assert cal.residuals[0][0] == pytest.approx(np.abs(errors).min())
    assert cal.residuals[0][-1] == pytest.approx(np.abs(errors).max())
    assert conformal_quantile(np.asarray(cal.residuals[0]), 0.9) == pytest.approx(
        np.quantile(np.abs(errors), 0.9), rel=0.05
    )


def test_coverage_counts_points_inside_closed_intervals() -> None:
    y = np.array([1.0, 2.0, 3.0, 4.0])
    assert coverage(y, y - 1, y + 1) == 1.0
    assert coverage(y, np.full(4, 2.0), np.full(4, 3.0)) == 0.5  # 2 and 3 on the edges
    assert math.isnan(coverage(np.array([]), np.array([]), np.array([])))


@pytest.mark.parametrize("level", [0.5, 0.8, 0.95])
def test_conformal_coverage_on_exchangeable_residuals_is_near_the_level(
    level: float,
) -> None:
    rng = np.random.default_rng(1)
    calib_true = rng.standard_t(3, size=(400, 2)) * [1.0, 3.0]
    test_true = rng.standard_t(3, size=(20_000, 2)) * [1.0, 3.0]
    cal = calibrate(calib_true, np.zeros_like(calib_true))
    got = coverages(cal, test_true, np.zeros_like(test_true), [level])[
        level_label(level)
    ]
    assert level - 0.02 <= got <= level + 0.03


def _smallest_covering_residual(residuals: list[float], level: float) -> float:
    """The split-conformal quantile by its definition, one candidate at a time.

    The smallest residual r such that at least ``level`` of the n + 1 exchangeable
    errors (the n stored ones plus the new one) can lie at or below r, counting the
    new one as larger than every stored one; the largest residual when none is.
    """
    ordered = sorted(residuals)
    for r in ordered:
        if sum(v <= r for v in ordered) / (len(ordered) + 1) >= level:
            return r
    return ordered[-1]


@given(
    residuals=st.lists(st.floats(0.0, 1e6), min_size=1, max_size=60),
    percent=st.integers(1, 99),
)
@example(residuals=[float(v) for v in range(1, 25)], percent=28)  # 25 * 0.28 > 7.0
def test_quantile_matches_its_definition(residuals: list[float], percent: int) -> None:
    level = percent / 100  # levels as users give them: 0.8, 0.95, ...
    got = conformal_quantile(np.sort(np.asarray(residuals)), level)
    assert got == _smallest_covering_residual(residuals, level)


def test_labels_and_level_checks() -> None:
    assert level_label(0.8) == "80"
    assert level_label(0.95) == "95"
    assert level_label(0.995) == "99.5"
    with pytest.raises(ConfigError) as err:
        conformal_quantile(np.ones(3), 1.0)
    assert str(err.value) == (
        "level=1.0 must lie strictly between 0 and 1. Use a level such as --level 0.8 or --level 0.95."
    )


def test_calibrate_by_reference_docstring_example_and_refusals() -> None:
    from seqcast.evaluation.intervals import calibrate_by_reference

    cal = calibrate_by_reference([[3]], [[2]], [[2], [4], [6]], "seasonal_naive")
    assert cal is not None
    np.testing.assert_allclose(cal.residuals, [[3.0, 6.0, 9.0]])
    better = calibrate_by_reference([[1]], [[2]], [[2], [4], [6]], "seasonal_naive")
    assert better is not None
    assert better.reference_ratio == 1.0  # floored: never narrower than the baseline's
    np.testing.assert_allclose(better.residuals, [[2.0, 4.0, 6.0]])
    assert (cal.reference, cal.reference_ratio, cal.n_windows) == (
        "seasonal_naive",
        1.5,
        3,
    )
    assert Calibration.from_dict(cal.to_dict()) == cal
    assert "seasonal_naive" in cal.to_dict()["method"]
    # No baseline error on the validation windows, or at a step of its history:
    # no ratio or no unit, no calibration.
    assert calibrate_by_reference([[1.0]], [[0.0]], [[1.0]], "naive") is None
    assert (
        calibrate_by_reference([[1.0, 1.0]], [[1.0, 1.0]], [[1.0, 0.0]], "naive")
        is None
    )
    assert calibrate_by_reference([[np.nan]], [[1.0]], [[1.0]], "naive") is None
    with pytest.raises(ValueError, match="reference="):
        calibrate_by_reference([[1.0]], [[1.0]], [[1.0]], "theta")
    with pytest.raises(ValueError, match="history errors cover"):
        calibrate_by_reference([[1.0, 1.0]], [[1.0, 1.0]], [[1.0]], "naive")


def _oracle_reference_residuals(
    model: np.ndarray, on_val: np.ndarray, history: np.ndarray
) -> tuple[float, list[list[float]]]:
    """Size x pooled units x sqrt growth, written out with plain loops."""
    n, horizon = history.shape
    ratio = max(1.0, float(np.mean(np.abs(model)) / np.mean(np.abs(on_val))))
    step_means = [sum(abs(history[o][h]) for o in range(n)) / n for h in range(horizon)]
    units = sorted(
        abs(history[o][h]) / step_means[h] for o in range(n) for h in range(horizon)
    )
    roots = [math.sqrt(h + 1) for h in range(horizon)]
    mean_root = sum(roots) / horizon
    size = ratio * float(np.mean(np.abs(history)))
    return ratio, [[u * size * r / mean_root for u in units] for r in roots]


def _loop_seasonal_naive_errors(
    y: np.ndarray, origin: int, horizon: int, m: int
) -> list[float]:
    # Step h copies the row of the same phase in the last season up to the origin.
    out = []
    for h in range(1, horizon + 1):
        back = origin + h - m * math.ceil(h / m)
        out.append(float(y[origin + h] - y[back]))
    return out


@pytest.mark.parametrize("season", [1, 4])
def test_reference_calibration_scales_the_baselines_errors_at_every_origin(
    season: int,
) -> None:
    rng = np.random.default_rng(season)
    n, horizon, end = 60, 3, 50
    y = 10.0 + np.cumsum(rng.normal(size=n))
    val_origins = np.array([44, 45, 46])
    model_errors = rng.normal(size=(3, horizon))
    cal = reference_calibration(y, val_origins, model_errors, end, season)
    assert cal is not None
    # Oracle: the baseline's errors by loops, at origins season-1 .. end-horizon-1
    # (their last target is row end-1: the rows from `end` are never seen).
    history = np.array(
        [
            _loop_seasonal_naive_errors(y, o, horizon, season)
            for o in range(season - 1, end - horizon)
        ]
    )
    on_val = np.array(
        [_loop_seasonal_naive_errors(y, int(o), horizon, season) for o in val_origins]
    )
    ratio, want = _oracle_reference_residuals(model_errors, on_val, history)
    assert cal.reference == ("seasonal_naive" if season > 1 else "naive")
    assert cal.reference_ratio == pytest.approx(ratio)
    assert cal.n_windows == len(history)
    assert cal.steps_pooled
    np.testing.assert_allclose(cal.residuals, want)
    # Too few baseline errors: the model's own errors are used instead. Over 3 steps,
    # 6 origins give 18 errors, too few to resolve 95%; 7 give 21.
    six = season + 2 + 6
    assert reference_calibration(y, val_origins, model_errors, six, season) is None
    seven = reference_calibration(y, val_origins, model_errors, six + 1, season)
    assert seven is not None
    assert seven.n_windows == 7
    # Over 18 steps, 3 origins are too few however many errors they give; 4 will do.
    long, early = rng.normal(size=(3, 18)), np.array([30, 31, 32])
    three = season + 17 + 3
    assert reference_calibration(y, early, long, three, season) is None
    four = reference_calibration(y, early, long, three + 1, season)
    assert four is not None
    assert four.n_windows == 4


def test_reference_calibration_covers_new_errors_at_its_level() -> None:
    # A random walk (whose h-step errors grow like sqrt(h)); the "model" is naive
    # itself, so the ratio is 1 and the band is the baseline's pooled error quantile
    # grown by sqrt(step): new errors of the same process must fall inside about as
    # often as the level says, pooled over the steps.
    rng = np.random.default_rng(7)
    m, horizon, n = 1, 4, 400
    inside: dict[float, list[float]] = {0.8: [], 0.95: []}
    for _ in range(40):
        y = 50.0 + np.cumsum(rng.normal(size=n))
        end = 300
        val = np.arange(290, 296)
        model = np.array(
            [_loop_seasonal_naive_errors(y, int(o), horizon, m) for o in val]
        )
        cal = reference_calibration(y, val, model, end, m)
        assert cal is not None
        assert cal.reference_ratio == pytest.approx(1.0)
        future = np.array(
            [
                _loop_seasonal_naive_errors(y, o, horizon, m)
                for o in range(end, n - horizon)
            ]
        )
        for level in inside:
            lower, upper = cal.bounds(np.zeros_like(future), level)
            inside[level].append(coverage(future, lower, upper))
    assert abs(np.mean(inside[0.8]) - 0.8) < 0.03
    assert abs(np.mean(inside[0.95]) - 0.95) < 0.02


def test_relative_bounds_are_multiplicative() -> None:
    cal = Calibration(residuals=((math.log(2.0),),), n_windows=1, relative=True)
    lower, upper = cal.bounds(np.array([100.0]), 0.5)
    np.testing.assert_allclose([lower[0], upper[0]], [50.0, 200.0])
    # A forecast of 0 or less has no multiplicative band.
    lower, upper = cal.bounds(np.array([0.0]), 0.5)
    assert np.isnan(lower[0])
    assert np.isnan(upper[0])
    assert Calibration.from_dict(cal.to_dict()) == cal
    assert "log ratios" in cal.to_dict()["method"]


def test_calibrate_series_takes_log_ratios_of_a_positive_series() -> None:
    from seqcast.evaluation.intervals import calibrate_series

    rng = np.random.default_rng(3)
    y = np.exp(np.cumsum(rng.normal(0.02, 0.1, size=100)))
    starts = np.arange(50, 75)  # 25 windows of 3: enough for per-step residuals
    window, horizon, end = 5, 3, 83
    pred = y[starts + window - 1][:, None] * np.ones((1, horizon))
    cal = calibrate_series(
        y, starts, pred, window=window, end=end, season=1, relative=True
    )
    assert cal.relative
    assert cal.reference is None
    for h in range(horizon):
        want = sorted(
            abs(math.log(y[s + window + h]) - math.log(pred[i, h]))
            for i, s in enumerate(starts)
        )
        np.testing.assert_allclose(cal.residuals[h], want)
    # A value of 0 before `end` rules the log out: absolute errors, as without it.
    zero = y.copy()
    zero[10] = 0.0
    plain = calibrate_series(
        zero, starts, pred, window=window, end=end, season=1, relative=True
    )
    assert not plain.relative
    assert plain == calibrate_series(
        zero, starts, pred, window=window, end=end, season=1
    )
    # Rows from `end` on are never read, even by the baseline.
    later = y.copy()
    later[end:] = -1.0
    assert calibrate_series(
        later, starts[:5], pred[:5], window=window, end=end, season=1, relative=True
    ) == calibrate_series(
        y, starts[:5], pred[:5], window=window, end=end, season=1, relative=True
    )


def test_relative_bands_keep_their_level_on_a_growing_series() -> None:
    # A series growing 3% a step with 5% multiplicative noise: naive's absolute errors
    # grow with the level, so a band of past absolute errors is too narrow at the end,
    # while log ratios are as large early as late.
    rng = np.random.default_rng(11)
    n, horizon, end = 300, 3, 250
    covered: dict[bool, list[float]] = {True: [], False: []}
    for _ in range(30):
        y = np.exp(0.03 * np.arange(n) + np.cumsum(rng.normal(0.0, 0.05, size=n)))
        starts = np.arange(230, 245)  # 15 validation windows: the baseline is used
        pred = y[starts][:, None] * np.ones((1, horizon))  # naive, window 1
        future = np.arange(end, n - horizon)
        truth = y[future[:, None] + 1 + np.arange(horizon)]
        forecast = y[future][:, None] * np.ones((1, horizon))
        for relative in covered:
            from seqcast.evaluation.intervals import calibrate_series

            cal = calibrate_series(
                y, starts, pred, window=1, end=end, season=1, relative=relative
            )
            lower, upper = cal.bounds(forecast, 0.8)
            covered[relative].append(coverage(truth, lower, upper))
    assert abs(np.mean(covered[True]) - 0.8) < 0.05
    assert np.mean(covered[False]) < np.mean(covered[True]) - 0.1


def test_for_series_serves_each_series_in_its_own_units() -> None:
    absolute = Calibration(
        residuals=((1.0, 2.0), (3.0, 4.0)), n_windows=2, per_scale=True
    )
    both = Calibration(
        residuals=((0.1, 0.2), (0.3, 0.4)),
        n_windows=2,
        relative=True,
        absolute=absolute,
    )
    # A series that takes logs gets the log ratios, whatever its scale.
    logged = both.for_series(True, 50.0)
    assert logged.relative
    assert logged.residuals == both.residuals
    assert logged.absolute is None
    # One that does not gets the absolute residuals times its MASE scale.
    plain = both.for_series(False, 10.0)
    assert not plain.relative
    assert not plain.per_scale
    np.testing.assert_allclose(plain.residuals, [[10.0, 20.0], [30.0, 40.0]])
    lower, upper = plain.bounds(np.array([100.0, 100.0]), 0.5)
    np.testing.assert_allclose(upper - 100.0, 100.0 - lower)
    # A calibration per scale alone is scaled for every series.
    np.testing.assert_allclose(
        absolute.for_series(True, 2.0).residuals, [[2, 4], [6, 8]]
    )
    # Stored and read back, the nested calibration survives.
    again = Calibration.from_dict(both.to_dict())
    assert again == both
