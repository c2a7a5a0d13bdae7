"""A long-format file trains one global model; forecast writes every series in long format."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import seqcast
from seqcast.cli import app

pytestmark = pytest.mark.filterwarnings(
    "ignore:.*__array__ implementation doesn't accept a copy keyword:DeprecationWarning"
)

TINY = ["--units", "4", "--epochs", "2", "-q"]


def _long_file(tmp_path: Path) -> tuple[Path, dict[str, pd.DataFrame]]:
    """Three monthly series of different lengths, start dates and sizes."""
    rng = np.random.default_rng(0)
    parts = {}
    for name, start, n, level in (
        ("north", "2010-01-01", 60, 100.0),
        ("south", "2012-07-01", 40, 5000.0),
        ("east", "2011-03-01", 50, 20.0),
    ):
        t = np.arange(n)
        y = level * (1 + 0.2 * np.sin(2 * np.pi * t / 12)) * (1 + 0.002 * t)
        y *= 1 + 0.01 * rng.standard_normal(n)
        dates = pd.date_range(start, periods=n, freq="MS")
        parts[name] = pd.DataFrame({"store": name, "month": dates, "sales": y})
    path = tmp_path / "long.csv"
    pd.concat(parts.values()).to_csv(path, index=False, date_format="%Y-%m-%d")
    return path, parts


def _train_long(path: Path, model: Path, *extra: str) -> str:
    """Train one global model on the long file at ``path`` (horizon 6, tiny); its output."""
    result = CliRunner().invoke(
        app,
        ["train", str(path), "--id-col", "store", "--target", "sales", "--horizon", "6", *extra, *TINY, "--out", str(model)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def trained(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, dict[str, pd.DataFrame], str]:
    tmp_path = tmp_path_factory.mktemp("many")
    path, parts = _long_file(tmp_path)
    model = tmp_path / "model"
    return model, parts, _train_long(path, model)


def test_one_model_covers_every_series_with_its_own_record(
    trained: tuple[Path, dict[str, pd.DataFrame], str],
) -> None:
    model, parts, _ = trained
    meta = json.loads((model / "seqcast.json").read_text())
    records = {r["id"]: r for r in meta["series"]}
    assert set(records) == set(parts)
    for name, frame in parts.items():
        assert records[name]["n_rows"] == len(frame)
        assert records[name]["first_date"] == frame["month"].iloc[0].strftime(
            "%Y-%m-%d"
        )
        assert records[name]["last_date"] == frame["month"].iloc[-1].strftime(
            "%Y-%m-%d"
        )
    info = CliRunner().invoke(app, ["info", str(model)])
    assert (
        "series       3 (id column store): north, south, east; 40 to 60 rows"
        in info.output
    )


def test_forecast_writes_long_format_continuing_each_series(
    trained: tuple[Path, dict[str, pd.DataFrame], str],
) -> None:
    model, parts, _ = trained
    result = CliRunner().invoke(
        app,
        ["forecast", str(model), "--steps", "3", "--format", "csv", "--level", "0.8"],
    )
    assert result.exit_code == 0, result.output
    out = pd.read_csv(io.StringIO(result.stdout))
    assert list(out.columns) == ["store", "date", "sales", "lower_80", "upper_80"]
    assert list(out["store"]) == [n for n in parts for _ in range(3)]
    for name, frame in parts.items():
        rows = out[out["store"] == name]
        want = pd.date_range(frame["month"].iloc[-1], periods=4, freq="MS")[1:]
        assert list(rows["date"]) == [d.strftime("%Y-%m-%d") for d in want]
        # Each series is forecast in its own units: within 30% of its last year's mean.
        level = frame["sales"].iloc[-12:].mean()
        assert np.all(np.abs(rows["sales"] / level - 1) < 0.3), (name, rows)
        assert np.all(rows["lower_80"] < rows["sales"])
        assert np.all(rows["sales"] < rows["upper_80"])
    # The 80% bands scale with each series: south is 50x north's level. Every series
    # takes logs, so they are calibrated on log ratios: at each step the same
    # multiplicative band, lower * upper = forecast squared, whatever the series.
    width = (out["upper_80"] - out["lower_80"]).groupby(out["store"]).mean()
    assert width["south"] > 10 * width["north"]
    # (Unrounded, from the Python API: the CSV keeps fewer digits.)
    every = seqcast.load(model).forecast_all(3, intervals=(0.8,))
    ratio = np.array([f.bands["80"][1] / f.values for f in every])
    np.testing.assert_allclose(ratio, np.broadcast_to(ratio[0], ratio.shape))
    for f in every:
        np.testing.assert_allclose(f.bands["80"][0] * f.bands["80"][1], f.values**2)
    assert np.all(ratio > 1.0)


def test_series_narrows_the_forecast_and_an_unknown_id_is_refused(
    trained: tuple[Path, dict[str, pd.DataFrame], str],
) -> None:
    model, _, _ = trained
    runner = CliRunner()
    result = runner.invoke(
        app, ["forecast", str(model), "--series", "east", "--format", "csv"]
    )
    assert result.exit_code == 0, result.output
    out = pd.read_csv(io.StringIO(result.stdout))
    assert set(out["store"]) == {"east"}
    assert len(out) == 6
    bad = runner.invoke(app, ["forecast", str(model), "--series", "eats"])
    assert bad.exit_code != 0
    assert "has no series 'eats'" in bad.output
    assert "Did you mean 'east'?" in bad.output


def test_python_api_matches_the_cli(
    trained: tuple[Path, dict[str, pd.DataFrame], str],
) -> None:
    model, parts, _ = trained
    forecaster = seqcast.load(model)
    assert forecaster.series_ids == tuple(parts)
    both = forecaster.forecast_all(2, series=["south", "north"])
    assert [f.series for f in both] == ["south", "north"]
    one = forecaster.forecast(2, series="south")
    np.testing.assert_array_equal(one.values, both[0].values)
    with pytest.raises(seqcast.ConfigError, match="covers 3 series"):
        forecaster.forecast(2)


def test_training_scores_pool_every_series(
    trained: tuple[Path, dict[str, pd.DataFrame], str],
) -> None:
    model, parts, output = trained
    meta = json.loads((model / "seqcast.json").read_text())
    # Each series keeps 15% (at least one horizon of 6) for its test part, one window
    # per start: windows = test rows - horizon + 1 per series.
    expected = sum(max(6, round(0.15 * len(f))) - 6 + 1 for f in parts.values())
    assert meta["metrics"]["test"]["n_windows"] == expected
    assert meta["intervals"]["relative"] is True
    assert "per_scale" not in meta["intervals"]
    assert "verdict:" in output


def test_without_logs_the_bands_are_calibrated_in_units_of_each_series_scale(
    tmp_path: Path,
) -> None:
    path, parts = _long_file(tmp_path)
    model = tmp_path / "model"
    _train_long(path, model, "--transform", "none")
    meta = json.loads((model / "seqcast.json").read_text())
    assert meta["intervals"]["per_scale"] is True
    assert "relative" not in meta["intervals"]
    # Additive bands, each the stored residual quantile times its series' MASE scale.
    forecasts = seqcast.load(model).forecast_all(3, intervals=(0.8,))
    scales = {r["id"]: r["mase"]["scale"] for r in meta["series"]}
    half = {}
    for f in forecasts:
        lower, upper = f.bands["80"]
        np.testing.assert_allclose(upper - f.values, f.values - lower)
        half[f.series] = (upper - f.values) / scales[f.series]
    np.testing.assert_allclose(half["south"], half["north"])
    np.testing.assert_allclose(half["east"], half["north"])
    assert set(half) == set(parts)


def test_a_series_with_a_zero_gets_bands_in_its_scale_the_others_log_ratios(
    tmp_path: Path,
) -> None:
    path, _ = _long_file(tmp_path)
    table = pd.read_csv(path)
    first_east = table.index[table["store"] == "east"][0]
    table.loc[first_east, "sales"] = 0.0  # east can no longer take logs
    table.to_csv(path, index=False)
    model = tmp_path / "model"
    _train_long(path, model)
    meta = json.loads((model / "seqcast.json").read_text())
    kinds = {r["id"]: r["transform"]["kind"] for r in meta["series"]}
    assert kinds == {"north": "log", "south": "log", "east": "none"}
    stored = meta["intervals"]
    assert stored["relative"] is True
    assert stored["absolute"]["per_scale"] is True
    forecaster = seqcast.load(model)
    every = {f.series: f for f in forecaster.forecast_all(3, intervals=(0.8,))}
    for name in ("north", "south"):  # multiplicative bands from the log ratios
        f = every[name]
        np.testing.assert_allclose(f.bands["80"][0] * f.bands["80"][1], f.values**2)
    np.testing.assert_allclose(
        every["north"].bands["80"][1] / every["north"].values,
        every["south"].bands["80"][1] / every["south"].values,
    )
    # east: forecast +- the 80% conformal quantile of the absolute residuals of
    # each step (the ceil(0.8 (n + 1))-th smallest), times east's MASE scale.
    east = every["east"]
    scale = next(r for r in meta["series"] if r["id"] == "east")["mase"]["scale"]
    rows = stored["absolute"]["residuals"]
    n = len(rows[0])
    k = min(n, int(np.ceil(0.8 * (n + 1))))
    half = np.array([sorted(r)[k - 1] for r in rows[:3]]) * scale
    np.testing.assert_allclose(east.bands["80"][1] - east.values, half)
    np.testing.assert_allclose(east.values - east.bands["80"][0], half)
    # One series on its own (evaluate --series, its folds) holds the calibration that
    # serves it, already in its units: east's absolute residuals times its scale,
    # north's log ratios; and forecasts the same band.
    view = forecaster.one_series("east").artifact.meta.intervals
    assert view is not None
    assert (view.per_scale, view.relative, view.absolute) == (False, False, None)
    np.testing.assert_allclose(view.residuals, np.sort(rows, axis=1) * scale)
    north = forecaster.one_series("north").artifact.meta.intervals
    assert north is not None
    assert (north.relative, north.absolute) == (True, None)
    np.testing.assert_allclose(north.residuals, np.sort(stored["residuals"], axis=1))
    alone = forecaster.one_series("east").forecast(3, intervals=(0.8,))
    np.testing.assert_allclose(alone.bands["80"][1], east.bands["80"][1])
    assert 0.0 < meta["metrics"]["test_coverage"]["80"] <= 1.0
    info = CliRunner().invoke(app, ["info", str(model)])
    assert info.exit_code == 0, info.output
    n_log, n_abs = stored["n_windows"], stored["absolute"]["n_windows"]
    covered = 100 * meta["metrics"]["test_coverage"]["80"]
    assert (
        f"intervals    log ratios of {n_log} validation windows; the series without logs: errors of {n_abs} validation windows in units of each series' scale; test part covered 80% {covered:.1f}%"
        in info.output
    )


def test_a_long_file_without_id_col_names_the_key_column_and_never_suggests_merging(
    tmp_path: Path,
) -> None:
    path, _ = _long_file(tmp_path)
    result = CliRunner().invoke(
        app, ["train", str(path), "--target", "sales", "--out", str(tmp_path / "m")]
    )
    assert result.exit_code != 0
    assert (
        "The file holds 3 series keyed by column 'store' (each date repeats once per series). Use --id-col store"
        in result.output
    )
    assert "--duplicates" not in result.output
    assert not (tmp_path / "m").exists()


def test_a_series_shorter_than_the_window_is_saved_whole_and_forecast(
    tmp_path: Path,
) -> None:
    path, parts = _long_file(tmp_path)  # south has 40 rows, fewer than the window
    model = tmp_path / "model"
    _train_long(path, model, "--window", "45")
    meta = json.loads((model / "seqcast.json").read_text())
    south = next(r for r in meta["series"] if r["id"] == "south")
    np.testing.assert_allclose(
        [row[0] for row in south["last_window"]["values"]], parts["south"]["sales"]
    )
    assert len(south["last_window"]["dates"]) == 40
    out = tmp_path / "forecast.csv"
    result = CliRunner().invoke(
        app, ["forecast", str(model), "--steps", "6", "--output", str(out)]
    )
    assert result.exit_code == 0, result.output
    forecast = pd.read_csv(out)
    counts = forecast.groupby("store").size().to_dict()
    assert counts == {"east": 6, "north": 6, "south": 6}
    assert np.isfinite(forecast["sales"]).all()


def test_flags_equal_to_the_one_series_defaults_still_win_over_the_pooled_ones(
    tmp_path: Path,
) -> None:
    path, _ = _long_file(tmp_path)
    model = tmp_path / "model"
    _train_long(path, model, "--lr", "0.001", "--no-refit")
    train = json.loads((model / "seqcast.json").read_text())["config"]["train"]
    assert train["lr"] == 0.001  # not the pooled 0.003
    assert train["refit"] is False  # not the pooled refit
    assert train["batch_size"] == 128  # not chosen: the pooled default


def test_evaluate_with_newer_data_scores_every_series_of_a_global_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Train on all but the last 6 rows of each series; evaluate on the whole file.

    Each series then has exactly one new window, whose prediction is the forecast from
    the stored window: the pooled MAE is the mean error of those forecasts.
    """
    path, parts = _long_file(tmp_path)
    cut = tmp_path / "cut.csv"
    pd.concat(f.iloc[:-6] for f in parts.values()).to_csv(
        cut, index=False, date_format="%Y-%m-%d"
    )
    model = tmp_path / "model"
    result = CliRunner().invoke(
        app,
        ["train", str(cut), "--id-col", "store", "--target", "sales", "--horizon", "6", *TINY, "--out", str(model)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    forecaster = seqcast.load(model)
    errors = [
        np.abs(
            parts[name]["sales"].to_numpy()[-6:]
            - forecaster.forecast(6, series=name).values
        )
        for name in parts
    ]
    evaluation = forecaster.evaluate(path)
    assert evaluation.n_windows == len(parts)
    np.testing.assert_allclose(
        evaluation.scores["model"].mae, np.mean(errors), rtol=1e-6
    )
    shown = CliRunner().invoke(app, ["evaluate", str(model), str(path)])
    assert shown.exit_code == 0, shown.output
    assert "3 windows x 6 steps" in shown.output
    # Per series: relative MASE is the network's error over seasonal naive's on the
    # same window (the MASE scales cancel); seasonal naive repeats the year before.
    as_json = CliRunner().invoke(
        app, ["evaluate", str(model), str(path), "--format", "json"]
    )
    assert as_json.exit_code == 0, as_json.output
    doc = json.loads(as_json.stdout)
    rows = {r["series"]: r for r in doc["per_series"]}
    assert list(rows) == list(parts)
    relative = []
    for k, (name, frame) in enumerate(parts.items()):
        y = frame["sales"].to_numpy()
        snaive = np.abs(y[-6:] - y[-18:-12]).mean()
        expected = errors[k].mean() / snaive
        np.testing.assert_allclose(rows[name]["relative_mase"], expected, rtol=1e-6)
        assert rows[name]["n_windows"] == 1
        relative.append(expected)
    np.testing.assert_allclose(
        doc["geometric_mean_relative_mase"],
        np.exp(np.mean(np.log(relative))),
        rtol=1e-6,
    )
    assert doc["beats_seasonal_naive"] == sum(r < 1 for r in relative)
    assert "per series" in shown.output
    assert "geometric mean of relative MASE over 3 series" in shown.output
    # --series scores one series alone: its error is that of its own forecast.
    one = CliRunner().invoke(
        app,
        ["evaluate", str(model), str(path), "--series", "south", "--format", "json"],
    )
    assert one.exit_code == 0, one.output
    south = json.loads(one.stdout)
    assert "per_series" not in south
    np.testing.assert_allclose(
        south["scores"]["model"]["mae"], errors[1].mean(), rtol=1e-6
    )
    folds = CliRunner().invoke(app, ["evaluate", str(model), str(path), "--folds", "1"])
    assert folds.exit_code == 1
    assert "--folds scores one series at a time" in folds.stderr
    assert "Add --series with one of: north, south, east." in folds.stderr
    # --plot without --series: a grid of the best two and worst two series (three
    # here, in two rows), ranked by the relative MASE above.
    png = tmp_path / "grid.png"
    plot = CliRunner().invoke(
        app, ["evaluate", str(model), str(path), "--plot", str(png)]
    )
    assert plot.exit_code == 0, plot.output
    header = png.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    assert int.from_bytes(header[16:20], "big") == 1000  # width
    assert int.from_bytes(header[20:24], "big") == 610  # two rows of panels
    from seqcast.cli.predict import _plot_best_and_worst

    ranked = sorted(rows, key=lambda name: rows[name]["relative_mase"])
    drawn: list[str] = []
    import seqcast.evaluation.plots as plots

    original = plots.plot_series_grid

    def capture(path: Path, results: list, **kw: object) -> Path:  # type: ignore[type-arg]
        drawn.extend(label.split(":")[0] for label, _ in results)
        return original(path, results, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(plots, "plot_series_grid", capture)
    _plot_best_and_worst(png, forecaster, path, doc, None, None)
    assert drawn == [ranked[0], ranked[1], ranked[2]]


@pytest.mark.slow
def test_theta_is_left_out_of_pooled_scores_past_its_window_budget(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Refitting Theta at every window of thousands of series would take hours."""
    import seqcast.api.pooled as pooled

    path, _ = _long_file(tmp_path)
    options = {
        "id_col": "store",
        "target": "sales",
        "horizon": 6,
        "units": (4,),
        "epochs": 2,
    }
    within = seqcast.train(path, **options)
    assert within.evaluation is not None
    assert "theta" in within.evaluation.scores
    assert not any("Theta left out" in n for n in within.notes)
    windows = sum(
        r.split.n_val_windows + r.split.n_test_windows for r in within.meta.series
    )
    monkeypatch.setattr(pooled, "MAX_POOLED_THETA_FITS", windows - 1)
    beyond = seqcast.train(path, **options)
    assert beyond.evaluation is not None
    assert "theta" not in beyond.evaluation.scores
    assert set(beyond.evaluation.scores) == {
        "model",
        "naive",
        "seasonal_naive",
        "drift",
    }
    note = [n for n in beyond.notes if "Theta left out" in n]
    assert len(note) == 1
    assert f"each of their {windows} windows over 3 series" in note[0]
    # the other scores are those of the same windows
    np.testing.assert_allclose(
        beyond.evaluation.scores["model"].mae, within.evaluation.scores["model"].mae
    )
