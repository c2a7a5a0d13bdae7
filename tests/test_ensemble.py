"""Ensembles (`--ensemble N`): N seeds, one artifact, the mean as the forecast."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from seqcast import api
from seqcast.cli import app
from seqcast.config import Engine, RunConfig, TrainConfig
from seqcast.errors import ArtifactError, ConfigError, ExitCode
from seqcast.prep.windows import denormalize, normalize_windows
from seqcast.store.directory import META_FILE, MODEL_FILE, load_artifact

pytestmark = pytest.mark.filterwarnings(
    "ignore:.*__array__ implementation doesn't accept a copy keyword:DeprecationWarning"
)

MEMBERS = ("model.keras", "model-1.keras", "model-2.keras")


def _config(ensemble: int) -> RunConfig:
    return RunConfig().with_overrides(
        {
            "target": "y",
            "window": 8,
            "horizon": 2,
            "units": (4,),
            "epochs": 1,
            "batch_size": 16,
            "patience": 0,
            "seed": 0,
            "ensemble": ensemble,
            "transform": "none",  # the forecast is rebuilt by hand below
            "deseasonalize": "none",
        }
    )


@pytest.fixture(scope="module")
def trained(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, Path, list[str]]:
    """An ensemble of 3 and a single model, trained on the same data with seed 0."""
    from tests.conftest import make_sine_frame

    root = tmp_path_factory.mktemp("ensemble")
    frame = make_sine_frame(120)[["date", "y"]]
    lines: list[str] = []
    three = api.train(
        frame, out=root / "three", config=_config(3), progress=lines.append
    )
    one = api.train(frame, out=root / "one", config=_config(1))
    assert three.path is not None
    assert one.path is not None
    return three.path, one.path, lines


def _member_forecast(path: Path, member_file: str) -> np.ndarray:
    """Forecast one horizon from the stored window with one member, by hand."""
    from seqcast.model.predict import NumpyModel

    art = load_artifact(path)
    scaler = art.meta.one.scaler
    raw = art.meta.one.last_window.array()
    scaled = scaler.transform(raw)[None, :, :]
    xn, _, offset = normalize_windows(scaled, None, art.config.train.window_norm)
    model = NumpyModel.from_keras_file(path / member_file)
    out = denormalize(model.predict(xn.astype(np.float32)), offset)
    return scaler.inverse_target(out)[0]


@pytest.mark.slow
def test_an_ensemble_of_3_writes_3_checksummed_model_files(
    trained: tuple[Path, Path, list[str]],
) -> None:
    three, _, lines = trained
    meta = json.loads((three / META_FILE).read_text())
    assert meta["config"]["train"]["ensemble"] == 3
    assert sorted(meta["files"]) == sorted(MEMBERS)
    for name in MEMBERS:
        digest = hashlib.sha256((three / name).read_bytes()).hexdigest()
        assert meta["files"][name]["sha256"] == digest
    assert [m["seed"] for m in meta["history"]["members"]] == [0, 1, 2]
    assert [m["file"] for m in meta["history"]["members"]] == list(MEMBERS)
    assert [line for line in lines if "members" in line] == [
        "3 members (seeds 0 to 2) trained together"
    ]
    assert load_artifact(three).ensemble == 3


@pytest.mark.slow
def test_the_forecast_is_the_mean_of_the_members(
    trained: tuple[Path, Path, list[str]],
) -> None:
    three, _, _ = trained
    members = [_member_forecast(three, name) for name in MEMBERS]
    forecast = api.load(three).forecast()
    assert forecast.engine == "numpy"
    np.testing.assert_allclose(forecast.values, np.mean(members, axis=0), atol=1e-6)
    # Different seeds give different members.
    assert not np.allclose(members[0], members[1], atol=1e-6)
    assert not np.allclose(members[1], members[2], atol=1e-6)


@pytest.mark.slow
def test_combine_median_forecasts_the_members_median_and_says_so(
    tmp_path: Path,
) -> None:
    from tests.conftest import make_sine_frame

    frame = make_sine_frame(120)[["date", "y"]]
    config = _config(3).with_overrides({"combine": "median"})
    path = api.train(frame, out=tmp_path / "median", config=config).path
    assert path is not None
    members = np.array([_member_forecast(path, name) for name in MEMBERS])
    # Three members: the median is, at each step, the one between the other two.
    middle = np.sort(members, axis=0)[1]
    for engine in (Engine.NUMPY, Engine.KERAS):
        forecast = api.load(path, engine=engine).forecast()
        np.testing.assert_allclose(forecast.values, middle, atol=1e-5)
    assert not np.allclose(middle, members.mean(axis=0), atol=1e-6)
    assert load_artifact(path).config.train.combine.value == "median"
    result = CliRunner().invoke(app, ["info", str(path)])
    assert " ensemble=3 (median) on " in result.stdout


@pytest.mark.slow
def test_the_keras_engine_averages_the_same_members(
    trained: tuple[Path, Path, list[str]],
) -> None:
    three, _, _ = trained
    fast = api.load(three).forecast(5)
    slow = api.load(three, engine=Engine.KERAS).forecast(5)
    assert slow.engine == "keras"
    np.testing.assert_allclose(slow.values, fast.values, atol=1e-5)


@pytest.mark.slow
def test_ensemble_1_keeps_the_single_model_layout_and_forecast(
    trained: tuple[Path, Path, list[str]],
) -> None:
    three, one, _ = trained
    assert sorted(p.name for p in one.iterdir()) == [MODEL_FILE, META_FILE]
    meta = json.loads((one / META_FILE).read_text())
    assert list(meta["files"]) == [MODEL_FILE]
    assert meta["config"]["train"]["ensemble"] == 1
    # Member 0 of the ensemble is the single model: same seed, data and splits. The
    # networks run in float32, whose sums the two layouts may order differently: a
    # few units in the last place (GRU: 1e-5 on a forecast of 16), never a different fit.
    np.testing.assert_allclose(
        api.load(one).forecast().values, _member_forecast(three, MODEL_FILE), rtol=1e-5
    )


@pytest.mark.slow
def test_an_edited_member_is_refused_naming_the_file(
    trained: tuple[Path, Path, list[str]], tmp_path: Path
) -> None:
    model = tmp_path / "model"
    shutil.copytree(trained[0], model)
    with open(model / "model-2.keras", "ab") as handle:
        handle.write(b"\0")
    result = CliRunner().invoke(app, ["forecast", str(model)])
    assert result.exit_code == ExitCode.USER_ERROR
    assert (
        result.stderr
        == f"error: {model / 'model-2.keras'} does not match the checksum in seqcast.json: it was truncated, edited or comes from another model. Retrain with `seqcast train`.\n"
    )


@pytest.mark.slow
def test_a_missing_member_is_refused(
    trained: tuple[Path, Path, list[str]], tmp_path: Path
) -> None:
    model = tmp_path / "model"
    shutil.copytree(trained[0], model)
    (model / "model-1.keras").unlink()
    with pytest.raises(ArtifactError) as info:
        load_artifact(model)
    assert str(info.value) == (
        f"{model / 'model-1.keras'} is missing, so {model} is not a complete model. Run `seqcast train` first."
    )
    # Dropping the checksum as well does not help.
    meta = json.loads((model / META_FILE).read_text())
    del meta["files"]["model-1.keras"]
    (model / META_FILE).write_text(json.dumps(meta))
    with pytest.raises(ArtifactError) as info:
        load_artifact(model)
    assert str(info.value) == (
        f"{model / META_FILE} records no checksum for model-1.keras. Retrain with `seqcast train`."
    )


@pytest.mark.slow
def test_an_ensemble_forecast_imports_neither_keras_nor_pandas(
    trained: tuple[Path, Path, list[str]],
) -> None:
    from tests.test_fastpath import run_probe

    result, imported = run_probe("forecast", str(trained[0]), "--format", "csv")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "date,y"
    assert imported == []


@pytest.mark.slow
def test_info_shows_the_ensemble(trained: tuple[Path, Path, list[str]]) -> None:
    result = CliRunner().invoke(app, ["info", str(trained[0])])
    assert result.exit_code == 0, result.output
    assert " seed=0 ensemble=3 (mean) on " in result.stdout


@pytest.mark.slow
def test_each_backtest_fold_trains_the_ensemble() -> None:
    from seqcast.evaluation.backtest import backtest
    from tests.conftest import make_sine_frame

    frame = make_sine_frame(120)
    values = frame[["y"]].to_numpy(dtype=np.float64)
    dates = [d.strftime("%Y-%m-%d") for d in frame["date"]]
    lines: list[str] = []
    result = backtest(
        values, dates, _config(2), folds=2, season=7, progress=lines.append
    )
    assert len(result.folds) == 2
    assert [line for line in lines if "members" in line] == [
        "2 members (seeds 0 to 1) trained together"
    ] * 2


def test_ensemble_0_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["train", "x.csv", "--ensemble", "0", "--out", str(tmp_path / "m")]
    )
    assert result.exit_code == ExitCode.USAGE
    assert "--ensemble" in result.output


def test_backtest_has_the_ensemble_option() -> None:
    result = CliRunner().invoke(app, ["backtest", "--help"])
    assert result.exit_code == 0
    assert "--ensemble" in result.stdout


@pytest.mark.parametrize("ensemble", [0, 21])
def test_ensemble_bounds_are_pinned(ensemble: int) -> None:
    with pytest.raises(ConfigError) as info:
        TrainConfig(ensemble=ensemble)
    assert str(info.value) == (
        f"ensemble={ensemble} must be between 1 and 20. Use a small ensemble such as --ensemble 3; each member adds to the training time."
    )


def test_ensemble_round_trips_through_the_config() -> None:
    config = RunConfig().with_overrides({"ensemble": 5})
    assert config.to_dict()["train"]["ensemble"] == 5
    assert RunConfig.from_dict(config.to_dict()) == config
    assert RunConfig.from_dict({"train": {}}).train.ensemble == 1
    with pytest.raises(ConfigError, match=r"ensemble='3' must be a whole number\."):
        RunConfig.from_dict({"ensemble": "3"})


def test_ensemble_21_from_the_cli_is_a_user_error(
    sample_csv: Path, tmp_path: Path
) -> None:
    result = CliRunner().invoke(
        app,
        [
            "train",
            str(sample_csv),
            "--target",
            "y",
            "--ensemble",
            "21",
            "--out",
            str(tmp_path / "m"),
        ],
    )
    assert result.exit_code == ExitCode.USER_ERROR
    assert result.stderr == (
        "error: ensemble=21 must be between 1 and 20. Use a small ensemble such as --ensemble 3; each member adds to the training time.\n"
    )
    assert not (tmp_path / "m").exists()


def test_the_summary_says_the_members_trained_in_one_fit(tmp_path: Path) -> None:
    """The members share one joint fit: the summary must not add its time up per member."""
    from tests.conftest import make_sine_frame

    csv = tmp_path / "sine.csv"
    make_sine_frame(120)[["date", "y"]].to_csv(csv, index=False)
    result = CliRunner().invoke(
        app,
        ["train", str(csv), "--target", "y", "--window", "8", "--horizon", "2",
         "--units", "4", "--epochs", "1", "--ensemble", "2",
         "--out", str(tmp_path / "m")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    fit_lines = [
        line for line in result.stderr.splitlines() if line.startswith("trained ")
    ]
    assert len(fit_lines) == 1  # one fit for both members
    assert (
        "the 2 members of the ensemble were trained together in that fit"
        in result.stderr
    )
