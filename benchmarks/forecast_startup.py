"""Whole-process time and peak memory of `seqcast forecast` against its references.

References, all measured in the same run: `python -c "import numpy"`, `python -c "import
tensorflow"`, and a typical hand-written Keras cron script (pandas reads the CSV, a scaler,
`keras.models.load_model`, `model.predict`). Also `seqcast --help` and `seqcast info`.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _bench import PYTHON, QUICK, SEQCAST, measure_process, write_result

TRAIN_SCRIPT = """
import numpy as np, pandas as pd, sys
n = 400
t = np.arange(n)
frame = pd.DataFrame({"date": pd.date_range("2020-01-01", periods=n, freq="D"),
                      "y": 10 + 0.05 * t + 2 * np.sin(2 * np.pi * t / 7)})
frame.to_csv(sys.argv[1] + "/data.csv", index=False)
from seqcast import api
api.train(frame, out=sys.argv[1] + "/model", window=24, horizon=1, units=(50, 50),
          kind="stacked", epochs=1, batch_size=64, seed=0)
"""

# What a cron job without seqcast typically does: pandas, a scaler, load_model, predict.
KERAS_SCRIPT = """
import sys, numpy as np, pandas as pd, keras
frame = pd.read_csv(sys.argv[1] + "/data.csv", parse_dates=["date"])
values = frame["y"].to_numpy()
low, high = values.min(), values.max()
model = keras.models.load_model(sys.argv[1] + "/model/model.keras")
window = ((values[-24:] - low) / (high - low)).reshape(1, 24, 1).astype("float32")
out = []
for _ in range(12):
    step = float(model.predict(window, verbose=0)[0, 0])
    out.append(step * (high - low) + low)
    window = np.concatenate([window[:, 1:], [[[step]]]], axis=1).astype("float32")
dates = pd.date_range(frame["date"].iloc[-1], periods=13, freq="D")[1:]
print(pd.DataFrame({"date": dates, "y": out}).to_csv(index=False))
"""


def main() -> None:
    repeats = 3 if QUICK else 5
    heavy_repeats = 2 if QUICK else 3
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [PYTHON, "-c", TRAIN_SCRIPT, tmp], check=True, capture_output=True
        )
        model = str(Path(tmp) / "model")
        script = Path(tmp) / "cron_keras.py"
        script.write_text(KERAS_SCRIPT)
        results = {
            "import_numpy": measure_process([PYTHON, "-c", "import numpy"], repeats),
            "seqcast_help": measure_process([SEQCAST, "--help"], repeats),
            "seqcast_info": measure_process([SEQCAST, "info", model], repeats),
            "seqcast_forecast": measure_process(
                [SEQCAST, "forecast", model, "--steps", "12", "--format", "csv"],
                repeats,
            ),
            "import_tensorflow": measure_process(
                [PYTHON, "-c", "import tensorflow"], heavy_repeats
            ),
            "keras_cron_script": measure_process(
                [PYTHON, str(script), tmp], heavy_repeats
            ),
            "seqcast_forecast_keras_engine": measure_process(
                [SEQCAST, "forecast", model, "--steps", "12", "--engine", "keras"],
                heavy_repeats,
            ),
        }
    fc = results["seqcast_forecast"]
    results["ratios"] = {
        "forecast_vs_numpy": fc["wall_s"] / results["import_numpy"]["wall_s"],
        "forecast_vs_tensorflow": fc["wall_s"] / results["import_tensorflow"]["wall_s"],
        "forecast_vs_keras_script": fc["wall_s"]
        / results["keras_cron_script"]["wall_s"],
        "help_vs_numpy": results["seqcast_help"]["wall_s"]
        / results["import_numpy"]["wall_s"],
        "info_vs_numpy": results["seqcast_info"]["wall_s"]
        / results["import_numpy"]["wall_s"],
    }
    results["model"] = (
        "stacked LSTM(50, 50), window=24, forecast --steps 12 (recursive)"
    )
    write_result("forecast_startup", results)


if __name__ == "__main__":
    main()
