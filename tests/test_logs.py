from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from seqcast import logs
from seqcast.cli import app
from seqcast.errors import ExitCode

pytestmark = pytest.mark.filterwarnings(
    "ignore:.*__array__ implementation doesn't accept a copy keyword:DeprecationWarning"
)


@pytest.fixture(autouse=True)
def _clean_logger() -> Iterator[None]:
    yield
    logs.reset()


def _records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_json_lines_carry_ts_level_event_message_and_fields(tmp_path: Path) -> None:
    log = tmp_path / "run.jsonl"
    logs.configure(log, logs.LogFormat.JSON, command="train")
    logs.event("saved", "saved model to m", model="m")
    logs.warn("the data is 3 days old", name="stale")
    (saved, stale) = _records(log)
    assert list(saved)[:4] == ["ts", "level", "event", "message"]
    assert saved["ts"].endswith("+00:00")
    assert (saved["level"], saved["event"], saved["message"]) == (
        "info",
        "saved",
        "saved model to m",
    )
    assert (saved["command"], saved["model"], saved["pid"]) == (
        "train",
        "m",
        os.getpid(),
    )
    assert (stale["level"], stale["event"]) == ("warning", "stale")


def test_warnings_go_to_stderr_and_the_log_never_stdout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "run.log"
    logs.configure(log, logs.LogFormat.TEXT, command="forecast")
    logs.warn("dropout forfeits the cuDNN kernels", name="cudnn")
    logs.event("note", "inferred freq=D")  # info: the log only
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == "warning: dropout forfeits the cuDNN kernels\n"
    lines = log.read_text().splitlines()
    assert len(lines) == 2
    assert " WARNING [cudnn] dropout forfeits the cuDNN kernels [pid=" in lines[0]
    assert lines[0].endswith("command=forecast]")
    assert " INFO [note] inferred freq=D " in lines[1]


def test_library_warnings_through_the_named_logger_are_rendered(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "run.jsonl"
    logs.configure(log, logs.LogFormat.JSON)
    logging.getLogger("seqcast.data.ticker").warning("using cached prices")
    assert capsys.readouterr().err == "warning: using cached prices\n"
    assert _records(log)[0]["message"] == "using cached prices"


def test_configuring_again_replaces_the_handlers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = tmp_path / "a.log", tmp_path / "b.log"
    logs.configure(first)
    logs.configure(second)
    logs.warn("once")
    assert capsys.readouterr().err == "warning: once\n"
    assert first.read_text() == ""
    assert second.read_text().count("\n") == 1


def test_cli_logs_the_start_and_the_final_error_with_its_exit_code(
    tmp_path: Path,
) -> None:
    log = tmp_path / "run.jsonl"
    missing = tmp_path / "none"
    result = CliRunner().invoke(
        app,
        ["--log-file", str(log), "--log-format", "json", "forecast", str(missing)],
    )
    assert result.exit_code == ExitCode.USER_ERROR
    assert (
        result.stderr == f"error: No model at {missing}. Run `seqcast train` first.\n"
    )
    assert result.stdout == ""
    start, error = _records(log)
    assert (start["event"], start["command"]) == ("start", "forecast")
    assert error == {
        **error,
        "level": "error",
        "event": "error",
        "message": f"error: No model at {missing}. Run `seqcast train` first.",
        "command": "forecast",
        "exit_code": 1,
        "error": "ArtifactError",
    }


def test_log_file_in_an_impossible_place_is_a_usage_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = CliRunner().invoke(
        app, ["--log-file", str(blocker / "run.log"), "info", str(tmp_path)]
    )
    assert result.exit_code == ExitCode.USAGE
    assert "--log-file" in result.stderr
    assert "Cannot open --log-file" in result.stderr


def test_log_format_must_be_known(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["--log-format", "xml", "--log-file", str(tmp_path / "l"), "info", "m"]
    )
    assert result.exit_code == ExitCode.USAGE
    assert "--log-format" in result.stderr


def test_a_real_process_logs_usage_errors_with_exit_code_2(tmp_path: Path) -> None:
    log = tmp_path / "run.jsonl"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "seqcast",
            "--log-file",
            str(log),
            "--log-format",
            "json",
            "forecast",
            str(tmp_path),
            "--steps",
            "0",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == ExitCode.USAGE
    assert "--steps" in done.stderr
    last = _records(log)[-1]
    assert (last["event"], last["exit_code"], last["command"]) == (
        "error",
        2,
        "forecast",
    )


@pytest.mark.slow
def test_a_forecast_warning_reaches_stderr_and_the_log_not_stdout(
    tmp_path: Path,
) -> None:
    from conftest import make_sine_frame

    frame = make_sine_frame(60)
    csv = tmp_path / "s.csv"
    frame.to_csv(csv, index=False, date_format="%Y-%m-%d")
    model = tmp_path / "m"
    tiny = ["--target", "y", "--window", "4", "--horizon", "2", "--units", "2"]
    tiny += ["--epochs", "1", "-q", "--out", str(model)]
    trained = CliRunner().invoke(app, ["train", str(csv), *tiny])
    assert trained.exit_code == 0, trained.output
    revised = frame.copy()
    revised.loc[len(revised) - 1, "y"] += 5.0  # a revised last value
    newer = tmp_path / "revised.csv"
    revised.to_csv(newer, index=False, date_format="%Y-%m-%d")
    log = tmp_path / "run.jsonl"
    result = CliRunner().invoke(
        app,
        [
            "--log-file",
            str(log),
            "--log-format",
            "json",
            "forecast",
            str(model),
            str(newer),
            "--format",
            "csv",
        ],
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("date,y\n")
    assert "warning" not in result.stdout
    assert result.stderr == (
        "warning: The data's 'y' differs from the training data at 1 of 4 shared timestamps (first 2020-02-29); revised data? Forecasting from the data as given.\n"
    )
    events = {r["event"]: r for r in _records(log)}
    assert events["data_mismatch"]["level"] == "warning"
    assert events["exit"]["exit_code"] == 0
    assert events["exit"]["command"] == "forecast"


def test_a_warning_before_configure_is_written_once() -> None:
    """A library caller (no configure()) sees each warning once, not again from logging.

    In a fresh interpreter, as a script importing seqcast would run: under pytest the
    root logger has pytest's own handlers, so logging's last resort never shows.
    """
    import subprocess

    code = "from seqcast import logs; logs.warn('only once, please', name='test_once')"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stderr == "warning: only once, please\n"
