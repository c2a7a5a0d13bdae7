from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import make_sine_frame

from seqcast.config import RunConfig
from seqcast.errors import ConfigError, DataError
from seqcast.evaluation.backtest import backtest, fold_cuts

pytestmark = pytest.mark.filterwarnings(
    "ignore:.*__array__ implementation doesn't accept a copy keyword:DeprecationWarning"
)


def test_fold_cuts_count_back_from_the_end() -> None:
    np.testing.assert_array_equal(fold_cuts(100, 3, 3, None), [91, 94, 97])
    np.testing.assert_array_equal(fold_cuts(100, 3, 3, 5), [87, 92, 97])
    np.testing.assert_array_equal(fold_cuts(100, 4, 1, None), [96])
    with pytest.raises(
        ConfigError, match=r"^folds=0 must be at least 1\. Use --folds 1 or more\.$"
    ):
        fold_cuts(100, 3, 0, None)
    with pytest.raises(ConfigError, match=r"^step=0 must be at least 1\."):
        fold_cuts(100, 3, 2, 0)


def _series(n: int = 120) -> tuple[np.ndarray, list[str]]:
    frame = make_sine_frame(n)
    values = frame[["y"]].to_numpy(np.float64)
    dates = [d.strftime("%Y-%m-%d") for d in frame["date"]]
    return values, dates


def _config(tiny_config: RunConfig) -> RunConfig:
    return dataclasses.replace(
        tiny_config,
        train=dataclasses.replace(tiny_config.train, window_norm="last"),  # type: ignore[arg-type]
    )


@pytest.mark.slow
def test_backtest_folds_baselines_and_pooled_mase_by_hand(
    tiny_config: RunConfig,
) -> None:
    values, dates = _series(120)
    y = values[:, 0]
    result = backtest(values, dates, tiny_config, folds=2, step=5, season=7)
    assert [f.cut for f in result.folds] == [112, 117]  # 120 - 3 - (1 - k) * 5
    assert [f.start for f in result.folds] == [98, 103]  # cut - window (14)
    for fold in result.folds:
        c = fold.cut
        np.testing.assert_array_equal(fold.actual, y[c : c + 3])
        np.testing.assert_array_equal(fold.forecasts["naive"], np.full(3, y[c - 1]))
        np.testing.assert_array_equal(
            fold.forecasts["seasonal_naive"], y[c - 7 : c - 4]
        )
        slope = (y[c - 1] - y[c - 14]) / 13
        np.testing.assert_allclose(
            fold.forecasts["drift"], y[c - 1] + slope * np.arange(1, 4)
        )
        scale = np.mean(np.abs(y[7:c] - y[: c - 7]))  # this fold's training part only
        assert fold.scale == pytest.approx(scale)
        mae = np.mean(np.abs(fold.forecasts["model"] - fold.actual))
        assert fold.evaluation.scores["model"].mae == pytest.approx(mae)
        assert fold.evaluation.scores["model"].mase == pytest.approx(mae / scale)
        assert fold.epochs_run == 1
        assert set(fold.bands) == {"80", "95"}
    pooled = np.mean(
        [
            np.abs(f.forecasts["seasonal_naive"] - f.actual) / f.scale
            for f in result.folds
        ]
    )
    assert result.overall.scores["seasonal_naive"].mase == pytest.approx(pooled)
    assert result.overall.first_date == dates[112]
    assert result.overall.last_date == dates[119]
    assert result.relative_mase() == pytest.approx(
        result.overall.scores["model"].mase / pooled
    )
    doc = result.as_dict()
    assert doc["folds"] == 2
    assert [f["cut"] for f in doc["per_fold"]] == [112, 117]
    assert set(doc["coverage"]) == {"80", "95"}


@pytest.mark.slow
def test_backtest_never_reads_the_rows_it_scores(tiny_config: RunConfig) -> None:
    values, dates = _series(100)
    poisoned = values.copy()
    poisoned[-3:] = 1e6  # the scored rows of the only fold
    a = backtest(values, dates, tiny_config, folds=1, season=7)
    b = backtest(poisoned, dates, tiny_config, folds=1, season=7)
    np.testing.assert_allclose(
        a.folds[0].forecasts["model"], b.folds[0].forecasts["model"]
    )
    assert a.folds[0].cut == 97


def test_too_many_folds_is_a_one_line_error(tiny_config: RunConfig) -> None:
    values, dates = _series(60)
    with pytest.raises(DataError) as err:
        backtest(values, dates, tiny_config, folds=30, season=7)
    assert str(err.value) == (
        "The earliest of folds=30 origins (step=3) leaves 0 rows of history, fewer than window=14 and season=7 need. Use fewer --folds, a smaller --step, or load more history."
    )


