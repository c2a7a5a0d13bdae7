"""Kill real `seqcast train` / `seqcast forecast` processes at many moments of their life.

After every kill the model directory must load, forecast, and be either the previous
complete model or the new complete one; an interrupted `forecast --output` leaves the
previous file. Seeds tell the models apart: every attempt trains with a fresh seed.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from seqcast.cli import app
from seqcast.errors import ExitCode
from seqcast.store.directory import load_artifact

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings(
        "ignore:.*__array__ implementation doesn't accept a copy keyword:DeprecationWarning"
    ),
]

ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "KERAS_BACKEND": "tensorflow"}
KILL_DELAYS = 8  # evenly spread over one full run, plus the save-time kills below


def _train_cmd(csv: Path, out: Path, seed: int, *, quiet: bool = True) -> list[str]:
    cmd = [sys.executable, "-m", "seqcast", "train", str(csv), "--target", "y"]
    cmd += ["--window", "8", "--horizon", "2", "--units", "4", "--epochs", "3"]
    cmd += ["--patience", "0", "--seed", str(seed), "--out", str(out)]
    return cmd + (["-q"] if quiet else [])


def _temporaries(out: Path) -> list[Path]:
    return sorted(out.parent.glob(f".{out.name}.tmp-*"))


def _check_model(out: Path, allowed_seeds: set[int]) -> int:
    """The model loads, forecasts, and is one of the allowed complete models."""
    artifact = load_artifact(out)
    seed = artifact.meta.provenance.seed
    assert seed in allowed_seeds
    result = CliRunner().invoke(app, ["forecast", str(out), "--format", "json"])
    assert result.exit_code == 0, result.output
    values = [row["y"] for row in json.loads(result.stdout)]
    assert len(values) == 2
    assert np.isfinite(values).all()
    return seed


def _kill_when(proc: subprocess.Popen[bytes], ready: object, limit: float) -> bool:
    """Poll ``ready()`` every half millisecond; SIGKILL ``proc`` as soon as it is true."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and proc.poll() is None:
        if ready():  # type: ignore[operator]
            proc.kill()
            return True
        time.sleep(0.0005)
    return False


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, float]:
    """A CSV, a complete model trained on it with seed 0, and how long training took."""
    from conftest import make_sine_frame

    root = tmp_path_factory.mktemp("kill")
    csv = root / "s.csv"
    make_sine_frame(120).to_csv(csv, index=False, date_format="%Y-%m-%d")
    started = time.monotonic()
    _run(_train_cmd(csv, root / "m", seed=0))
    return csv, root / "m", time.monotonic() - started


@pytest.fixture
def data(baseline: tuple[Path, Path, float]) -> Path:
    return baseline[0]


@pytest.fixture
def out(baseline: tuple[Path, Path, float], tmp_path: Path) -> Path:
    """A private copy of the baseline model (seed 0)."""
    shutil.copytree(baseline[1], tmp_path / "m")
    return tmp_path / "m"


