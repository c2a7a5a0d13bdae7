"""Rendering results as CSV, JSON or aligned text tables for stdout or a file."""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Sequence
from typing import Any

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
            json.dumps([_json_value(r) for r in rows], indent=2, allow_nan=False) + "\n"
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
    return json.dumps(_json_value(payload), indent=2, allow_nan=False) + "\n"


def _json_value(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
