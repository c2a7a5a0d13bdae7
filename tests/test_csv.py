"""Tests for seqcast.data.csv.read_csv: encodings, delimiters, stdin and error messages."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pandas as pd
import pytest

from seqcast.data.csv import read_csv
from seqcast.errors import DataError, ExitCode


def write(tmp_path: Path, data: bytes | str, name: str = "data.csv") -> Path:
    path = tmp_path / name
    if isinstance(data, str):
        data = data.encode("utf-8")
    path.write_bytes(data)
    return path


def test_reads_every_cell_as_text_with_spreadsheet_row_numbers(
    sample_csv: Path,
) -> None:
    table = read_csv(sample_csv)
    assert list(table.columns) == ["date", "y", "temp"]
    assert len(table) == 200
    assert all(pd.api.types.is_string_dtype(table[c]) for c in table.columns)
    assert table.index.name == "row"
    assert table.index[0] == 2  # the header is row 1
    assert table.index[-1] == 201
    assert table["date"].iloc[0] == "2020-01-01"


def test_accepts_str_path(sample_csv: Path) -> None:
    assert read_csv(str(sample_csv)).shape == (200, 3)


def test_keeps_missing_markers_as_text(tmp_path: Path) -> None:
    table = read_csv(
        write(tmp_path, "date,y\n2020-01-01,NA\n2020-01-02,\n2020-01-03,null\n")
    )
    assert table["y"].tolist() == ["NA", "", "null"]


def test_utf8_bom_is_dropped(tmp_path: Path) -> None:
    table = read_csv(write(tmp_path, b"\xef\xbb\xbfdate,y\n2020-01-01,1\n"))
    assert list(table.columns) == ["date", "y"]


def test_utf16_with_bom_is_decoded(tmp_path: Path) -> None:
    table = read_csv(write(tmp_path, "date\ty\r\n2020-01-01\t1\r\n".encode("utf-16")))
    assert list(table.columns) == ["date", "y"]
    assert table["y"].tolist() == ["1"]


@pytest.mark.parametrize("newline", ["\r\n", "\r", "\n"])
def test_line_endings(tmp_path: Path, newline: str) -> None:
    text = newline.join(["date,y", "2020-01-01,1", "2020-01-02,2", ""])
    table = read_csv(write(tmp_path, text))
    assert table["y"].tolist() == ["1", "2"]
    assert table["date"].tolist() == ["2020-01-01", "2020-01-02"]


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiter_is_sniffed(tmp_path: Path, delimiter: str) -> None:
    text = f"date{delimiter}y{delimiter}temp\n2020-01-01{delimiter}1.5{delimiter}3\n"
    table = read_csv(write(tmp_path, text))
    assert list(table.columns) == ["date", "y", "temp"]
    assert table.iloc[0].tolist() == ["2020-01-01", "1.5", "3"]


def test_semicolon_file_with_decimal_commas_keeps_the_commas(tmp_path: Path) -> None:
    table = read_csv(write(tmp_path, "date;y\n2020-01-01;1,5\n2020-01-02;2,5\n"))
    assert list(table.columns) == ["date", "y"]
    assert table["y"].tolist() == ["1,5", "2,5"]


def test_quoted_fields_may_hold_the_delimiter(tmp_path: Path) -> None:
    text = 'date,"price, usd",note\n2020-01-01,"1,234.5","a ""quoted"" word"\n'
    table = read_csv(write(tmp_path, text))
    assert list(table.columns) == ["date", "price, usd", "note"]
    assert table.iloc[0].tolist() == ["2020-01-01", "1,234.5", 'a "quoted" word']


def test_header_names_are_stripped(tmp_path: Path) -> None:
    table = read_csv(write(tmp_path, " date ,  y\n2020-01-01,1\n"))
    assert list(table.columns) == ["date", "y"]


def test_blank_lines_are_skipped_and_row_numbers_follow_the_file(
    tmp_path: Path,
) -> None:
    text = "\n\ndate,y\n2020-01-01,1\n\n   \n2020-01-02,2\n\n"
    table = read_csv(write(tmp_path, text))
    assert table["y"].tolist() == ["1", "2"]
    assert table.index.tolist() == [4, 7]  # the lines of the file


def test_trailing_delimiters_are_dropped(tmp_path: Path) -> None:
    table = read_csv(write(tmp_path, "date,y,\n2020-01-01,1,\n2020-01-02,2,\n"))
    assert list(table.columns) == ["date", "y"]


def test_nameless_column_with_values_gets_a_position_name(tmp_path: Path) -> None:
    table = read_csv(write(tmp_path, ",date,y\n0,2020-01-01,1\n1,2020-01-02,2\n"))
    assert list(table.columns) == ["column_1", "date", "y"]


def test_short_rows_are_padded_with_empty_cells(tmp_path: Path) -> None:
    table = read_csv(write(tmp_path, "date,y,temp\n2020-01-01,1\n"))
    assert table.iloc[0].tolist() == ["2020-01-01", "1", ""]


# --- standard input ----------------------------------------------------------------


def test_stdin_text_stream(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        sys, "stdin", io.StringIO("date;y\r\n2020-01-01;1\r\n2020-01-02;2\r\n")
    )
    table = read_csv("-")
    assert list(table.columns) == ["date", "y"]
    assert table["y"].tolist() == ["1", "2"]


def test_stdin_binary_buffer_with_bom(monkeypatch: pytest.MonkeyPatch) -> None:
    raw = io.BytesIO(b"\xef\xbb\xbfdate,y\n2020-01-01,1\n")
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(raw, encoding="utf-8"))
    table = read_csv("-")
    assert list(table.columns) == ["date", "y"]


def test_stdin_binary_garbage(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        sys, "stdin", io.TextIOWrapper(io.BytesIO(b"\x00\x01\x02"), encoding="utf-8")
    )
    with pytest.raises(DataError) as info:
        read_csv("-")
    assert (
        str(info.value)
        == "Standard input contains binary data, not CSV text. Export the data as a UTF-8 CSV file first."
    )


def test_stdin_empty(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    with pytest.raises(DataError, match=r"^Standard input is empty\. "):
        read_csv("-")


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_stdin_terminal_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", _Terminal("date,y\n"))
    with pytest.raises(DataError) as info:
        read_csv("-")
    assert (
        str(info.value)
        == "Standard input is a terminal, so '-' has nothing to read. Pipe a CSV file in, e.g. `cat data.csv | seqcast train -`."
    )


def test_a_file_named_dash_in_a_path_is_a_file(tmp_path: Path) -> None:
    path = write(tmp_path, "date,y\n2020-01-01,1\n", name="-")
    assert read_csv(path).shape == (1, 2)


# --- errors ------------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.csv"
    with pytest.raises(DataError) as info:
        read_csv(path)
    assert (
        str(info.value)
        == f"File not found: {path}. Check the path, or use - to read CSV from standard input."
    )
    assert info.value.exit_code == ExitCode.USER_ERROR


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(DataError) as info:
        read_csv(tmp_path)
    assert (
        str(info.value)
        == f"{tmp_path} is a directory, not a CSV file. Give the path of a CSV file."
    )


def test_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, "date,y\n")

    def deny(self: Path, *args: object, **kwargs: object) -> bytes:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "open", deny)  # chmod does not stop root
    with pytest.raises(DataError) as info:
        read_csv(path)
    assert (
        str(info.value)
        == f"Cannot read {path}: Permission denied. Check that the file is readable."
    )


@pytest.mark.parametrize("content", [b"", b"   \n\n\t\n"])
def test_empty_file(tmp_path: Path, content: bytes) -> None:
    path = write(tmp_path, content)
    with pytest.raises(DataError) as info:
        read_csv(path)
    assert (
        str(info.value)
        == f"{path} is empty. Give a CSV file with a header row and at least one data row."
    )


@pytest.mark.parametrize("content", ["date,y\n", "date,y\n\n\n", "date,y\n,\n , \n"])
def test_header_only(tmp_path: Path, content: str) -> None:
    path = write(tmp_path, content)
    with pytest.raises(DataError) as info:
        read_csv(path)
    assert (
        str(info.value)
        == f"{path} has a header but no data rows. Add data rows below the header."
    )


def test_binary_content(tmp_path: Path) -> None:
    path = write(tmp_path, b"date,y\n\x00\x00\x01\x02")
    with pytest.raises(DataError) as info:
        read_csv(path)
    assert (
        str(info.value)
        == f"{path} contains binary data, not CSV text. Export the data as a UTF-8 CSV file first."
    )


def test_excel_workbook(tmp_path: Path) -> None:
    path = write(tmp_path, b"PK\x03\x04\x14\x00\x06\x00", name="data.xlsx")
    with pytest.raises(DataError) as info:
        read_csv(path)
    assert (
        str(info.value)
        == f"{path} is a zip archive (an .xlsx workbook?), not CSV text. Export the data as a UTF-8 CSV file first."
    )


def test_not_utf8(tmp_path: Path) -> None:
    path = write(tmp_path, "date,température\n2020-01-01,1\n".encode("latin-1"))
    with pytest.raises(DataError) as info:
        read_csv(path)
    assert (
        str(info.value)
        == f"{path} is not UTF-8 text: byte 0xe9 at offset 9 cannot be decoded. Save the file as UTF-8 CSV."
    )


def test_single_column_of_values(tmp_path: Path) -> None:
    path = write(tmp_path, "y\n1\n2\n3\n")
    with pytest.raises(DataError) as info:
        read_csv(path)
    assert (
        str(info.value)
        == f"{path} has a single column ('y'): no , ; tab or | delimiter was found. seqcast needs a date column and a value column; add a date column or fix the delimiter."
    )


def test_single_named_column_after_trailing_delimiters(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"has a single column \('y'\)"):
        read_csv(write(tmp_path, "y,\n1,\n2,\n"))


def test_ragged_row_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "date,y\n2020-01-01,1\n2020-01-02,2,3\n")
    with pytest.raises(DataError) as info:
        read_csv(path)
    assert (
        str(info.value)
        == f"{path} line 3 has 3 fields but the header has 2. Make every row have as many fields as the header (quote values that contain the delimiter)."
    )


def test_duplicate_header_names(tmp_path: Path) -> None:
    path = write(tmp_path, "date,y, y\n2020-01-01,1,2\n")
    with pytest.raises(DataError) as info:
        read_csv(path)
    assert (
        str(info.value)
        == f"{path} has two columns named 'y'. Rename one of them so every header name is unique."
    )


def test_unterminated_quote_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, 'date,y\n2020-01-01,1\n2020-01-02,"2\n2020-01-03,3\n')
    with pytest.raises(DataError) as info:
        read_csv(path)
    assert (
        str(info.value)
        == f'{path} has a quote (") on line 3 that is never closed. Close the quote, or remove it.'
    )


def test_stdin_fed_by_typer_cli_runner() -> None:
    import typer
    from typer.testing import CliRunner

    app = typer.Typer()

    @app.command()
    def show(source: str) -> None:
        table = read_csv(source)
        typer.echo(f"{list(table.columns)} {len(table)}")

    result = CliRunner().invoke(
        app, ["-"], input="\ufeffdate;y\r\n2020-01-01;1\r\n2020-01-02;2\r\n"
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "['date', 'y'] 2"
