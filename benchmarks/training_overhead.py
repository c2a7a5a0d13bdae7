"""An epoch of seqcast's training against a plain ``model.fit`` on arrays, same model.

Two workloads: one series and a 2 x LSTM(50) (window 30, horizon 1, batch 32), and the
defaults of a model over many series (five LSTM(8) members with the linear skip,
trained together, window 23, horizon 18, batch 128, on the windows of 300 series).
For each, three fits from the same initial weights, same batch size and same
``jit_compile`` (the one ``training.fit`` picks):

- ``seqcast``: ``training.fit`` on ``window_data``, exactly as ``seqcast train`` feeds
  it (below ``WINDOW_ARRAYS_MAX_BYTES`` of windows, arrays cut once);
- ``streamed``: ``training.fit`` on ``window_batches``, the on-demand batches seqcast
  uses above that cap (bounded memory for any number of series);
- ``plain``: ``model.fit`` on arrays gathered beforehand, the reference.

Each fit runs ``EPOCHS`` epochs; the first (tracing, XLA compilation) is left out, and
each fit's fastest other epoch is compared (its median is reported too): on a shared
machine an epoch's time is the work plus whatever else ran meanwhile, and the fastest
of several is the closest to the work alone. The many-series workload compiles with
XLA, as its real training (100 epochs) does, although these short fits would not. Fits are interleaved round after round, so that
the shared machine's noise falls on all of them. For the first workload also times
plain fits with ``jit_compile`` True and False (XLA's speed-up on the CPU).
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _bench import QUICK, quiet_keras, write_result

EPOCHS = 5
ROUNDS = 2 if QUICK else 3


def epoch_times(keras: Any) -> tuple[Any, list[float]]:
    """A callback that appends each epoch's wall seconds to the returned list."""
    times: list[float] = []

    class Timer(keras.callbacks.Callback):  # type: ignore[misc]
        def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            times.append(time.perf_counter() - self.start)

    return Timer(), times


def one_series() -> dict[str, Any]:
    from seqcast.config import ModelConfig, ModelKind

    n = 20_000
    t = np.arange(n, dtype=np.float64)
    values = (
        np.sin(2 * np.pi * t / 50) + 0.1 * np.random.default_rng(0).normal(size=n)
    ).reshape(-1, 1)
    return {
        "label": "2 x LSTM(50) + Dense, window 30, horizon 1, batch 32, one series",
        "model": ModelConfig(model=ModelKind.STACKED, units=(50, 50)),
        "members": 1,
        "values": values,
        "starts": np.arange(n - 30 - 1 + 1),
        "window": 30,
        "horizon": 1,
        "batch": 32,
        "xla": False,
    }


def many_series() -> dict[str, Any]:
    from seqcast.config import ModelConfig

    rng = np.random.default_rng(0)
    parts, starts, offset = [], [], 0
    window, horizon = 23, 18
    for k in range(300):
        n = int(rng.integers(80, 200))
        t = np.arange(n)
        series = np.sin(2 * np.pi * t / 12 + k) + 0.01 * t + 0.3 * rng.normal(size=n)
        parts.append(series)
        starts.append(offset + np.arange(n - window - horizon + 1))
        offset += n
    return {
        "label": f"5 x LSTM(8) with skip, trained together, window {window}, horizon {horizon}, batch 128, 300 series",
        "model": ModelConfig(units=(8,), skip=True),
        "members": 5,
        "values": np.concatenate(parts).reshape(-1, 1),
        "starts": np.concatenate(starts),
        "window": window,
        "horizon": horizon,
        "batch": 128,
        "xla": True,
    }


