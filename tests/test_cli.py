from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from seqcast import __version__
from seqcast.cli import app
from seqcast.errors import ExitCode

pytestmark = pytest.mark.filterwarnings(
    "ignore:.*__array__ implementation doesn't accept a copy keyword:DeprecationWarning"
)

TINY = [
    "--target",
    "y",
    "--window",
    "14",
    "--horizon",
    "3",
    "--units",
    "4",
    "--epochs",
    "1",
    "--batch-size",
    "16",
    "--seed",
    "0",
    "-q",
]


def run(*args: str, input: str | None = None) -> typer.testing.Result:  # type: ignore[name-defined]
    return CliRunner().invoke(app, list(args), input=input)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    from conftest import make_sine_frame

    root = tmp_path_factory.mktemp("cli")
    csv = root / "sine.csv"
    make_sine_frame(160).to_csv(csv, index=False, date_format="%Y-%m-%d")
    result = run("train", str(csv), *TINY, "--out", str(root / "model"))
    assert result.exit_code == 0, result.output
    return csv, root / "model"


def test_every_command_has_a_short_help_and_an_example() -> None:
    import typer.main

    group = typer.main.get_command(app)
    names = []
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        subcommands = getattr(command, "commands", None)
        for sub_name, sub in (subcommands or {name: command}).items():
            doc = sub.callback.__doc__ or ""
            summary = doc.strip().splitlines()[0]
            assert len(summary) <= 60, (sub_name, summary)
            assert "Example:" in doc, sub_name
            names.append(sub_name)
    assert {"train", "evaluate", "forecast", "info", "fetch", "show"} <= set(names)


