"""Names from a CSV or a model directory never reach the terminal raw."""

from __future__ import annotations

import dataclasses
import logging
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from seqcast import logs
from seqcast.cli import app
from seqcast.cli.render import table
from seqcast.errors import ExitCode
from seqcast.printable import printable

HOSTILE = "y\x1b]0;owned\x07\x1b[2J\x9b2J\u202eevil\u2066"
SHOWN = "y\\x1b]0;owned\\x07\\x1b[2J\\x9b2J\\u202eevil\\u2066"
UNSAFE = {"Cc", "Cf", "Zl", "Zp"}  # controls, format (bidi, zero-width), separators
RAW = ("\x1b", "\x07", "\x9b", "\u202e", "\u2066")


def test_printable_escapes_controls_c1_and_bidi() -> None:
    assert printable(HOSTILE) == SHOWN
    assert printable("a\nb\tc\x7f") == "a\\x0ab\\x09c\\x7f"
    assert printable("Température €, 東京") == "Température €, 東京"


@given(st.text())
def test_printable_is_one_safe_line_and_idempotent(text: str) -> None:
    shown = printable(text)
    assert not [c for c in shown if unicodedata.category(c) in UNSAFE], repr(shown)
    assert printable(shown) == shown


def _model(tmp_path: Path) -> Path:
    from conftest import make_meta

    from seqcast.store.saving import save_artifact

    meta = make_meta()
    meta = dataclasses.replace(
        meta, columns=dataclasses.replace(meta.columns, target=HOSTILE)
    )
    return save_artifact(tmp_path / "m", lambda p: p.write_bytes(b"x"), meta)


def test_info_escapes_a_hostile_target_name(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["info", str(_model(tmp_path))])
    assert result.exit_code == 0, result.output
    assert f"target={SHOWN} " in result.stdout
    assert not any(c in result.output for c in RAW)


def test_info_json_escapes_it_too(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["info", str(_model(tmp_path)), "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    assert "\\u001b]0;owned\\u0007" in result.stdout
    assert not any(c in result.output for c in RAW)


def test_table_escapes_headers_and_cells() -> None:
    text = table([HOSTILE, "b"], [["\x1b[2J", 1.5]])
    assert text.splitlines()[0] == f"{SHOWN}  b"
    assert not any(c in text for c in RAW)


def test_warnings_and_the_log_file_escape_names(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "run.log"
    logs.configure(log)
    try:
        logs.warn(f"column '{HOSTILE}' is constant")
    finally:
        logs.reset()
    assert capsys.readouterr().err == f"warning: column '{SHOWN}' is constant\n"
    assert SHOWN in log.read_text()
    assert not any(c in log.read_text() for c in RAW)
    logging.getLogger("seqcast").handlers.clear()


def test_errors_escape_names_and_stay_on_one_line(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    name = "\u202ea\x9b"
    path.write_text(f"date,{name},{name}\n2020-01-01,1,2\n")
    result = CliRunner().invoke(app, ["train", str(path), "--out", str(tmp_path / "m")])
    assert result.exit_code == ExitCode.USER_ERROR
    assert result.stderr == (
        f"error: {path} has two columns named '\\u202ea\\x9b'. Rename one of them so every header name is unique.\n"
    )


def test_forecast_csv_keeps_names_verbatim_in_a_file_and_numbers_untouched(
    tmp_path: Path,
) -> None:
    from seqcast.cli.render import records
    from seqcast.config import OutputFormat

    text = records([{"date": "2020-01-01", "=1+1": -1.5, "@x": 2.0}], OutputFormat.CSV)
    assert text == "date,=1+1,@x\n2020-01-01,-1.5,2\n"
