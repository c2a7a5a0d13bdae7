"""`--deseasonalize mixed`: half the members read each series one step less prepared.

With seasonal indices, the other half reads the series with its season (same log and
scaler); without indices but with a log, it reads the series without the log, through a
scaler of its own.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from seqcast import api
from seqcast.cli import app
from seqcast.config import Deseasonalize, RunConfig, ScalerKind, TrainConfig, Transform
from seqcast.model.pipeline import Prep, blend
from seqcast.prep.scaling import Scaler
from seqcast.prep.transforms import TargetTransform
from seqcast.prep.windows import denormalize, normalize_windows
from seqcast.store.directory import load_artifact
from seqcast.store.layout import member_file

pytestmark = pytest.mark.filterwarnings(
    "ignore:.*__array__ implementation doesn't accept a copy keyword:DeprecationWarning"
)


def _seasonal_frame(n: int = 96, level: float = 100.0, seed: int = 0) -> pd.DataFrame:
    """A positive monthly series with a multiplicative yearly pattern and noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    y = level * (1 + 0.3 * np.sin(2 * np.pi * t / 12)) * np.exp(rng.normal(0, 0.03, n))
    return pd.DataFrame(
        {"date": pd.date_range("2001-01-01", periods=n, freq="MS"), "y": y}
    )


def _config(**extra: object) -> RunConfig:
    return RunConfig().with_overrides(
        {
            "target": "y",
            "window": 12,
            "horizon": 3,
            "units": (4,),
            "epochs": 2,
            "batch_size": 16,
            "patience": 0,
            "seed": 0,
            "ensemble": 2,
            "deseasonalize": "mixed",
            **extra,
        }
    )


@pytest.mark.parametrize(
    ("ensemble", "deseasonalize", "seasonal"),
    [
        (1, "mixed", 1),
        (2, "mixed", 1),
        (5, "mixed", 3),
        (10, "mixed", 5),
        (4, "auto", 4),
    ],
)
def test_mixed_gives_the_first_half_rounded_up_to_the_deseasonalised_members(
    ensemble: int, deseasonalize: str, seasonal: int
) -> None:
    tc = TrainConfig(ensemble=ensemble, deseasonalize=Deseasonalize(deseasonalize))
    assert tc.seasonal_members == seasonal


def test_the_raw_preparation_keeps_log_and_scaler_and_drops_the_indices() -> None:
    transform = TargetTransform(Transform.LOG, 4, (0.1, -0.2, 0.3, -0.2))
    scaler = Scaler(ScalerKind.STANDARD).fit(np.array([[1.0], [2.0], [3.0]]))
    raw = Prep(transform, scaler).raw()
    assert raw.scaler is scaler
    assert raw.transform.indices == ()
    values = np.array([[2.0], [5.0]])
    expected = (np.log(values) - scaler.center_) / scaler.scale_
    np.testing.assert_allclose(raw.apply(values, first_row=3), expected)
    plain = Prep(TargetTransform(Transform.NONE, 1, ()), scaler)
    assert plain.raw() is plain


def test_without_indices_the_raw_preparation_drops_the_log() -> None:
    transform = TargetTransform(Transform.LOG, 1, ())
    scaler = Scaler(ScalerKind.STANDARD).fit(np.log([[1.0], [2.0], [3.0]]))
    raw_scaler = Scaler(ScalerKind.STANDARD).fit(np.array([[1.0], [2.0], [3.0]]))
    raw = Prep(transform, scaler, raw_scaler).raw()
    assert raw.scaler is raw_scaler
    assert raw.transform.is_identity
    values = np.array([[2.0], [5.0]])
    # By hand: the standard scaler of 1, 2, 3 has centre 2 and scale sqrt(2/3).
    np.testing.assert_allclose(raw.apply(values), (values - 2.0) / np.sqrt(2 / 3))
    np.testing.assert_allclose(raw.invert(raw.apply(values)[:, 0], [0, 1]), [2.0, 5.0])
    # A model written before raw scalers existed keeps reading the log.
    old = Prep(transform, scaler)
    assert old.raw() is old


