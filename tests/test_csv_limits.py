"""Input limits of seqcast.data.csv: size, line length and columns, checked while reading."""

from __future__ import annotations

import io
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from seqcast.cli import app
from seqcast.data.csv import InputLimits, read_csv
from seqcast.errors import ConfigError, DataError, ExitCode

SMALL = InputLimits(max_bytes=10_000, max_columns=5, max_line_bytes=100)


def _csv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "d.csv"
    path.write_bytes(text.encode())
    return path


def test_defaults_are_two_gib_ten_thousand_columns_one_mib_lines() -> None:
    assert InputLimits.from_env({}) == InputLimits(2 * 1024**3, 10_000, 1024**2)


def test_environment_raises_the_limits() -> None:
    env = {
        "SEQCAST_MAX_CSV_BYTES": "5000000000",
        "SEQCAST_MAX_COLUMNS": "20_000",
        "SEQCAST_MAX_LINE_BYTES": " 4096 ",
    }
    assert InputLimits.from_env(env) == InputLimits(5_000_000_000, 20_000, 4096)


@pytest.mark.parametrize("value", ["0", "-1", "lots", "1.5"])
def test_a_bad_limit_variable_is_named(value: str) -> None:
    with pytest.raises(ConfigError) as info:
        InputLimits.from_env({"SEQCAST_MAX_COLUMNS": value})
    assert str(info.value) == (
        f"SEQCAST_MAX_COLUMNS={value!r} is not a positive whole number of columns. Set it to a number such as 10000, or unset it."
    )


def test_within_the_limits_reads_as_before(tmp_path: Path) -> None:
    path = _csv(tmp_path, "date,y\n2020-01-01,1\n2020-01-02,2\n")
    assert read_csv(path, SMALL).shape == (2, 2)


def test_a_file_over_the_size_limit_is_refused_before_reading(tmp_path: Path) -> None:
    path = _csv(tmp_path, "date,y\n" + "2020-01-01,1\n" * 1000)
    with pytest.raises(DataError) as info:
        read_csv(path, SMALL)
    assert str(info.value) == (
        f"{path} is 13007 bytes, over the input limit of 10000 bytes. Raise it with SEQCAST_MAX_CSV_BYTES=<bytes> if the file is meant to be this large."
    )


def test_stdin_over_the_size_limit_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    raw = io.BytesIO(b"date,y\n" + b"2020-01-01,1\n" * 1000)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(raw, encoding="utf-8"))
    with pytest.raises(DataError) as info:
        read_csv("-", SMALL)
    assert str(info.value).startswith(
        "Standard input is more than 10000 bytes, over the input limit of 10000 bytes."
    )


@pytest.mark.parametrize("ending", ["\n", "\r\n", "\r"])
def test_a_long_line_is_refused_with_its_number(tmp_path: Path, ending: str) -> None:
    rows = ["date,y", "2020-01-01,1", "2020-01-02," + "9" * 200, "2020-01-03,3"]
    path = _csv(tmp_path, ending.join(rows) + ending)
    with pytest.raises(DataError) as info:
        read_csv(path, SMALL)
    line = 3 if ending != "\r" else 1  # CR-only files have one LF-counted line
    assert str(info.value) == (
        f"{path} line {line} is longer than the limit of 100 bytes per line. Check that it is a CSV file with one record per line, or raise the limit with SEQCAST_MAX_LINE_BYTES=<bytes>."
    )


def test_a_line_longer_than_a_read_chunk_is_found(tmp_path: Path) -> None:
    path = _csv(tmp_path, "date,y\n2020-01-01," + "1" * (3 << 20) + "\n")
    with pytest.raises(DataError, match="line 2 is longer than the limit of 1048576"):
        read_csv(path, InputLimits())


def test_too_many_columns_are_refused(tmp_path: Path) -> None:
    path = _csv(tmp_path, "date;a;b;c;d;e\n2020-01-01;1;2;3;4;5\n")
    with pytest.raises(DataError) as info:
        read_csv(path, SMALL)
    assert str(info.value) == (
        f"{path} has 6 columns in its header, over the limit of 5. Keep only the columns you need, or raise the limit with SEQCAST_MAX_COLUMNS=<columns>."
    )


def test_cli_reports_a_limit_in_one_line_and_the_variable_raises_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    header = ",".join(f"c{i}" for i in range(20_001))
    path = _csv(tmp_path, "date," + header + "\n")
    start = time.monotonic()
    result = CliRunner().invoke(app, ["train", str(path), "--out", str(tmp_path / "m")])
    assert result.exit_code == ExitCode.USER_ERROR
    assert result.stderr == (
        f"error: {path} has 20002 columns in its header, over the limit of 10000. Keep only the columns you need, or raise the limit with SEQCAST_MAX_COLUMNS=<columns>.\n"
    )
    assert time.monotonic() - start < 10
    monkeypatch.setenv("SEQCAST_MAX_COLUMNS", "30000")
    result = CliRunner().invoke(app, ["train", str(path), "--out", str(tmp_path / "m")])
    assert result.exit_code == ExitCode.USER_ERROR
    assert "has a header but no data rows" in result.stderr
