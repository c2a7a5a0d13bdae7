"""Predicting many windows at once: NumpyModel and KerasModel vs keras' default model.predict."""

from __future__ import annotations

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
    from seqcast.inference import KerasModel, NumpyModel
    from seqcast.models import build_model

    repeats = 2 if QUICK else 3
    x = np.random.default_rng(0).normal(size=(N_WINDOWS, WINDOW, 1)).astype(np.float32)
    rows = {}
    for label, config in {
        "lstm_32": ModelConfig(kind=ModelKind.LSTM, units=(32,)),
        "stacked_lstm_50_50": ModelConfig(kind=ModelKind.STACKED, units=(50, 50)),
    }.items():
        keras.utils.set_random_seed(0)
        model = build_model(config, window=WINDOW, n_features=1, horizon=1)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "model.keras"
            model.save(path)
            numpy_model = NumpyModel.from_keras_file(path)
        keras_model = KerasModel(model)
        model.predict(x[:64], verbose=0)
        keras_model.predict(x[:64])
        default_s = median_time(lambda m=model: m.predict(x, verbose=0), repeats)
        keras_s = median_time(lambda m=keras_model: m.predict(x), repeats)
        numpy_s = median_time(lambda m=numpy_model: m.predict(x), repeats)
        diff = float(np.abs(numpy_model.predict(x) - model.predict(x, verbose=0)).max())
        rows[label] = {
            "keras_model_predict_default_s": default_s,
            "seqcast_keras_model_s": keras_s,
            "seqcast_numpy_model_s": numpy_s,
            "speedup_keras_engine": default_s / keras_s,
            "speedup_numpy_engine": default_s / numpy_s,
            "max_abs_diff_numpy_vs_keras": diff,
        }
        print(label, rows[label], file=sys.stderr)
    write_result(
        "predict_batch", {"n_windows": N_WINDOWS, "window": WINDOW, "models": rows}
    )


if __name__ == "__main__":
    main()
