"""Speed-up of `seqcast train --per-series` from --jobs 1 to --jobs 2, in the same run.

Eight synthetic monthly series (a seasonal pattern, a trend and noise, 96 to 180 rows)
in one long-format file; each run is a whole `seqcast train` process, so the workers'
start-up (each imports TensorFlow) is counted. The two settings alternate, round after
round, so that the shared machine's noise falls on both; the reported ratio is the
median --jobs 1 time over the median --jobs 2 time. Both runs' forecasts are compared:
they must be identical (the models do not depend on --jobs).

    python benchmarks/per_series_jobs.py [--json out.json]
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _bench import PYTHON, QUICK, run_process, write_result

N_SERIES = 8
ROUNDS = 1 if QUICK else 2
FLAGS = ["--units", "16", "--epochs", "20", "--patience", "0", "--horizon", "12"]


def long_file(path: Path) -> None:
    """Write N_SERIES monthly series of different lengths and levels, long format."""
    import pandas as pd

    rng = np.random.default_rng(0)
    parts = []
    for k in range(N_SERIES):
        n = 96 + 12 * k
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


def main() -> dict[str, Any]:
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="seqcast-bench-") as tmp:
        data = Path(tmp) / "long.csv"
        long_file(data)
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
    one, two = statistics.median(times[1]), statistics.median(times[2])
    return {
        "series": N_SERIES,
        "flags": " ".join(FLAGS),
        "cores": os.cpu_count(),
        "load_average_before": round(load_before, 2),
        "load_average_after": round(os.getloadavg()[0], 2),
        "jobs_1_s": round(one, 2),
        "jobs_2_s": round(two, 2),
        "all_s": {str(k): [round(t, 2) for t in v] for k, v in times.items()},
        "speedup_1_to_2": round(one / two, 3),
        "same_forecasts": forecasts[1] == forecasts[2],
    }


if __name__ == "__main__":
    write_result("per_series_jobs", main())
