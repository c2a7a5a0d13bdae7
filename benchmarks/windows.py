"""Window building: seqcast's views and batch gathering against the textbook Python loop.

Sizes 1e5, 1e6 and 1e7 points, window=10, horizon=1 (the loop's materialised windows at
1e7 points already take 0.8 GB; a larger window would not fit beside other users).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _bench import QUICK, median_time, quiet_keras, write_result

from seqcast.config import WindowNorm
from seqcast.prep.windows import make_windows, window_batches

WINDOW, HORIZON, BATCH = 10, 1, 256


def textbook(
    series: np.ndarray, window: int, horizon: int
) -> tuple[np.ndarray, np.ndarray]:
    """The loop found in most tutorials: one slice per window, then np.array."""
    xs, ys = [], []
    for i in range(len(series) - window - horizon + 1):
        xs.append(series[i : i + window])
        ys.append(series[i + window : i + window + horizon])
    return np.array(xs), np.array(ys)


def all_batches(dataset: object) -> int:
    total = 0
    for i in range(len(dataset)):  # type: ignore[arg-type]
        x, _ = dataset[i]  # type: ignore[index]
        total += len(x)
    return total


def main() -> None:
    quiet_keras()  # window_batches defines a keras PyDataset; keep the import out of the timing
    rows = []
    for n in (100_000, 1_000_000, 10_000_000):
        series = np.random.default_rng(0).normal(size=n)
        values = series.reshape(-1, 1)
        starts = np.arange(n - WINDOW - HORIZON + 1)
        repeats = 1 if n >= 10_000_000 or (QUICK and n >= 1_000_000) else 3
        loop_s = median_time(lambda s=series: textbook(s, WINDOW, HORIZON), repeats)
        views_s = median_time(lambda v=values: make_windows(v, WINDOW, HORIZON), 5)
        ds = window_batches(
            values,
            starts,
            WINDOW,
            HORIZON,
            BATCH,
            shuffle=True,
            seed=0,
            norm=WindowNorm.NONE,
        )
        epoch_s = median_time(lambda d=ds: all_batches(d), repeats)
        rows.append(
            {
                "n_points": n,
                "textbook_loop_s": loop_s,
                "make_windows_views_s": views_s,
                "window_batches_epoch_s": epoch_s,
                "loop_vs_views": loop_s / views_s,
                "loop_vs_batches_epoch": loop_s / epoch_s,
                "repeats": repeats,
            }
        )
        print(rows[-1], file=sys.stderr)
    write_result(
        "windows",
        {"window": WINDOW, "horizon": HORIZON, "batch_size": BATCH, "rows": rows},
    )


if __name__ == "__main__":
    main()