def _run(cmd: list[str]) -> None:
    subprocess.run(
        cmd, env=ENV, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def _start(cmd: list[str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        cmd, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def test_sigkill_at_any_moment_keeps_a_complete_model(
    baseline: tuple[Path, Path, float], data: Path, out: Path
) -> None:
    full_run = baseline[2]
    current, seed, killed_alive = 0, 0, 0

    delays = np.linspace(0.0, full_run * 1.1, KILL_DELAYS)
    for delay in delays:
        seed += 1
        proc = _start(_train_cmd(data, out, seed))
        time.sleep(float(delay))
        proc.kill()
        killed_alive += proc.wait() == -signal.SIGKILL  # not already finished
        current = _check_model(out, {current, seed})

    # Kill inside save_artifact: as soon as the temporary sibling appears, and as soon
    # as the Keras file is complete inside it (before seqcast.json is written).
    def new_temporaries() -> list[Path]:
        return [t for t in _temporaries(out) if t not in stale]

    save_points = [
        lambda: bool(new_temporaries()),
        lambda: any((t / "model.keras").is_file() for t in new_temporaries()),
    ]
    caught = 0
    for ready in save_points:
        stale = set(_temporaries(out))  # left by an earlier kill
        seed += 1
        proc = _start(_train_cmd(data, out, seed))
        caught += _kill_when(proc, ready, limit=full_run * 4)
        proc.wait()
        current = _check_model(out, {current, seed})
    assert caught >= 1, "never caught a run while it was saving"
    # Half the delays fall well inside a run; if those kills found the process
    # already gone, the test checked only complete runs.
    assert killed_alive >= KILL_DELAYS // 2, f"only {killed_alive} kills hit a live run"

    seed += 1
    _run(_train_cmd(data, out, seed))
    assert _check_model(out, {seed}) == seed
    assert _temporaries(out) == []


@pytest.mark.parametrize(
    ("signum", "when"),
    [(signal.SIGINT, "training"), (signal.SIGTERM, "saving")],
)
def test_sigint_and_sigterm_exit_130_and_leave_nothing_partial(
    data: Path, out: Path, signum: int, when: str
) -> None:
    proc = subprocess.Popen(
        _train_cmd(data, out, seed=1, quiet=when == "saving"),
        env=ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    if when == "training":
        for line in proc.stderr:
            if line.startswith("epoch 1/"):
                break
        proc.send_signal(signum)
    else:
        deadline = time.monotonic() + 60
        while not _temporaries(out) and time.monotonic() < deadline:
            time.sleep(0.0005)
        proc.send_signal(signum)
    stderr = proc.stderr.read()
    assert proc.wait() == ExitCode.INTERRUPTED, stderr
    assert "Traceback" not in stderr
    assert stderr.strip().splitlines()[-1] == "error: Interrupted; nothing was written."
    assert _check_model(out, {0} if when == "training" else {0, 1}) in {0, 1}
    assert _temporaries(out) == []


def test_killed_forecast_output_keeps_the_previous_file(
    out: Path, tmp_path: Path
) -> None:
    model = out
    target = tmp_path / "next.csv"
    cmd = [sys.executable, "-m", "seqcast", "forecast", str(model), "--steps", "5"]
    cmd += ["--format", "csv", "--output", str(target)]
    started = time.monotonic()
    _run(cmd)
    full_run = time.monotonic() - started
    complete = target.read_text()
    assert complete.count("\n") == 6

    outcomes = []
    for delay in [*np.linspace(0.0, full_run * 1.1, 6), None]:
        target.write_text("previous\n")
        proc = _start(cmd)
        if delay is None:  # kill while the temporary sibling exists, if we catch it
            _kill_when(proc, lambda: bool(_temporaries(target)), limit=full_run * 4)
        else:
            time.sleep(float(delay))
            proc.kill()
        proc.wait()
        text = target.read_text()
        assert text in {"previous\n", complete}
        outcomes.append(text == complete)
    assert not all(outcomes)  # at least one kill landed before the rename

    _run(cmd)
    assert target.read_text() == complete


def test_next_forecast_output_removes_temporaries_of_killed_runs(
    out: Path, tmp_path: Path
) -> None:
    target = tmp_path / "next.csv"
    stale = tmp_path / ".next.csv.tmp-99999-deadbeef"
    stale.write_text("half a fore")  # what a SIGKILL between write and rename leaves
    result = CliRunner().invoke(
        app, ["forecast", str(out), "--format", "csv", "--output", str(target)]
    )
    assert result.exit_code == 0, result.output
    assert target.read_text().startswith("date,y")
    assert _temporaries(target) == []


def test_ctrl_c_during_per_series_workers_prints_one_line(tmp_path: Path) -> None:
    """Ctrl-C reaches the whole process group: seqcast, its loky workers and tracker."""
    import pandas as pd
    from conftest import make_sine_frame

    frames = [make_sine_frame(150, seed=k).assign(id=f"s{k}") for k in range(4)]
    csv = tmp_path / "long.csv"
    pd.concat(frames)[["id", "date", "y"]].to_csv(csv, index=False)
    cmd = [sys.executable, "-m", "seqcast", "train", str(csv), "--target", "y"]
    cmd += ["--id-col", "id", "--per-series", "--jobs", "2", "--epochs", "20"]
    cmd += ["--window", "8", "--horizon", "2", "--out", str(tmp_path / "m")]
    proc = subprocess.Popen(
        cmd,
        env=ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert proc.stderr is not None
    for line in proc.stderr:
        if line.startswith("training 4 local"):
            break
    time.sleep(1.0)  # the workers are importing or fitting
    os.killpg(proc.pid, signal.SIGINT)
    stderr = proc.stderr.read()
    assert proc.wait() == ExitCode.INTERRUPTED, stderr
    assert stderr.strip().splitlines()[-1] == "error: Interrupted; nothing was written."
    assert "leaked" not in stderr
    assert "Traceback" not in stderr
    assert not (tmp_path / "m").exists()
