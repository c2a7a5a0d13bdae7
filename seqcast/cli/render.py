"""Rendering results as CSV, JSON or aligned text tables for stdout or a file."""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from seqcast.artifacts import json_ready
from seqcast.config import OutputFormat


def number(value: Any, digits: int = 10) -> str:
    """Format a number compactly for text output; NaN/None as ``nan``."""
    if value is None:
        return "nan"
    if isinstance(value, float):
        return "nan" if math.isnan(value) else format(value, f".{digits}g")
    return str(value)


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Return a left-aligned text table with a header rule, one row per line."""
    cells = [[str(h) for h in headers]] + [[number(c, 6) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = [
        "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip()
        for row in cells
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines) + "\n"


def records(rows: Sequence[dict[str, Any]], fmt: OutputFormat) -> str:
    """Render a list of flat records (same keys) as CSV, JSON or a table."""
    headers = list(rows[0]) if rows else []
    if fmt is OutputFormat.JSON:
        return (
            json.dumps([json_ready(r) for r in rows], indent=2, allow_nan=False) + "\n"
        )
    if fmt is OutputFormat.TABLE:
        return table(headers, [[r[h] for h in headers] for r in rows])
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(headers)
    for r in rows:
        writer.writerow([number(r[h]) for h in headers])
    return buffer.getvalue()


def document(payload: dict[str, Any]) -> str:
    """Render a nested dict as indented JSON (NaN as null)."""
    return json.dumps(json_ready(payload), indent=2, allow_nan=False) + "\n"


def backtest_text(result: dict[str, Any], fmt: OutputFormat) -> str:
    """Render a backtest result as JSON or per-fold and pooled tables."""
    if fmt is OutputFormat.JSON:
        return document(result)
    names = ["model", "naive", "seasonal_naive", "drift"]
    rows = [
        [
            fold["fold"] + 1,
            fold["first_date"],
            *[fold["scores"][n]["mase"] for n in names],
            fold["scores"]["model"]["mae"],
        ]
        for fold in result["per_fold"]
    ]
    kind = "re-trained" if result["retrained"] else "one model"
    head = (
        f"{result['folds']} origins ({kind}) x {result['horizon']} steps, step {result['step']}, "
        f"season {result['overall']['season']}; MASE per fold\n"
    )
    per_fold = table(
        ["fold", "first target", *[f"{n} MASE" for n in names], "model MAE"], rows
    )
    overall = evaluation_text(result["overall"], OutputFormat.TABLE)
    cover = result.get("coverage") or {}
    tail = (
        "interval coverage: "
        + ", ".join(f"{label}% -> {number(v, 3)}" for label, v in cover.items())
        + "\n"
        if cover
        else ""
    )
    return head + per_fold + "\noverall (pooled)\n" + overall + tail


def coverage_text(meta: dict[str, Any]) -> str:
    """Render a backtest result as JSON or per-fold and pooled tables."""
    cover = (meta.get("metrics") or {}).get("test_coverage") or {}
    if not cover:
        return ""
    return (
        "test interval coverage: "
        + ", ".join(f"{label}% -> {number(v, 3)}" for label, v in cover.items())
        + "\n"
    )


def evaluation_text(evaluation: dict[str, Any], fmt: OutputFormat) -> str:
    """Describe the test-part interval coverage stored in a model, or return ""."""
    if fmt is OutputFormat.JSON:
        return document(evaluation)
    metric_names = ["mae", "rmse", "mape", "smape", "mase"]
    rows = [
        [name, *[scores[m] for m in metric_names]]
        for name, scores in evaluation["scores"].items()
    ]
    head = (
        f"{evaluation['n_windows']} windows x {evaluation['horizon']} steps, "
        f"{evaluation['first_date']} to {evaluation['last_date']}, season {evaluation['season']}\n"
    )
    rel = evaluation.get("relative_mase")
    tail = (
        f"relative MASE vs seasonal naive: {rel:.3f} ({'better' if rel < 1 else 'worse'} than seasonal naive)\n"
        if isinstance(rel, float) and rel == rel
        else ""
    )
    return head + table(["forecaster", *metric_names], rows) + tail


def info_text(path: Path, meta: dict[str, Any]) -> str:
    """Render an evaluation as JSON or a table beside the baselines."""
    cfg = meta["config"]
    data = meta["data"]
    hist = meta["history"]
    test = (meta.get("metrics") or {}).get("test")
    members = meta.get("ensemble", 1)
    ensemble = f" ensemble={members}" if members > 1 else ""
    lines = [
        f"model        {path}",
        f"created      {meta.get('created')} with seqcast {meta.get('seqcast_version')}",
        f"architecture {cfg['model']['kind']} units={','.join(map(str, cfg['model']['units'])) or 'default'} bidirectional={cfg['model']['bidirectional']} dropout={cfg['model']['dropout']}",
        f"data         target={data['target']} features={','.join(data['features']) or '-'} freq={data['freq']} rows={data['n_rows']} {data['first_date']} to {data['last_date']}",
        f"window       window={cfg['train']['window']} horizon={cfg['train']['horizon']} scaler={cfg['train']['scaler']} window_norm={cfg['train']['window_norm']}",
        f"training     epochs_run={hist['epochs_run']} best_epoch={hist['best_epoch']} seconds={number(hist['seconds'], 4)} seed={meta.get('seed')}{ensemble} on {meta.get('hardware')}",
    ]
    if test:
        model = test["scores"]["model"]
        lines.append(
            f"test         MAE={number(model['mae'], 6)} MASE={number(model['mase'], 4)} relative MASE vs seasonal naive={number(test.get('relative_mase'), 4)}"
        )
    versions = meta.get("versions", {})
    lines.append("versions     " + " ".join(f"{k}={v}" for k, v in versions.items()))
    return "\n".join(lines) + "\n"