@pytest.mark.parametrize(
    ("y", "overrides", "fitted"),
    [
        ([5.0, 7.0, 6.0, 9.0, 8.0, 11.0], {}, True),
        ([5.0, -7.0, 6.0, 9.0, 8.0, 11.0], {}, False),  # not positive: no log to drop
        ([5.0, 7.0, 6.0, 9.0, 8.0, 11.0], {"deseasonalize": "auto"}, False),
        ([5.0, 7.0, 6.0, 9.0, 8.0, 11.0], {"ensemble": 1}, False),  # no second half
    ],
)
def test_the_raw_scaler_is_fitted_on_the_untransformed_training_rows(
    y: list[float], overrides: dict[str, object], fitted: bool
) -> None:
    from seqcast.model.pipeline import fit_prep, refit_transform

    values = np.array(y)[:, None]
    config = _config(**overrides)
    prep, _ = fit_prep(values, 4, config, season=1)
    if not fitted:
        assert prep.raw_scaler is None
        return
    assert prep.raw_scaler is not None
    train = np.array(y[:4])
    np.testing.assert_allclose(prep.raw_scaler.center_, [train.mean()])
    np.testing.assert_allclose(prep.raw_scaler.scale_, [train.std()])
    np.testing.assert_allclose(prep.scaler.center_, [np.log(train).mean()])
    # The final fit keeps the scalers of the training part.
    again, _ = refit_transform(prep, values, config, season=1)
    assert again.raw_scaler is prep.raw_scaler


def test_a_seasonal_series_needs_no_raw_scaler() -> None:
    from seqcast.model.pipeline import fit_prep

    values = _seasonal_frame(48)[["y"]].to_numpy(dtype=np.float64)
    prep, _ = fit_prep(values, 36, _config(), season=12)
    assert prep.transform.indices
    assert prep.raw_scaler is None
    assert prep.raw().transform.kind is Transform.LOG


def test_blend_falls_back_to_the_mean_where_a_group_is_not_positive() -> None:
    logged = Prep(TargetTransform(Transform.LOG, 1, ()), Scaler(ScalerKind.NONE))
    a, b = np.array([[1.0, 4.0, 3.0]]), np.array([[4.0, -2.0, 0.0]])
    np.testing.assert_allclose(blend([a, b], logged), [[2.0, 1.0, 1.5]])


def test_blend_is_the_geometric_mean_under_log_and_the_mean_otherwise() -> None:
    a, b = np.array([[1.0, 4.0]]), np.array([[4.0, 9.0]])
    scaler = Scaler(ScalerKind.NONE)
    logged = Prep(TargetTransform(Transform.LOG, 1, ()), scaler)
    plain = Prep(TargetTransform(Transform.NONE, 1, ()), scaler)
    np.testing.assert_allclose(blend([a, b], logged), [[2.0, 6.0]])
    np.testing.assert_allclose(blend([a, b], plain), [[2.5, 6.5]])
    assert blend([a], logged) is a


def _by_hand(
    path: Path, series: str | None, raw_members: set[int]
) -> tuple[np.ndarray, np.ndarray]:
    """One horizon from the stored window, each member through its own inputs.

    Returns the log forecasts of the deseasonalised members and of the others.
    """
    from seqcast.model.predict import NumpyModel

    art = load_artifact(path)
    records = {r.id: r for r in art.meta.series}
    record = art.meta.one if series is None else records[series]
    tc = art.config.train
    window, horizon = tc.sizes
    last = record.last_window.array()[:, 0]
    transform, scaler = record.transform, record.scaler
    assert transform.kind is Transform.LOG
    assert transform.season == 12
    indices = np.asarray(transform.indices)
    # The stored window ends at the last row; rows count from the first training row.
    rows_in = record.n_rows - window + np.arange(window)
    rows_out = record.n_rows + np.arange(horizon)
    groups: dict[bool, list[np.ndarray]] = {False: [], True: []}
    for m in range(tc.ensemble):
        raw = m in raw_members
        z = np.log(last) - (0.0 if raw else indices[rows_in % 12])
        x = ((z - scaler.center_[0]) / scaler.scale_[0])[None, :, None]
        xn, _, offset = normalize_windows(x, None, tc.window_norm)
        model = NumpyModel.from_keras_file(path / member_file(m))
        out = denormalize(model.predict(xn.astype(np.float32)), offset)[0]
        groups[raw].append(out * scaler.scale_[0] + scaler.center_[0])
    seasonal = np.mean(groups[False], axis=0) + indices[rows_out % 12]
    return seasonal, np.mean(groups[True], axis=0)


