"""Would a weight between a mixed ensemble's two halves, chosen on validation, help?

With ``--deseasonalize mixed`` (the default for a model over several series) the
forecast is the equal blend of two halves of the members: those that read each series
as prepared and those that read it one step less prepared (see
``seqcast.model.pipeline.blend``). This trial trains each category of a corpus as
``benchmarks/accuracy.py --pooled`` does, then blends the two halves' forecasts with a
weight ``w`` on the first half (``w`` = 0, 0.1, ..., 1), and reports, per category, the
``w`` that the holdout models' validation windows choose (lowest geometric mean of the
series' MASE) beside the geometric mean of relative MASE on the held-out competition
horizon at every ``w``. Choose on M1 only (../shared/STYLE.md §10).

Usage:
    .bench-venv/bin/python benchmarks/fcomp_refs.py M1 M1.npz --models theta,ets
    .venv/bin/python benchmarks/blend_weight.py M1.npz monthly,quarterly,yearly
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from accuracy import FREQ, gmean, scores

WEIGHTS = tuple(round(0.1 * k, 1) for k in range(11))


def weighted(first: np.ndarray, second: np.ndarray, w: float, log: bool) -> np.ndarray:
    """``seqcast.model.pipeline.blend`` of two forecasts with weight ``w`` on the first."""
    linear = w * first + (1.0 - w) * second
    if not log:
        return linear
    positive = (first > 0) & (second > 0)
    geometric = np.exp(
        w * np.log(np.where(positive, first, 1.0))
        + (1.0 - w) * np.log(np.where(positive, second, 1.0))
    )
    return np.where(positive, geometric, linear)


def category(
    data: Any, rows: list[dict[str, Any]], name: str, tmp: Path
) -> dict[str, Any]:
    import pandas as pd

    import seqcast
    import seqcast.api.pooled as pooled_api
    from seqcast.config import Transform
    from seqcast.model.pipeline import Members, predict_windows
    from seqcast.model.pooled import _forecast_last

    captured: list[Any] = []
    fit_pooled = pooled_api.fit_pooled

    def capture(*args: Any, **kwargs: Any) -> Any:
        captured.append(fit_pooled(*args, **kwargs))
        return captured[-1]

    frame = pd.concat(
        pd.DataFrame(
            {
                "id": str(m["i"]),
                "date": pd.date_range(
                    "2000-01-01", periods=len(data[f"x{m['i']}"]), freq=FREQ[name]
                ),
                "value": data[f"x{m['i']}"],
            }
        )
        for m in rows
    )
    started = time.perf_counter()
    pooled_api.fit_pooled = capture
    try:
        seqcast.train(
            frame,
            out=tmp / name,
            id_col="id",
            horizon=rows[0]["horizon"],
            progress=None,
        )
    finally:
        pooled_api.fit_pooled = fit_pooled
    fitted = captured[-1]
    seconds = time.perf_counter() - started
    tc = fitted.config.train
    window, horizon = tc.sizes
    holdout, final = fitted.predictor(holdout=True), fitted.predictor()
    if final.raw is None:
        raise SystemExit(
            f"{name}: the model has one group of members, nothing to weigh"
        )

    # Each series' validation windows, both halves' forecasts of them, its actual
    # values and its training part (the MASE scale of :func:`accuracy.scores`).
    validation = []
    for k, m in enumerate(rows):
        starts = pooled_api._part_starts(fitted, k, "validation")
        if not len(starts):
            continue
        values, prep = fitted.values[k], fitted.holdout_preps[k]
        halves = [
            predict_windows(
                Members(p), pp, values, starts, window, horizon, tc.window_norm
            )
            for p, pp in holdout.parts(prep)
        ]
        actual = values[starts[:, None] + window + np.arange(horizon), 0]
        history = values[: fitted.bounds[k].train_end, 0]
        log = prep.transform.kind is Transform.LOG
        validation.append((halves, actual, history, m["season"], log))
    on_validation = {
        w: gmean(
            [
                scores(x, a.ravel(), weighted(h[0], h[1], w, log).ravel(), season)[1]
                for h, a, x, season, log in validation
            ]
        )
        for w in WEIGHTS
    }
    ks = list(range(len(rows)))
    halves = []
    for g in range(2):
        parts = [final.parts(fitted.preps[k])[g] for k in ks]
        halves.append(_forecast_last(fitted, ks, parts[0][0], [pp for _, pp in parts]))
    on_test = {}
    for w in WEIGHTS:
        rel = []
        for k, m in enumerate(rows):
            i = m["i"]
            x, xx = data[f"x{i}"], data[f"xx{i}"]
            log = fitted.preps[k].transform.kind is Transform.LOG
            f = weighted(halves[0][k], halves[1][k], w, log)
            mase = scores(x, xx, f, m["season"])[1]
            naive = scores(x, xx, data[f"seasonal_naive{i}"], m["season"])[1]
            rel.append(mase / naive if naive > 0 else float("nan"))
        on_test[w] = gmean(rel)
    chosen = min(WEIGHTS, key=lambda w: on_validation[w])
    return {
        "n": len(rows),
        "seconds": round(seconds),
        "validation": on_validation,
        "test": on_test,
        "chosen": chosen,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "refs", help="an .npz that fcomp_refs.py wrote for a whole corpus"
    )
    parser.add_argument("categories", help="comma-separated, e.g. monthly,quarterly")
    parser.add_argument("--json", help="write the curves here")
    args = parser.parse_args()
    data = np.load(args.refs)
    meta = json.loads(str(data["meta"]))["series"]
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.categories.split(","):
            rows = [m for m in meta if m["category"] == name]
            if not rows:
                raise SystemExit(f"{args.refs} has no {name} series.")
            r = out[name] = category(data, rows, name, Path(tmp))
            print(
                f"{name} ({r['n']} series, {r['seconds']} s): w chosen on validation {r['chosen']}, "
                f"test {r['test'][r['chosen']]:.3f} at it, {r['test'][0.5]:.3f} at 0.5, "
                f"best on test {min(r['test'].values()):.3f} at {min(r['test'], key=r['test'].get)}",
                flush=True,
            )
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
