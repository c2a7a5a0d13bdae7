"""Read a CSV file or standard input into a raw table of strings, with one-line errors."""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

import numpy as np
import pandas as pd

from seqcast.errors import ConfigError, DataError

STDIN = "-"
DELIMITERS = (",", ";", "\t", "|")
_SNIFF_LINES = 50
_BINARY_MAGIC = {
    b"PK\x03\x04": "a zip archive (an .xlsx workbook?)",
    b"\x1f\x8b": "gzip-compressed",
    b"%PDF": "a PDF document",
    b"\xd0\xcf\x11\xe0": "an old Excel (.xls) workbook",
}
_FIELDS_RE = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")
_QUOTE_RE = re.compile(r"EOF inside string starting at row (\d+)")


def read_csv(source: str | Path, limits: InputLimits | None = None) -> pd.DataFrame:
    """Read a delimited text table with every cell kept as a string.

    The delimiter (``,`` ``;`` tab or ``|``) is sniffed from the first lines, a UTF-8
    (or UTF-16) byte-order mark is dropped, CRLF and CR line endings are accepted and
    quoted fields may contain delimiters. Header names are stripped of surrounding
    whitespace; an empty header name becomes ``column_<n>`` (1-based position), and a
    nameless column with no values (trailing delimiters) is dropped. Wholly blank
    lines are skipped.

    Input is bounded (see :class:`InputLimits`): the size, the length of every line and
    the number of header fields are checked while reading, before anything is parsed.

    Args:
        source: Path of the file, or ``"-"`` to read standard input.
        limits: The bounds; default :meth:`InputLimits.from_env`.

    Returns:
        The table as a copy with ``str`` columns (missing cells are ``""``). Its
        integer index, named ``row``, is the row number a spreadsheet or editor
        shows for each record: the header is row 1, so the first data row is row 2
        (a quoted field spanning several lines shifts later numbers). ``frame.prepare``
        uses it to name bad cells.

    Raises:
        DataError: If the file is missing, a directory, unreadable, past a limit,
            empty, binary, not UTF-8, has no data rows, a single column, ragged rows
            or repeated header names.
        ConfigError: If a limit's environment variable is not a positive number.
    """
    limits = limits or InputLimits.from_env()
    name, data = _read_source(source, limits)
    text = _decode(data, name)
    if not text.strip():
        raise DataError(
            f"{name} is empty. Give a CSV file with a header row and at least one data row."
        )
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = list(
        islice((line for line in io.StringIO(text) if line.strip()), _SNIFF_LINES)
    )
    _check_columns(name, lines[0], DELIMITERS, limits)
    delimiter = _sniff_delimiter(lines)
    try:
        header_fields = next(csv.reader([lines[0]], delimiter=delimiter))
    except csv.Error:
        header_fields = lines[0].split(delimiter)
    names = [field.strip() for field in header_fields]
    if len(names) < 2:
        shown = names[0] if names else ""
        raise DataError(
            f"{name} has a single column ('{_shorten(shown)}'): no , ; tab or | delimiter was found. seqcast needs a date column and a value column; add a date column or fix the delimiter."
        )
    table = _parse(text, delimiter, len(names), name)
    nonblank = (
        table.apply(lambda column: column.str.strip() != "").any(axis=1).to_numpy()
    )
    first = int(nonblank.argmax())  # the header row
    table = table.iloc[first + 1 :][nonblank[first + 1 :]]
    if table.empty:
        raise DataError(
            f"{name} has a header but no data rows. Add data rows below the header."
        )
    names = _name_columns(names, table, name)
    table.columns = pd.Index(names)
    result: pd.DataFrame = table[[c for c in names if c]]
    result.index = pd.Index(result.index.to_numpy() + 1, name="row")
    return result


@dataclass(frozen=True, slots=True)
class InputLimits:
    """Bounds on what :func:`read_csv` accepts, so hostile input fails fast and small.

    Attributes:
        max_bytes: Largest file or standard input, in bytes (``SEQCAST_MAX_CSV_BYTES``).
        max_columns: Most header fields (``SEQCAST_MAX_COLUMNS``).
        max_line_bytes: Longest physical line, in bytes (``SEQCAST_MAX_LINE_BYTES``).
    """

    max_bytes: int = 2 * 1024**3
    max_columns: int = 10_000
    max_line_bytes: int = 1024**2

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> InputLimits:
        """Read the limits from the environment, the defaults where a variable is unset.

        Raises:
            ConfigError: If a variable is set to something other than a positive whole number.
        """
        environ = os.environ if environ is None else environ
        values: dict[str, int] = {}
        for field_name, variable in _LIMIT_VARIABLES.items():
            raw = environ.get(variable, "").strip()
            if not raw:
                continue
            try:
                value = int(raw.replace("_", ""))
            except ValueError:
                value = 0
            if value < 1:
                raise ConfigError(
                    f"{variable}={_shorten(raw)!r} is not a positive whole number of {'columns' if field_name == 'max_columns' else 'bytes'}. Set it to a number such as {getattr(cls(), field_name)}, or unset it."
                )
            values[field_name] = value
        return cls(**values)


