"""Peak memory of training one global model as the number of series grows (500 points each).

Each size runs `seqcast.train` on a long-format DataFrame of N synthetic daily series
(a weekly pattern, a trend, noise; 500 rows each) in its own process: reading and
validating every series, their transforms and scalers, the pooled windows served by
``window_batches``, the fit, the scoring of every series beside its baselines, the
calibration, and the saved model directory. Only the fit is capped, at ``STEPS`` batches
per epoch and one epoch (a full epoch over 10,000 series takes hours on 2 cores; the
batches are cut when Keras asks for them, so memory does not grow with the steps).

Reference: the bytes the float32 training windows would take if they were materialised
(n_windows x window x 4), and the data itself (N x 500 x 8).

    python benchmarks/many_series_memory.py [--json out.json]   (SEQCAST_BENCH_QUICK=1: up to 1,000)
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _bench import PYTHON, QUICK, write_result

ROWS, STEPS = 500, 100

CHILD = """
import json, resource, sys, tempfile, time
sys.path.insert(0, sys.argv[2])
from _bench import quiet_keras
quiet_keras()
import numpy as np, pandas as pd
import seqcast
import seqcast.prep.windows as windows

steps = int(sys.argv[3])
base_class = windows._window_dataset_class()

class Capped(base_class):
    def __len__(self):
        return min(steps, super().__len__())

windows._window_dataset_class = lambda: Capped
n_series, rows = (int(v) for v in sys.argv[1].split(","))
rng = np.random.default_rng(0)
t = np.arange(rows)
ids = np.repeat([f"s{k}" for k in range(n_series)], rows)
level = np.repeat(rng.uniform(10, 1000, n_series), rows)
y = level * (1 + 0.1 * np.tile(np.sin(2 * np.pi * t / 7), n_series)) + np.repeat(rng.normal(0, 1, n_series), rows) * np.tile(t, n_series) * 0.01
y += rng.normal(0, 0.01, n_series * rows) * level
dates = np.tile(pd.date_range("2020-01-01", periods=rows, freq="D").strftime("%Y-%m-%d"), n_series)
frame = pd.DataFrame({"id": ids, "date": dates, "y": y})
data_mb = frame["y"].to_numpy().nbytes / 2**20
after_data = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
began = time.perf_counter()
with tempfile.TemporaryDirectory() as tmp:
    result = seqcast.train(frame, id_col="id", target="y", epochs=1, ensemble=1, refit=False, out=tmp + "/m")
    tc = result.config.train
seconds = time.perf_counter() - began
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
windows_total = sum(r.split.n_train_windows for r in result.meta.series)
print(json.dumps({"n_series": n_series, "peak_rss_mb": peak, "after_data_mb": after_data, "data_mb": data_mb,
                  "n_train_windows": windows_total, "window": tc.window, "seconds": seconds}))
"""


def main() -> None:
    sizes = [100, 1_000] if QUICK else [100, 1_000, 3_000, 10_000]
    rows = []
    for n in sizes:
        began = time.perf_counter()
        out = subprocess.run(
            [
                PYTHON,
                "-c",
                CHILD,
                f"{n},{ROWS}",
                str(Path(__file__).resolve().parent),
                str(STEPS),
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        row = json.loads(out.stdout.strip().splitlines()[-1])
        row["materialised_windows_mb"] = (
            row["n_train_windows"] * row["window"] * 4 / 2**20
        )
        row["wall_seconds"] = time.perf_counter() - began
        rows.append(row)
        print(
            f"{n:6d} series: peak RSS {row['peak_rss_mb']:.0f} MB (after building the data {row['after_data_mb']:.0f} MB; "
            f"data {row['data_mb']:.1f} MB; training windows if materialised {row['materialised_windows_mb']:.0f} MB); "
            f"train() {row['seconds']:.0f} s",
            flush=True,
        )
    write_result(
        "many_series_memory", {"rows_per_series": ROWS, "steps": STEPS, "sizes": rows}
    )
    json.dump(rows, sys.stdout, indent=1)


if __name__ == "__main__":
    main()
