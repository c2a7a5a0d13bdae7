"""Inputs known ahead: future features, calendar terms and holidays (issue 12).

The unit tests check each piece against values computed another way (``datetime``,
the ``holidays`` package day by day, plain index arithmetic); the trained tests check
that the future values reach the model, that the NumPy and Keras engines agree, and
that every way of giving them (data rows, ``--future``, ``future=``) forecasts the same.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import math
from pathlib import Path

import holidays
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import seqcast
from seqcast.cli import app
from seqcast.config import Engine, RunConfig
from seqcast.config.known import auto_calendar, calendar_columns
from seqcast.data.known import calendar_values, holiday_values, known_values
from seqcast.errors import ArtifactError, ConfigError, DataError
from seqcast.model.predict import recursive_forecast
from seqcast.prep.windows import gather_windows, lead_known, make_windows

# --- calendar terms ------------------------------------------------------------------


def test_day_of_week_terms_match_datetime() -> None:
    days = [dt.date(2024, 1, 1) + dt.timedelta(days=i) for i in range(10)]
    got = calendar_values([d.isoformat() for d in days], ("dow", "weekend"))
    assert calendar_columns(("dow", "weekend")) == (
        "dow_sin1", "dow_cos1", "dow_sin2", "dow_cos2", "dow_sin3", "dow_cos3", "weekend",
    )  # fmt: skip
    for row, day in zip(got, days, strict=True):
        phase = day.weekday() / 7.0  # Monday 0
        expected = []
        for k in (1, 2, 3):
            expected += [
                math.sin(2 * math.pi * k * phase),
                math.cos(2 * math.pi * k * phase),
            ]
        expected.append(1.0 if day.weekday() >= 5 else 0.0)
        np.testing.assert_allclose(row, expected, atol=1e-12)


def test_quarter_terms_leave_out_the_zero_sine_and_tell_quarters_apart() -> None:
    dates = ["2023-01-01", "2023-04-01", "2023-07-01", "2023-10-01", "2024-01-01"]
    got = calendar_values(dates, ("quarter",))
    assert calendar_columns(("quarter",)) == (
        "quarter_sin1",
        "quarter_cos1",
        "quarter_cos2",
    )
    assert got.shape == (5, 3)
    np.testing.assert_allclose(got[0], got[4])  # same quarter a year apart
    assert len({tuple(np.round(r, 9)) for r in got[:4]}) == 4  # every quarter distinct


def test_hour_and_day_of_year_terms() -> None:
    got = calendar_values(["2024-03-05T06:00:00", "2024-03-05T18:00:00"], ("hour",))
    np.testing.assert_allclose(got[0, :2], [1.0, 0.0], atol=1e-12)  # a quarter day
    np.testing.assert_allclose(got[1, :2], [-1.0, 0.0], atol=1e-12)
    doy = calendar_values(["2023-01-01", "2023-07-02"], ("doy",))
    np.testing.assert_allclose(doy[0, :2], [0.0, 1.0], atol=1e-12)
    np.testing.assert_allclose(
        doy[1, :2],
        [math.sin(2 * math.pi * 182 / 365.25), math.cos(2 * math.pi * 182 / 365.25)],
    )


@pytest.mark.parametrize(
    ("freq", "expected"),
    [("h", ("hour", "dow")), ("15min", ("hour", "dow")), ("D", ("dow", "doy")),
     ("B", ("dow", "doy")), ("W-SUN", ("doy",)), ("MS", ("month",)),
     ("QS-OCT", ("quarter",))],
)  # fmt: skip
def test_auto_calendar_suits_the_frequency(
    freq: str, expected: tuple[str, ...]
) -> None:
    assert auto_calendar(freq) == expected


def test_auto_calendar_refuses_yearly_data() -> None:
    with pytest.raises(ConfigError, match="no calendar cycle in frequency 'YS-JAN'"):
        auto_calendar("YS-JAN")


@pytest.mark.parametrize(
    ("calendar", "message"),
    [(("dow", "fortnight"), "Unknown calendar feature 'fortnight'"),
     (("auto", "dow"), "either auto or a list"),
     (("dow", "dow"), "lists a feature twice")],
)  # fmt: skip
def test_bad_calendar_lists_are_refused(
    calendar: tuple[str, ...], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        RunConfig().with_overrides({"calendar": calendar})


# --- holidays ------------------------------------------------------------------------


def test_daily_holidays_match_the_holidays_package() -> None:
    days = [dt.date(2014, 1, 1) + dt.timedelta(days=i) for i in range(365)]
    calendar = holidays.country_holidays("AU", subdiv="VIC", years=[2014])
    expected = [1.0 if d in calendar else 0.0 for d in days]
    got = holiday_values([d.isoformat() for d in days], "AU-VIC", daily=True)
    assert got.tolist() == expected
    assert sum(expected) >= 10  # a real calendar, not an empty one


def test_monthly_holidays_count_the_days_of_each_month() -> None:
    calendar = holidays.country_holidays("US", years=[2023, 2024])
    months = [dt.date(2023, m, 1) for m in range(1, 13)]
    expected = [
        sum(1 for d in calendar if d.year == m.year and d.month == m.month)
        for m in months
    ]
    got = holiday_values(
        [m.isoformat() for m in months], "US", daily=False, next_date="2024-01-01"
    )
    assert got.tolist() == expected
    assert expected[0] >= 2  # New Year's Day and Martin Luther King Jr. Day


def test_an_exchange_calendar_marks_market_holidays() -> None:
    got = holiday_values(["2025-07-03", "2025-07-04", "2025-12-25"], "NYSE", daily=True)
    assert got.tolist() == [0.0, 1.0, 1.0]


def test_an_unknown_region_is_refused_with_what_to_give() -> None:
    with pytest.raises(ConfigError, match=r"--holidays XX: .*country code such as US"):
        known_values(["2024-01-01"], "D", (), "XX")


# --- windows and the forecast loop ---------------------------------------------------


def test_lead_known_reads_known_columns_horizon_rows_ahead() -> None:
    values = np.array([[1, 10], [2, 20], [3, 30], [4, 40]], dtype=np.float64)
    np.testing.assert_array_equal(lead_known(values, 1, 2), [[1, 30], [2, 40]])


def test_windows_carry_the_known_values_of_their_own_targets() -> None:
    n, window, horizon = 30, 5, 3
    values = np.column_stack([np.arange(n), 100 + np.arange(n), 1000 + np.arange(n)])
    x, y = make_windows(values.astype(np.float64), window, horizon, known=1)
    for s in range(len(x)):
        np.testing.assert_array_equal(x[s, :, 0], np.arange(s, s + window))
        np.testing.assert_array_equal(x[s, :, 1], 100 + np.arange(s, s + window))
        # the known column runs horizon rows ahead: its last rows are the target rows
        np.testing.assert_array_equal(
            x[s, :, 2], 1000 + np.arange(s + horizon, s + horizon + window)
        )
        np.testing.assert_array_equal(y[s], np.arange(s + window, s + window + horizon))
    gx, gy = gather_windows(values.astype(np.float64), [0, 7], window, horizon, known=1)
    np.testing.assert_array_equal(gx, x[[0, 7]])
    np.testing.assert_array_equal(gy, y[[0, 7]])


def test_recursive_forecast_reads_the_known_future_round_after_round() -> None:
    # A "model" that answers the known column at its last `horizon` input rows: what
    # training lines up with the steps it predicts. Over 3 rounds it must give back
    # the known future itself, which checks every round's alignment.
    window, horizon, steps = 6, 4, 10
    history = np.column_stack([np.zeros(window), -np.arange(window, 0, -1.0)])
    future = np.arange(1.0, 13.0)[:, None]

    def predict(x: np.ndarray) -> np.ndarray:
        return np.asarray(x[:, -horizon:, -1], dtype=np.float64)

    got = recursive_forecast(predict, history, steps, horizon, known_future=future)
    np.testing.assert_array_equal(got, future[:steps, 0])


def test_recursive_forecast_still_refuses_past_only_features_beyond_the_horizon() -> (
    None
):
    history = np.zeros((4, 3))
    with pytest.raises(
        ConfigError, match=r"retrain with them in --future-features \(seqcast train\)"
    ):
        recursive_forecast(
            lambda x: np.zeros((1, 2)), history, 5, 2,
            features=("temp",), known_future=np.zeros((6, 1)),
        )  # fmt: skip


# --- trained end to end --------------------------------------------------------------

TINY = ["--window", "8", "--horizon", "4", "--units", "4", "--epochs", "40",
        "--batch-size", "16", "--patience", "0", "--transform", "none",
        "--deseasonalize", "none", "--skip", "--val-fraction", "0.15",
        "--test-fraction", "0.15", "--lr", "0.01", "-q"]  # fmt: skip


def promo_frame(n: int = 240, future: int = 12) -> pd.DataFrame:
    """A series lifted by 5 on promotion days (random, known ahead), with future rows."""
    rng = np.random.default_rng(3)
    promo = (rng.random(n + future) < 0.3).astype(float)
    y = 20.0 + 5.0 * promo[:n] + rng.normal(0.0, 0.2, n)
    dates = pd.date_range("2021-01-04", periods=n + future, freq="D")
    values = [f"{v:.4f}" for v in y] + [""] * future
    return pd.DataFrame(
        {"date": dates.strftime("%Y-%m-%d"), "y": values, "promo": promo}
    )


def run(args: list[str]) -> str:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture(scope="module")
def promo_model(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, Path, pd.DataFrame]:
    tmp = tmp_path_factory.mktemp("promo")
    frame = promo_frame()
    csv = tmp / "promo.csv"
    frame.to_csv(csv, index=False)
    model = tmp / "model"
    run(["train", str(csv), "--target", "y", "--future-features", "promo",
         "--calendar", "weekend", "--holidays", "US", *TINY, "--out", str(model)])  # fmt: skip
    return model, csv, frame


@pytest.mark.slow
def test_future_values_reach_the_model(
    promo_model: tuple[Path, Path, pd.DataFrame], tmp_path: Path
) -> None:
    model, _, frame = promo_model
    history = frame[frame["y"] != ""]
    plain = tmp_path / "plain.csv"
    history.to_csv(plain, index=False)
    baseline = tmp_path / "baseline"
    run(["train", str(plain), "--target", "y", "--features", "promo", *TINY,
         "--out", str(baseline)])  # fmt: skip
    with_future = json.loads((model / "seqcast.json").read_text())
    without = json.loads((baseline / "seqcast.json").read_text())
    assert with_future["columns"]["known"] == ["promo", "weekend", "holiday"]
    assert without["columns"]["known"] == []
    mae = with_future["metrics"]["test"]["scores"]["model"]["mae"]
    mae_past_only = without["metrics"]["test"]["scores"]["model"]["mae"]
    # The lift is 5 on a random 30% of days: unknowable from the past (MAE about 2),
    # known exactly from the promotion calendar.
    assert mae < 0.5 * mae_past_only, (mae, mae_past_only)


@pytest.mark.slow
def test_every_way_of_giving_the_future_forecasts_the_same(
    promo_model: tuple[Path, Path, pd.DataFrame], tmp_path: Path
) -> None:
    model, csv, frame = promo_model
    future = frame[frame["y"] == ""][["date", "promo"]]
    future_csv = tmp_path / "future.csv"
    future.to_csv(future_csv, index=False)
    from_data = run(
        ["forecast", str(model), str(csv), "--steps", "10", "--format", "csv"]
    )
    from_file = run(["forecast", str(model), "--steps", "10", "--future", str(future_csv),
                     "--format", "csv"])  # fmt: skip
    assert from_data == from_file
    # 6 steps read 8 rows of promotions: 4 rows more, and rows inside the history,
    # change nothing.
    future.iloc[:8].to_csv(future_csv, index=False)
    exact = run(["forecast", str(model), "--steps", "6", "--future", str(future_csv)])
    extended = pd.concat([frame[["date", "promo"]].iloc[-52:-12], future])
    extended.to_csv(future_csv, index=False)
    assert (
        run(["forecast", str(model), "--steps", "6", "--future", str(future_csv)])
        == exact
    )
    assert exact.splitlines()[1:] == from_file.splitlines()[1:7]
    future.to_csv(future_csv, index=False)
    numpy_engine = seqcast.load(model, engine=Engine.NUMPY).forecast(
        10, future=future_csv
    )
    keras_engine = seqcast.load(model, engine=Engine.KERAS).forecast(
        10, future=future_csv
    )
    assert numpy_engine.engine == "numpy"
    np.testing.assert_allclose(numpy_engine.values, keras_engine.values, rtol=1e-4)
    forecast = pd.read_csv(io.StringIO(from_file))
    promo = future["promo"].to_numpy()[:10]
    lifted = forecast["y"].to_numpy()
    # The forecast follows the promotion calendar it was given.
    assert lifted[promo == 1].mean() - lifted[promo == 0].mean() > 2.5


@pytest.mark.slow
def test_missing_misaligned_and_short_future_values_are_refused_by_timestamp(
    promo_model: tuple[Path, Path, pd.DataFrame], tmp_path: Path
) -> None:
    model, _, frame = promo_model
    future = frame[frame["y"] == ""][["date", "promo"]].reset_index(drop=True)
    path = tmp_path / "future.csv"
    runner = CliRunner()

    def refused(table: pd.DataFrame, steps: str = "8") -> str:
        table.to_csv(path, index=False)
        result = runner.invoke(app, ["forecast", str(model), "--steps", steps,
                                     "--future", str(path)])  # fmt: skip
        assert result.exit_code == 1, result.output
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        assert lines[0].startswith("error: "), result.stderr
        return lines[0]

    gap = future.drop(index=2)
    assert "the first missing is promo at 2021-09-03" in refused(gap)
    empty = future.astype(object)
    empty.loc[5, "promo"] = ""
    assert "the first missing is promo at 2021-09-06" in refused(empty)
    # 10 steps with horizon 4 read 12 steps of promotions; 11 rows are too few.
    short = refused(future.iloc[:11], steps="10")
    assert "needs their values from 2021-09-01 to 2021-09-12" in short
    assert "the first missing is promo at 2021-09-12" in short
    off_grid = future.copy()
    off_grid.loc[3, "date"] = "2021-09-04 12:00"
    assert "2021-09-04 12:00:00, which is not on the model's time grid" in refused(
        off_grid
    )
    result = runner.invoke(app, ["forecast", str(model), "--steps", "4"])
    assert result.exit_code == 1
    assert (
        "but none were given. Add rows after the history with the target empty, or give them in --future FILE.csv."
        in result.stderr
    )


@pytest.mark.slow
def test_a_forecast_across_a_holiday_and_a_weekend_reads_their_terms(
    promo_model: tuple[Path, Path, pd.DataFrame],
) -> None:
    model, _, frame = promo_model
    from seqcast.api.known import known_ahead

    forecaster = seqcast.load(model)
    art = forecaster.artifact
    future = frame[frame["y"] == ""][["date", "promo"]]
    table = future.assign(date=pd.to_datetime(future["date"])).set_index("date")
    origin = art.meta.one.last_window.dates[-1]
    got = known_ahead(art, origin, 8, data_future=table, future=None, series=None)
    # 2021-08-31 is the last day of history: 2021-09-04/05 are a weekend, 2021-09-06
    # is Labor Day in the US.
    days = [dt.date(2021, 9, 1) + dt.timedelta(days=i) for i in range(8)]
    us = holidays.country_holidays("US", years=[2021])
    np.testing.assert_array_equal(got[:, 0], future["promo"].to_numpy()[:8])
    assert got[:, 1].tolist() == [1.0 if d.weekday() >= 5 else 0.0 for d in days]
    assert got[:, 2].tolist() == [1.0 if d in us else 0.0 for d in days]
    assert got[:, 2].sum() == 1.0
    assert got[:, 1].sum() == 2.0


@pytest.mark.slow
def test_a_tampered_list_of_known_columns_is_refused_on_load(
    promo_model: tuple[Path, Path, pd.DataFrame], tmp_path: Path
) -> None:
    import shutil

    model, _, _ = promo_model
    copy = tmp_path / "copy"
    shutil.copytree(model, copy)
    meta_path = copy / "seqcast.json"
    doc = json.loads(meta_path.read_text())
    doc["columns"]["known"] = ["weekend", "promo", "holiday"]
    meta_path.write_text(json.dumps(doc))
    from seqcast.store import schema

    with pytest.raises(ArtifactError, match="known columns"):
        schema.ModelMeta.from_json(doc, str(meta_path))


@pytest.mark.slow
def test_future_is_refused_for_a_model_without_future_features(
    sample_csv: Path, tmp_path: Path
) -> None:
    model = tmp_path / "m"
    run(["train", str(sample_csv), "--target", "y", "--window", "8", "--horizon", "2",
         "--units", "2", "--epochs", "1", "--out", str(model), "-q"])  # fmt: skip
    result = CliRunner().invoke(
        app, ["forecast", str(model), "--future", str(sample_csv)]
    )
    assert result.exit_code == 1, result.output
    assert (
        "reads no future features, so --future does not apply. Drop --future."
        in result.stderr
    )


def test_a_future_feature_column_must_exist(sample_csv: Path) -> None:
    with pytest.raises(
        DataError, match=r"Column 'price' not found.*Use --future-features"
    ):
        seqcast.train(sample_csv, target="y", future_features=("price",), epochs=1)


def test_a_column_cannot_be_past_only_and_known_ahead() -> None:
    with pytest.raises(
        ConfigError, match="listed twice in --features and --future-features"
    ):
        RunConfig().with_overrides({"features": ("a",), "future_features": ("a",)})


@pytest.mark.slow
def test_a_business_day_forecast_never_lands_on_a_market_holiday(
    tmp_path: Path,
) -> None:
    rng = np.random.default_rng(0)
    dates = pd.bdate_range(end="2025-07-01", periods=120)
    frame = pd.DataFrame(
        {
            "date": dates.strftime("%Y-%m-%d"),
            "close": 100 + np.cumsum(rng.normal(0, 1, 120)),
        }
    )
    csv = tmp_path / "prices.csv"
    frame.to_csv(csv, index=False)
    model = tmp_path / "m"
    run(["train", str(csv), "--target", "close", "--holidays", "NYSE", "--window", "10",
         "--horizon", "5", "--units", "2", "--epochs", "1", "--out", str(model), "-q"])  # fmt: skip
    out = run(
        ["forecast", str(model), "--steps", "8", "--level", "0.8", "--format", "csv"]
    )
    got = pd.read_csv(io.StringIO(out))
    nyse = holidays.financial_holidays("NYSE", years=[2025])
    expected = [
        d.strftime("%Y-%m-%d")
        for d in pd.bdate_range("2025-07-02", periods=20)
        if d.date() not in nyse
    ][:8]
    assert got["date"].tolist() == expected
    assert "2025-07-04" not in got["date"].tolist()
    assert got[["lower_80", "upper_80"]].notna().all().all()


@pytest.mark.slow
@pytest.mark.parametrize("mode", [[], ["--per-series", "--jobs", "1"]])
def test_a_long_future_table_gives_each_series_its_own_values(
    tmp_path: Path, mode: list[str]
) -> None:
    a, b = promo_frame(), promo_frame()
    b["promo"] = 1.0 - b["promo"]  # another promotion calendar
    long = pd.concat([a.assign(id="a"), b.assign(id="b")])
    history = tmp_path / "history.csv"
    long[long["y"] != ""].to_csv(history, index=False)
    future = tmp_path / "future.csv"
    long[long["y"] == ""][["id", "date", "promo"]].to_csv(future, index=False)
    everything = tmp_path / "all.csv"
    long.to_csv(everything, index=False)
    model = tmp_path / "m"
    run(["train", str(history), "--id-col", "id", "--target", "y", "--future-features",
         "promo", "--horizon", "4", "--window", "8", "--units", "2", "--epochs", "2",
         *mode, "--out", str(model), "-q"])  # fmt: skip
    both = pd.read_csv(
        io.StringIO(
            run(["forecast", str(model), "--steps", "4", "--future", str(future)])
        )
    )
    assert both["id"].tolist() == ["a"] * 4 + ["b"] * 4
    for name in ("a", "b"):
        args = ["forecast", str(model), str(everything), "--series", name]
        alone = pd.read_csv(io.StringIO(run([*args, "--steps", "4"])))
        np.testing.assert_allclose(
            both[both["id"] == name]["y"].to_numpy(), alone["y"].to_numpy(), rtol=1e-6
        )
    # A table without the id column cannot say whose values it holds.
    long[long["y"] == ""][["date", "promo"]].to_csv(future, index=False)
    result = CliRunner().invoke(
        app, ["forecast", str(model), "--steps", "4", "--future", str(future)]
    )
    assert result.exit_code == 1
    assert "has no column 'id'" in result.stderr


# --- static features -----------------------------------------------------------------


def static_frame(n_series: int = 6, n: int = 80) -> pd.DataFrame:
    """Series whose weekly pattern has the sign of their kind (up or down)."""
    rng = np.random.default_rng(1)
    parts = []
    for k in range(n_series):
        sign = 1.0 if k % 2 == 0 else -1.0
        t = np.arange(n)
        y = 50 + sign * 10 * np.sin(2 * np.pi * t / 7) + rng.normal(0, 0.3, n)
        parts.append(
            pd.DataFrame(
                {
                    "id": f"s{k}",
                    "date": pd.date_range("2022-01-03", periods=n, freq="D").strftime(
                        "%Y-%m-%d"
                    ),
                    "y": y.round(4),
                    "kind": "up" if sign > 0 else "down",
                    "region": f"r{k % 3}",
                }
            )
        )
    return pd.concat(parts)


def test_static_values_must_be_one_per_series() -> None:
    from seqcast.data.frame import prepare

    frame = static_frame(2, 20)
    frame.loc[frame.index[:3], "kind"] = "sideways"  # s0's first rows differ
    config = seqcast.config.DataConfig(
        target="y", id_col="id", static_features=("kind",)
    )
    with pytest.raises(
        DataError,
        match=r"Column 'kind' must hold one value per series \(a static feature\), but series 's0' has 2: sideways, up",
    ):
        prepare(frame.astype(str), config)


def test_static_columns_are_one_hot_and_survive_scaling() -> None:
    from seqcast.data.frame import prepare
    from seqcast.model.pipeline import fit_prep

    frame = static_frame(4, 30)
    config = RunConfig().with_overrides(
        {"target": "y", "id_col": "id", "static_features": ("kind", "region")}
    )
    series_set = prepare(frame.astype(str), config.data)
    assert series_set.static == (
        "kind=down",
        "kind=up",
        "region=r0",
        "region=r1",
        "region=r2",
    )
    for k, item in enumerate(series_set.series):
        expected = np.zeros(5)
        expected[1 if k % 2 == 0 else 0] = 1.0
        expected[2 + k % 3] = 1.0
        np.testing.assert_array_equal(
            item.data.iloc[:, 1:].to_numpy(), np.tile(expected, (30, 1))
        )
        # Per-series scaling would map a constant column to 0; static columns keep 0/1.
        _, scaled = fit_prep(item.data.to_numpy(dtype=np.float64), 20, config, 7)
        np.testing.assert_array_equal(scaled[:, 1:], np.tile(expected, (30, 1)))


@pytest.mark.parametrize(
    ("options", "message"),
    [({"static_features": ("kind",)}, "no --id-col names the column"),
     ({"static_features": ("kind",), "id_col": "id", "per_series": True},
      "with --per-series each model sees one series"),
     ({"static_features": ("y",), "id_col": "id", "target": "y"}, "Give each column one role")],
)  # fmt: skip
def test_static_features_misused_are_refused(
    options: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        RunConfig().with_overrides(options)


@pytest.mark.slow
def test_a_global_model_with_static_features_forecasts_and_reads_them_back(
    tmp_path: Path,
) -> None:
    frame = static_frame()
    csv = tmp_path / "static.csv"
    frame.to_csv(csv, index=False)
    model = tmp_path / "m"
    run(["train", str(csv), "--id-col", "id", "--target", "y", "--static-features",
         "kind,region", "--window", "8", "--horizon", "3", "--units", "4",
         "--epochs", "2", "--out", str(model), "-q"])  # fmt: skip
    doc = json.loads((model / "seqcast.json").read_text())
    assert doc["columns"]["static"] == [
        "kind=down", "kind=up", "region=r0", "region=r1", "region=r2",
    ]  # fmt: skip
    for record in doc["series"]:
        k = int(record["id"][1:])
        last = np.array(record["last_window"]["values"])
        assert last[:, 1 + (1 if k % 2 == 0 else 0)].tolist() == [1.0] * 8
        assert last[:, 1:].sum(axis=1).tolist() == [2.0] * 8
    stored = seqcast.load(model).forecast(3, series="s1")
    from_data = seqcast.load(model).forecast(3, csv, series="s1")
    np.testing.assert_allclose(stored.values, from_data.values, rtol=1e-6)
    # A series with a kind the model never saw: a warning, and none of the kind columns.
    other = frame[frame["id"] == "s1"].assign(kind="sideways")
    new = tmp_path / "new.csv"
    other.to_csv(new, index=False)
    result = CliRunner().invoke(
        app, ["forecast", str(model), str(new), "--series", "s1"]
    )
    assert result.exit_code == 0, result.output
    assert "kind=sideways, a value the model never saw in training" in result.stderr
    # A tampered list of static columns is refused on load.
    doc["columns"]["static"] = ["colour=red", *doc["columns"]["static"][1:]]
    from seqcast.store import schema

    with pytest.raises(ArtifactError, match="FEATURE=VALUE"):
        schema.ModelMeta.from_json(doc, "seqcast.json")
