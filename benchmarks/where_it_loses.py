"""Where in a corpus does seqcast lose? Scores by series length and by kind of series.

Reads the ``--json`` output of ``benchmarks/accuracy.py`` and the references file it
scored against (``fcomp_refs.py``'s ``.npz``, which keeps each series' training part),
splits one category's series four ways, long or short (``--length``: at least that many
training points) and seasonal or not, and prints the geometric mean of relative MASE
(against seasonal naive) of seqcast and of each reference in each cell.

A series counts as seasonal when its season-lag differences are smaller than
``--seasonal`` times its one-step differences (mean absolute values, on the log where
the series is positive): the pattern a year ago explains it better than last period's
value, relative to how the two grow with a trend. Look only at the corpus the defaults
are chosen on (M1; ../shared/STYLE.md §10): cells are a way to find a cause, and a
cell picked on Tourism would be a choice made on it.

Usage:
    .venv/bin/python benchmarks/accuracy.py M1 --pooled --refs M1.npz --category quarterly --json q.json
    .venv/bin/python benchmarks/where_it_loses.py q.json M1.npz quarterly --length 40
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from accuracy import gmean

SEASONS = {"monthly": 12, "quarterly": 4}
SHOWN = ("seqcast", "naive", "theta", "ets")


def seasonal_ratio(values: np.ndarray, season: int) -> float:
    """Mean absolute season-lag difference over mean absolute one-step difference."""
    x = np.log(values) if np.all(values > 0) else values
    step = float(np.mean(np.abs(np.diff(x))))
    lag = float(np.mean(np.abs(x[season:] - x[:-season])))
    return lag / step if step > 0 else float("inf")


def cells(
    rows: list[dict[str, Any]],
    training: dict[str, np.ndarray],
    season: int,
    length: int,
    seasonal: float,
) -> dict[tuple[bool, bool], list[dict[str, Any]]]:
    """Rows grouped by (long, seasonal)."""
    out: dict[tuple[bool, bool], list[dict[str, Any]]] = {}
    for row in rows:
        values = training[row["id"]]
        key = (
            len(values) >= length,
            seasonal_ratio(values, season) < seasonal,
        )
        out.setdefault(key, []).append(row)
    return out


def relative(rows: list[dict[str, Any]], name: str) -> float:
    ratios = [
        r["mase"][name] / r["mase"]["seasonal_naive"]
        for r in rows
        if np.isfinite(r["mase"].get(name, np.nan)) and r["mase"]["seasonal_naive"] > 0
    ]
    return gmean(ratios) if ratios else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path, help="accuracy.py --json output")
    parser.add_argument("refs", type=Path, help="the .npz it scored against")
    parser.add_argument("category", choices=sorted(SEASONS))
    parser.add_argument("--length", type=int, required=True)
    parser.add_argument("--seasonal", type=float, default=1.5)
    args = parser.parse_args()

    data = np.load(args.refs, allow_pickle=False)
    meta = json.loads(str(data["meta"]))["series"]
    training = {m["id"]: data[f"x{m['i']}"].astype(np.float64) for m in meta}
    rows = [
        r
        for r in json.loads(args.results.read_text())["rows"]
        if r["category"] == args.category
    ]
    grouped = cells(rows, training, SEASONS[args.category], args.length, args.seasonal)
    print(
        f"{args.category}: {len(rows)} series; long = at least {args.length} "
        f"training points; seasonal = season-lag/step ratio below {args.seasonal}"
    )
    print(f"| cell | series | {' | '.join(SHOWN)} |")
    print(f"| --- | ---: |{' ---: |' * len(SHOWN)}")
    for (long, seasonal), members in sorted(grouped.items()):
        name = f"{'long' if long else 'short'}, {'seasonal' if seasonal else 'other'}"
        figures = " | ".join(f"{relative(members, m):.3f}" for m in SHOWN)
        print(f"| {name} | {len(members)} | {figures} |")


if __name__ == "__main__":
    main()
