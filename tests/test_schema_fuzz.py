"""Malformed seqcast.json never gives a traceback: Hypothesis mutates a real saved document.

Each example damages the document of a tiny trained model (keys deleted, types changed,
arrays made ragged or empty, bogus dates, huge numbers, wrong nesting) and runs `info`,
`forecast` and `evaluate` on it. A document the schema refuses must give exit 1 and one
`error:` line on every command; one it accepts may still be refused, the same way, but
nothing may end in a traceback.
"""

from __future__ import annotations

import copy
import json
import shutil
import tempfile
import traceback
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from seqcast.cli import app
from seqcast.errors import ExitCode, SeqcastError

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings(
        "ignore:.*__array__ implementation doesn't accept a copy keyword:DeprecationWarning"
    ),
]

Path_ = tuple[str | int, ...]


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    from conftest import make_sine_frame

    root = tmp_path_factory.mktemp("schema")
    csv = root / "s.csv"
    make_sine_frame(120).to_csv(csv, index=False, date_format="%Y-%m-%d")
    args = ["train", str(csv), "--target", "y", "--features", "temp", "--window", "8"]
    args += ["--horizon", "2", "--units", "3", "--epochs", "1", "--seed", "0", "-q"]
    result = CliRunner().invoke(app, [*args, "--out", str(root / "m")])
    assert result.exit_code == 0, result.output
    doc = json.loads((root / "m" / "seqcast.json").read_text())
    return root / "m", doc


def _paths(value: Any, prefix: Path_ = ()) -> list[Path_]:
    found = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value[:3]):  # enough to reach every shape
            found += _paths(child, (*prefix, index))
    return found


def _get(doc: Any, path: Path_) -> Any:
    for step in path:
        doc = doc[step]
    return doc


REPLACEMENTS = [
    None,
    True,
    0,
    -1,
    3,
    10**30,
    1e308,
    -1e308,
    0.5,
    "",
    "x",
    "2020-13-45",
    "9999-99-99T99:99",
    "1970-01-01",
    [],
    [[]],
    [1, "a"],
    {},
    {"a": 1},
]
MUTATIONS = [
    "delete",
    "replace",
    "wrap_list",
    "wrap_dict",
    "drop_item",
    "add_item",
    "empty",
]


@st.composite
def damaged(draw: st.DrawFn, doc: dict[str, Any]) -> dict[str, Any]:
    doc = copy.deepcopy(doc)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_paths(doc)[1:]))
        parent, key = _get(doc, path[:-1]), path[-1]
        value = parent[key]
        kind = draw(st.sampled_from(MUTATIONS))
        if kind == "delete":
            del parent[key]
        elif kind == "replace":
            parent[key] = copy.deepcopy(draw(st.sampled_from(REPLACEMENTS)))
        elif kind == "wrap_list":
            parent[key] = [value]
        elif kind == "wrap_dict":
            parent[key] = {"value": value}
        elif kind == "drop_item" and isinstance(value, list) and value:
            value.pop(draw(st.integers(0, len(value) - 1)))
        elif kind == "add_item" and isinstance(value, list):
            value.append(copy.deepcopy(value[-1]) if value else 1.0)
        elif kind == "empty" and isinstance(value, list | dict | str):
            parent[key] = type(value)()
        else:
            parent[key] = None
        if not path[:-1] and key == "schema_version" and kind != "delete":
            parent[key] = 2  # keep most examples past the version check
    return doc


def _accepted(doc: dict[str, Any]) -> bool:
    from seqcast.store.schema import ModelMeta

    try:
        ModelMeta.from_json(doc, "seqcast.json")
    except SeqcastError:
        return False
    return True


def _check(result: Any, refused: bool, command: str) -> None:
    crashed = result.exception is not None and not isinstance(
        result.exception, SystemExit
    )
    assert not crashed, (command, "".join(traceback.format_exception(*result.exc_info)))
    assert "Traceback" not in result.output, (command, result.output)
    if refused or result.exit_code != 0:
        assert result.exit_code == ExitCode.USER_ERROR, (command, result.output)
        lines = result.stderr.splitlines()
        assert len(lines) == 1, (command, result.stderr)
        assert lines[0].startswith("error: "), (command, result.stderr)


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_damaged_documents_are_refused_in_one_line(
    saved: tuple[Path, dict[str, Any]], data: st.DataObject
) -> None:
    model, doc = saved
    bad = data.draw(damaged(doc))
    with tempfile.TemporaryDirectory() as root:
        target = Path(root) / "m"
        shutil.copytree(model, target)
        (target / "seqcast.json").write_text(json.dumps(bad))
        refused = not _accepted(bad)
        runner = CliRunner()
        for args in (
            ["info", str(target)],
            ["info", str(target), "--format", "json"],
            ["forecast", str(target), "--format", "csv"],
            ["forecast", str(target), "--steps", "5", "--level", "0.8"],
            ["evaluate", str(target)],
        ):
            _check(runner.invoke(app, args), refused, args[0])