def test_version() -> None:
    result = run("--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"seqcast {__version__}"


@pytest.mark.slow
def test_train_prints_test_scores_beside_baselines(trained: tuple[Path, Path]) -> None:
    _, model = trained
    assert (model / "model.keras").is_file()
    meta = json.loads((model / "seqcast.json").read_text())
    assert meta["config"]["train"]["window"] == 14
    assert meta["columns"]["freq"] == "D"
    assert meta["provenance"]["command"][:2] == ["seqcast", "train"]
    assert set(meta["metrics"]["test"]["scores"]) == {
        "model",
        "naive",
        "seasonal_naive",
        "drift",
        "theta",
    }
    assert len(meta["series"][0]["last_window"]["values"]) == 14


@pytest.mark.slow
def test_evaluate_on_the_training_csv_rescores_only_the_test_part(
    trained: tuple[Path, Path],
) -> None:
    csv, model = trained
    stored = run("evaluate", str(model), "--format", "json")
    fresh = run("evaluate", str(model), str(csv), "--format", "json")
    assert stored.exit_code == 0
    assert fresh.exit_code == 0, fresh.output
    a, b = json.loads(stored.stdout), json.loads(fresh.stdout)
    assert (a["first_date"], a["last_date"], a["n_windows"]) == (
        b["first_date"],
        b["last_date"],
        b["n_windows"],
    )
    for name in ("model", "naive", "seasonal_naive"):
        assert b["scores"][name]["mae"] == pytest.approx(
            a["scores"][name]["mae"], rel=1e-5
        )
    table = run("evaluate", str(model))
    assert "seasonal_naive" in table.stdout
    assert "relative MASE vs seasonal naive" in table.stdout


@pytest.mark.slow
def test_forecast_continues_the_dates_in_each_format(
    trained: tuple[Path, Path], tmp_path: Path
) -> None:
    csv, model = trained
    last = pd.read_csv(csv)["date"].iloc[-1]
    result = run("forecast", str(model), "--steps", "5")
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(pd.io.common.StringIO(result.stdout))
    assert list(frame.columns) == ["date", "y"]
    expected = pd.date_range(
        pd.Timestamp(last) + pd.Timedelta(days=1), periods=5, freq="D"
    ).strftime("%Y-%m-%d")
    assert list(frame["date"]) == list(expected)
    assert np.isfinite(frame["y"]).all()
    as_json = run("forecast", str(model), "--steps", "5", "--format", "json")
    records = json.loads(as_json.stdout)
    assert [r["date"] for r in records] == list(expected)
    np.testing.assert_allclose([r["y"] for r in records], frame["y"], rtol=1e-8)
    table = run("forecast", str(model), "--steps", "2", "--format", "table")
    assert table.stdout.splitlines()[1].startswith("----")
    out = tmp_path / "next.json"
    written = run(
        "forecast", str(model), "--steps", "5", "--format", "json", "--output", str(out)
    )
    assert written.exit_code == 0
    assert written.stdout == ""
    assert json.loads(out.read_text()) == records


@pytest.mark.slow
def test_forecast_from_new_data_uses_its_tail(
    trained: tuple[Path, Path], tmp_path: Path
) -> None:
    from conftest import make_sine_frame

    _, model = trained
    newer = make_sine_frame(200)
    path = tmp_path / "newer.csv"
    newer.to_csv(path, index=False, date_format="%Y-%m-%d")
    result = run("forecast", str(model), str(path), "--steps", "3", "--format", "json")
    assert result.exit_code == 0, result.output
    dates = [r["date"] for r in json.loads(result.stdout)]
    assert dates[0] == (newer["date"].iloc[-1] + pd.Timedelta(days=1)).strftime(
        "%Y-%m-%d"
    )
    piped = run(
        "forecast",
        str(model),
        "-",
        "--steps",
        "3",
        "--format",
        "json",
        input=path.read_text(),
    )
    assert json.loads(piped.stdout) == json.loads(result.stdout)


@pytest.mark.slow
def test_engines_agree(trained: tuple[Path, Path]) -> None:
    _, model = trained
    numpy_run = run(
        "forecast", str(model), "--steps", "7", "--format", "json", "--engine", "numpy"
    )
    keras_run = run(
        "forecast", str(model), "--steps", "7", "--format", "json", "--engine", "keras"
    )
    a = [r["y"] for r in json.loads(numpy_run.stdout)]
    b = [r["y"] for r in json.loads(keras_run.stdout)]
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


@pytest.mark.slow
def test_info_shows_the_artifact(trained: tuple[Path, Path]) -> None:
    _, model = trained
    text = run("info", str(model))
    assert text.exit_code == 0
    assert "window=14 horizon=3" in text.stdout
    as_json = json.loads(run("info", str(model), "--format", "json").stdout)
    assert as_json["schema_version"] == 5
    assert as_json["config"]["model"]["units"] == [4]


@pytest.mark.slow
def test_training_from_stdin_matches_training_from_a_file(
    trained: tuple[Path, Path], tmp_path: Path
) -> None:
    csv, model = trained
    result = run(
        "train", "-", *TINY, "--out", str(tmp_path / "m"), input=csv.read_text()
    )
    assert result.exit_code == 0, result.output
    a = run("forecast", str(model), "--steps", "4", "--format", "json").stdout
    b = run("forecast", str(tmp_path / "m"), "--steps", "4", "--format", "json").stdout
    assert a == b  # same data, same seed, same machine: the same forecast


@pytest.mark.slow
def test_config_file_options_with_the_command_line_winning(
    sample_csv: Path, tmp_path: Path
) -> None:
    options = tmp_path / "opts.toml"
    options.write_text(
        'window = 10\nhorizon = 2\nepochs = 1\nmodel = "gru"\nunits = [3]\n',
        encoding="utf-8",
    )
    out = tmp_path / "m"
    result = run(
        "train",
        str(sample_csv),
        "--config",
        str(options),
        "--window",
        "12",
        "--target",
        "y",
        "-q",
        "--out",
        str(out),
    )
    assert result.exit_code == 0, result.output
    config = json.loads((out / "seqcast.json").read_text())["config"]
    assert config["train"]["window"] == 12
    assert config["train"]["horizon"] == 2
    assert config["model"]["model"] == "gru"


def test_missing_model_says_to_train_first(tmp_path: Path) -> None:
    result = run("forecast", str(tmp_path / "none"))
    assert result.exit_code == ExitCode.USER_ERROR
    assert (
        result.stderr
        == f"error: No model at {tmp_path / 'none'}. Run `seqcast train` first.\n"
    )
    assert result.stdout == ""


def test_window_longer_than_series_is_a_one_line_error(
    sample_csv: Path, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    result = run(
        "train", str(sample_csv), "--target", "y", "--window", "500", "--out", str(out)
    )
    assert result.exit_code == ExitCode.USER_ERROR
    assert "window=500" in result.stderr
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.output
    assert not out.exists()


def test_unknown_target_suggests_a_close_match(
    sample_csv: Path, tmp_path: Path
) -> None:
    result = run(
        "train", str(sample_csv), "--target", "tmep", "--out", str(tmp_path / "m")
    )
    assert result.exit_code == ExitCode.USER_ERROR
    assert result.stderr.startswith("error: ")
    assert "'temp'" in result.stderr
    assert not (tmp_path / "m").exists()


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["--window", "0"], "--window"),
        (["--model", "transformer"], "--model"),
        (["--bogus"], "--bogus"),
    ],
)
def test_usage_errors_exit_2(
    sample_csv: Path, tmp_path: Path, args: list[str], option: str
) -> None:
    result = run("train", str(sample_csv), "--out", str(tmp_path / "m"), *args)
    assert result.exit_code == ExitCode.USAGE
    assert option in result.stderr
    assert not (tmp_path / "m").exists()


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    from seqcast.errors import ArtifactError

    result = run("--debug", "info", str(tmp_path / "none"))
    assert result.exit_code != 0
    assert isinstance(result.exception, ArtifactError)


