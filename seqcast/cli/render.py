"""Rendering results as CSV, JSON or aligned text tables for stdout or a file."""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from seqcast.config import DateFormat, OutputFormat
from seqcast.printable import printable, printable_lines
from seqcast.store.output import json_ready

if TYPE_CHECKING:
    from seqcast.evaluation.intervals import Calibration
    from seqcast.store.schema import ModelMeta


def number(value: Any, digits: int = 10) -> str:
    """Format a number compactly for text output; NaN/None as ``nan``."""
    if value is None:
        return "nan"
    if isinstance(value, float):
        return "nan" if math.isnan(value) else format(value, f".{digits}g")
    return str(value)


def count(n: int, noun: str) -> str:
    """Return ``n`` with its noun, singular for 1: ``1 step``, ``12 steps``."""
    return f"{n} {noun}" + ("" if n == 1 else "s")


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Return a left-aligned text table with a header rule, one row per line."""
    cells = [[printable(str(h)) for h in headers]] + [
        [printable(number(c, 6)) for c in row] for row in rows
    ]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = [
        "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip()
        for row in cells
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines) + "\n"


SIGNIFICANT_DIGITS = 6
"""Significant digits of a forecast's largest number unless ``--precision`` is given."""


def fixed(value: Any, decimals: int) -> str:
    """Format a float with ``decimals`` decimals, never ``-0.00``; NaN as ``nan``."""
    if not isinstance(value, float):
        return number(value)
    if not math.isfinite(value):
        return number(value)
    text = format(value, f".{decimals}f")
    return text.lstrip("-") if float(text) == 0 else text


def auto_decimals(rows: Sequence[dict[str, Any]]) -> int:
    """Return the decimals that give the largest float in ``rows`` 6 significant digits.

    Every number of a forecast (values and interval bounds, all in the target's units)
    then has the same decimals: 407.992 and 409.069 for a series in the hundreds,
    0.0123457 for one in hundredths; 6 for rows without a nonzero finite float.
    """
    sizes = [
        abs(v)
        for row in rows
        for v in row.values()
        if isinstance(v, float) and math.isfinite(v) and v != 0
    ]
    if not sizes:
        return SIGNIFICANT_DIGITS
    exponent = math.floor(math.log10(max(sizes)))
    return min(max(SIGNIFICANT_DIGITS - 1 - exponent, 0), 15)


def forecast_records(
    rows: Sequence[dict[str, Any]],
    fmt: OutputFormat,
    *,
    precision: int | None = None,
    date_format: DateFormat = DateFormat.ISO,
) -> str:
    """Render forecast rows at one precision, dates written as the input wrote them.

    Args:
        rows: ``Forecast.rows()`` of one or more forecasts.
        fmt: CSV, JSON or table.
        precision: Decimals of every number (``--precision``); None for
            :func:`auto_decimals`. JSON numbers are rounded to as many.
        date_format: How the model's training data wrote its dates; plain years
            (``2009``) and quarters (``1961Q2``) are written so (see
            :func:`seqcast.data.calendar.plain_dates`).
    """
    from seqcast.data.calendar import plain_dates

    decimals = auto_decimals(rows) if precision is None else precision
    shown = [dict(row) for row in rows]
    if shown and "date" in shown[0]:
        dates = plain_dates([row["date"] for row in shown], date_format)
        for row, date in zip(shown, dates, strict=True):
            row["date"] = date
    return records(shown, fmt, decimals=decimals)


def records(
    rows: Sequence[dict[str, Any]], fmt: OutputFormat, *, decimals: int | None = None
) -> str:
    """Render a list of flat records (same keys) as CSV, JSON or a table.

    Args:
        rows: The records, each with the same keys.
        fmt: CSV, JSON or table.
        decimals: Decimals of every float; None for compact numbers (10 significant
            digits in CSV, 6 in a table, JSON as computed).
    """
    headers = list(rows[0]) if rows else []
    if decimals is not None:
        return _fixed_records(rows, fmt, headers, decimals)
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


def _fixed_records(
    rows: Sequence[dict[str, Any]], fmt: OutputFormat, headers: list[str], decimals: int
) -> str:
    """Render records with every float at ``decimals`` decimals (JSON: rounded)."""
    if fmt is OutputFormat.JSON:
        rounded = [
            {k: round(v, decimals) if isinstance(v, float) else v for k, v in r.items()}
            for r in rows
        ]
        return records(rounded, fmt)
    cells = [[fixed(r[h], decimals) for h in headers] for r in rows]
    return records([dict(zip(headers, row, strict=True)) for row in cells], fmt)


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
        f"{count(result['folds'], 'origin')} ({kind}) x {count(result['horizon'], 'step')}, step {result['step']}, "
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
    return printable_lines(head + per_fold + "\noverall (pooled)\n" + overall + tail)


def coverage_text(meta: ModelMeta) -> str:
    """Describe the test-part interval coverage stored in a model, or return ""."""
    cover = meta.test_coverage or {}
    if not cover:
        return ""
    return (
        "test interval coverage: "
        + ", ".join(f"{label}% -> {number(v, 3)}" for label, v in cover.items())
        + "\n"
    )


