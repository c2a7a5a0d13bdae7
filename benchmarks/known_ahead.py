"""Accuracy with and without inputs known ahead, by rolling-origin backtest on real daily data.

Two bundled daily series with weekly seasonality:

- ``vic_electricity_daily.csv``: electricity demand in Victoria (2014) beside the day's
  maximum temperature and a work-day flag. The temperature here is the one observed, so
  "known ahead" stands for a perfect weather forecast: an upper bound on what a real
  forecast of it would give.
- ``pr_deaths_daily.csv``: daily deaths in Puerto Rico (2015 to 2018), with only the
  calendar and the island's public holidays as known-ahead inputs.

Every variant runs ``seqcast.backtest`` with the defaults (only the inputs change) over
the same origins: ``FOLDS`` folds a week apart, each re-trained on everything before it
and scored on the next 7 days, beside naive, seasonal naive and Theta fitted on the same
history. No choice of seqcast's defaults was made on these series.

    python benchmarks/known_ahead.py [--json out.json]   (SEQCAST_BENCH_QUICK=1: fewer folds)
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _bench import QUICK, write_result

ROOT = Path(__file__).resolve().parent.parent
FOLDS = 4 if QUICK else 12
HORIZON = 7

CASES: list[tuple[str, str, str, dict[str, Any]]] = [
    ("vic_electricity", "vic_electricity_daily.csv", "demand", {}),
    ("vic_electricity", "vic_electricity_daily.csv", "demand",
     {"features": ("temperature", "workday")}),
    ("vic_electricity", "vic_electricity_daily.csv", "demand",
     {"future_features": ("temperature", "workday")}),
    ("vic_electricity", "vic_electricity_daily.csv", "demand",
     {"calendar": ("auto",), "holidays": "AU-VIC"}),
    ("vic_electricity", "vic_electricity_daily.csv", "demand",
     {"future_features": ("temperature", "workday"), "calendar": ("auto",),
      "holidays": "AU-VIC"}),
    ("pr_deaths", "pr_deaths_daily.csv", "deaths", {}),
    ("pr_deaths", "pr_deaths_daily.csv", "deaths",
     {"calendar": ("auto",), "holidays": "US-PR"}),
]  # fmt: skip


def describe(options: dict[str, Any]) -> str:
    if not options:
        return "no covariates"
    parts = []
    for key, value in options.items():
        flag = "--" + key.replace("_", "-")
        shown = ",".join(value) if isinstance(value, tuple) else str(value)
        parts.append(f"{flag} {shown}")
    return " ".join(parts)


def main() -> None:
    import seqcast

    rows = []
    for name, file, target, options in CASES:
        began = time.perf_counter()
        result = seqcast.backtest(
            ROOT / "sample_data" / file,
            target=target,
            horizon=HORIZON,
            folds=FOLDS,
            **options,
        )
        scores = result.overall.scores
        snaive = scores["seasonal_naive"].mase
        theta = scores.get("theta")
        row = {
            "series": name,
            "inputs": describe(options),
            "mase": scores["model"].mase,
            "relative_mase": scores["model"].mase / snaive,
            "seasonal_naive_mase": snaive,
            "naive_mase": scores["naive"].mase,
            "theta_mase": None if theta is None else theta.mase,
            "seconds": time.perf_counter() - began,
        }
        rows.append(row)
        print(
            f"{name:16s} {row['inputs']:75s} MASE {row['mase']:.3f}  rel {row['relative_mase']:.3f}"
            f"  snaive {snaive:.3f}  naive {row['naive_mase']:.3f}"
            f"  theta {row['theta_mase'] if row['theta_mase'] is None else round(row['theta_mase'], 3)}"
            f"  ({row['seconds']:.0f} s)",
            flush=True,
        )
    write_result("known_ahead", {"folds": FOLDS, "horizon": HORIZON, "rows": rows})


if __name__ == "__main__":
    main()