@pytest.mark.slow
def test_one_series_forecast_blends_a_deseasonalised_member_and_a_seasonal_one(
    tmp_path: Path,
) -> None:
    result = api.train(_seasonal_frame(), out=tmp_path / "m", config=_config())
    assert result.path is not None
    forecast = api.load(result.path).forecast(3).values
    seasonal, plain = _by_hand(result.path, None, {1})
    np.testing.assert_allclose(forecast, np.exp((seasonal + plain) / 2), rtol=1e-5)
    shown = CliRunner().invoke(app, ["info", str(result.path)])
    assert shown.exit_code == 0
    assert (
        "ensemble=2 (mean; 1 deseasonalised, 1 with the season, blended)"
        in shown.stdout
    )
    # Both members count: the blend is neither of them alone.
    assert not np.allclose(forecast, np.exp(seasonal), rtol=1e-3)
    assert not np.allclose(forecast, np.exp(plain), rtol=1e-3)


@pytest.mark.slow
def test_a_global_model_blends_its_groups_for_every_series(tmp_path: Path) -> None:
    frames = [
        _seasonal_frame(96, level, seed).assign(id=f"s{seed}")
        for seed, level in enumerate((50.0, 100.0, 400.0))
    ]
    config = _config(ensemble=3, refit=True, val_fraction=0.3)
    config = config.with_overrides({"id_col": "id"})
    result = api.train(pd.concat(frames), out=tmp_path / "g", config=config)
    assert result.path is not None
    model = api.load(result.path)
    for forecast in model.forecast_all(3):
        seasonal, plain = _by_hand(result.path, str(forecast.series), {2})
        expected = np.exp((seasonal + plain) / 2)
        np.testing.assert_allclose(forecast.values, expected, rtol=1e-5)


@pytest.mark.slow
def test_each_group_trains_on_its_own_rows_from_its_own_seeds() -> None:
    from seqcast.model.pipeline import fit_prep, train_members

    values = _seasonal_frame(96)[["y"]].to_numpy(dtype=np.float64)
    config = _config(ensemble=2)
    prep, scaled = fit_prep(values, 60, config, season=12)
    raw = prep.raw().apply(values)
    assert not np.allclose(raw, scaled)
    starts = np.arange(0, 60 - 15 + 1, dtype=np.int64)
    val = np.arange(60, 75, dtype=np.int64)
    mixed, fits = train_members(config, scaled, starts, val, None, raw=raw)
    assert len(mixed) == len(fits) == 2
    single = dataclasses.replace(
        config,
        train=dataclasses.replace(
            config.train, ensemble=1, deseasonalize=Deseasonalize.AUTO
        ),
    )
    (first,), _ = train_members(single, scaled, starts, val, None)
    seed_one = dataclasses.replace(
        single, train=dataclasses.replace(single.train, seed=1)
    )
    (second,), _ = train_members(seed_one, raw, starts, val, None)
    for got, want in ((mixed[0], first), (mixed[1], second)):
        for a, b in zip(got.get_weights(), want.get_weights(), strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_mixed_without_the_raw_rows_is_refused() -> None:
    from seqcast.model.pipeline import train_members

    scaled = np.zeros((40, 1))
    starts = np.arange(5, dtype=np.int64)
    with pytest.raises(ValueError, match="mixed"):
        train_members(_config(), scaled, starts, starts, None)


def _yearly(seed: int = 3, level: float = 50.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "date": pd.date_range("1950-01-01", periods=60, freq="YS"),
            "y": level + np.cumsum(rng.normal(1.0, 2.0, 60)),
        }
    )


