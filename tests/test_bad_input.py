"""Odd and malformed inputs and arguments, tried systematically through the CLI.

Every row either works as a user would expect (with an assertion on the result) or exits
with a documented code: 1 with exactly one ``error: ...`` line on stderr, or 2 with
Typer's usage error; never a traceback, and never a file or directory written.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from seqcast.cli import app
from seqcast.errors import ExitCode
from seqcast.store.directory import load_artifact

pytestmark = pytest.mark.filterwarnings(
    "ignore:.*__array__ implementation doesn't accept a copy keyword:DeprecationWarning"
)

TINY = ["--window", "4", "--horizon", "2", "--units", "2", "--epochs", "1", "-q"]
TINY += ["--batch-size", "16", "--seed", "0"]
N_TRAIN = 60  # daily rows 2020-01-01 .. 2020-02-29 behind the shared model


def _rows(
    n: int = N_TRAIN, *, start: str = "2020-01-01", freq: str = "D"
) -> list[list[str]]:
    dates = pd.date_range(start, periods=n, freq=freq)
    t = np.arange(n, dtype=np.float64)
    y = 10.0 + 0.05 * t + 2.0 * np.sin(2 * np.pi * t / 7.0)
    temp = 20.0 + 5.0 * np.cos(2 * np.pi * t / 30.0)
    return [
        [d.strftime("%Y-%m-%d"), f"{a:.4f}", f"{b:.4f}"]
        for d, a, b in zip(dates, y, temp, strict=True)
    ]


def _csv(
    rows: list[list[str]] | None = None,
    *,
    sep: str = ",",
    eol: str = "\n",
    header: tuple[str, ...] = ("date", "y", "temp"),
) -> str:
    body = rows if rows is not None else _rows()
    return eol.join(sep.join(r) for r in [list(header), *body]) + eol


def _edit(index: int, column: int, value: str, n: int = N_TRAIN) -> str:
    rows = _rows(n)
    rows[index][column] = value
    return _csv(rows)


def _shuffled() -> str:
    rows = _rows()
    order = np.random.default_rng(0).permutation(len(rows))
    return _csv([rows[i] for i in order])


def _duplicated() -> str:
    rows = _rows()
    return _csv([*rows[:30], rows[29], *rows[30:]])


def _mixed_dates() -> str:
    rows = _rows()
    for r in rows[::2]:
        r[0] = pd.Timestamp(r[0]).strftime("%d/%m/%Y")
    return _csv(rows)


def _zoned(offsets: tuple[str, ...]) -> str:
    rows = _rows()
    for i, r in enumerate(rows):
        r[0] = f"{r[0]}T00:00:00{offsets[i % len(offsets)]}"
    return _csv(rows)


def _constant() -> str:
    rows = _rows()
    for r in rows:
        r[1] = "5"
    return _csv(rows)


def _noon(n: int = 80) -> str:
    rows = _rows(n)
    for r in rows:
        r[0] += " 12:00"
    return _csv(rows)


@dataclass(frozen=True)
class Case:
    """One row of the table: argv template, files to create, expected outcome."""

    id: str
    argv: list[str]
    files: dict[str, str | bytes] = field(default_factory=dict)
    code: int = ExitCode.USER_ERROR
    text: str = ""  # a fragment the stderr line must contain
    message: str = ""  # or the whole line after "error: " ({tmp} is the test's folder)
    check: Callable[[Path, str], None] | None = None  # for code 0: (tmp, stdout)
    stdin: str | None = None
    xfail: str = ""  # reason, for known bugs in code other branches own


def _trained(n_rows: int, first: str, last: str) -> Callable[[Path, str], None]:
    def check(tmp: Path, stdout: str) -> None:
        meta = load_artifact(tmp / "out").meta
        record = meta.one
        assert (record.n_rows, record.first_date, record.last_date) == (
            n_rows,
            first,
            last,
        )
        assert meta.columns.target == "y"
        assert "seasonal_naive" in stdout

    return check


def _forecast_after(first: str, steps: int = 2) -> Callable[[Path, str], None]:
    def check(tmp: Path, stdout: str) -> None:
        records = json.loads(stdout)
        assert [r["date"] for r in records][:1] == [first]
        assert len(records) == steps
        assert np.isfinite([r["y"] for r in records]).all()

    return check


def _scored(n_windows: int) -> Callable[[Path, str], None]:
    def check(tmp: Path, stdout: str) -> None:
        scores = json.loads(stdout)
        assert scores["n_windows"] == n_windows
        assert set(scores["scores"]) >= {"model", "naive", "seasonal_naive"}

    return check


OK_TRAIN = _trained(N_TRAIN, "2020-01-01", "2020-02-29")
TRAIN = ["train", "{tmp}/data.csv", "--out", "{tmp}/out", *TINY]
TRAIN_Y = [*TRAIN, "--target", "y"]
FORECAST = ["forecast", "{model}", "--format", "json"]
GOOD = _csv()

# fmt: off
CASES = [
    # -- files that must just work --------------------------------------------------
    Case("plain", TRAIN_Y, {"data.csv": GOOD}, 0, check=OK_TRAIN),
    Case("utf8-bom", TRAIN_Y, {"data.csv": "\ufeff" + GOOD}, 0, check=OK_TRAIN),
    Case("crlf", TRAIN_Y, {"data.csv": _csv(eol="\r\n")}, 0, check=OK_TRAIN),
    Case("semicolon", TRAIN_Y, {"data.csv": _csv(sep=";")}, 0, check=OK_TRAIN),
    Case("tab", TRAIN_Y, {"data.csv": _csv(sep="\t")}, 0, check=OK_TRAIN),
    Case("unsorted-rows", TRAIN_Y, {"data.csv": _shuffled()}, 0, check=OK_TRAIN),
    Case("utc-offsets", TRAIN_Y, {"data.csv": _zoned(("+00:00",))}, 0, check=OK_TRAIN),
    Case("constant-series", TRAIN_Y, {"data.csv": _constant()}, 0, check=OK_TRAIN),
    Case(
        "duplicates-mean",
        [*TRAIN_Y, "--duplicates", "mean"],
        {"data.csv": _duplicated()},
        0,
        check=OK_TRAIN,
    ),
    Case(
        "nan-with-ffill",
        [*TRAIN_Y, "--fill", "ffill"],
        {"data.csv": _edit(20, 1, "")},
        0,
        check=OK_TRAIN,
    ),
    Case("stdin", ["train", "-", "--out", "{tmp}/out", *TINY, "--target", "y"], {}, 0, check=OK_TRAIN, stdin=GOOD),
    # -- unusable files --------------------------------------------------------------
    Case("empty-file", TRAIN, {"data.csv": ""}, text="is empty"),
    Case("whitespace-only", TRAIN, {"data.csv": "\n \n\t\n"}, text="is empty"),
    Case("header-only", TRAIN, {"data.csv": "date,y,temp\n"}, text="has a header but no data rows"),
    Case("binary-garbage", TRAIN, {"data.csv": bytes(range(256)) * 8}, message="{tmp}/data.csv contains binary data, not CSV text. Export the data as a UTF-8 CSV file first."),
    Case("zip-archive", TRAIN, {"data.csv": b"PK\x03\x04" + bytes(200)}, text="zip archive"),
    Case("latin-1-text", TRAIN, {"data.csv": GOOD.replace("temp", "tempé").encode("latin-1")}, message="{tmp}/data.csv is not UTF-8 text: byte 0xe9 at offset 11 cannot be decoded. Save the file as UTF-8 CSV."),
    Case("space-delimited", TRAIN, {"data.csv": _csv(sep=" ")}, text="single column"),
    Case("ragged-rows", TRAIN, {"data.csv": GOOD + "2020-03-01,1,2,3,4\n"}, message="{tmp}/data.csv line 62 has 5 fields but the header has 3. Make every row have as many fields as the header (quote values that contain the delimiter)."),
    Case("missing-file", ["train", "{tmp}/nope.csv", "--out", "{tmp}/out"], text="File not found"),
    Case("data-is-directory", ["train", "{tmp}", "--out", "{tmp}/out"], text="is a directory"),
    Case("empty-stdin", ["train", "-", "--out", "{tmp}/out"], stdin="", message="Standard input is empty. Give a CSV file with a header row and at least one data row."),
    # -- bad cells and timestamps ----------------------------------------------------
    Case("mixed-date-formats", TRAIN_Y, {"data.csv": _mixed_dates()}, text="format"),
    Case("mixed-date-formats-ffill", [*TRAIN_Y, "--fill", "ffill"], {"data.csv": _mixed_dates()}, text="format"),
    Case("mixed-utc-offsets", TRAIN_Y, {"data.csv": _zoned(("+01:00", "+02:00"))}, 0, check=OK_TRAIN),
    Case("unparseable-date", TRAIN_Y, {"data.csv": _edit(5, 0, "yesterday")}, text="yesterday"),
    Case("duplicate-timestamps", TRAIN_Y, {"data.csv": _duplicated()}, text="--duplicates"),
    Case("nan-value", TRAIN_Y, {"data.csv": _edit(20, 1, "")}, text="--fill"),
    Case("nan-literal", TRAIN_Y, {"data.csv": _edit(20, 1, "NaN")}, text="--fill"),
    Case("inf-value", TRAIN_Y, {"data.csv": _edit(20, 1, "inf")}, text="inf"),
    Case("text-in-number", TRAIN_Y, {"data.csv": _edit(20, 1, "abc")}, text="'abc'"),
    Case("text-in-feature", [*TRAIN_Y, "--features", "temp"], {"data.csv": _edit(7, 2, "n/a")}, message="Found missing values: 1 in 'temp' (first at 2020-01-08). Use --fill ffill, bfill, interpolate, zero or drop to fill or drop them."),
    Case("too-short-for-window", [*TRAIN_Y, "--window", "50"], {"data.csv": _csv(_rows(30))}, text="window=50"),
    Case("two-rows", TRAIN_Y, {"data.csv": _csv(_rows(2))}, message="Series has 2 rows but window=4 + horizon=2 needs at least 6 training rows plus 2 validation and 2 test rows. Use a smaller window or horizon, smaller --val-fraction/--test-fraction, or load more history."),
    Case("one-row", TRAIN_Y, {"data.csv": _csv(_rows(1))}, message="The series has 1 row; at least 2 are needed. Load more history."),
    Case("unknown-target", [*TRAIN, "--target", "yy"], {"data.csv": GOOD}, text="'yy'"),
    Case("unknown-date-col", [*TRAIN_Y, "--date-col", "when"], {"data.csv": GOOD}, text="'when'"),
    Case("target-is-date-col", [*TRAIN, "--target", "date"], {"data.csv": GOOD}, message="No date column found. Columns: y, temp. Use --date-col to name the column that holds the dates."),
    Case("no-numeric-column", TRAIN, {"data.csv": _csv([[r[0], "a", "b"] for r in _rows()])}, message="No numeric column to forecast. Columns: y, temp. Use --target to name the column to forecast."),
    Case("bad-freq", [*TRAIN_Y, "--freq", "fortnightly"], {"data.csv": GOOD}, text="fortnightly"),
    # -- arguments -------------------------------------------------------------------
    Case("window-0", [*TRAIN_Y, "--window", "0"], {"data.csv": GOOD}, ExitCode.USAGE, "--window"),
    Case("window-negative", [*TRAIN_Y, "--window", "-3"], {"data.csv": GOOD}, ExitCode.USAGE, "--window"),
    Case("horizon-0", [*TRAIN_Y, "--horizon", "0"], {"data.csv": GOOD}, ExitCode.USAGE, "--horizon"),
    Case("epochs-0", [*TRAIN_Y, "--epochs", "0"], {"data.csv": GOOD}, ExitCode.USAGE, "--epochs"),
    Case("epochs-negative", [*TRAIN_Y, "--epochs", "-1"], {"data.csv": GOOD}, ExitCode.USAGE, "--epochs"),
    Case("batch-size-0", [*TRAIN_Y, "--batch-size", "0"], {"data.csv": GOOD}, ExitCode.USAGE, "--batch-size"),
    Case("dropout-1.5", [*TRAIN_Y, "--dropout", "1.5"], {"data.csv": GOOD}, ExitCode.USAGE, "--dropout"),
    Case("val-fraction-0.7", [*TRAIN_Y, "--val-fraction", "0.7"], {"data.csv": GOOD}, ExitCode.USAGE, "--val-fraction"),
    Case("window-1e9", [*TRAIN_Y, "--window", str(10**9)], {"data.csv": GOOD}, text="window=1000000000 is larger than seqcast supports"),
    Case("horizon-1e9", [*TRAIN_Y, "--horizon", str(10**9)], {"data.csv": GOOD}, text="horizon=1000000000 is larger"),
    Case("units-1e7", [*TRAIN_Y, "--units", str(10**7)], {"data.csv": GOOD}, text="units=10000000 is larger than seqcast supports (10000 per layer)"),
    Case("layers-1e6", [*TRAIN_Y, "--layers", str(10**6)], {"data.csv": GOOD}, text="layers=1000000 is more than seqcast supports"),
    Case("units-0", [*TRAIN_Y, "--units", "0"], {"data.csv": GOOD}, text="units=0"),
    Case("units-text", [*TRAIN_Y, "--units", "big"], {"data.csv": GOOD}, ExitCode.USAGE, "--units"),
    Case("unknown-model", [*TRAIN_Y, "--model", "transformer"], {"data.csv": GOOD}, ExitCode.USAGE, "--model"),
    Case("unknown-flag", [*TRAIN_Y, "--turbo"], {"data.csv": GOOD}, ExitCode.USAGE, "--turbo"),
    Case("config-missing", [*TRAIN_Y, "--config", "{tmp}/nope.toml"], {"data.csv": GOOD}, text="Cannot read config file"),
    Case("config-not-toml", [*TRAIN_Y, "--config", "{tmp}/c.toml"], {"data.csv": GOOD, "c.toml": "window = = 3\n"}, text="is not valid TOML"),
    Case("config-unknown-key", [*TRAIN_Y, "--config", "{tmp}/c.toml"], {"data.csv": GOOD, "c.toml": "windw = 3\n"}, text="Unknown option 'windw'"),
    # -- outputs ---------------------------------------------------------------------
    Case("out-under-a-file", ["train", "{tmp}/data.csv", "--out", "{tmp}/data.csv/sub", *TINY, "--target", "y"], {"data.csv": GOOD}, text="Cannot create the directory"),
    Case("out-is-a-file", ["train", "{tmp}/data.csv", "--out", "{tmp}/data.csv", *TINY, "--target", "y"], {"data.csv": GOOD}, text="is not a seqcast model directory"),
    Case("out-is-a-foreign-dir", ["train", "{tmp}/data.csv", "--out", "{tmp}/docs", *TINY, "--target", "y"], {"data.csv": GOOD, "docs/keep.txt": "mine"}, text="is not a seqcast model directory"),
    Case("forecast-output-dir-missing", [*FORECAST, "--output", "{tmp}/no/such/f.json"], text="is not an existing directory"),
    Case("forecast-output-is-dir", [*FORECAST, "--output", "{tmp}"], text="is a directory"),
    Case("forecast-output-under-a-file", [*FORECAST, "--output", "{tmp}/f.txt/x.json"], {"f.txt": "x"}, message="Cannot write {tmp}/f.txt/x.json: {tmp}/f.txt is not an existing directory. Create it first or choose another --output."),
    # -- model directories -----------------------------------------------------------
    Case("model-missing", ["forecast", "{tmp}/none"], text="No model at"),
    Case("model-is-a-file", ["forecast", "{tmp}/f.txt"], {"f.txt": "x"}, text="is a file, not a model directory"),
    Case("model-dir-empty", ["forecast", "{tmp}/empty"], {"empty/.keep": ""}, text="seqcast.json is missing"),
    Case("model-json-garbage", ["forecast", "{broken}"], {"seqcast.json": "{not json"}, text="is unreadable or corrupted"),
    Case("model-json-schema-99", ["info", "{broken}"], {"seqcast.json": "schema-99"}, text="schema_version=99"),
    Case("model-keras-truncated", ["forecast", "{broken}"], {"model.keras": "truncate"}, text="does not match the checksum"),
    Case("model-keras-missing", ["evaluate", "{broken}"], {"model.keras": "delete"}, text="model.keras is missing"),
    # -- forecast / evaluate against the shared model -----------------------------------
    Case("forecast-steps-0", [*FORECAST, "--steps", "0"], code=ExitCode.USAGE, text="--steps"),
    Case("forecast-steps-negative", [*FORECAST, "--steps", "-5"], code=ExitCode.USAGE, text="--steps"),
    Case("forecast-format-xml", [*FORECAST[:2], "--format", "xml"], code=ExitCode.USAGE, text="--format"),
    Case("forecast-engine-gpu", [*FORECAST, "--engine", "gpu"], code=ExitCode.USAGE, text="--engine"),
    Case("forecast-newer-data", [*FORECAST, "{tmp}/data.csv"], {"data.csv": _csv(_rows(80))}, 0, check=_forecast_after("2020-03-21")),
    Case("forecast-newer-data-unsorted-crlf", [*FORECAST, "{tmp}/data.csv"], {"data.csv": _csv(list(reversed(_rows(80))), eol="\r\n")}, 0, check=_forecast_after("2020-03-21")),
    Case("forecast-no-target-column", [*FORECAST, "{tmp}/data.csv"], {"data.csv": _csv(_rows(80), header=("date", "value", "temp"))}, text="The data has no column 'y', which the model reads."),
    Case("forecast-other-frequency", [*FORECAST, "{tmp}/data.csv"], {"data.csv": _csv(_rows(80, freq="W-SUN"))}, text="The data has frequency W-SUN but the model was trained on D"),
    Case("forecast-data-ends-before-training", [*FORECAST, "{tmp}/data.csv"], {"data.csv": _csv(_rows(40))}, text="before the model's training data ends (2020-02-29)"),
    Case("forecast-nan-in-last-window", [*FORECAST, "{tmp}/data.csv"], {"data.csv": _edit(78, 1, "", n=80)}, text="--fill"),
    Case("forecast-too-few-rows", [*FORECAST, "{tmp}/data.csv"], {"data.csv": _csv(_rows(3, start="2020-03-01"))}, text="needs window=4"),
    Case("forecast-off-grid-timestamps", [*FORECAST, "{tmp}/data.csv"], {"data.csv": _noon()}, text="do not line up"),
    Case("evaluate-training-data", ["evaluate", "{model}", "{tmp}/data.csv", "--format", "json"], {"data.csv": GOOD}, 0, check=_scored(8)),
    Case("evaluate-data-ends-before-training", ["evaluate", "{model}", "{tmp}/data.csv"], {"data.csv": _csv(_rows(40))}, text="before the model's training data ends"),
    Case("evaluate-other-frequency", ["evaluate", "{model}", "{tmp}/data.csv"], {"data.csv": _csv(_rows(80, freq="W-SUN"))}, text="frequency W-SUN"),
    Case("evaluate-season-0", ["evaluate", "{model}", "--season", "0"], code=ExitCode.USAGE, text="--season"),
]
# fmt: on


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("bad")
    (root / "data.csv").write_text(GOOD)
    args = [a.replace("{tmp}", str(root)) for a in TRAIN_Y]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    return root / "out"


def _broken_copy(model: Path, tmp: Path, damage: dict[str, str | bytes]) -> Path:
    import shutil

    copy = tmp / "broken"
    shutil.copytree(model, copy)
    for name, how in damage.items():
        file = copy / name
        if how == "delete":
            file.unlink()
        elif how == "truncate":
            file.write_bytes(file.read_bytes()[:100])
        elif how == "schema-99":
            meta = json.loads(file.read_text())
            file.write_text(json.dumps({**meta, "schema_version": 99}))
        else:
            file.write_text(str(how))
    return copy


def _snapshot(tmp: Path) -> set[str]:
    return {str(p.relative_to(tmp)) for p in tmp.rglob("*")}


@pytest.mark.slow
@pytest.mark.parametrize(
    "case",
    [
        pytest.param(
            c,
            id=c.id,
            marks=[pytest.mark.xfail(strict=True, reason=c.xfail)] if c.xfail else [],
        )
        for c in CASES
    ],
)
def test_bad_input(case: Case, model: Path, tmp_path: Path) -> None:
    broken = None
    files = dict(case.files)
    if "{broken}" in case.argv:
        broken = _broken_copy(model, tmp_path, files)
        files = {}
    for name, content in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8", newline="")
    argv = [
        a.replace("{tmp}", str(tmp_path))
        .replace("{model}", str(model))
        .replace("{broken}", str(broken))
        for a in case.argv
    ]
    before = _snapshot(tmp_path)
    result = CliRunner().invoke(app, argv, input=case.stdin)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert "Traceback" not in result.output
    assert result.exit_code == case.code, result.output
    if case.code == ExitCode.OK:
        assert case.check is not None
        case.check(tmp_path, result.stdout)
        return
    assert result.stdout == ""
    # Nothing written, not even a temporary or a lock file (.NAME.lock): train locks
    # --out once the data is read, and the lock's holder deletes the file when done.
    assert _snapshot(tmp_path) == before
    if case.code == ExitCode.USAGE:
        assert "Usage:" in result.stderr
        assert case.text in result.stderr
        return
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert lines[0].endswith(".")
    if case.message:
        assert lines[0] == "error: " + case.message.replace("{tmp}", str(tmp_path))
    assert case.text in lines[0]
    assert suggested_flags(lines[0]) <= command_flags(argv), lines[0]


def command_flags(argv: list[str]) -> set[str]:
    """Every option name the command in ``argv`` (``train``, ``data fetch``...) accepts."""
    import typer.main

    command = typer.main.get_command(app)
    for word in argv:
        sub = getattr(command, "commands", {}).get(word)
        if sub is None:
            break
        command = sub
    names = {"--help"}
    for param in command.params:
        names |= {n.split("/")[0] for n in [*param.opts, *param.secondary_opts]}
    return names


def suggested_flags(message: str) -> set[str]:
    """The --options a message suggests (``--window 12``, ``--max-stale``)."""
    import re

    # Advice for another command names it (`seqcast train ... --fill ffill`): skip it.
    own = re.sub(
        r"`?seqcast (train|backtest|evaluate|forecast|info|data \w+)[^`;)]*`?",
        "",
        message,
    )
    return set(re.findall(r"(?<![\w-])--[a-z][a-z-]*[a-z]", own))


def test_every_flag_a_message_suggests_exists_on_its_command() -> None:
    # The check above runs on every failing case; make sure it can fail.
    assert suggested_flags("Use --steps 1 or more, or --target y.") == {
        "--steps",
        "--target",
    }
    assert "--target" not in command_flags(["forecast"])
    assert "--target" in command_flags(["train"])
    assert "--max-stale" in command_flags(["data", "fetch"])


def test_every_failing_case_pins_its_message() -> None:
    unpinned = [c.id for c in CASES if c.code != ExitCode.OK and not c.text + c.message]
    unchecked = [c.id for c in CASES if c.code == ExitCode.OK and c.check is None]
    assert (unpinned, unchecked) == ([], [])


def test_case_ids_are_unique() -> None:
    ids = [c.id for c in CASES]
    assert sorted(id_ for id_ in set(ids) if ids.count(id_) > 1) == []


ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "KERAS_BACKEND": "tensorflow"}


@pytest.mark.parametrize(
    ("argv", "files", "code"),
    [
        (["train", "{tmp}/data.csv", "--out", "{tmp}/out"], {"data.csv": ""}, 1),
        (
            ["train", "{tmp}/data.csv", "--out", "{tmp}/out", "--units", str(10**7)],
            {"data.csv": GOOD},
            1,
        ),
        (["train", "{tmp}/data.csv", "--window", "0", "--out", "{tmp}/o"], {}, 2),
        (["forecast", "{tmp}/f.txt"], {"f.txt": "x"}, 1),
        (["info", "{tmp}/empty"], {"empty/x": ""}, 1),
    ],
    ids=["empty-file", "units-1e7", "window-0", "model-is-a-file", "no-meta"],
)
def test_a_real_process_never_shows_a_traceback(
    tmp_path: Path, argv: list[str], files: dict[str, str], code: int
) -> None:
    for name, content in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(content)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "seqcast",
            *(a.replace("{tmp}", str(tmp_path)) for a in argv),
        ],
        env=ENV,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == code
    assert "Traceback" not in done.stderr
    assert done.stdout == ""
    if code == 1:
        assert done.stderr.count("\n") == 1
        assert done.stderr.startswith("error: ")
    assert not (tmp_path / "out").exists()
