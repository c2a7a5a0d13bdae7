"""One epoch of seqcast's training (training.fit on window_batches) vs a plain model.fit.

Same model (2 x LSTM(50), window 30), same batch size (32), same windows, same
``jit_compile`` (the one ``training.fit`` picks), same process. Each fit runs ``EPOCHS``
epochs; the first (tracing, XLA compilation) is reported apart and the median of the
others is compared. Also compares ``jit_compile=True`` and ``False`` on plain fits, and
times one pass over the batches alone (the PyDataset's own share of an epoch). Fits are
interleaved, round after round, so that the shared machine's noise falls on all of them.
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

N_POINTS = 20_000
WINDOW, HORIZON, BATCH = 30, 1, 32
EPOCHS = 4
ROUNDS = 2 if QUICK else 3
PAIRS = 4 if QUICK else 6


def epoch_times(keras: Any) -> tuple[Any, list[float]]:
    """A callback that appends each epoch's wall seconds to the returned list."""
    times: list[float] = []

    class Timer(keras.callbacks.Callback):  # type: ignore[misc]
        def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            times.append(time.perf_counter() - self.start)

    return Timer(), times


def build(keras: Any) -> Any:
    from seqcast.config import ModelConfig, ModelKind
    from seqcast.model.build import build_model

    keras.utils.set_random_seed(0)
    config = ModelConfig(model=ModelKind.STACKED, units=(50, 50))
    return build_model(config, window=WINDOW, n_features=1, horizon=HORIZON)


def main() -> None:
    keras = quiet_keras()
    from seqcast import runtime
    from seqcast.config import TrainConfig, WindowNorm
    from seqcast.model import training
    from seqcast.prep.windows import gather_windows, window_batches

    load_before = os.getloadavg()
    jit = training.jit_compile_setting()
    t = np.arange(N_POINTS, dtype=np.float64)
    values = (
        np.sin(2 * np.pi * t / 50)
        + 0.1 * np.random.default_rng(0).normal(size=N_POINTS)
    ).reshape(-1, 1)
    starts = np.arange(N_POINTS - WINDOW - HORIZON + 1)
    x, y = gather_windows(values, starts, WINDOW, HORIZON)
    x, y = x.astype(np.float32), y.astype(np.float32)
    config = TrainConfig(
        window=WINDOW, horizon=HORIZON, epochs=EPOCHS, batch_size=BATCH, patience=0
    )

    def batches() -> Any:
        return window_batches(
            values,
            starts,
            WINDOW,
            HORIZON,
            BATCH,
            shuffle=True,
            seed=0,
            norm=WindowNorm.NONE,
        )

    def seqcast_fit() -> list[float]:
        model = build(keras)
        timer, times = epoch_times(keras)
        data = batches()
        # training.fit exactly as `seqcast train` calls it, plus a timing callback.
        original = model.fit
        model.fit = lambda *a, **k: original(
            *a, **{**k, "callbacks": [*k["callbacks"], timer]}
        )
        training.fit(model, data, None, config)
        return times

    def plain_fit(jit_compile: Any) -> list[float]:
        model = build(keras)
        timer, times = epoch_times(keras)
        model.compile(
            optimizer=keras.optimizers.Adam(1e-3),
            loss="mse",
            jit_compile=jit_compile,
        )
        model.fit(
            x,
            y,
            batch_size=BATCH,
            epochs=EPOCHS,
            shuffle=True,
            verbose=0,
            callbacks=[timer],
        )
        return times

    def batches_only() -> list[float]:
        data = batches()
        times = []
        for _ in range(EPOCHS):
            start = time.perf_counter()
            for i in range(len(data)):
                data[i]
            data.on_epoch_end()
            times.append(time.perf_counter() - start)
        return times

    settings: list[Any] = [jit, *(v for v in (True, False) if v is not jit)]
    runs: dict[str, list[list[float]]] = {"seqcast": []}
    runs.update({f"plain_jit_{v}": [] for v in settings})
    runs["batches_only"] = []
    pairs = []
    for _ in range(ROUNDS):
        seq = seqcast_fit()
        plain = plain_fit(jit)
        runs["seqcast"].append(seq)
        runs[f"plain_jit_{jit}"].append(plain)
        for v in settings[1:]:
            runs[f"plain_jit_{v}"].append(plain_fit(v))
        runs["batches_only"].append(batches_only())
        pairs.append(statistics.median(seq[1:]) / statistics.median(plain[1:]))
        print({k: v[-1] for k, v in runs.items()}, file=sys.stderr)
    # Paired: alternating one-epoch fits on window_batches and on arrays, so both data
    # paths see the same load; isolates the data path's cost. Each path has its own
    # model (same initial weights, each compiled and warmed up once): alternating two
    # input pipelines on one model makes Keras retrace and recompile at every switch.
    data = batches()
    models = {}
    for name in ("window_batches", "arrays"):
        keras.utils.set_random_seed(0)
        models[name] = build(keras)
        models[name].compile(
            optimizer=keras.optimizers.Adam(1e-3), loss="mse", jit_compile=jit
        )
    models["window_batches"].fit(data, epochs=1, shuffle=False, verbose=0)
    models["arrays"].fit(x, y, batch_size=BATCH, epochs=1, shuffle=True, verbose=0)
    paired: dict[str, list[float]] = {"window_batches": [], "arrays": []}
    for _ in range(PAIRS):
        start = time.perf_counter()
        models["window_batches"].fit(data, epochs=1, shuffle=False, verbose=0)
        paired["window_batches"].append(time.perf_counter() - start)
        start = time.perf_counter()
        models["arrays"].fit(x, y, batch_size=BATCH, epochs=1, shuffle=True, verbose=0)
        paired["arrays"].append(time.perf_counter() - start)
    print(paired, file=sys.stderr)
    summary = {}
    for name, all_times in runs.items():
        warm = [s for times in all_times for s in times[1:]]
        summary[name] = {
            "first_epoch_s": statistics.median(times[0] for times in all_times),
            "warm_epoch_median_s": statistics.median(warm),
            "warm_epochs": len(warm),
            "all_epochs_s": [[round(s, 3) for s in times] for times in all_times],
        }
    jit_true = summary["plain_jit_True"]["warm_epoch_median_s"]
    jit_false = summary["plain_jit_False"]["warm_epoch_median_s"]
    plain_same = summary[f"plain_jit_{jit}"]["warm_epoch_median_s"]
    result = {
        "device": runtime.device_description(),
        "backend": keras.backend.backend(),
        "jit_compile": jit,
        "model": "2 x LSTM(50) + Dense, window 30, horizon 1",
        "n_windows": len(starts),
        "batch_size": BATCH,
        "epochs_per_fit": EPOCHS,
        "rounds": ROUNDS,
        "loadavg_before": load_before,
        "loadavg_after": os.getloadavg(),
        "runs": summary,
        "paired_epochs_s": {k: [round(v, 3) for v in vs] for k, vs in paired.items()},
        "ratios": {
            "seqcast_vs_plain_fit": summary["seqcast"]["warm_epoch_median_s"]
            / plain_same,
            "seqcast_vs_plain_fit_per_round": pairs,
            "paired_window_batches_vs_arrays": statistics.median(
                a / b
                for a, b in zip(paired["window_batches"], paired["arrays"], strict=True)
            ),
            "jit_true_speedup_vs_false": jit_false / jit_true,
            "batches_share_of_plain_epoch": summary["batches_only"][
                "warm_epoch_median_s"
            ]
            / plain_same,
        },
    }
    write_result("training_overhead", result)


if __name__ == "__main__":
    main()
