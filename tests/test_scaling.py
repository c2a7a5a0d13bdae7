from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.preprocessing import MinMaxScaler, RobustScaler, StandardScaler

from seqcast.config import ScalerKind
from seqcast.errors import ArtifactError, DataError, SeqcastError
from seqcast.prep.scaling import NotFittedError, Scaler

SKLEARN = {
    ScalerKind.MINMAX: MinMaxScaler,
    ScalerKind.STANDARD: StandardScaler,
    ScalerKind.ROBUST: RobustScaler,
}

finite = st.floats(
    -1e6, 1e6, allow_nan=False, allow_infinity=False, allow_subnormal=False
)
tables = st.tuples(st.integers(1, 40), st.integers(1, 4)).flatmap(
    lambda shape: arrays(np.float64, shape, elements=finite)
)
kinds = st.sampled_from(list(ScalerKind))


def _sklearn_center_scale(
    kind: ScalerKind, values: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    sk = SKLEARN[kind]().fit(values)
    if kind is ScalerKind.MINMAX:
        return sk.data_min_, 1.0 / sk.scale_  # sklearn stores 1 / range
    if kind is ScalerKind.STANDARD:
        return sk.mean_, sk.scale_
    return sk.center_, sk.scale_


@settings(max_examples=60, deadline=None)
@given(values=tables, kind=st.sampled_from(list(SKLEARN)))
def test_parameters_match_sklearn(values: np.ndarray, kind: ScalerKind) -> None:
    scaler = Scaler(kind).fit(values)
    center, scale = _sklearn_center_scale(kind, values)
    atol = 1e-9 * max(1.0, float(np.abs(values).max()))
    np.testing.assert_allclose(scaler.center_, center, rtol=1e-9, atol=atol)
    np.testing.assert_allclose(scaler.scale_, scale, rtol=1e-9, atol=atol)
    assert scaler.center_.shape == scaler.scale_.shape == (values.shape[1],)


@settings(max_examples=60, deadline=None)
@given(values=tables, kind=kinds)
def test_inverse_transform_round_trips(values: np.ndarray, kind: ScalerKind) -> None:
    scaler = Scaler(kind).fit(values)
    scaled = scaler.transform(values)
    atol = 1e-8 * max(1.0, float(np.abs(values).max()))
    np.testing.assert_allclose(
        scaler.inverse_transform(scaled), values, rtol=1e-9, atol=atol
    )
    np.testing.assert_allclose(
        scaler.inverse_target(scaled[:, 0]), values[:, 0], rtol=1e-9, atol=atol
    )


@settings(max_examples=40, deadline=None)
@given(
    values=st.integers(2, 40).flatmap(
        lambda n: arrays(np.float64, (n, 2), elements=finite)
    ),
    later=arrays(np.float64, (10, 2), elements=finite),
    train_fraction=st.floats(0.1, 0.9),
    kind=kinds,
)
def test_parameters_depend_on_training_rows_only(
    values: np.ndarray, later: np.ndarray, train_fraction: float, kind: ScalerKind
) -> None:
    train_end = max(1, int(len(values) * train_fraction))
    changed = np.concatenate([values[:train_end], later])
    first = Scaler(kind).fit(values[:train_end])
    second = Scaler(kind).fit(changed[:train_end])
    np.testing.assert_array_equal(first.center_, second.center_)
    np.testing.assert_array_equal(first.scale_, second.scale_)


def test_known_parameters_for_each_kind() -> None:
    values = np.array([[1.0, 5.0], [2.0, 5.0], [3.0, 5.0], [10.0, 5.0]])
    minmax = Scaler(ScalerKind.MINMAX).fit(values)
    np.testing.assert_array_equal(minmax.center_, [1.0, 5.0])
    np.testing.assert_array_equal(minmax.scale_, [9.0, 1.0])  # constant column -> 1
    standard = Scaler(ScalerKind.STANDARD).fit(values)
    np.testing.assert_allclose(standard.center_, [4.0, 5.0])
    np.testing.assert_allclose(standard.scale_, [math.sqrt(12.5), 1.0])  # ddof=0
    robust = Scaler(ScalerKind.ROBUST).fit(values)
    np.testing.assert_allclose(robust.center_, [2.5, 5.0])
    np.testing.assert_allclose(robust.scale_, [4.75 - 1.75, 1.0])
    none = Scaler(ScalerKind.NONE).fit(values)
    np.testing.assert_array_equal(none.center_, [0.0, 0.0])
    np.testing.assert_array_equal(none.scale_, [1.0, 1.0])
    np.testing.assert_array_equal(none.transform(values), values)


def test_fit_returns_self_and_init_only_stores() -> None:
    scaler = Scaler(ScalerKind.ROBUST)
    assert not hasattr(scaler, "center_")
    assert scaler.fit(np.ones((3, 1))) is scaler
    assert scaler.n_features_in_ == 1
    assert repr(scaler) == "Scaler(kind='robust')"


def test_transform_applies_to_windows_of_any_leading_shape() -> None:
    values = np.arange(20, dtype=np.float64).reshape(10, 2)
    scaler = Scaler(ScalerKind.STANDARD).fit(values)
    windows = values.reshape(5, 2, 2)
    np.testing.assert_allclose(
        scaler.transform(windows).reshape(10, 2), scaler.transform(values)
    )
    forecasts = scaler.transform(values)[:, 0].reshape(5, 2)
    np.testing.assert_allclose(
        scaler.inverse_target(forecasts), values[:, 0].reshape(5, 2)
    )


def test_using_an_unfitted_scaler_raises() -> None:
    scaler = Scaler(ScalerKind.MINMAX)
    for method in (scaler.transform, scaler.inverse_transform, scaler.inverse_target):
        with pytest.raises(NotFittedError) as info:
            method(np.ones((2, 1)))
        assert (
            str(info.value)
            == "Scaler(kind='minmax') is not fitted yet. Call fit() on the training rows first."
        )
    with pytest.raises(NotFittedError):
        scaler.to_dict()
    assert issubclass(NotFittedError, SeqcastError)
    assert issubclass(NotFittedError, RuntimeError)


def test_fit_rejects_nan_and_infinity() -> None:
    values = np.array([[1.0, 2.0], [np.nan, 3.0], [4.0, np.inf]])
    with pytest.raises(DataError) as info:
        Scaler(ScalerKind.MINMAX).fit(values)
    assert (
        str(info.value)
        == "Cannot fit a scaler on values with NaN or infinity: 2 found, first at row 1, column 0. Fill or drop missing values first (--fill)."
    )


@pytest.mark.parametrize("shape", [(0, 2), (5,), (2, 0)])
def test_fit_rejects_bad_shapes(shape: tuple[int, ...]) -> None:
    with pytest.raises(DataError, match=r"Cannot fit a scaler on an array of shape"):
        Scaler(ScalerKind.MINMAX).fit(np.zeros(shape))


def test_transform_rejects_wrong_number_of_columns() -> None:
    scaler = Scaler(ScalerKind.MINMAX).fit(np.ones((3, 2)))
    with pytest.raises(DataError) as info:
        scaler.transform(np.ones((3, 3)))
    assert (
        str(info.value)
        == "Values have 3 columns but the scaler was fitted on 2 (target plus features). Pass the same target and features as in training."
    )


@settings(max_examples=40, deadline=None)
@given(values=tables, kind=kinds)
def test_to_dict_is_json_and_round_trips(values: np.ndarray, kind: ScalerKind) -> None:
    scaler = Scaler(kind).fit(values)
    params = scaler.to_dict()
    assert params["kind"] == kind.value
    assert all(type(v) is float for v in params["center"] + params["scale"])
    restored = Scaler.from_dict(json.loads(json.dumps(params)))
    assert restored.kind is kind
    np.testing.assert_array_equal(restored.center_, scaler.center_)
    np.testing.assert_array_equal(restored.scale_, scaler.scale_)
    np.testing.assert_array_equal(restored.transform(values), scaler.transform(values))


GOOD: dict[str, Any] = {"kind": "minmax", "center": [0.0, 1.0], "scale": [2.0, 3.0]}
FIX = "Retrain the model with `seqcast train`."


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            [1, 2],
            f"Scaler parameters in the artifact are not a mapping: got list. {FIX}",
        ),
        (
            {"kind": "minmax", "center": [0.0]},
            f"Scaler parameters in the artifact lack scale. {FIX}",
        ),
        (
            {**GOOD, "kind": "zscore"},
            f"Scaler kind='zscore' in the artifact is not one of: minmax, standard, robust, none. {FIX}",
        ),
        (
            {**GOOD, "center": [0.0]},
            f"Scaler parameters in the artifact disagree: 1 centers but 2 scales. {FIX}",
        ),
        (
            {**GOOD, "center": []},
            f"Scaler center in the artifact must be a non-empty list of numbers, got center=[]. {FIX}",
        ),
        (
            {**GOOD, "scale": "2.0"},
            f"Scaler scale in the artifact must be a non-empty list of numbers, got scale='2.0'. {FIX}",
        ),
        (
            {**GOOD, "center": [0.0, float("nan")]},
            f"Scaler center in the artifact must hold finite numbers, got center=[0.0, nan]. {FIX}",
        ),
        (
            {**GOOD, "scale": [2.0, True]},
            f"Scaler scale in the artifact must hold finite numbers, got scale=[2.0, True]. {FIX}",
        ),
        (
            {**GOOD, "scale": [2.0, "3"]},
            f"Scaler scale in the artifact must hold finite numbers, got scale=[2.0, '3']. {FIX}",
        ),
        (
            {**GOOD, "scale": [2.0, 0.0]},
            f"Scaler scale in the artifact must be above 0, got scale=[2.0, 0.0]. {FIX}",
        ),
    ],
)
def test_from_dict_rejects_bad_parameters(params: Any, message: str) -> None:
    with pytest.raises(ArtifactError) as info:
        Scaler.from_dict(params)
    assert str(info.value) == message


def test_from_dict_accepts_integers_and_ignores_extra_keys() -> None:
    scaler = Scaler.from_dict(
        {"kind": "standard", "center": [1], "scale": [2], "note": "x"}
    )
    assert scaler.kind is ScalerKind.STANDARD
    np.testing.assert_array_equal(scaler.transform(np.array([[5.0]])), [[2.0]])
