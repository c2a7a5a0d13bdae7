"""Speed-up of `seqcast train --per-series` from --jobs 1 to --jobs 2, in the same run.

Synthetic monthly series (a seasonal pattern, a trend and noise, 96 to 180 rows) in one
long-format file, 8 of them and then 32; each run is a whole `seqcast train` process, so
the workers' start-up (each imports TensorFlow) is counted: it is a fixed cost, which
the 8-series file barely amortises and the 32-series one does. The two settings
alternate, round after round, so that the shared machine's noise falls on both; the
reported ratio is the median --jobs 1 time over the median --jobs 2 time. Both runs'
forecasts are compared: they must be identical (the models do not depend on --jobs).

The machine's own ceiling is measured in the same run: the file's two halves trained
by two independent `--jobs 1` processes at once, each capped at one thread as
seqcast's workers are (no worker machinery at all), against the whole file in one
`--jobs 1` process (once, after the rounds). A shared or hyper-threaded machine gives less than 2x to two
processes of small TensorFlow fits, and --jobs 2 cannot beat that.

    python benchmarks/per_series_jobs.py [--json out.json]
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _bench import PYTHON, QUICK, ROOT, run_process, write_result

SIZES = (8,) if QUICK else (8, 32)
ROUNDS = 1 if QUICK else 2
FLAGS = ["--units", "16", "--epochs", "20", "--patience", "0", "--horizon", "12"]


def long_file(path: Path, n_series: int) -> None:
    """Write ``n_series`` monthly series of different lengths and levels, long format."""
    import pandas as pd

    rng = np.random.default_rng(0)
    parts = []
    for k in range(n_series):
        n = 96 + 12 * (k % 8)
        t = np.arange(n)
        y = (10 + k) * (1 + 0.2 * np.sin(2 * np.pi * t / 12)) * (1 + 0.004 * t)
        y *= 1 + 0.03 * rng.standard_normal(n)
        dates = pd.date_range("2005-01-01", periods=n, freq="MS")
        parts.append(pd.DataFrame({"id": f"s{k}", "month": dates, "y": y}))
    pd.concat(parts).to_csv(path, index=False, date_format="%Y-%m-%d")


def forecast(model: Path) -> str:
    done = subprocess.run(
        [PYTHON, "-m", "seqcast", "forecast", str(model), "--format", "csv"],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    return done.stdout


def workload(n_series: int) -> dict[str, Any]:
    """Time --jobs 1 and --jobs 2 on one file of ``n_series`` series, alternating."""
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="seqcast-bench-") as tmp:
        data = Path(tmp) / "long.csv"
        long_file(data, n_series)
        times: dict[int, list[float]] = {1: [], 2: []}
        forecasts = {}
        for _ in range(ROUNDS):
            for jobs in (1, 2):
                out = Path(tmp) / f"jobs-{jobs}"
                argv = [PYTHON, "-m", "seqcast", "train", str(data), "--id-col", "id"]
                argv += ["--target", "y", "--per-series", "--jobs", str(jobs), "-q"]
                wall, _ = run_process([*argv, *FLAGS, "--out", str(out)])
                times[jobs].append(wall)
                forecasts[jobs] = forecast(out)
        ceiling = two_at_once(data, Path(tmp), n_series)
    one, two = statistics.median(times[1]), statistics.median(times[2])
    return {
        "series": n_series,
        "flags": " ".join(FLAGS),
        "cores": os.cpu_count(),
        "load_average_before": round(load_before, 2),
        "load_average_after": round(os.getloadavg()[0], 2),
        "jobs_1_s": round(one, 2),
        "jobs_2_s": round(two, 2),
        "all_s": {str(k): [round(t, 2) for t in v] for k, v in times.items()},
        "speedup_1_to_2": round(one / two, 3),
        "two_processes_s": round(ceiling, 2),
        "ceiling_1_to_2": round(one / ceiling, 3),
        "same_forecasts": forecasts[1] == forecasts[2],
    }


ONE_THREAD = {
    "TF_NUM_INTRAOP_THREADS": "1",
    "TF_NUM_INTEROP_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "TF_CPP_MIN_LOG_LEVEL": "3",
}


def two_at_once(data: Path, tmp: Path, n_series: int) -> float:
    """Seconds for two independent one-thread processes, each on half the series."""
    import pandas as pd

    table = pd.read_csv(data)
    ids = sorted(table["id"].unique(), key=lambda v: int(v[1:]))
    halves = []
    for k, part in enumerate((ids[: n_series // 2], ids[n_series // 2 :])):
        path = tmp / f"half-{k}.csv"
        table[table["id"].isin(part)].to_csv(path, index=False)
        halves.append(path)
    start = time.perf_counter()
    procs = [
        subprocess.Popen(
            [PYTHON, "-m", "seqcast", "train", str(path), "--id-col", "id", "--target", "y",
             "--per-series", "--jobs", "1", "-q", *FLAGS, "--out", str(tmp / f"half-{k}-model")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env={**os.environ, **ONE_THREAD},
            cwd=ROOT,
        )
        for k, path in enumerate(halves)
    ]  # fmt: skip
    errors = [p.communicate()[1] for p in procs]
    seconds = time.perf_counter() - start
    for p, err in zip(procs, errors, strict=True):
        if p.returncode:
            raise RuntimeError(
                f"a half-file training failed ({p.returncode}): {err.decode()[-2000:]}"
            )
    return seconds


def main() -> dict[str, Any]:
    return {"workloads": [workload(n) for n in SIZES]}


if __name__ == "__main__":
    write_result("per_series_jobs", main())
