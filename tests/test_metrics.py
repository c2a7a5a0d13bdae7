from __future__ import annotations

import math
import subprocess
import sys
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.metrics import (
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
)

from seqcast.errors import ConfigError
from seqcast.evaluation.metrics import mae, mape, mase, rmse, smape

values = st.floats(-1e5, 1e5, allow_nan=False, allow_subnormal=False)
nonzero = st.one_of(st.floats(-1e5, -1e-3), st.floats(1e-3, 1e5))
shapes = st.tuples(st.integers(1, 6), st.integers(1, 5))


@st.composite
def pairs(
    draw: st.DrawFn, true_elements: st.SearchStrategy[float] = values
) -> tuple[np.ndarray, np.ndarray]:
    shape = draw(shapes)
    return draw(arrays(np.float64, shape, elements=true_elements)), draw(
        arrays(np.float64, shape, elements=values)
    )


@settings(max_examples=80, deadline=None)
@given(pair=pairs())
def test_mae_and_rmse_match_sklearn(pair: tuple[np.ndarray, np.ndarray]) -> None:
    y_true, y_pred = pair
    flat_true, flat_pred = y_true.ravel(), y_pred.ravel()
    assert mae(y_true, y_pred) == pytest.approx(
        mean_absolute_error(flat_true, flat_pred), rel=1e-9, abs=1e-9
    )
    expected = math.sqrt(mean_squared_error(flat_true, flat_pred))
    assert rmse(y_true, y_pred) == pytest.approx(expected, rel=1e-9, abs=1e-9)
    assert rmse(y_true, y_pred) >= mae(y_true, y_pred) - 1e-9


@settings(max_examples=80, deadline=None)
@given(pair=pairs(nonzero))
def test_mape_matches_sklearn_in_percent(pair: tuple[np.ndarray, np.ndarray]) -> None:
    y_true, y_pred = pair
    expected = 100.0 * mean_absolute_percentage_error(y_true.ravel(), y_pred.ravel())
    assert mape(y_true, y_pred) == pytest.approx(expected, rel=1e-9)


@settings(max_examples=80, deadline=None)
@given(pair=pairs())
def test_smape_is_bounded_symmetric_and_zero_when_perfect(
    pair: tuple[np.ndarray, np.ndarray],
) -> None:
    y_true, y_pred = pair
    score = smape(y_true, y_pred)
    assert 0.0 <= score <= 200.0
    assert score == pytest.approx(smape(y_pred, y_true))
    assert smape(y_true, y_true) == 0.0


def test_hand_computed_examples() -> None:
    assert mae([1.0, 2.0, 3.0], [2.0, 2.0, 5.0]) == pytest.approx(1.0)
    assert rmse([1.0, 2.0, 3.0], [2.0, 2.0, 5.0]) == pytest.approx(math.sqrt(5 / 3))
    assert mape([100.0, 200.0], [110.0, 180.0]) == pytest.approx(10.0)
    assert smape([100.0, 0.0], [110.0, 0.0]) == pytest.approx(100 * (20 / 210) / 2)
    assert smape([1.0], [-1.0]) == pytest.approx(200.0)
    assert smape([0.0], [5.0]) == pytest.approx(200.0)
    # insample differences 1, 2, 3 -> scale 2; MAE 1 -> 0.5
    assert mase(
        [10.0, 12.0], [11.0, 11.0], insample=[1.0, 2.0, 4.0, 7.0], season=1
    ) == pytest.approx(0.5)
    # season 2: |4-1|, |7-2| -> scale 4; MAE 2 -> 0.5
    assert mase(
        [[3.0, 5.0]], [[1.0, 7.0]], insample=[1.0, 2.0, 4.0, 7.0], season=2
    ) == pytest.approx(0.5)


def test_metrics_flatten_any_shape() -> None:
    rng = np.random.default_rng(0)
    y_true, y_pred = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    for metric in (mae, rmse, mape, smape):
        assert metric(y_true, y_pred) == metric(y_true.ravel(), y_pred.ravel())
        assert type(metric(y_true, y_pred)) is float


def test_mape_with_a_zero_actual_is_nan_without_warning() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert math.isnan(mape([0.0, 1.0], [1.0, 1.0]))
        assert smape([0.0, 0.0], [0.0, 0.0]) == 0.0


def test_mase_edge_cases() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # Insample no longer than the season: fall back to season 1 (scale 3).
        assert mase([3.0], [0.0], insample=[0.0, 3.0], season=7) == pytest.approx(1.0)
        assert math.isnan(
            mase([1.0], [0.0], insample=[5.0, 5.0, 5.0], season=1)
        )  # flat history
        assert math.isnan(
            mase([1.0], [0.0], insample=[1.0, 2.0, 1.0, 2.0], season=2)
        )  # exactly periodic
        assert math.isnan(
            mase([1.0], [0.0], insample=[1.0], season=1)
        )  # no difference to take
    with pytest.raises(ConfigError) as info:
        mase([1.0], [1.0], insample=[1.0, 2.0], season=0)
    assert str(info.value) == "season=0 must be at least 1. Use --season 1 or more."


@settings(max_examples=50, deadline=None)
@given(
    pair=pairs(),
    insample=arrays(np.float64, st.integers(2, 30), elements=values),
    season=st.integers(1, 12),
)
def test_mase_is_mae_over_seasonal_naive_mae(
    pair: tuple[np.ndarray, np.ndarray], insample: np.ndarray, season: int
) -> None:
    y_true, y_pred = pair
    m = season if len(insample) > season else 1
    scale = mean_absolute_error(insample[m:], insample[:-m])
    result = mase(y_true, y_pred, insample, season)
    if scale == 0.0:
        assert math.isnan(result)
    else:
        assert result == pytest.approx(
            mean_absolute_error(y_true.ravel(), y_pred.ravel()) / scale,
            rel=1e-9,
            abs=1e-12,
        )


def test_empty_inputs_are_nan_and_sizes_must_match() -> None:
    for metric in (mae, rmse, mape, smape):
        assert math.isnan(metric([], []))
    with pytest.raises(ValueError, match="differ in size: 2 and 3"):
        mae([1.0, 2.0], [1.0, 2.0, 3.0])


def test_importing_metrics_and_baselines_leaves_heavy_modules_out() -> None:
    code = "import sys, seqcast.evaluation.metrics, seqcast.evaluation.baselines, seqcast.prep.scaling; print(sorted(m for m in ('keras', 'tensorflow', 'pandas', 'sklearn', 'scipy') if m in sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"
