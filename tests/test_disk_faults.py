"""Faults on a real, small file system: a full disk and read-only mounts.

Each test mounts tmpfs file systems of its own (600 kB, as the original measurement
did), so it needs root and permission to mount (CI runs as root); elsewhere it is
skipped. seqcast runs in a subprocess, so stderr and the exit code are exactly what a
user or a cron job sees. Every failure must be one ``error:`` line naming the cause
and what to do, leave no temporary or lock file, and keep the previous file as it was.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from seqcast.cli import app
from seqcast.errors import ExitCode

pytestmark = pytest.mark.filterwarnings(
    "ignore:.*__array__ implementation doesn't accept a copy keyword:DeprecationWarning"
)

TINY = [
    *("--target", "y", "--window", "14", "--horizon", "3", "--units", "4"),
    *("--epochs", "1", "--batch-size", "16", "--seed", "0", "-q"),
]
PREVIOUS = b"date,y\n2019-12-31,1.0\n"
"""What a previous run left at the target path; it must survive every failed write."""

FAKE_YAHOO = r"""
import os
import sys

import numpy as np
import pandas as pd

from seqcast.data import ticker


def fake_download(symbol, start, end, interval, **kwargs):
    days = pd.bdate_range("2020-01-01", os.environ["FAKE_TODAY"])
    close = 150 + np.cumsum(np.random.default_rng(7).normal(0, 1, len(days)))
    frame = pd.DataFrame(
        {"Open": close - 0.5, "High": close + 1, "Low": close - 1, "Close": close,
         "Adj Close": close * 0.99, "Volume": 1e6},
        index=pd.DatetimeIndex(days.tz_localize("America/New_York"), name="Date"),
    )
    keep = np.ones(len(frame), dtype=bool)
    if start is not None:
        keep &= frame.index.date >= start
    if end is not None:
        keep &= frame.index.date < end
    return frame[keep]


ticker._download = fake_download  # the network boundary; nothing leaves the machine
from seqcast.cli.startup import main

sys.argv[0] = "seqcast"
main()
"""


# ---------------------------------------------------------------- small file systems


def _mount(where: Path, size: str) -> str | None:
    """Mount a tmpfs of ``size`` at ``where``; return why not, or None when mounted."""
    if os.geteuid() != 0:
        return "mounting a small tmpfs needs root (CI runs these tests as root)"
    try:
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
            capture_output=True,
            text=True,
        )
    except FileNotFoundError:
        return "no mount command on this machine"
    if done.returncode != 0:
        why = done.stderr.strip() or f"mount exited with {done.returncode}"
        return f"cannot mount a tmpfs here: {why}"
    return None


def _unmount(where: Path) -> None:
    if subprocess.run(["umount", str(where)], check=False).returncode != 0:
        subprocess.run(["umount", "-l", str(where)], check=False)


@pytest.fixture(scope="module")
def mountable(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Skip, before any model is trained, where this process cannot mount a tmpfs."""
    probe = tmp_path_factory.mktemp("probe")
    why = _mount(probe, "64k")
    if why is not None:
        pytest.skip(why)
    _unmount(probe)


@pytest.fixture
def small_fs(mountable: None, tmp_path: Path) -> Iterator[Callable[..., Path]]:
    """Mount a fresh tmpfs at ``tmp_path / name``; every mount is undone afterwards."""
    mounted: list[Path] = []

    def mount(name: str, size: str = "600k") -> Path:
        where = tmp_path / name
        where.mkdir()
        why = _mount(where, size)
        if why is not None:
            pytest.skip(why)
        mounted.append(where)
        return where

    yield mount
    for where in reversed(mounted):
        _unmount(where)


def read_only(where: Path) -> None:
    """Remount a tmpfs read-only (chmod would not stop root)."""
    subprocess.run(["mount", "-o", "remount,ro", str(where)], check=True)


def fill(where: Path, leave: int = 8192) -> None:
    """Fill the file system at ``where`` with ``.filler``, then free ``leave`` bytes.

    The few pages left let a write start and fail half-way, as a real full disk does.
    """
    fd = os.open(where / ".filler", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    block = b"\0" * 65536
    try:
        while True:
            try:
                os.write(fd, block)
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
                break
        os.ftruncate(fd, os.fstat(fd).st_size - leave)
    finally:
        os.close(fd)
    free = os.statvfs(where).f_bavail * os.statvfs(where).f_frsize
    assert 0 < free <= leave


def entries(folder: Path) -> list[str]:
    """Every name in ``folder``, dot files (temporaries, locks) included."""
    return sorted(os.listdir(folder))


def digests(folder: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.iterdir())
    }