@pytest.mark.slow
def test_evaluate_origins_without_retraining(
    tiny_config: RunConfig, tmp_path: Path
) -> None:
    from seqcast import api

    frame = make_sine_frame(160)
    api.train(frame, out=tmp_path / "m", config=_config(tiny_config))
    model = api.load(tmp_path / "m")
    assert model.artifact.meta.intervals.n_windows > 0
    assert set(model.artifact.meta.test_coverage) == {"80", "95"}
    result = model.evaluate_folds(frame, folds=3, step=4)
    assert [f.cut for f in result.folds] == [149, 153, 157]
    assert not result.retrained
    assert all(f.epochs_run == 0 for f in result.folds)
    keras_model = model.artifact.keras_model()
    scaled = model.scaler.transform(frame[["y"]].to_numpy(np.float64))
    for fold in result.folds:
        # By hand: the window before the cut, relative to its last value, through Keras.
        x = scaled[fold.cut - 14 : fold.cut][None, :, :]
        offset = x[0, -1, 0]
        raw = np.asarray(keras_model(x - offset), dtype=np.float64)[0] + offset
        expected = model.scaler.inverse_target(raw)
        np.testing.assert_allclose(fold.forecasts["model"], expected, rtol=1e-4)
        np.testing.assert_array_equal(
            fold.actual, frame["y"].to_numpy()[fold.cut : fold.cut + 3]
        )
    with pytest.raises(DataError, match="trained or validated up to"):
        model.evaluate_folds(frame, folds=20, step=3)


@pytest.mark.slow
def test_forecast_intervals_from_the_stored_calibration(
    tiny_config: RunConfig, tmp_path: Path
) -> None:
    from seqcast import api

    frame = make_sine_frame(160)
    api.train(frame, out=tmp_path / "m", config=tiny_config)
    model = api.load(tmp_path / "m")
    result = model.forecast(intervals=[0.8, 0.95, 0.5])
    cal = model.artifact.meta.intervals
    np.testing.assert_allclose(
        result.bands["80"][1] - result.values, cal.half_widths(0.8)
    )
    assert np.all(result.bands["95"][0] <= result.bands["80"][0])
    assert np.all(result.bands["50"][1] <= result.bands["80"][1])
    frame_out = result.to_frame()
    assert list(frame_out.columns) == [
        "date",
        "y",
        "lower_80",
        "upper_80",
        "lower_95",
        "upper_95",
        "lower_50",
        "upper_50",
    ]
    assert list(result.rows()[0]) == list(frame_out.columns)
    assert isinstance(frame_out["date"].iloc[0], pd.Timestamp)


TINY = ["--target", "y", "--window", "14", "--horizon", "3", "--units", "4",
        "--epochs", "1", "--batch-size", "16", "--seed", "0", "-q"]  # fmt: skip


@pytest.mark.slow
def test_cli_backtest_forecast_levels_and_plots(tmp_path: Path) -> None:
    import json

    from test_plotting import png_size
    from typer.testing import CliRunner

    from seqcast.cli import app

    csv = tmp_path / "sine.csv"
    make_sine_frame(130).to_csv(csv, index=False, date_format="%Y-%m-%d")
    run = CliRunner().invoke
    result = run(app, ["backtest", str(csv), *TINY, "--folds", "2", "--step", "4",
                       "--format", "json", "--plot", str(tmp_path / "bt.png")])  # fmt: skip
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert [f["cut"] for f in doc["per_fold"]] == [123, 127]
    assert set(doc["overall"]["scores"]) == {
        "model",
        "naive",
        "seasonal_naive",
        "drift",
        "theta",
    }
    assert png_size(tmp_path / "bt.png") == (1000, 450)

    table = run(app, ["backtest", str(csv), *TINY, "--folds", "1"])
    assert table.exit_code == 0, table.output
    assert "overall (pooled)" in table.stdout
    assert "relative MASE vs seasonal naive" in table.stdout

    model = tmp_path / "m"
    trained = run(app, ["train", str(csv), *TINY, "--out", str(model),
                        "--plot", str(tmp_path / "loss.png")])  # fmt: skip
    assert trained.exit_code == 0, trained.output
    assert png_size(tmp_path / "loss.png") == (1000, 450)
    fc = run(app, ["forecast", str(model), "--format", "csv", "--level", "0.8",
                   "--level", "0.95", "--plot", str(tmp_path / "fc.png")])  # fmt: skip
    assert fc.exit_code == 0, fc.output
    assert fc.stdout.splitlines()[0] == "date,y,lower_80,upper_80,lower_95,upper_95"
    assert png_size(tmp_path / "fc.png") == (1000, 450)
    ev = run(
        app, ["evaluate", str(model), str(csv), "--plot", str(tmp_path / "ev.png")]
    )
    assert ev.exit_code == 0, ev.output
    plain = run(app, ["evaluate", str(model), str(csv)])
    assert ev.stdout == plain.stdout  # drawing a picture never changes the text
    assert "one model" not in ev.stdout
    assert png_size(tmp_path / "ev.png") == (1000, 450)
    bad = run(app, ["forecast", str(model), "--level", "1"])
    assert bad.exit_code == 2  # a value out of range is a usage error
    assert "1.0 is not strictly between 0 and 1" in bad.stderr
