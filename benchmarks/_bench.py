"""Shared helpers for the benchmark scripts: timing, per-process peak memory, result files."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
SEQCAST = str(Path(PYTHON).with_name("seqcast"))
QUICK = os.environ.get("SEQCAST_BENCH_QUICK") == "1"


def run_process(
    argv: Sequence[str], env: dict[str, str] | None = None
) -> tuple[float, float]:
    """Run argv once; return (wall seconds, peak RSS in MB) of that process and its children.

    Peak RSS comes from ``os.wait4`` (the kernel's ru_maxrss for this child), the figure
    ``/usr/bin/time -v`` reports as "Maximum resident set size".
    """
    full_env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **(env or {})}
    start = time.perf_counter()
    proc = subprocess.Popen(
        list(argv),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=full_env,
        cwd=ROOT,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode() if proc.stderr else ""
    if proc.returncode != 0:
        raise RuntimeError(
            f"{' '.join(argv)} failed ({proc.returncode}): {err[-2000:]}"
        )
    return wall, usage.ru_maxrss / 1024


def measure_process(
    argv: Sequence[str], repeats: int, env: dict[str, str] | None = None
) -> dict[str, Any]:
    """Median wall time and peak RSS over ``repeats`` runs (after one warm-up run)."""
    run_process(argv, env)  # warm the page cache
    runs = [run_process(argv, env) for _ in range(repeats)]
    return {
        "wall_s": statistics.median(w for w, _ in runs),
        "rss_mb": statistics.median(m for _, m in runs),
        "runs": repeats,
        "all_wall_s": [round(w, 4) for w, _ in runs],
    }


def median_time(func: Callable[[], Any], repeats: int) -> float:
    """Median wall seconds of ``func()`` over ``repeats`` calls."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def peak_rss_mb() -> float:
    """Peak RSS of this process so far, in MB."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_result(name: str, result: dict[str, Any]) -> None:
    """Print the result and, with ``--json PATH``, write it there for run_all.py."""
    text = json.dumps(result, indent=2, default=float)
    print(text)
    if "--json" in sys.argv:
        Path(sys.argv[sys.argv.index("--json") + 1]).write_text(text)


def quiet_keras() -> Any:
    """Import Keras with TensorFlow's start-up logs silenced."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from seqcast import runtime

    return runtime.import_keras_quietly()