def seqcast(
    *args: str | Path, today: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the real CLI in a fresh process (``today``: through the fake Yahoo)."""
    env = {**os.environ, "SEQCAST_DEBUG": "0"}
    env.pop("SEQCAST_LOG_FILE", None)
    head = [sys.executable, "-m", "seqcast"]
    if today is not None:
        head = [sys.executable, "-c", FAKE_YAHOO]
        env["FAKE_TODAY"] = today
    return subprocess.run(
        [*head, *map(str, args)], capture_output=True, text=True, env=env, timeout=300
    )


def assert_fails(
    done: subprocess.CompletedProcess[str], code: ExitCode, message: str
) -> None:
    """The run failed with ``code`` and stderr is the one line ``error: message``."""
    assert "Traceback" not in done.stderr + done.stdout
    assert done.returncode == code, done.stderr
    assert done.stderr == f"error: {message}\n"
    assert done.stdout == ""


# ---------------------------------------------------------------- a tiny model


@pytest.fixture(scope="module")
def trained(
    mountable: None, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Path]:
    from conftest import make_sine_frame

    root = tmp_path_factory.mktemp("faults")
    csv = root / "sine.csv"
    make_sine_frame(160).to_csv(csv, index=False, date_format="%Y-%m-%d")
    result = CliRunner().invoke(
        app, ["train", str(csv), *TINY, "--out", str(root / "model")]
    )
    assert result.exit_code == 0, result.output
    return csv, root / "model"


# ---------------------------------------------------------------- --output and --plot


@pytest.mark.slow
def test_forecast_output_on_a_full_disk_keeps_the_previous_file(
    trained: tuple[Path, Path], small_fs: Callable[..., Path]
) -> None:
    _, model = trained
    full = small_fs("full")
    out = full / "out.csv"
    out.write_bytes(PREVIOUS)
    fill(full)
    done = seqcast("forecast", model, "--steps", "2000", "--output", out)
    assert_fails(
        done,
        ExitCode.USER_ERROR,
        f"Cannot write {out}: No space left on device. Free some space in {full} or give another --output.",
    )
    assert out.read_bytes() == PREVIOUS
    assert entries(full) == [".filler", "out.csv"]


@pytest.mark.slow
def test_forecast_plot_on_a_full_disk_writes_nothing(
    trained: tuple[Path, Path], small_fs: Callable[..., Path], tmp_path: Path
) -> None:
    _, model = trained
    full = small_fs("full")
    plot = full / "plot.png"
    plot.write_bytes(PREVIOUS)
    fill(full)
    out = tmp_path / "out.csv"  # on a disk with room: the plot alone fails
    out.write_bytes(PREVIOUS)
    message = f"Cannot write the plot {plot}: No space left on device. Free some space in {full} or give another --plot."
    done = seqcast("forecast", model, "--output", out, "--plot", plot)
    assert_fails(done, ExitCode.USER_ERROR, message)
    assert out.read_bytes() == PREVIOUS  # the plot is drawn first: nothing written
    assert plot.read_bytes() == PREVIOUS
    assert entries(full) == [".filler", "plot.png"]
    assert_fails(
        seqcast("forecast", model, "--plot", plot), ExitCode.USER_ERROR, message
    )


@pytest.mark.slow
def test_evaluate_plot_on_a_full_disk_prints_no_scores(
    trained: tuple[Path, Path], small_fs: Callable[..., Path]
) -> None:
    csv, model = trained
    full = small_fs("full")
    plot = full / "folds.png"
    fill(full)
    done = seqcast("evaluate", model, csv, "--plot", plot)
    assert_fails(
        done,
        ExitCode.USER_ERROR,
        f"Cannot write the plot {plot}: No space left on device. Free some space in {full} or give another --plot.",
    )
    assert entries(full) == [".filler"]


@pytest.mark.slow
def test_forecast_output_into_a_read_only_folder(
    trained: tuple[Path, Path], small_fs: Callable[..., Path]
) -> None:
    _, model = trained
    folder = small_fs("ro", "1m")
    out = folder / "out.csv"
    out.write_bytes(PREVIOUS)
    read_only(folder)
    assert_fails(
        seqcast("forecast", model, "--output", out),
        ExitCode.USER_ERROR,
        f"Cannot create the lock file {folder / '.out.csv.lock'} for {out}: Read-only file system. Give another --output on a writable file system.",
    )
    assert out.read_bytes() == PREVIOUS
    assert entries(folder) == ["out.csv"]


@pytest.mark.slow
def test_forecast_plot_into_a_read_only_folder(
    trained: tuple[Path, Path], small_fs: Callable[..., Path]
) -> None:
    _, model = trained
    folder = small_fs("ro", "1m")
    plot = folder / "plot.png"
    plot.write_bytes(PREVIOUS)
    read_only(folder)
    assert_fails(
        seqcast("forecast", model, "--plot", plot),
        ExitCode.USER_ERROR,
        f"Cannot write the plot {plot}: Read-only file system. Give another --plot on a writable file system.",
    )
    assert plot.read_bytes() == PREVIOUS
    assert entries(folder) == ["plot.png"]


# ---------------------------------------------------------------- model directories


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["auto", "keras"])
def test_forecast_evaluate_and_info_read_a_model_on_a_read_only_file_system(
    trained: tuple[Path, Path], small_fs: Callable[..., Path], engine: str
) -> None:
    csv, model = trained
    mount = small_fs("ro", "1m")
    copy = mount / "model"
    shutil.copytree(model, copy)
    read_only(mount)
    expected = seqcast("forecast", model, "--engine", engine, "--format", "csv")
    assert expected.returncode == 0, expected.stderr
    done = seqcast("forecast", copy, "--engine", engine, "--format", "csv")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert done.stdout == expected.stdout
    if engine == "auto":  # evaluate reads the model as forecast does; Keras is slow
        scored = seqcast("evaluate", copy, csv)
        assert scored.returncode == 0, scored.stderr
        assert scored.stdout == seqcast("evaluate", model, csv).stdout
    shown = seqcast("info", copy)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout == seqcast("info", model).stdout.replace(str(model), str(copy))
    assert entries(mount) == ["model"]


@pytest.mark.slow
def test_train_on_a_full_disk_keeps_the_previous_model(
    trained: tuple[Path, Path], small_fs: Callable[..., Path]
) -> None:
    csv, model = trained
    full = small_fs("full")
    out = full / "model"
    shutil.copytree(model, out)
    before = digests(out)
    info = seqcast("info", out).stdout
    fill(full)
    done = seqcast("train", csv, *TINY[:-3], "--seed", "1", "-q", "--out", out)
    assert "Traceback" not in done.stderr
    assert done.returncode == ExitCode.USER_ERROR, done.stderr
    *others, last = done.stderr.splitlines()
    assert last == (
        f"error: Cannot write the model to {out}: No space left on device. Free some space in {full} or give another --out."
    )
    assert all(line.startswith("warning: ") for line in others), others
    assert digests(out) == before
    assert entries(full) == [".filler", "model"]
    again = seqcast("info", out)
    assert again.returncode == 0, again.stderr
    assert again.stdout == info


# ---------------------------------------------------------------- the ticker cache


def test_ticker_cache_on_a_full_disk_keeps_the_cached_copy(
    small_fs: Callable[..., Path],
) -> None:
    cache = small_fs("cache")
    path = cache / "tickers" / "AAPL_1d.csv"
    first = seqcast("data", "fetch", "AAPL", "--cache-dir", cache, today="2023-06-30")
    assert first.returncode == 0, first.stderr
    before = path.read_bytes()
    fill(cache)

    refresh = seqcast("data", "fetch", "AAPL", "--cache-dir", cache, today="2023-07-07")
    assert "Traceback" not in refresh.stderr
    assert refresh.returncode == ExitCode.USER_ERROR
    assert refresh.stdout == ""
    assert re.fullmatch(
        re.escape(
            f"error: Cannot update the cache for AAPL (1d): {path}: No space left on device. Free some space in the cache or make it writable, pass --cache-dir with another folder, or pass --max-stale 1h to use the copy fetched "
        )
        + r"\d+ minutes? ago\.\n",
        refresh.stderr,
    ), refresh.stderr

    stale = seqcast(
        "data",
        "fetch",
        "AAPL",
        "--cache-dir",
        cache,
        "--max-stale",
        "1d",
        "--format",
        "csv",
        today="2023-07-07",
    )
    assert stale.returncode == 0, stale.stderr
    assert re.fullmatch(
        re.escape(
            f"warning: Could not update the cache ({path}: No space left on device); using the cached copy of AAPL (1d) fetched "
        )
        + r"\d+ minutes? ago \(last bar 2023-06-30\)\.\n",
        stale.stderr,
    ), stale.stderr
    assert ",stale," in stale.stdout
    assert path.read_bytes() == before
    assert entries(path.parent) == ["AAPL_1d.csv"]


def test_ticker_cache_on_a_full_disk_with_nothing_cached(
    small_fs: Callable[..., Path],
) -> None:
    cache = small_fs("cache")
    fill(cache, leave=4096)
    done = seqcast("data", "fetch", "AAPL", "--cache-dir", cache, today="2023-06-30")
    path = cache / "tickers" / "AAPL_1d.csv"
    assert_fails(
        done,
        ExitCode.USER_ERROR,
        f"Cannot write the cache file {path}: No space left on device. Free some disk space or make {path.parent} writable, or pass --cache-dir with another folder.",
    )
    assert entries(path.parent) == []


def test_ticker_cache_on_a_read_only_file_system_names_it(
    small_fs: Callable[..., Path],
) -> None:
    cache = small_fs("cache")
    path = cache / "tickers" / "AAPL_1d.csv"
    first = seqcast("data", "fetch", "AAPL", "--cache-dir", cache, today="2023-06-30")
    assert first.returncode == 0, first.stderr
    before = path.read_bytes()
    read_only(cache)
    stale = seqcast(
        "data",
        "fetch",
        "AAPL",
        "--cache-dir",
        cache,
        "--max-stale",
        "1d",
        "--format",
        "csv",
        today="2023-07-07",
    )
    assert stale.returncode == 0, stale.stderr
    assert re.fullmatch(
        re.escape(
            f"warning: Could not update the cache ({path}: Read-only file system); using the cached copy of AAPL (1d) fetched "
        )
        + r"\d+ minutes? ago \(last bar 2023-06-30\)\.\n",
        stale.stderr,
    ), stale.stderr
    assert path.read_bytes() == before
    assert entries(path.parent) == ["AAPL_1d.csv"]
