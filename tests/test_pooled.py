"""One global model over many series: padding, splits, sizing, pooled windows, forecasts."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from seqcast.config import RunConfig
from seqcast.errors import DataError
from seqcast.model.pooled import fit_pooled, forecast_pooled, pad_rows, pool_bounds
from seqcast.prep.sizing import resolve_pool_sizes

pytestmark = pytest.mark.filterwarnings(
    "ignore:.*__array__ implementation doesn't accept a copy keyword:DeprecationWarning"
)


def test_pad_rows_repeats_the_first_row_in_front() -> None:
    rows = np.array([[5.0], [6.0]])
    np.testing.assert_array_equal(pad_rows(rows, 4), [[5.0], [5.0], [5.0], [6.0]])
    assert pad_rows(rows, 2) is rows


def test_pool_bounds_drop_the_parts_a_short_series_lacks() -> None:
    # 40 rows, window 4, horizon 3, 15% + 15%: 6 + 6 held out, 28 train rows.
    full = pool_bounds(40, 4, 3, 0.15, 0.15)
    assert (full.train_end, full.val_end, full.n_steps) == (28, 34, 40)
    # 12 rows: 3 + 3 held out leave 6 < 4 + 3, so the test part goes (train 9 rows).
    no_test = pool_bounds(12, 4, 3, 0.15, 0.15)
    assert (no_test.train_end, no_test.val_end) == (9, 12)
    # 8 rows: not even train + validation fit; all of it is training rows.
    none = pool_bounds(8, 4, 3, 0.15, 0.15)
    assert (none.train_end, none.val_end) == (8, 8)


def test_pool_window_follows_the_median_series() -> None:
    base = RunConfig().train
    # Yearly, horizon 6: wanted ceil(1.25 * 6) = 8. A 14-row series keeps 6 validation
    # rows and 6 target rows: room for a window of 2. A 60-row one keeps 9: room for 45.
    sized, notes = resolve_pool_sizes(base, [14, 14, 60, 60, 60], 1)
    assert (sized.window, sized.horizon) == (8, 6)
    assert notes == ()
    sized, notes = resolve_pool_sizes(base, [14, 14, 14, 60, 60], 1)
    assert sized.window == 2
    assert "half of the 5 series" in notes[0]
    with pytest.raises(DataError, match="at least 7"):
        resolve_pool_sizes(base, [5, 6], 1)


def _periodic(level: float, n: int, phase: int = 0) -> np.ndarray:
    pattern = np.array([1.0, 1.3, 0.8, 1.1])
    return (level * pattern[(np.arange(n) + phase) % 4]).reshape(-1, 1)


def test_pooled_fit_counts_windows_per_series_and_forecasts_each_in_its_units() -> None:
    specs = [(10.0, 40, 0), (1000.0, 33, 1), (3.0, 9, 0)]
    series = [_periodic(level, n, phase) for level, n, phase in specs]
    config = RunConfig().with_overrides(
        {"window": 5, "horizon": 4, "units": "4", "epochs": 2, "refit": True}
    )
    lines: list[str] = []
    fitted = fit_pooled(series, config, season=4, progress=lines.append)
    # Train windows per series: train_end - window - horizon + 1, from each split;
    # the 9-row series is all training rows and holds 9 - 5 - 4 + 1 = 1 window.
    expected = 0
    for values in series:
        b = pool_bounds(len(values), 5, 4, 0.15, 0.15)
        expected += max(0, b.train_end - 5 - 4 + 1)
    assert f"on {expected} windows of 3 series" in lines[0]
    assert fitted.refitted
    # A periodic positive series is constant after log and deseasonalisation, so the
    # forecast is its periodic continuation, whatever little the network learned.
    forecasts = forecast_pooled(fitted)
    for (level, n, phase), got in zip(specs, forecasts, strict=True):
        want = _periodic(level, n + 4, phase)[n:, 0]
        np.testing.assert_allclose(got, want, rtol=0.05)


def test_history_horizons_train_on_each_series_newest_windows_only() -> None:
    from seqcast.model import pooled as pooled_module

    series = [_periodic(10.0, 60), _periodic(300.0, 30, 1), _periodic(2.0, 12)]
    config = RunConfig().with_overrides(
        {"window": 4, "horizon": 3, "units": "4", "epochs": 1, "refit": False,
         "history_horizons": 2.0}
    )  # fmt: skip
    scaled_starts = pooled_module._prepare(series, config, 4)[3]
    # Each series keeps at most ceil(2 * 3) = 6 windows, its newest: those whose
    # targets end in the last 6 training rows, counted from its own split.
    offset = 0
    want_train: list[int] = []
    want_all: list[int] = []
    for values in series:
        n = len(values)
        b = pool_bounds(n, 4, 3, 0.15, 0.15)
        train = [s for s in range(n) if s + 7 <= b.train_end]
        every = [s for s in range(n) if s + 7 <= n]
        want_train += [offset + s for s in train if s + 7 > b.train_end - 6]
        want_all += [offset + s for s in every if s + 7 > n - 6]
        offset += n
    assert scaled_starts["train"].tolist() == want_train
    assert scaled_starts["all"].tolist() == want_all
    lines: list[str] = []
    fit_pooled(series, config, season=4, progress=lines.append)
    assert f"on {len(want_train)} windows of 3 series" in lines[0]


def test_history_horizons_apply_to_one_series_too() -> None:
    from seqcast.model.pipeline import fit_values

    values = _periodic(10.0, 80)
    config = RunConfig().with_overrides(
        {"window": 4, "horizon": 3, "units": "4", "epochs": 1}
    )
    lines: list[str] = []
    fit_values(values, config, season=4, progress=lines.append)
    b = pool_bounds(80, 4, 3, 0.15, 0.15)
    assert f"on {b.train_end - 7 + 1} windows (" in lines[0]
    lines.clear()
    fit_values(
        values, config.with_overrides({"history_horizons": 1.5}), season=4,
        progress=lines.append,
    )  # fmt: skip
    assert "on 5 windows (" in lines[0]  # ceil(1.5 * 3)


def test_the_final_fit_deseasonalises_each_series_on_all_its_rows() -> None:
    from seqcast.prep.transforms import classical_indices

    # The seasonal pattern changes in the last third: indices of the training part
    # alone would miss it. Positive, so the transform is log.
    t = np.arange(48)
    old = np.array([1.0, 1.3, 0.8, 1.1])
    new = np.array([1.2, 0.9, 1.0, 1.1])
    series = [
        (level * np.where(t < 32, old[t % 4], new[t % 4])).reshape(-1, 1)
        for level in (10.0, 200.0)
    ]
    config = RunConfig().with_overrides(
        {"window": 4, "horizon": 4, "units": "4", "epochs": 2, "refit": True,
         "val_fraction": 0.3}
    )  # fmt: skip
    fitted = fit_pooled(series, config, season=4)
    assert fitted.refitted
    for k, values in enumerate(series):
        logged = np.log(values[:, 0])
        train_end = fitted.bounds[k].train_end
        assert train_end < 48
        np.testing.assert_allclose(
            fitted.holdout_preps[k].transform.indices,
            classical_indices(logged[:train_end], 4),
        )
        np.testing.assert_allclose(
            fitted.preps[k].transform.indices, classical_indices(logged, 4)
        )
        assert (
            fitted.preps[k].transform.indices
            != fitted.holdout_preps[k].transform.indices
        )
        # The scaler stays the training part's: the epoch count was chosen at its scale.
        assert fitted.preps[k].scaler is fitted.holdout_preps[k].scaler
    # Without a refit the final models are the holdout ones, prepared alike.
    once = fit_pooled(series, config.with_overrides({"refit": False}), season=4)
    assert not once.refitted
    assert once.preps is once.holdout_preps


def test_series_shorter_than_the_window_is_padded_and_forecast() -> None:
    long = [_periodic(50.0, 30), _periodic(20.0, 30)]
    config = RunConfig().with_overrides(
        {"window": 8, "horizon": 4, "units": "4", "epochs": 1}
    )
    fitted = fit_pooled([*long, _periodic(7.0, 5)], config, season=4)
    short = forecast_pooled(fitted, [2])[0]
    assert short.shape == (4,)
    assert np.all(np.isfinite(short))
    assert np.all(short > 0)


def test_no_series_with_a_training_window_is_refused() -> None:
    config = dataclasses.replace(
        RunConfig(), train=dataclasses.replace(RunConfig().train, window=10, horizon=5)
    )
    with pytest.raises(DataError, match="None of the 2 series"):
        fit_pooled([_periodic(1.0, 8), _periodic(2.0, 9)], config, season=4)


def _pool_frame(n_series: int, n_rows: int = 24) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    parts = []
    for k in range(n_series):
        t = np.arange(n_rows)
        y = 10.0 + k + np.sin(2 * np.pi * t / 4) + 0.3 * rng.standard_normal(n_rows)
        dates = pd.date_range("2001-01-01", periods=n_rows, freq="QS")
        parts.append(pd.DataFrame({"id": f"s{k}", "date": dates, "y": y}))
    return pd.concat(parts)


@pytest.mark.parametrize(
    ("n_series", "per_series"),
    [
        (3, None),  # a small pool keeps every validation window (34 allowed each)
        (101, 1),  # a large one keeps each series' last one: series weigh alike
    ],
)
def test_intervals_weigh_every_series_alike(
    n_series: int, per_series: int | None
) -> None:
    import seqcast

    # 24 rows, horizon 3: validation is the last round(0.3 * 24) = 7 rows, 5 windows
    # (a model over several series validates on 30% of each, see POOLED_DEFAULTS).
    result = seqcast.train(
        _pool_frame(n_series), id_col="id", target="y", horizon=3, window=4,
        units=(2,), epochs=1, progress=None,
    )  # fmt: skip
    calibration = result.meta.intervals
    assert calibration is not None
    assert calibration.n_windows == n_series * (per_series or 5)