@pytest.mark.slow
@pytest.mark.parametrize(("transform", "fits"), [("none", 1), ("auto", 2)])
def test_without_indices_or_a_log_the_members_train_in_one_fit(
    tmp_path: Path, transform: str, fits: int
) -> None:
    lines: list[str] = []
    # A yearly series has a season of 1: no indices. Without a log either, both halves
    # read the same rows; with one, the second half reads the series without it.
    config = _config(window=6, ensemble=4, transform=transform)
    result = api.train(
        _yearly(), out=tmp_path / "m", config=config, progress=lines.append
    )
    assert result.path is not None
    together = [line for line in lines if "trained together" in line]
    shown = CliRunner().invoke(app, ["info", str(result.path)]).stdout
    if fits == 1:
        assert together == ["4 members (seeds 0 to 3) trained together"]
        assert "ensemble=4 (mean; all 4 read each series alike)" in shown
    else:
        assert "ensemble=4 (mean; 2 with the log, 2 without the log, blended)" in shown
        assert together == [
            "2 members (seeds 0 to 1) trained together",
            "2 members (seeds 2 to 3) trained together, reading each series one step less prepared",
        ]
    assert api.load(result.path).forecast(3).values.shape == (3,)


def _by_hand_yearly(path: Path, series: str | None) -> tuple[np.ndarray, np.ndarray]:
    """One horizon from the stored window: member 0 through the log, member 1 without.

    Returns each member's forecast in the series' units.
    """
    from seqcast.model.predict import NumpyModel

    art = load_artifact(path)
    records = {r.id: r for r in art.meta.series}
    record = art.meta.one if series is None else records[series]
    assert record.transform.kind is Transform.LOG
    assert not record.transform.indices
    assert record.raw_scaler is not None
    tc = art.config.train
    last = record.last_window.array()[:, 0]
    out = []
    for m, (z, scaler) in enumerate(
        ((np.log(last), record.scaler), (last, record.raw_scaler))
    ):
        x = ((z - scaler.center_[0]) / scaler.scale_[0])[None, :, None]
        xn, _, offset = normalize_windows(x, None, tc.window_norm)
        model = NumpyModel.from_keras_file(path / member_file(m))
        scaled = denormalize(model.predict(xn.astype(np.float32)), offset)[0]
        out.append(scaled * scaler.scale_[0] + scaler.center_[0])
    return np.exp(out[0]), out[1]


@pytest.mark.slow
def test_a_yearly_forecast_blends_a_member_with_the_log_and_one_without(
    tmp_path: Path,
) -> None:
    import json

    config = _config(window=6, lr=0.01, epochs=3)
    result = api.train(_yearly(), out=tmp_path / "m", config=config)
    assert result.path is not None
    doc = json.loads((result.path / "seqcast.json").read_text())
    train_end = doc["series"][0]["split"]["train_end"]
    train = _yearly()["y"].to_numpy()[:train_end]
    # Stored as plain numbers: the standard scaler of the untransformed training rows.
    stored = doc["series"][0]["raw_scaler"]
    np.testing.assert_allclose(stored["center"], [train.mean()])
    np.testing.assert_allclose(stored["scale"], [train.std()])
    forecast = api.load(result.path).forecast(3).values
    logged, plain = _by_hand_yearly(result.path, None)
    np.testing.assert_allclose(forecast, np.sqrt(logged * plain), rtol=1e-5)
    assert not np.allclose(forecast, logged, rtol=1e-3)
    assert not np.allclose(forecast, plain, rtol=1e-3)
    shown = CliRunner().invoke(app, ["info", str(result.path)])
    assert shown.exit_code == 0
    assert (
        "ensemble=2 (mean; 1 with the log, 1 without the log, blended)" in shown.stdout
    )


@pytest.mark.slow
def test_a_global_model_reads_each_yearly_series_without_the_log_through_its_own_scaler(
    tmp_path: Path,
) -> None:
    frames = [
        _yearly(seed, level).assign(id=f"y{seed}")
        for seed, level in ((1, 50.0), (2, 300.0))
    ]
    config = _config(window=6, ensemble=2, refit=True, val_fraction=0.3)
    config = config.with_overrides({"id_col": "id"})
    result = api.train(pd.concat(frames), out=tmp_path / "g", config=config)
    assert result.path is not None
    model = api.load(result.path)
    for forecast in model.forecast_all(3):
        logged, plain = _by_hand_yearly(result.path, str(forecast.series))
        np.testing.assert_allclose(forecast.values, np.sqrt(logged * plain), rtol=1e-5)
    shown = CliRunner().invoke(app, ["info", str(result.path)])
    assert "1 with the log, 1 without the log on 2 series, blended" in shown.stdout