def evaluation_text(evaluation: dict[str, Any], fmt: OutputFormat) -> str:
    """Render an evaluation as JSON or a table beside the baselines."""
    if fmt is OutputFormat.JSON:
        return document(evaluation)
    metric_names = ["mae", "rmse", "mape", "smape", "mase"]
    headers = ["mae", "rmse", "mape %", "smape %", "mase"]
    rows = [
        [name, *[scores[m] for m in metric_names]]
        for name, scores in evaluation["scores"].items()
    ]
    head = (
        f"{count(evaluation['n_windows'], 'window')} x {count(evaluation['horizon'], 'step')}, "
        f"{evaluation['first_date']} to {evaluation['last_date']}, season {evaluation['season']}\n"
    )
    rel = evaluation.get("relative_mase")
    tail = (
        f"relative MASE vs seasonal naive: {rel:.3f} ({'better' if rel < 1 else 'worse'} than seasonal naive)\n"
        if isinstance(rel, float) and rel == rel
        else ""
    )
    return printable_lines(
        head + table(["forecaster", *headers], rows) + tail + verdict_text(evaluation)
    )


def series_text(summary: dict[str, Any]) -> str:
    """Render the per-series scores of a model over several series as a table."""
    rows = [
        [
            r["series"],
            r["n_windows"],
            r["mase"],
            r["seasonal_naive_mase"],
            r["relative_mase"],
            r["smape"],
            r["best"],
        ]
        for r in summary["per_series"]
    ]
    headers = [
        "series",
        "windows",
        "model MASE",
        "snaive MASE",
        "relative",
        "smape %",
        "best",
    ]
    geo = summary["geometric_mean_relative_mase"]
    tail = (
        f"geometric mean of relative MASE over {summary['series_scored']} series: {number(geo, 3)}; the network beats seasonal naive on {summary['beats_seasonal_naive']} of {summary['series_scored']}\n"
        if geo == geo
        else ""
    )
    return printable_lines("\nper series\n" + table(headers, rows) + tail)


def verdict_text(evaluation: dict[str, Any]) -> str:
    """Name the best forecaster and what the network loses to, or return ""."""
    best, losses = evaluation.get("best"), evaluation.get("loses_to") or []
    scores = evaluation["scores"]
    if best is None or not isinstance(scores["model"]["mase"], float):
        return ""
    mase = scores["model"]["mase"]
    if best == "model":
        return f"verdict: the network is best (MASE {number(mase, 4)})\n"
    return f"verdict: {best} is best (MASE {number(scores[best]['mase'], 4)}); the network (MASE {number(mase, 4)}) loses to {', '.join(losses)}\n"


def _known_text(meta: ModelMeta) -> str:
    """The known-ahead inputs, as info shows them (empty for a model without)."""
    data = meta.config.data
    parts = []
    if data.future_features:
        parts.append(f" future_features={','.join(data.future_features)}")
    if data.calendar:
        parts.append(f" calendar={','.join(data.calendar)}")
    if data.holidays:
        parts.append(f" holidays={data.holidays}")
    if data.static_features:
        parts.append(f" static_features={','.join(data.static_features)}")
    return "".join(parts)


def _mixed_text(meta: ModelMeta) -> str:
    """Say how the two groups of a ``--deseasonalize mixed`` ensemble read the series."""
    train = meta.config.train
    k, n = train.seasonal_members, train.ensemble
    if k == n:
        return ""
    several = len(meta.series) > 1
    ways = []
    for what, count in (
        ("with the season", sum(bool(r.transform.indices) for r in meta.series)),
        ("without the log", sum(r.raw_scaler is not None for r in meta.series)),
    ):
        if count:
            ways.append(what + (f" on {count} series" if several else ""))
    if not ways:
        return f"; all {n} read each series alike"
    first = (
        "deseasonalised" if ways[0].startswith("with the season") else "with the log"
    )
    if len(ways) > 1:
        first = "as prepared"
    return f"; {k} {first}, {n - k} {' or '.join(ways)}, blended"


