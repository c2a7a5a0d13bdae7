from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import seqcast
from seqcast.config import Engine, RunConfig
from seqcast.errors import ConfigError, DataError

pytestmark = pytest.mark.filterwarnings(
    "ignore:.*__array__ implementation doesn't accept a copy keyword:DeprecationWarning"
)


@pytest.mark.slow
def test_readme_script_trains_loads_forecasts_and_evaluates(
    sine_frame: pd.DataFrame, tmp_path: Path, tiny_config: RunConfig
) -> None:
    result = seqcast.train(sine_frame, out=tmp_path / "m", config=tiny_config, epochs=2)
    assert result.path == tmp_path / "m"
    assert result.config.train.epochs == 2
    assert result.config.data.freq == "D"
    model = seqcast.load(tmp_path / "m")
    frame = model.forecast(5).to_frame()
    assert list(frame.columns) == ["date", "y"]
    assert frame["date"].iloc[0] == sine_frame["date"].iloc[-1] + pd.Timedelta(days=1)
    assert result.evaluation is not None
    assert model.evaluate().scores["model"].mase == pytest.approx(
        result.evaluation.scores["model"].mase
    )


@pytest.mark.slow
@pytest.mark.parametrize("window_norm", ["last", "mean"])
def test_saved_model_forecasts_exactly_what_it_did_before_saving(
    sine_frame: pd.DataFrame, tmp_path: Path, tiny_config: RunConfig, window_norm: str
) -> None:
    from seqcast.model.pipeline import fit_values

    values = sine_frame[["y"]].to_numpy(dtype=np.float64)
    config = tiny_config.with_overrides(
        {"test_fraction": 0.0, "window_norm": window_norm}
    )
    fitted = fit_values(values, config)
    last_start = np.array(
        [len(values) - config.train.window - config.train.horizon], dtype=np.int64
    )
    before = fitted.predict_starts(last_start)
    seqcast.train(sine_frame, out=tmp_path / "m", config=config)
    loaded = seqcast.load(tmp_path / "m", engine=Engine.KERAS)
    from seqcast.model.pipeline import predict_windows

    after = predict_windows(
        loaded.predictor(),
        loaded.prep,
        values,
        last_start,
        config.train.window,
        config.train.horizon,
        config.train.window_norm,
    )
    np.testing.assert_allclose(
        after, before, rtol=0, atol=1e-6
    )  # same seed: the same model, saved and reloaded


@pytest.mark.slow
def test_same_seed_same_forecast_different_seed_different(
    sine_frame: pd.DataFrame, tiny_config: RunConfig, tmp_path: Path
) -> None:
    a = seqcast.train(sine_frame, out=tmp_path / "a", config=tiny_config)
    b = seqcast.train(sine_frame, out=tmp_path / "b", config=tiny_config)
    c = seqcast.train(sine_frame, out=tmp_path / "c", config=tiny_config, seed=1)
    fa, fb, fc = (seqcast.load(r.path).forecast(3).values for r in (a, b, c) if r.path)
    np.testing.assert_array_equal(fa, fb)
    assert not np.allclose(fa, fc)


def test_forecast_rejects_zero_steps_and_wrong_data(tmp_path: Path) -> None:
    pytest.importorskip("keras")
    with pytest.raises(ConfigError):
        RunConfig().with_overrides({"window": 0})
    with pytest.raises(DataError, match="window=500"):
        seqcast.train(
            pd.DataFrame(
                {"date": pd.date_range("2020", periods=50), "y": np.arange(50.0)}
            ),
            window=500,
        )


def test_import_seqcast_is_light() -> None:
    code = "import sys, seqcast; print(sorted({'keras', 'tensorflow', 'pandas', 'sklearn'} & set(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