_LIMIT_VARIABLES = {
    "max_bytes": "SEQCAST_MAX_CSV_BYTES",
    "max_columns": "SEQCAST_MAX_COLUMNS",
    "max_line_bytes": "SEQCAST_MAX_LINE_BYTES",
}
_CHUNK = 1 << 20


def _read_source(source: str | Path, limits: InputLimits) -> tuple[str, bytes]:
    """Return a display name and the raw bytes, refusing input past ``limits`` early."""
    if isinstance(source, str) and source == STDIN:
        stream = sys.stdin
        if stream is None:
            raise DataError(
                "Standard input is closed, so '-' has nothing to read. Pipe a CSV file in, e.g. `cat data.csv | seqcast train -`."
            )
        if stream.isatty():
            raise DataError(
                "Standard input is a terminal, so '-' has nothing to read. Pipe a CSV file in, e.g. `cat data.csv | seqcast train -`."
            )
        buffer = getattr(stream, "buffer", None)
        name = "Standard input"
        try:
            if buffer is not None:
                return name, _read_bounded(buffer.read, name, limits)
            return name, _read_bounded(
                lambda n: stream.read(n).encode("utf-8", "surrogatepass"), name, limits
            )
        except UnicodeDecodeError:
            raise DataError(
                "Standard input is not UTF-8 text. Save the data as a UTF-8 CSV file."
            ) from None
        except OSError as exc:
            raise DataError(
                f"Cannot read standard input: {exc.strerror or exc}. Pass a file path instead of '-'."
            ) from None
    path = Path(source)
    try:
        if path.is_dir():
            raise DataError(
                f"{path} is a directory, not a CSV file. Give the path of a CSV file."
            )
        with path.open("rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size > limits.max_bytes:
                raise _too_big(str(path), f"{size} bytes", limits)
            return str(path), _read_bounded(handle.read, str(path), limits)
    except FileNotFoundError:
        raise DataError(
            f"File not found: {path}. Check the path, or use - to read CSV from standard input."
        ) from None
    except OSError as exc:
        raise DataError(
            f"Cannot read {path}: {exc.strerror or exc}. Check that the file is readable."
        ) from None


def _read_bounded(
    read: Callable[[int], bytes], name: str, limits: InputLimits
) -> bytes:
    """Read in chunks, stopping as soon as the size or a line passes its limit.

    A line is what lies between two line breaks (LF or CR), so a quoted field
    spanning several lines counts each of its lines separately.

    Raises:
        DataError: Naming the limit, its value and how to raise it.
    """
    chunks: list[bytes] = []
    total = 0
    line_no = 1  # the physical line the current run of bytes belongs to
    run = 0  # bytes since the last line break
    while True:
        chunk = read(_CHUNK)
        if not chunk:
            break
        total += len(chunk)
        if total > limits.max_bytes:
            raise _too_big(name, f"more than {limits.max_bytes} bytes", limits)
        breaks = np.flatnonzero(
            np.isin(np.frombuffer(chunk, dtype=np.uint8), _LINE_BREAKS)
        )
        if not len(breaks):
            run += len(chunk)
        else:
            gaps = np.diff(breaks, prepend=-1) - 1
            gaps[0] += run
            longest = int(gaps.argmax())
            if gaps[longest] > limits.max_line_bytes:
                newlines = chunk[: breaks[longest]].count(b"\n")
                raise _too_long(name, line_no + newlines, limits)
            line_no += chunk.count(b"\n")
            run = len(chunk) - 1 - int(breaks[-1])
        if run > limits.max_line_bytes:
            raise _too_long(name, line_no, limits)
        chunks.append(chunk)
    return b"".join(chunks)


_LINE_BREAKS = np.array([10, 13], dtype=np.uint8)


def _too_big(name: str, size: str, limits: InputLimits) -> DataError:
    return DataError(
        f"{name} is {size}, over the input limit of {limits.max_bytes} bytes. Raise it with SEQCAST_MAX_CSV_BYTES=<bytes> if the file is meant to be this large."
    )


def _too_long(name: str, line: int, limits: InputLimits) -> DataError:
    return DataError(
        f"{name} line {line} is longer than the limit of {limits.max_line_bytes} bytes per line. Check that it is a CSV file with one record per line, or raise the limit with SEQCAST_MAX_LINE_BYTES=<bytes>."
    )


def _check_columns(
    name: str, line: str, delimiters: Sequence[str], limits: InputLimits
) -> None:
    """Refuse a header with more fields than ``limits.max_columns`` (any delimiter)."""
    fields = max(line.count(d) for d in delimiters) + 1
    if fields > limits.max_columns:
        raise DataError(
            f"{name} has {fields} columns in its header, over the limit of {limits.max_columns}. Keep only the columns you need, or raise the limit with SEQCAST_MAX_COLUMNS=<columns>."
        )


def _decode(data: bytes | str, name: str) -> str:
    """Decode bytes as UTF-8 (or BOM-marked UTF-16), refusing binary content."""
    if isinstance(data, str):
        text = data
    else:
        if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            try:
                text = data.decode("utf-16")
            except UnicodeDecodeError:
                raise DataError(
                    f"{name} starts with a UTF-16 mark but is not valid UTF-16 text. Save it as a UTF-8 CSV file."
                ) from None
        else:
            for magic, kind in _BINARY_MAGIC.items():
                if data.startswith(magic):
                    raise DataError(
                        f"{name} is {kind}, not CSV text. Export the data as a UTF-8 CSV file first."
                    )
            if b"\x00" in data[:65536]:
                raise DataError(
                    f"{name} contains binary data, not CSV text. Export the data as a UTF-8 CSV file first."
                )
            try:
                text = data.decode("utf-8-sig")
            except UnicodeDecodeError as exc:
                bad = data[exc.start : exc.start + 1].hex()
                raise DataError(
                    f"{name} is not UTF-8 text: byte 0x{bad} at offset {exc.start} cannot be decoded. Save the file as UTF-8 CSV."
                ) from None
    text = text.removeprefix("\ufeff")
    if "\x00" in text:
        raise DataError(
            f"{name} contains binary data, not CSV text. Export the data as a UTF-8 CSV file first."
        )
    return text


def _sniff_delimiter(lines: list[str]) -> str:
    """Pick the delimiter giving the most columns with the same count on every line.

    A delimiter whose count is consistent across the sampled lines beats one that is
    not; among those, more header columns win; ties keep the order of ``DELIMITERS``.
    """
    best = DELIMITERS[0]
    best_score = (False, 1)
    for delimiter in DELIMITERS:
        try:
            counts = [len(row) for row in csv.reader(lines, delimiter=delimiter)]
        except csv.Error:
            continue
        if not counts or counts[0] < 2:
            continue
        score = (all(c == counts[0] for c in counts), counts[0])
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _parse(text: str, delimiter: str, n_columns: int, name: str) -> pd.DataFrame:
    """Parse the whole text, header line included, as rows of strings."""
    try:
        table = pd.read_csv(
            io.StringIO(text),
            sep=delimiter,
            header=None,
            names=list(range(n_columns)),
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=False,
            quotechar='"',
            engine="c",
        )
    except pd.errors.EmptyDataError:
        raise DataError(
            f"{name} is empty. Give a CSV file with a header row and at least one data row."
        ) from None
    except pd.errors.ParserError as exc:
        match = _FIELDS_RE.search(str(exc))
        if match:
            expected, line, saw = match.groups()
            raise DataError(
                f"{name} line {line} has {saw} fields but the header has {expected}. Make every row have as many fields as the header (quote values that contain the delimiter)."
            ) from None
        quote = _QUOTE_RE.search(str(exc))
        if quote:
            line = int(quote.group(1)) + 1
            raise DataError(
                f'{name} has a quote (") on line {line} that is never closed. Close the quote, or remove it.'
            ) from None
        detail = (
            str(exc).strip().splitlines()[-1] if str(exc).strip() else "parse error"
        )
        raise DataError(
            f"Cannot parse {name} as CSV: {detail.rstrip('.')}. Check the quoting and the delimiter."
        ) from None
    except (ValueError, OverflowError) as exc:  # pragma: no cover - defensive
        raise DataError(
            f"Cannot parse {name} as CSV: {exc}. Check the quoting and the delimiter."
        ) from None
    return table.fillna("").astype(str)


def _name_columns(names: list[str], table: pd.DataFrame, name: str) -> list[str]:
    """Name empty headers ``column_<n>`` (or ``""`` to drop them) and refuse repeats."""
    out: list[str] = []
    for position, column in enumerate(names):
        if column:
            out.append(column)
        elif (table.iloc[:, position].str.strip() == "").all():
            out.append("")  # trailing delimiter: nothing here
        else:
            out.append(f"column_{position + 1}")
    seen: set[str] = set()
    for column in out:
        if column and column in seen:
            raise DataError(
                f"{name} has two columns named '{_shorten(column)}'. Rename one of them so every header name is unique."
            )
        seen.add(column)
    if sum(1 for c in out if c) < 2:
        kept = next((c for c in out if c), "")
        raise DataError(
            f"{name} has a single column ('{_shorten(kept)}'): no , ; tab or | delimiter was found. seqcast needs a date column and a value column; add a date column or fix the delimiter."
        )
    return out


def _shorten(text: str, limit: int = 40) -> str:
    """Trim long user text for a one-line error message, escaping control characters."""
    text = re.sub(r"[\x00-\x1f\x7f]", lambda m: repr(m.group())[1:-1], text)
    return text if len(text) <= limit else text[: limit - 1] + "…"