@pytest.mark.slow
def test_features_limit_steps_to_the_horizon(sample_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "m"
    result = run(
        "train", str(sample_csv), *TINY, "--features", "temp", "--out", str(out)
    )
    assert result.exit_code == 0, result.output
    ok = run("forecast", str(out), "--steps", "3", "--format", "json")
    assert ok.exit_code == 0
    assert len(json.loads(ok.stdout)) == 3
    too_far = run("forecast", str(out), "--steps", "9")
    assert too_far.exit_code == ExitCode.USER_ERROR
    assert (
        "Forecasting 9 steps needs future values of the features ['temp']"
        in too_far.stderr
    )


def test_importing_the_cli_loads_nothing_heavy() -> None:
    code = "import sys, seqcast.cli; heavy = {'keras', 'tensorflow', 'matplotlib', 'yfinance', 'sklearn'} & set(sys.modules); print(sorted(heavy))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


def test_python_dash_m_runs_the_same_cli() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "seqcast", "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == f"seqcast {__version__}"
    assert out.stderr == ""


def test_real_process_errors_have_no_traceback(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "seqcast", "forecast", str(tmp_path / "none")],
        capture_output=True,
        text=True,
    )
    assert out.returncode == ExitCode.USER_ERROR
    assert (
        out.stderr
        == f"error: No model at {tmp_path / 'none'}. Run `seqcast train` first.\n"
    )
    assert out.stdout == ""


def test_shell_completion_is_on(monkeypatch: pytest.MonkeyPatch) -> None:
    # --show-completion detects the shell it runs under; under `sh -c` (a make recipe
    # with quotes) that is sh, which Typer does not support. Pin bash.
    import shellingham

    monkeypatch.setattr(shellingham, "detect_shell", lambda: ("bash", "/bin/bash"))
    result = run("--show-completion", "bash")
    assert result.exit_code == 0, result.output
    assert "_SEQCAST_COMPLETE=complete_bash" in result.stdout


def test_counts_are_singular_for_one_and_percentages_are_labelled() -> None:
    from seqcast.cli.render import count, evaluation_text
    from seqcast.config import OutputFormat

    assert (count(1, "step"), count(12, "step")) == ("1 step", "12 steps")
    scores = {"mae": 1.0, "rmse": 1.0, "mape": 5.0, "smape": 5.0, "mase": 0.5}
    text = evaluation_text(
        {"n_windows": 1, "horizon": 1, "first_date": "2020-01-01", "last_date": "2020-01-01",
         "season": 1, "scores": {"model": scores, "naive": scores}, "relative_mase": 1.0,
         "best": "model", "loses_to": []},
        OutputFormat.TABLE,
    )  # fmt: skip
    assert text.splitlines()[0].startswith("1 window x 1 step, ")
    assert "mape %" in text.splitlines()[1]
