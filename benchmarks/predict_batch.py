"""Predicting many windows at once: NumpyModel and KerasModel vs keras' default model.predict.

``KerasModel`` calls ``model.predict_on_batch`` on chunks of 8192 windows; ``NumpyModel``
runs the forward pass in NumPy on chunks of 256 windows. All three are timed on the same
10,000 windows in the same process, interleaved, after one warm-up call each (tracing).
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _bench import QUICK, median_time, quiet_keras, write_result

N_WINDOWS, WINDOW = 10_000, 24


def main() -> None:
    keras = quiet_keras()
    from seqcast.config import ModelConfig, ModelKind
    from seqcast.model.build import build_model
    from seqcast.model.predict import KerasModel, NumpyModel

    repeats = 3 if QUICK else 5
    load_before = os.getloadavg()
    x = np.random.default_rng(0).normal(size=(N_WINDOWS, WINDOW, 1)).astype(np.float32)
    rows = {}
    for label, config in {
        "lstm_32": ModelConfig(model=ModelKind.LSTM, units=(32,)),
        "stacked_lstm_50_50": ModelConfig(model=ModelKind.STACKED, units=(50, 50)),
    }.items():
        keras.utils.set_random_seed(0)
        model = build_model(config, window=WINDOW, n_features=1, horizon=1)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "model.keras"
            model.save(path)
            numpy_model = NumpyModel.from_keras_file(path)
        keras_model = KerasModel(model)
        model.predict(x, verbose=0)
        keras_model.predict(x)
        numpy_model.predict(x)
        times: dict[str, list[float]] = {"default": [], "keras": [], "numpy": []}
        for _ in range(repeats):  # interleaved, so that load falls on all three
            times["default"].append(
                median_time(lambda m=model: m.predict(x, verbose=0), 1)
            )
            times["keras"].append(median_time(lambda m=keras_model: m.predict(x), 1))
            times["numpy"].append(median_time(lambda m=numpy_model: m.predict(x), 1))
        default_s, keras_s, numpy_s = (
            statistics.median(times[k]) for k in ("default", "keras", "numpy")
        )
        diff = float(np.abs(numpy_model.predict(x) - model.predict(x, verbose=0)).max())
        rows[label] = {
            "keras_model_predict_default_s": default_s,
            "seqcast_keras_model_s": keras_s,
            "seqcast_numpy_model_s": numpy_s,
            "speedup_keras_engine": default_s / keras_s,
            "speedup_numpy_engine": default_s / numpy_s,
            "max_abs_diff_numpy_vs_keras": diff,
            "runs": repeats,
        }
        print(label, rows[label], file=sys.stderr)
    write_result(
        "predict_batch",
        {
            "n_windows": N_WINDOWS,
            "window": WINDOW,
            "models": rows,
            "loadavg_before": load_before,
            "loadavg_after": os.getloadavg(),
        },
    )


if __name__ == "__main__":
    main()
