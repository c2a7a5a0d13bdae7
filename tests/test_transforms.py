from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from seqcast.config import Deseasonalize, Transform
from seqcast.prep.transforms import (
    TargetTransform,
    classical_indices,
    fit_transform,
    is_seasonal,
)


def test_classical_indices_of_a_repeating_pattern() -> None:
    # 10, 12, 10, 8 repeated: the 2x4 moving average is 10 everywhere, so the
    # indices are the pattern minus 10, worked by hand.
    x = np.tile([10.0, 12.0, 10.0, 8.0], 6)
    np.testing.assert_allclose(classical_indices(x, 4), [0.0, 2.0, 0.0, -2.0])


def test_classical_indices_of_an_odd_season_with_a_trend() -> None:
    # pattern (1, -1, 0) on a line: an odd moving average removes the line exactly.
    t = np.arange(30, dtype=np.float64)
    x = 5.0 + 0.5 * t + np.tile([1.0, -1.0, 0.0], 10)
    np.testing.assert_allclose(classical_indices(x, 3), [1.0, -1.0, 0.0], atol=1e-12)


def test_auto_takes_the_log_only_of_a_positive_series() -> None:
    kw = {"deseasonalize": Deseasonalize.NONE, "season": 1}
    assert (
        fit_transform([1.0, 2.0, 3.0], transform=Transform.AUTO, **kw).kind
        is Transform.LOG
    )
    assert (
        fit_transform([1.0, 0.0, 3.0], transform=Transform.AUTO, **kw).kind
        is Transform.NONE
    )
    # asked for log on data that has a zero: refused quietly, recorded as none
    assert (
        fit_transform([1.0, 0.0], transform=Transform.LOG, **kw).kind is Transform.NONE
    )


def test_seasonality_test_tells_a_season_from_noise() -> None:
    t = np.arange(120)
    assert is_seasonal(np.sin(2 * np.pi * t / 12), 12)
    noise = np.random.default_rng(0).normal(size=120)
    assert not is_seasonal(noise, 12)
    assert not is_seasonal(np.sin(2 * np.pi * t[:30] / 12), 12)  # under 3 seasons


def test_test_deseasonalises_a_seasonal_series_and_leaves_others() -> None:
    t = np.arange(96)
    seasonal = 100 * np.exp(0.01 * t) * (1 + 0.3 * np.sin(2 * np.pi * t / 12))
    fitted = fit_transform(
        seasonal, transform=Transform.AUTO, deseasonalize=Deseasonalize.TEST, season=12
    )
    assert fitted.kind is Transform.LOG
    assert fitted.season == 12
    assert len(fitted.indices) == 12
    assert abs(sum(fitted.indices)) < 1e-12
    flat = fit_transform(
        np.linspace(1, 2, 96),
        transform=Transform.NONE,
        deseasonalize=Deseasonalize.TEST,
        season=12,
    )
    assert flat.indices == ()


def test_auto_deseasonalises_whenever_two_seasons_are_there() -> None:
    kw = {"transform": Transform.NONE, "season": 4}
    line = np.linspace(1, 2, 8)  # two seasons, no seasonality: indices near zero
    fitted = fit_transform(line, deseasonalize=Deseasonalize.AUTO, **kw)
    assert len(fitted.indices) == 4
    assert fit_transform(line[:7], deseasonalize=Deseasonalize.AUTO, **kw).indices == ()
    assert (
        fit_transform(
            line, deseasonalize=Deseasonalize.AUTO, transform=Transform.NONE, season=1
        ).indices
        == ()
    )


@given(
    first_row=st.integers(-50, 50),
    season=st.integers(2, 12),
    n=st.integers(1, 40),
    log=st.booleans(),
)
def test_inverse_undoes_forward_at_any_offset(
    first_row: int, season: int, n: int, log: bool
) -> None:
    rng = np.random.default_rng(season)
    indices = rng.normal(size=season)
    indices -= indices.mean()
    tr = TargetTransform(
        Transform.LOG if log else Transform.NONE, season, tuple(indices)
    )
    y = rng.uniform(1.0, 50.0, size=n)
    z = tr.forward(y, first_row)
    rows = first_row + np.arange(n)
    np.testing.assert_allclose(tr.inverse(z, rows), y, rtol=1e-12)
    # row r uses index r mod season, whatever the offset
    expected = (np.log(y) if log else y) - indices[np.mod(rows, season)]
    np.testing.assert_allclose(z, expected)


def test_round_trip_through_json() -> None:
    tr = TargetTransform(Transform.LOG, 4, (0.1, -0.1, 0.2, -0.2))
    assert TargetTransform.from_dict(tr.to_dict()) == tr
    with pytest.raises(Exception, match="3 seasonal indices for season 4"):
        TargetTransform.from_dict({"kind": "log", "season": 4, "indices": [0, 0, 0]})


def test_a_zero_after_the_training_part_rules_out_the_log() -> None:
    train = np.arange(1.0, 25.0)
    positive_later = fit_transform(
        train, transform=Transform.AUTO, deseasonalize=Deseasonalize.NONE, season=1,
        later=np.array([3.0, 4.0]),
    )  # fmt: skip
    zero_later = fit_transform(
        train, transform=Transform.AUTO, deseasonalize=Deseasonalize.NONE, season=1,
        later=np.array([3.0, 0.0]),
    )  # fmt: skip
    assert positive_later.kind is Transform.LOG
    assert zero_later.kind is Transform.NONE
    # The model reads those later rows as inputs: under the log, 0 would be -inf.
    assert np.all(np.isfinite(zero_later.forward(np.array([3.0, 0.0]))))


def test_a_global_model_trains_when_one_series_has_a_zero_late() -> None:
    from seqcast.config import RunConfig
    from seqcast.model.pooled import fit_pooled, forecast_pooled

    t = np.arange(40.0)
    ok = (10 + t).reshape(-1, 1)
    late_zero = (5 + t).reshape(-1, 1)
    late_zero[-3, 0] = 0.0  # in the test part: the training part is positive
    config = RunConfig().with_overrides(
        {"window": 4, "horizon": 2, "units": "3", "epochs": 1, "patience": 0}
    )
    fitted = fit_pooled([ok, late_zero], config, season=1)
    assert [p.transform.kind for p in fitted.preps] == [Transform.LOG, Transform.NONE]
    assert all(np.all(np.isfinite(f)) for f in forecast_pooled(fitted))
