"""Two writers of one model directory or output file: one waits (bounded) or exits 4."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from seqcast.cli import app
from seqcast.errors import ExitCode
from seqcast.store.directory import load_artifact
from seqcast.store.output import output_lock

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings(
        "ignore:.*__array__ implementation doesn't accept a copy keyword:DeprecationWarning"
    ),
]

ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "KERAS_BACKEND": "tensorflow"}


def _train_args(csv: Path, out: Path, seed: int) -> list[str]:
    return [
        *("train", str(csv), "--target", "y", "--window", "8", "--horizon", "2"),
        *("--units", "2", "--epochs", "1", "--seed", str(seed), "-q"),
        *("--out", str(out)),
    ]


def _seqcast(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "seqcast", *args],
        env=ENV,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _leftovers(path: Path) -> list[Path]:
    return sorted(path.parent.glob(f".{path.name}.tmp-*"))


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    from conftest import make_sine_frame

    root = tmp_path_factory.mktemp("lock")
    csv = root / "s.csv"
    make_sine_frame(100).to_csv(csv, index=False, date_format="%Y-%m-%d")
    result = CliRunner().invoke(app, _train_args(csv, root / "m", seed=0))
    assert result.exit_code == 0, result.output
    return csv, root / "m"


@pytest.fixture
def model(trained: tuple[Path, Path], tmp_path: Path) -> Path:
    shutil.copytree(trained[1], tmp_path / "m")
    return tmp_path / "m"


def test_train_over_a_locked_model_exits_4_and_keeps_it(
    trained: tuple[Path, Path], model: Path
) -> None:
    before = (model / "seqcast.json").read_bytes()
    with output_lock(model, 1):
        done = _seqcast(
            *_train_args(trained[0], model, seed=1), "--lock-timeout", "0.5"
        )
    assert done.returncode == ExitCode.LOCKED
    lock = model.parent / ".m.lock"
    assert done.stderr == (
        f"error: Another seqcast process is writing {model} (lock {lock} still held after 0.5 s). Wait for it to finish, or raise --lock-timeout.\n"
    )
    assert done.stdout == ""
    assert (model / "seqcast.json").read_bytes() == before
    assert load_artifact(model).meta.provenance.seed == 0
    assert _leftovers(model) == []


def test_forecast_output_locked_exits_4_and_keeps_the_file(
    model: Path, tmp_path: Path
) -> None:
    target = tmp_path / "next.csv"
    target.write_text("previous\n")
    with output_lock(target, 1):
        done = _seqcast(
            *("forecast", str(model), "--output", str(target)),
            *("--lock-timeout", "0.5"),
        )
    assert done.returncode == ExitCode.LOCKED
    assert done.stderr.count("\n") == 1
    assert done.stderr.startswith(
        f"error: Another seqcast process is writing {target} (lock "
    )
    assert "Traceback" not in done.stderr
    assert target.read_text() == "previous\n"
    assert _leftovers(target) == []


def test_forecast_output_waits_for_the_lock_to_be_released(
    model: Path, tmp_path: Path
) -> None:
    target = tmp_path / "next.csv"
    target.write_text("previous\n")
    released = threading.Event()

    def hold() -> None:
        with output_lock(target, 1):
            time.sleep(1.5)
        released.set()

    holder = threading.Thread(target=hold)
    holder.start()
    time.sleep(0.2)
    done = _seqcast(
        *("forecast", str(model), "--format", "csv", "--output", str(target)),
        *("--lock-timeout", "30"),
    )
    holder.join()
    assert released.is_set()
    assert done.returncode == 0, done.stderr
    assert target.read_text().startswith("date,y\n")
    assert target.read_text().count("\n") == 3  # header + horizon 2


def test_two_trains_on_one_directory_both_finish_one_model_wins(
    trained: tuple[Path, Path], model: Path
) -> None:
    csv = trained[0]
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "seqcast", *_train_args(csv, model, seed)],
            env=ENV,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for seed in (1, 2)
    ]
    codes = [p.wait(timeout=120) for p in procs]
    assert codes == [0, 0], [p.stderr.read() for p in procs if p.stderr]
    assert load_artifact(model).meta.provenance.seed in {1, 2}
    assert _leftovers(model) == []
    assert not (model.parent / ".m.lock").exists()


def test_lock_timeout_must_not_be_negative(model: Path) -> None:
    result = CliRunner().invoke(app, ["forecast", str(model), "--lock-timeout", "-1"])
    assert result.exit_code == ExitCode.USAGE
    assert "--lock-timeout" in result.stderr


def test_train_and_forecast_leave_no_lock_files(
    trained: tuple[Path, Path], tmp_path: Path
) -> None:
    csv = tmp_path / "s.csv"
    shutil.copy(trained[0], csv)
    model, output = tmp_path / "m", tmp_path / "f.csv"
    for seed in (0, 1):  # a new model, then one replacing it
        result = CliRunner().invoke(app, _train_args(csv, model, seed=seed))
        assert result.exit_code == 0, result.output
        args = ["forecast", str(model), "--format", "csv", "--output", str(output)]
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.csv", "m", "s.csv"]
    assert not [p.name for p in model.iterdir() if p.name.endswith(".lock")]