def measure(keras: Any, work: dict[str, Any], with_jit: bool) -> dict[str, Any]:
    """Time the fits of one workload, interleaved round after round."""
    from seqcast.config import TrainConfig, WindowNorm
    from seqcast.model import training
    from seqcast.model.build import build_model, joint_model
    from seqcast.model.training import XLA_MIN_STEPS
    from seqcast.prep.windows import window_arrays, window_batches, window_data

    w, h, b, n = work["window"], work["horizon"], work["batch"], work["members"]
    values, starts = work["values"], work["starts"]
    cut = {
        "values": values,
        "starts": starts,
        "window": w,
        "horizon": h,
        "norm": WindowNorm.LAST,
        "repeat_targets": n,
    }
    x, y = window_arrays(**cut)
    config = TrainConfig(window=w, horizon=h, epochs=EPOCHS, batch_size=b, patience=0)
    if work["xla"]:  # as a full-length run would be compiled
        training.XLA_MIN_STEPS = 0
    jit = training.jit_compile_setting(-(-len(starts) // b) * EPOCHS)

    def build() -> Any:
        members = []
        for m in range(n):
            keras.utils.set_random_seed(m)
            members.append(
                build_model(work["model"], window=w, n_features=1, horizon=h)
            )
        return members[0] if n == 1 else joint_model(members)

    def seqcast_fit(data: Any) -> list[float]:
        model = build()
        timer, times = epoch_times(keras)
        original = model.fit  # training.fit as `seqcast train` calls it, plus a timer
        model.fit = lambda *a, **k: original(
            *a, **{**k, "callbacks": [*k["callbacks"], timer]}
        )
        training.fit(model, data, None, config)
        return times

    def plain_fit(jit_compile: Any) -> list[float]:
        model = build()
        timer, times = epoch_times(keras)
        model.compile(
            optimizer=keras.optimizers.Adam(1e-3), loss="mse", jit_compile=jit_compile
        )
        model.fit(
            x,
            y,
            batch_size=b,
            epochs=EPOCHS,
            shuffle=True,
            verbose=0,
            callbacks=[timer],
        )
        return times

    def seqcast_data() -> Any:
        return window_data(batch_size=b, shuffle=True, seed=0, **cut)

    def streamed_data() -> Any:
        return window_batches(batch_size=b, shuffle=True, seed=0, **cut)

    fits: dict[str, Any] = {
        "seqcast": lambda: seqcast_fit(seqcast_data()),
        "streamed": lambda: seqcast_fit(streamed_data()),
        "plain": lambda: plain_fit(jit),
    }
    if with_jit:
        fits.update(
            {f"plain_jit_{v}": (lambda v=v: plain_fit(v)) for v in (True, False)}
        )
    runs: dict[str, list[list[float]]] = {name: [] for name in fits}
    for _ in range(ROUNDS):
        for name, run in fits.items():
            runs[name].append(run())
        print(work["label"], {k: v[-1] for k, v in runs.items()}, file=sys.stderr)
    training.XLA_MIN_STEPS = XLA_MIN_STEPS
    summary = {}
    for name, all_times in runs.items():
        warm = [s for times in all_times for s in times[1:]]
        summary[name] = {
            "first_epoch_s": statistics.median(times[0] for times in all_times),
            "warm_epoch_median_s": statistics.median(warm),
            "warm_epoch_fastest_s": statistics.median(min(t[1:]) for t in all_times),
            "warm_epochs": len(warm),
            "all_epochs_s": [[round(s, 3) for s in times] for times in all_times],
        }
    plain = summary["plain"]["warm_epoch_fastest_s"]
    ratios = {
        "seqcast_vs_plain_fit": summary["seqcast"]["warm_epoch_fastest_s"] / plain,
        "streamed_vs_plain_fit": summary["streamed"]["warm_epoch_fastest_s"] / plain,
        "seqcast_vs_plain_fit_per_round": [
            min(s[1:]) / min(p[1:])
            for s, p in zip(runs["seqcast"], runs["plain"], strict=True)
        ],
    }
    if with_jit:
        ratios["jit_true_speedup_vs_false"] = (
            summary["plain_jit_False"]["warm_epoch_fastest_s"]
            / summary["plain_jit_True"]["warm_epoch_fastest_s"]
        )
    return {
        "model": work["label"],
        "n_windows": len(starts),
        "windows_mb": round((x.nbytes + y.nbytes) / 2**20, 1),
        "batch_size": b,
        "jit_compile": jit,
        "runs": summary,
        "ratios": ratios,
    }


def main() -> None:
    keras = quiet_keras()
    from seqcast import runtime
    from seqcast.prep.windows import WINDOW_ARRAYS_MAX_BYTES

    load_before = os.getloadavg()
    workloads = [
        measure(keras, one_series(), True),
        measure(keras, many_series(), False),
    ]
    result = {
        "device": runtime.device_description(),
        "backend": keras.backend.backend(),
        "epochs_per_fit": EPOCHS,
        "rounds": ROUNDS,
        "arrays_max_mb": WINDOW_ARRAYS_MAX_BYTES / 2**20,
        "loadavg_before": load_before,
        "loadavg_after": os.getloadavg(),
        "workloads": workloads,
    }
    write_result("training_overhead", result)


if __name__ == "__main__":
    main()