def info_text(path: Path, meta: ModelMeta) -> str:
    """Describe a model directory in a few labelled lines."""
    cfg, p, record = meta.config, meta.provenance, meta.one
    model, train = cfg.model, cfg.train
    groups = _mixed_text(meta)
    ensemble = (
        f" ensemble={train.ensemble} ({train.combine.value}{groups})"
        if train.ensemble > 1
        else ""
    )
    cols = meta.columns
    from seqcast.data.calendar import plain_dates

    first, last = plain_dates([record.first_date, record.last_date], cols.date_format)
    lines = [
        f"model        {path}",
        f"created      {p.created} with seqcast {p.seqcast_version}",
        f"architecture {model.model.value} units={','.join(map(str, model.resolved_units))} bidirectional={model.bidirectional} dropout={model.dropout}",
        f"data         target={cols.target} features={','.join(cols.features) or '-'}{_known_text(meta)} freq={cols.freq} rows={record.n_rows} {first} to {last}",
        *_series_lines(meta),
        f"window       window={_windows(meta)} horizon={train.horizon} scaler={train.scaler.value} window_norm={train.window_norm.value}",
        f"transform    {_transforms(meta)} (asked: transform={train.transform.value} deseasonalize={train.deseasonalize.value}) refit={'yes' if train.refit else 'no'}",
        f"training     {_training(meta)} seed={p.seed}{ensemble} on {p.hardware}",
        *_left_out_lines(meta),
    ]
    if meta.test:
        scores = meta.test.scores["model"]
        lines.append(
            f"test         MAE={number(scores.mae, 6)} MASE={number(scores.mase, 4)} relative MASE vs seasonal naive={number(meta.test.relative_mase(), 4)}"
        )
    lines.append(f"intervals    {_intervals_text(meta)}")
    lines.append("versions     " + " ".join(f"{k}={v}" for k, v in p.versions))
    return "\n".join(printable(line) for line in lines) + "\n"


def _intervals_text(meta: ModelMeta) -> str:
    """How the model's bands were calibrated, and how often they covered its test part."""
    if meta.per_series:
        local = [r.local.intervals for r in meta.series if r.local is not None]
        found = sum(c is not None for c in local)
        text = f"calibrated per series ({found} of {len(meta.series)} series)"
    elif meta.intervals is None:
        return "none (no validation errors to calibrate on: --level is refused)"
    else:
        text = _calibration_text(meta.intervals)
    if meta.test_coverage:
        shown = ", ".join(
            f"{label}% {100 * share:.1f}%"
            for label, share in meta.test_coverage.items()
        )
        text += f"; test part covered {shown}"
    return text


def _calibration_text(cal: Calibration) -> str:
    """One calibration in words, e.g. 'log ratios of 120 validation windows'."""
    kind = "log ratios" if cal.relative else "errors"
    if cal.reference is not None:
        name = cal.reference.replace("_", " ")
        text = f"{kind} of {name} at {cal.n_windows} origins, times {number(cal.reference_ratio or 1.0, 3)} (the model's validation error ratio)"
    else:
        text = f"{kind} of {cal.n_windows} validation windows"
    if cal.per_scale:
        text += " in units of each series' scale"
    if cal.absolute is not None:
        text += f"; the series without logs: {_calibration_text(cal.absolute)}"
    return text


def _series_lines(meta: ModelMeta) -> list[str]:
    """One line naming the series of a model over several (none for one series)."""
    if len(meta.series) == 1:
        return []
    ids = [str(r.id) for r in meta.series]
    shown = ", ".join(ids[:10]) + (
        f", ... ({len(ids) - 10} more)" if len(ids) > 10 else ""
    )
    rows = [r.n_rows for r in meta.series]
    first = min(r.first_date for r in meta.series)
    last = max(r.last_date for r in meta.series)
    kind = (
        "one model per series (per_series)" if meta.per_series else "one global model"
    )
    return [
        f"series       {len(ids)} (id column {meta.config.data.id_col}): {shown}; {min(rows)} to {max(rows)} rows, {first} to {last}, {kind}"
    ]


def _windows(meta: ModelMeta) -> str:
    """The window, or the range of the series' own windows of a model of local models."""
    windows = [r.local.window for r in meta.series if r.local is not None]
    if not windows:
        return str(meta.config.train.window)
    low, high = min(windows), max(windows)
    return f"{low} (every series)" if low == high else f"{low} to {high} (per series)"


def _training(meta: ModelMeta) -> str:
    """Epochs and time of the fit, or of every series' own fit."""
    fits = [r.local.history for r in meta.series if r.local is not None]
    if not fits:
        h = meta.history
        return f"epochs_run={h.epochs_run} best_epoch={h.best_epoch} seconds={number(h.seconds, 4)}"
    runs = [h.epochs_run for h in fits]
    seconds = sum(h.seconds for h in fits)
    return f"{count(len(fits), 'local model')}: epochs_run={min(runs)} to {max(runs)} seconds={number(seconds, 4)} in all"


def _left_out_lines(meta: ModelMeta) -> list[str]:
    """The series the run left out with the reason, one line each (the first 5)."""
    shown = meta.left_out[:5]
    lines = [
        f"{'left out' if i == 0 else '':<13}{x.id!r}: {x.reason}"
        for i, x in enumerate(shown)
    ]
    if len(meta.left_out) > len(shown):
        lines.append(
            f"{'':<13}... and {len(meta.left_out) - len(shown)} more (`seqcast info --format json` lists them all)"
        )
    return lines


def _transforms(meta: ModelMeta) -> str:
    """The fitted transform, or for many series how many got each one."""
    described = [r.transform.describe() for r in meta.series]
    if len(set(described)) == 1:
        return described[0]
    counts: dict[str, int] = {}
    for d in described:
        counts[d] = counts.get(d, 0) + 1
    return "; ".join(f"{d} ({n} series)" for d, n in sorted(counts.items()))
