"""Peak memory of seqcast training against series length (1e5 .. 1e7 points, window 60).

Each size runs in its own process: the series is scaled, split and served by
``window_batches`` to ``training.fit`` exactly as ``seqcast train`` does, for a capped
number of steps (a full epoch over 10 million windows takes hours on 2 CPU cores; memory
does not grow with the number of steps, because each batch is cut when Keras asks for it).
Reference: the bytes the materialised float32 windows would take (n x window x 4).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _bench import PYTHON, QUICK, write_result

WINDOW, HORIZON, BATCH, STEPS = 60, 1, 256, 200

CHILD = """
import json, resource, sys
sys.path.insert(0, sys.argv[2])
from _bench import quiet_keras
keras = quiet_keras()
import numpy as np
from seqcast.model import training
from seqcast.config import ModelConfig, ScalerKind, TrainConfig, WindowNorm
from seqcast.model.build import build_model
from seqcast.prep.scaling import Scaler
from seqcast.prep.windows import _window_dataset_class, split_bounds, window_batches

n, window, horizon, batch, steps = (int(v) for v in sys.argv[1].split(","))
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
values = np.cumsum(np.random.default_rng(0).normal(size=(n, 1)), axis=0)
bounds = split_bounds(n, window, horizon, 0.15, 0.15)
scaler = Scaler(ScalerKind.MINMAX).fit(values[: bounds.train_end])
scaled = scaler.transform(values)
starts = bounds.starts("train", window, horizon)

class Capped(_window_dataset_class()):
    def __len__(self):
        return min(steps, super().__len__())

full = window_batches(scaled, starts, window, horizon, batch, shuffle=True, seed=0, norm=WindowNorm.NONE)
capped = Capped(scaled, full.starts, window, horizon, batch, shuffle=True, seed=0, norm=WindowNorm.NONE)
keras.utils.set_random_seed(0)
model = build_model(ModelConfig(units=(32,)), window=window, n_features=1, horizon=horizon)
training.fit(model, capped, None, TrainConfig(window=window, horizon=horizon, epochs=1, batch_size=batch, patience=0))
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"n_points": n, "peak_rss_mb": peak, "after_imports_mb": base, "n_train_windows": len(starts)}))
"""


def main() -> None:
    sizes = (
        [100_000, 1_000_000, 10_000_000]
        if QUICK
        else [100_000, 1_000_000, 3_000_000, 10_000_000]
    )
    rows = []
    for n in sizes:
        out = subprocess.run(
            [
                PYTHON,
                "-c",
                CHILD,
                f"{n},{WINDOW},{HORIZON},{BATCH},{STEPS}",
                str(Path(__file__).resolve().parent),
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        row = json.loads(out.stdout.strip().splitlines()[-1])
        row["materialised_windows_mb"] = row["n_train_windows"] * WINDOW * 4 / 2**20
        rows.append(row)
        print(row, file=sys.stderr)
    small, large = rows[0], rows[-1]
    growth = (large["peak_rss_mb"] - small["peak_rss_mb"]) / (
        (large["n_points"] - small["n_points"]) / 1e6
    )
    write_result(
        "training_memory",
        {
            "window": WINDOW,
            "batch_size": BATCH,
            "steps_per_size": STEPS,
            "model": "LSTM(32) + Dense",
            "rows": rows,
            "mb_per_million_points": growth,
            "peak_rss_10m_mb": large["peak_rss_mb"],
        },
    )


if __name__ == "__main__":
    main()
