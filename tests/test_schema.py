"""seqcast.json documents that look valid but cannot be right are refused in one line."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from seqcast.cli import app
from seqcast.errors import ExitCode


def _saved(tmp_path: Path) -> Path:
    from conftest import make_meta

    from seqcast.store.saving import save_artifact

    return save_artifact(tmp_path / "m", lambda p: p.write_bytes(b"x"), make_meta())


def _intervals(**extra: Any) -> dict[str, Any]:
    """A stored calibration of one residual, with ``extra`` keys."""
    return {"n_windows": 1, "residuals": [[1.0]], **extra}


def _deep(levels: int) -> dict[str, Any]:
    """Relative calibrations nested ``levels`` deep, as a crafted file could hold.

    Reading refuses it at the second level, before reading the third: however deep
    the nesting, it never recurses further.
    """
    node = _intervals(relative=True)
    for _ in range(levels):
        node = _intervals(relative=True, absolute=node)
    return node


CASES: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    (
        "short last window",
        lambda d: d["series"][0]["last_window"]["values"].pop(),
        "series[0].last_window must be 2 dates and 2 rows (window=2, or all the rows of a shorter series)",
    ),
    (
        "defaulted window_norm",
        lambda d: d["config"]["train"].pop("window_norm"),
        "config.train.window_norm is missing",
    ),
    (
        "null model architecture",
        lambda d: d["config"]["model"].update(model=None),
        "config.model.model must be one of",
    ),
    (
        "text units",
        lambda d: d["config"]["model"].update(units="abc"),
        "config",
    ),
    (
        "dates out of order",
        lambda d: d["series"][0]["last_window"]["dates"].reverse(),
        "series[0].last_window.dates must be timestamps in increasing order",
    ),
    (
        "scores without the model",
        lambda d: d["metrics"].update(
            test={
                "n_windows": 1,
                "horizon": 1,
                "season": 1,
                "first_date": "2020-01-02",
                "last_date": "2020-01-02",
                "scores": {"naive": {"mae": 1.0}},
            }
        ),
        "metrics.test.scores.model is missing",
    ),
    (
        "negative residuals",
        lambda d: d.update(intervals={"n_windows": 1, "residuals": [[-1.0]]}),
        "intervals.residuals[0] must be absolute residuals (no negative numbers)",
    ),
    (
        "unknown interval reference",
        lambda d: d.update(
            intervals=_intervals(reference="theta", reference_ratio=0.5)
        ),
        "intervals.reference must be one of seasonal_naive, naive",
    ),
    (
        "negative reference ratio",
        lambda d: d.update(
            intervals=_intervals(reference="naive", reference_ratio=-0.5)
        ),
        "intervals.reference_ratio must be a ratio of 0 or more",
    ),
    (
        "relative intervals not a flag",
        lambda d: d.update(intervals=_intervals(relative="yes")),
        "intervals.relative must be true or false",
    ),
    (
        "an absolute calibration beside one that is not relative",
        lambda d: d.update(intervals=_intervals(absolute=_intervals(per_scale=True))),
        "intervals.absolute must be absent: only a relative calibration has an absolute one",
    ),
    (
        "a relative calibration nested as the absolute one",
        lambda d: d.update(
            intervals=_intervals(relative=True, absolute=_intervals(relative=True))
        ),
        "intervals.absolute must be an absolute calibration (not relative, none nested)",
    ),
    (
        "an absolute calibration not per scale",
        lambda d: d.update(intervals=_intervals(relative=True, absolute=_intervals())),
        "intervals.absolute must be an absolute calibration (not relative, none nested)",
    ),
    (
        "absolute calibrations nested deeper",
        lambda d: d.update(intervals=_deep(50)),
        "intervals.absolute must be an absolute calibration (not relative, none nested)",
    ),
    (
        "an absolute calibration of another horizon",
        lambda d: d.update(
            intervals=_intervals(
                relative=True,
                absolute=_intervals(residuals=[[1.0], [2.0]], per_scale=True),
            )
        ),
        "intervals.absolute must be a calibration of 1 steps",
    ),
    (
        "coverage above one",
        lambda d: d["metrics"].update(test_coverage={"80": 7.0}),
        "metrics.test_coverage.80 must be a fraction between 0 and 1",
    ),
    (
        "unknown date format",
        lambda d: d["columns"].update(date_format="roman"),
        "columns.date_format must be one of iso, year, quarter, got 'roman'",
    ),
    (
        "a log model's window not positive",
        lambda d: (
            d["series"][0].update(
                transform={"kind": "log", "season": 1, "indices": []}
            ),
            d["series"][0]["last_window"]["values"][0].__setitem__(0, -1.0),
        ),
        "series[0].last_window.values must be positive targets (the transform is log)",
    ),
    (
        "a raw scaler outside a mixed model",
        lambda d: d["series"][0].update(raw_scaler=d["series"][0]["scaler"]),
        "series[0].raw_scaler must be absent (config.train.deseasonalize is not mixed)",
    ),
    (
        "a raw scaler for a series without a log",
        lambda d: (
            d["config"]["train"].update(ensemble=2, deseasonalize="mixed"),
            d["series"][0].update(raw_scaler=d["series"][0]["scaler"]),
        ),
        "series[0].raw_scaler must be absent (it serves a series whose transform is a log without seasonal indices)",
    ),
    (
        "a raw scaler for a deseasonalised series",
        lambda d: (
            d["config"]["train"].update(ensemble=2, deseasonalize="mixed"),
            d["series"][0].update(
                transform={"kind": "log", "season": 2, "indices": [0.1, -0.1]},
                raw_scaler=d["series"][0]["scaler"],
            ),
        ),
        "series[0].raw_scaler must be absent (it serves a series whose transform is a log without seasonal indices)",
    ),
    (
        "a raw scaler of other columns",
        lambda d: (
            d["config"]["train"].update(ensemble=2, deseasonalize="mixed"),
            d["series"][0].update(
                transform={"kind": "log", "season": 1, "indices": []},
                raw_scaler={
                    "kind": "minmax",
                    "center": [0.0, 0.0],
                    "scale": [1.0, 1.0],
                },
            ),
        ),
        "series[0].raw_scaler must be parameters for 1 columns",
    ),
    (
        "rows disagree with the split",
        lambda d: d["series"][0].update(n_rows=99),
        "series[0].n_rows must be split.n_steps (2)",
    ),
]


@pytest.mark.parametrize(
    ("name", "change", "expected"), CASES, ids=[c[0] for c in CASES]
)
@pytest.mark.parametrize("command", ["info", "forecast", "evaluate"])
def test_inconsistent_documents_are_refused(
    tmp_path: Path,
    command: str,
    name: str,
    change: Callable[[dict[str, Any]], None],
    expected: str,
) -> None:
    model = _saved(tmp_path)
    meta = model / "seqcast.json"
    doc = json.loads(meta.read_text())
    change(doc)
    meta.write_text(json.dumps(doc))
    result = CliRunner().invoke(app, [command, str(model)])
    assert result.exit_code == ExitCode.USER_ERROR, result.output
    assert result.stdout == ""
    assert result.stderr.startswith(f"error: {meta}: {expected}"), result.stderr
    assert result.stderr.endswith("Retrain with `seqcast train`.\n")
    assert result.stderr.count("\n") == 1


@pytest.mark.parametrize("layout", ["year", "quarter", "iso"])
def test_the_date_format_round_trips_through_the_directory(
    tmp_path: Path, layout: str
) -> None:
    import dataclasses

    from conftest import make_meta

    from seqcast.config import DateFormat
    from seqcast.store.directory import load_artifact
    from seqcast.store.saving import save_artifact

    meta = make_meta()
    meta = dataclasses.replace(
        meta, columns=dataclasses.replace(meta.columns, date_format=DateFormat(layout))
    )
    out = save_artifact(tmp_path / "m", lambda p: p.write_bytes(b"x"), meta)
    doc = json.loads((out / "seqcast.json").read_text())
    assert doc["columns"]["date_format"] == layout
    assert load_artifact(out).meta.columns.date_format is DateFormat(layout)


def test_a_directory_written_before_date_formats_reads_iso_dates(
    tmp_path: Path,
) -> None:
    from seqcast.config import DateFormat
    from seqcast.store.directory import load_artifact

    model = _saved(tmp_path)
    meta = model / "seqcast.json"
    doc = json.loads(meta.read_text())
    del doc["columns"]["date_format"]
    meta.write_text(json.dumps(doc))
    assert load_artifact(model).meta.columns.date_format is DateFormat.ISO


def test_nesting_deeper_than_the_stack_is_refused_without_recursing() -> None:
    # A dict (no JSON round trip, whose own encoder would overflow first) nested
    # far deeper than Python's recursion limit: one line of error, no RecursionError.
    import sys

    from seqcast.errors import ArtifactError
    from seqcast.store.node import Node
    from seqcast.store.validate import _calibration

    deep = _deep(sys.getrecursionlimit() * 2)
    with pytest.raises(ArtifactError, match=r"intervals\.absolute must be an absolute"):
        _calibration(Node(deep, "seqcast.json", "intervals"))