@pytest.mark.slow
def test_a_transformed_model_forecasts_the_same_from_its_window_or_the_data(
    tmp_path: Path,
) -> None:
    # Multiplicative seasonality with growth: the defaults take the log and remove
    # a monthly season, so the forecast depends on each row's phase. Forecasting from
    # the stored window and from the CSV (phase counted from the dates) must agree,
    # and so must the NumPy engine and Keras.
    t = np.arange(96, dtype=np.float64)
    y = 100 * np.exp(0.01 * t) * (1 + 0.3 * np.sin(2 * np.pi * t / 12))
    frame = pd.DataFrame(
        {"date": pd.date_range("2010-01-01", periods=96, freq="MS"), "y": y}
    )
    csv = tmp_path / "m.csv"
    frame.to_csv(csv, index=False)
    seqcast.train(
        csv, out=tmp_path / "m", units=(4,), epochs=2, patience=0, test_fraction=0.0
    )
    model = seqcast.load(tmp_path / "m")
    record = model.artifact.meta.one
    assert record.transform.kind.value == "log"
    assert len(record.transform.indices) == 12
    stored = model.forecast(18).values
    np.testing.assert_allclose(model.forecast(18, csv).values, stored, rtol=1e-9)
    # the same data with its first 5 rows cut: the phase moves with the dates
    np.testing.assert_allclose(
        model.forecast(18, frame.iloc[5:]).values, stored, rtol=1e-9
    )
    keras = seqcast.load(tmp_path / "m", engine=Engine.KERAS).forecast(18).values
    np.testing.assert_allclose(keras, stored, rtol=1e-5)
    assert np.all(stored > 0)


@pytest.mark.slow
def test_intervals_warn_on_levels_the_calibration_cannot_resolve(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # 60 positive points, horizon 6: the validation part holds a few windows, so the
    # band borrows seasonal naive's errors at about 40 origins (6 steps each): 80% is
    # resolvable and 99.9% (which needs 999 calibration errors) is not.
    t = np.arange(60, dtype=np.float64)
    frame = pd.DataFrame(
        {
            "date": pd.date_range("2000", periods=60, freq="MS"),
            "y": 1.0 + 0.1 * np.sin(t),
        }
    )
    seqcast.train(
        frame, out=tmp_path / "m", units=(4,), epochs=1, horizon=6, test_fraction=0.0
    )
    model = seqcast.load(tmp_path / "m")
    n = model.artifact.meta.intervals.n_residuals
    assert 99 <= n < 999
    capsys.readouterr()
    forecast = model.forecast(6, intervals=(0.8, 0.99, 0.999))
    err = capsys.readouterr().err
    assert "level=0.8 " not in err
    assert "level=0.99 " not in err
    assert (
        f"level=0.999 needs at least 999 calibration errors, but the model kept {n}"
        in err
    )
    assert np.all(
        forecast.bands["99.9"][0] >= 0.0
    )  # a positive series keeps positive bounds


@pytest.mark.slow
def test_a_short_series_borrows_seasonal_naive_errors_for_its_intervals(
    tmp_path: Path, tiny_config: RunConfig
) -> None:
    import math

    from conftest import make_sine_frame

    # 80 daily rows, 12 + 12 held out: 10 validation windows of 3 steps, too few for
    # a band of their own, while seasonal naive (season 7) has an origin at every
    # row from 6 to 64 whose targets end before the test part (row 68).
    frame = make_sine_frame(80)
    result = seqcast.train(frame, out=tmp_path / "m", config=tiny_config)
    assert result.path is not None
    model = seqcast.load(result.path)
    cal = model.artifact.meta.intervals
    assert cal is not None
    assert cal.reference == "seasonal_naive"
    assert cal.reference_ratio is not None
    assert cal.reference_ratio > 0
    y = frame["y"].to_numpy()
    errors = [
        [abs(y[o + h] - y[o + h - 7 * math.ceil(h / 7)]) for h in (1, 2, 3)]
        for o in range(6, 68 - 3)
    ]
    assert cal.n_windows == len(errors)
    # Pooled units of each step's mean error, sized by the ratio, grown by sqrt(step).
    step_means = [sum(e[h] for e in errors) / len(errors) for h in range(3)]
    units = sorted(e[h] / step_means[h] for e in errors for h in range(3))
    size = cal.reference_ratio * sum(map(sum, errors)) / (3 * len(errors))
    roots = [math.sqrt(h) for h in (1, 2, 3)]
    for h in range(3):
        np.testing.assert_allclose(
            cal.residuals[h], [u * size * roots[h] * 3 / sum(roots) for u in units]
        )
    bands = model.forecast(3, intervals=(0.8, 0.95)).to_frame()
    width_80 = bands["upper_80"] - bands["lower_80"]
    width_95 = bands["upper_95"] - bands["lower_95"]
    assert (width_95 > width_80).all()
