"""One epoch of seqcast's training (training.fit on window_batches) vs a plain model.fit.

Same model (2 x LSTM(50), window 30), same batch size, same series, same process. Each
fit runs ``EPOCHS`` epochs; the first epoch (tracing, compilation) is reported apart and
the median of the others is compared. Also compares ``jit_compile=True`` and ``False``
on the CPU.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _bench import QUICK, quiet_keras, write_result

N_POINTS = 12_000 if QUICK else 20_000
WINDOW, HORIZON, BATCH = 30, 1, 64
EPOCHS = 3 if QUICK else 4


def epoch_times(keras: Any) -> tuple[Any, list[float]]:
    times: list[float] = []

    class Timer(keras.callbacks.Callback):  # type: ignore[misc]
        def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            times.append(time.perf_counter() - self.start)

    return Timer(), times


def build(keras: Any) -> Any:
    from seqcast.config import ModelConfig, ModelKind
    from seqcast.models import build_model

    keras.utils.set_random_seed(0)
    config = ModelConfig(kind=ModelKind.STACKED, units=(50, 50))
    return build_model(config, window=WINDOW, n_features=1, horizon=HORIZON)


def main() -> None:
    keras = quiet_keras()
    from seqcast import runtime, training
    from seqcast.config import TrainConfig, WindowNorm
    from seqcast.windows import gather_windows, window_batches

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

    def seqcast_fit() -> list[float]:
        model = build(keras)
        timer, times = epoch_times(keras)
        data = window_batches(
            values,
            starts,
            WINDOW,
            HORIZON,
            BATCH,
            shuffle=True,
            seed=0,
            norm=WindowNorm.NONE,
        )
        # training.fit exactly as `seqcast train` calls it, plus a timing callback.
        original = model.fit
        model.fit = lambda *a, **k: original(
            *a, **{**k, "callbacks": [*k["callbacks"], timer]}
        )
        training.fit(model, data, None, config)
        return times

    def plain_fit(jit: Any) -> list[float]:
        model = build(keras)
        timer, times = epoch_times(keras)
        model.compile(
            optimizer=keras.optimizers.Adam(1e-3), loss="mse", jit_compile=jit
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

    # Interleave to share the machine's noise fairly.
    runs: dict[str, list[list[float]]] = {
        "seqcast": [],
        "plain_auto": [],
        "plain_jit_false": [],
        "plain_jit_true": [],
    }
    for _ in range(1 if QUICK else 2):
        runs["seqcast"].append(seqcast_fit())
        runs["plain_auto"].append(plain_fit("auto"))
        runs["plain_jit_false"].append(plain_fit(False))
        runs["plain_jit_true"].append(plain_fit(True))
    summary = {}
    for name, all_times in runs.items():
        warm = [s for times in all_times for s in times[1:]]
        summary[name] = {
            "first_epoch_s": statistics.median(times[0] for times in all_times),
            "warm_epoch_median_s": statistics.median(warm),
            "warm_epochs": len(warm),
        }
    result = {
        "device": runtime.device_description(),
        "backend": keras.backend.backend(),
        "model": "2 x LSTM(50) + Dense, window 30, horizon 1",
        "n_windows": len(starts),
        "batch_size": BATCH,
        "epochs_per_fit": EPOCHS,
        "runs": summary,
        "ratios": {
            "seqcast_vs_plain_fit": summary["seqcast"]["warm_epoch_median_s"]
            / summary["plain_auto"]["warm_epoch_median_s"],
            "jit_true_speedup_vs_false": summary["plain_jit_false"][
                "warm_epoch_median_s"
            ]
            / summary["plain_jit_true"]["warm_epoch_median_s"],
        },
    }
    write_result("training_overhead", result)


if __name__ == "__main__":
    main()
