"""Turn a raw table into validated series: dates, order, duplicates, frequency, gaps, values."""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from pandas.api.types import (
    is_bool_dtype,
    is_datetime64_any_dtype,
    is_integer_dtype,
    is_numeric_dtype,
)
from pandas.tseries.offsets import BaseOffset

from seqcast.config import DataConfig, DuplicatePolicy, FillPolicy
from seqcast.data.calendar import iso_dates
from seqcast.data.dates import (
    _MAX_FILL_ROWS,
    _NUMBER_RE,
    _ROWS,
    MISSING_TOKENS,
    _count,
    _infer_freq,
    _parse_date_text,
    _parse_dates,
    _q,
    _range_size,
    _resolve_freq,
)
from seqcast.errors import ConfigError, DataError

__all__ = ["MISSING_TOKENS", "Series", "SeriesSet", "future_index", "prepare"]

_DATE_WORDS = frozenset({"date", "time", "datetime", "timestamp", "ds", "dt", "day", "week", "month", "quarter", "year", "period"})  # fmt: skip


class MissingColumnError(DataError):
    """A column the options name is not in the table (``column``; ``columns`` lists them)."""

    def __init__(self, message: str, *, column: str, columns: str) -> None:
        super().__init__(message)
        self.column = column
        self.columns = columns


class MissingValuesError(DataError):
    """Missing values with no fill policy; ``found`` says where, without the advice."""

    def __init__(self, message: str, *, found: str) -> None:
        super().__init__(message)
        self.found = found


@dataclass(frozen=True, slots=True)
class Series:
    """One validated series.

    Attributes:
        id: The series' value in the id column, or the target name for a single series.
        data: Float64 frame indexed by a tz-naive, sorted, unique DatetimeIndex named
            ``date`` that is regular at the set's ``freq``; columns ``[target, *features]``,
            with no NaN or inf.
    """

    id: str
    data: pd.DataFrame


@dataclass(frozen=True, slots=True)
class SeriesSet:
    """Series ready for scaling and windowing, with a record of what was done to them.

    Attributes:
        series: One or more series, in order of first appearance in the table.
        target: Name of the column to forecast (column 0 of every ``Series.data``).
        features: Names of the covariate columns, in order.
        freq: Pandas frequency alias as pandas spells it (``D``, ``MS``, ``W-SUN``...).
        date_col: Name of the source column that held the dates.
        notes: Human-readable notes on what was changed (filled, sorted, trimmed...).
    """

    series: tuple[Series, ...]
    target: str
    features: tuple[str, ...]
    freq: str
    date_col: str
    notes: tuple[str, ...]

    def single(self, series_id: str | None = None) -> Series:
        """Return one series: the only one, or the one whose id is ``series_id``.

        Raises:
            ConfigError: If the set holds several series and ``series_id`` is None.
            DataError: If no series has id ``series_id``.
        """
        ids = [s.id for s in self.series]
        if series_id is None:
            if len(self.series) == 1:
                return self.series[0]
            raise ConfigError(
                f"The data holds {len(ids)} series: {_listing(ids)}. Use --series to pick one."
            )
        for item in self.series:
            if item.id == series_id:
                return item
        raise DataError(
            f"Series {_q(series_id)} not found. Series: {_listing(ids)}.{_suggest(series_id, ids)} Use --series with one of those."
        )


def prepare(raw: pd.DataFrame, config: DataConfig) -> SeriesSet:
    """Validate a raw table and turn it into regular, gap-free float series.

    Steps: find the date, target, feature and id columns; parse dates and numbers
    (bad cells are reported by row, counting the header as row 1, as a spreadsheet
    does); sort by date; resolve repeated timestamps; set or infer the frequency;
    add rows for missing timestamps; apply the fill policy. ``FillPolicy.DROP`` only
    trims leading and trailing incomplete rows, so the index stays regular.

    Args:
        raw: Table from a source, cells as strings (``data.csv.read_csv``) or
            already typed; a DatetimeIndex is used as the date column if no column is named.
        config: Column names and policies.

    Returns:
        The validated series, with notes on every change made.

    Raises:
        DataError: If the data cannot be used as asked; the message names the column,
            row and value, and the option that fixes it.
        ConfigError: If ``freq`` is not a pandas alias or ``series`` lacks ``id_col``.
    """
    table = _normalise(raw, config.date_col)
    rows = _row_labels(table)
    date_col, target = _choose_columns(table, config)
    value_cols = [target, *config.features]
    notes: list[str] = []
    dates = _parse_dates(table[date_col], date_col, rows, notes)
    values = pd.DataFrame(
        {c: _parse_numbers(table[c], c, rows) for c in value_cols}, index=dates
    )
    values.index.name = "date"
    groups = _groups(table, config, target, rows)
    ordered = [
        (
            sid,
            *_order(
                values.iloc[pos],
                rows[pos],
                date_col,
                config.duplicates,
                _where(sid, len(groups)),
                notes,
            ),
        )
        for sid, pos in groups
    ]
    for sid, frame, _ in ordered:
        if len(frame) < 2:
            raise DataError(
                f"The series{_where(sid, len(groups))} has {_count(len(frame), 'row')}; at least 2 are needed. Load more history."
            )
    offset = (
        _resolve_freq(config.freq)
        if config.freq
        else _infer_freq(
            [pd.DatetimeIndex(f.index) for _, f, _ in ordered], date_col, notes
        )
    )
    series = tuple(
        Series(
            sid,
            _regularise(
                frame,
                row,
                offset,
                config.fill,
                date_col,
                _where(sid, len(groups)),
                notes,
            ),
        )
        for sid, frame, row in ordered
    )
    notes += _constant_notes(series, target)
    return SeriesSet(
        series,
        target,
        tuple(config.features),
        offset.freqstr,
        date_col,
        tuple(dict.fromkeys(notes)),
    )


def _choose_columns(table: pd.DataFrame, config: DataConfig) -> tuple[str, str]:
    """Return the date and target columns: those named in ``config``, else detected.

    Raises:
        DataError: If a named column is missing.
        ConfigError: If one column is given two roles, or ``series`` lacks ``id_col``.
    """
    columns = [str(c) for c in table.columns]
    named = [
        ("--date-col", config.date_col),
        ("--target", config.target),
        ("--id-col", config.id_col),
    ]
    named += [("--features", f) for f in config.features]
    for flag, column in named:
        if column is not None and column not in columns:
            raise MissingColumnError(
                f"Column {_q(column)} not found. Columns: {_listing(columns)}.{_suggest(column, columns)} Use {flag} with one of those.",
                column=column,
                columns=_listing(columns),
            )
    if config.series is not None and config.id_col is None:
        raise ConfigError(
            f"--series {config.series} needs --id-col naming the column that holds the series ids. Add --id-col."
        )
    taken = {
        c for c in (config.target, config.id_col, *config.features) if c is not None
    }
    date_col = config.date_col or _detect_date_column(
        table, [c for c in columns if c not in taken]
    )
    for flag, column in named[1:]:
        if column == date_col:
            raise ConfigError(
                f"Column {_q(date_col)} holds the dates, so it cannot also be given to {flag}. Pick another column."
            )
    if config.id_col is not None and config.id_col in (config.target, *config.features):
        raise ConfigError(
            f"Column {_q(config.id_col)} is the id column, so it cannot also be the target or a feature. Pick another column."
        )
    taken |= {date_col}
    target = config.target or _detect_target(
        table, [c for c in columns if c not in taken]
    )
    return date_col, target


def _constant_notes(series: Sequence[Series], target: str) -> list[str]:
    """Return a note for every series whose target never changes."""
    notes = []
    for item in series:
        target_values = item.data[target].to_numpy()
        if target_values.min() == target_values.max():
            notes.append(
                f"{_prefix(item.id, len(series))}target {_q(target)} is constant ({target_values[0]:g})"
            )
    return notes


def future_index(last: pd.Timestamp, freq: str, steps: int) -> pd.DatetimeIndex:
    """Return the ``steps`` timestamps that follow ``last`` at ``freq``.

    For ``last = 2024-03-01`` and ``freq = "MS"``, ``steps = 2`` gives 2024-04-01 and
    2024-05-01. A ``last`` that is off the frequency's grid rolls to the next stamp on it.

    Raises:
        ConfigError: If ``freq`` is not a pandas alias or ``steps`` is negative.
    """
    if steps < 0:
        raise ConfigError(f"steps={steps} must be 0 or more. Use --steps 1 or more.")
    offset = _resolve_freq(freq)
    return pd.date_range(
        start=pd.Timestamp(last) + offset, periods=steps, freq=offset, name="date"
    )


# --- columns -----------------------------------------------------------------------


def _normalise(raw: pd.DataFrame, date_col: str | None) -> pd.DataFrame:
    """Give the table string column labels, moving a DatetimeIndex into a column."""
    table = raw
    if isinstance(raw.index, pd.DatetimeIndex):
        name = str(raw.index.name) if raw.index.name is not None else "date"
        if date_col in (None, name) and name not in [str(c) for c in raw.columns]:
            table = raw.reset_index(names=name)
    labels = [str(c).strip() for c in table.columns]
    repeated = [c for c, n in Counter(labels).items() if n > 1]
    if repeated:
        raise DataError(
            f"The table has two columns named {_q(repeated[0])}. Rename one of them so every header name is unique."
        )
    if table.empty:
        raise DataError("The table has no data rows. Give data rows below the header.")
    table = table.copy()
    table.columns = pd.Index(labels)
    return table


def _row_labels(table: pd.DataFrame) -> np.ndarray:
    """Spreadsheet row numbers (header = 1): read_csv's ``row`` index, else position + 2."""
    if table.index.name == "row" and is_integer_dtype(table.index.dtype):
        return np.asarray(table.index, dtype=np.int64)
    return np.arange(len(table), dtype=np.int64) + 2


def _detect_date_column(table: pd.DataFrame, candidates: list[str]) -> str:
    """Find the one column whose values are dates (or years, in a date-named column).

    Among several, text dates beat numbers (a ``year`` column beside a ``date`` one),
    then a date-like name decides. If no values look like dates, the one column named
    like dates is used, so that parsing reports its first bad value.
    """
    hits = [
        c for c in candidates if _sample_is_dates(table[c], _looks_like_date_name(c))
    ]
    text = [c for c in hits if not _all_numbers(table[c])]
    for pool in (hits, text, [c for c in text if _looks_like_date_name(c)]):
        if len(pool) == 1:
            return pool[0]
    if hits:
        raise DataError(
            f"Several columns could hold the dates: {_listing(hits)}. Use --date-col to pick one."
        )
    named = [c for c in candidates if _looks_like_date_name(c)]
    if len(named) == 1:
        return named[0]  # parsing it names the first value that is not a date
    raise DataError(
        f"No date column found. Columns: {_listing(candidates)}. Use --date-col to name the column that holds the dates."
    )


def _all_numbers(values: pd.Series) -> bool:
    if is_datetime64_any_dtype(values.dtype):
        return False
    if is_numeric_dtype(values.dtype):
        return True
    text = values.astype(str).str.strip()
    return bool(text[text != ""].iloc[:25].str.fullmatch(_NUMBER_RE).all())


def _looks_like_date_name(column: str) -> bool:
    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", column).lower()
    tokens = [t for t in re.split(r"[^a-z0-9]+", spaced) if t]
    return any(
        t in _DATE_WORDS
        or t.startswith(("date", "time"))
        or t.endswith(("date", "time", "stamp"))
        for t in tokens
    )


def _sample_is_dates(values: pd.Series, by_name: bool) -> bool:
    if is_datetime64_any_dtype(values.dtype):
        return True
    if is_numeric_dtype(values.dtype) and not by_name:
        return False
    text = values.astype(str).str.strip()
    text = text[text != ""]
    sample = pd.concat([text.iloc[:20], text.iloc[-5:]])
    if sample.empty:
        return False
    if not by_name and sample.str.fullmatch(_NUMBER_RE).all():
        return False  # plain numbers count as dates only in a column named like one
    parsed, _ = _parse_date_text(sample)
    share = 1.0 - float(np.mean(np.asarray(parsed.isna())))
    return share >= (0.5 if by_name else 0.9)


def _detect_target(table: pd.DataFrame, candidates: list[str]) -> str:
    """Find the one column whose values are mostly numbers."""
    numeric = [c for c in candidates if _numeric_share(table[c]) >= 0.5]
    if len(numeric) == 1:
        return numeric[0]
    if numeric:
        raise DataError(
            f"Several numeric columns could be the target: {_listing(numeric)}. Use --target to pick one (and --features to feed others to the model)."
        )
    raise DataError(
        f"No numeric column to forecast. Columns: {_listing(candidates)}. Use --target to name the column to forecast."
    )


def _numeric_share(values: pd.Series) -> float:
    if is_numeric_dtype(values.dtype) and not is_bool_dtype(values.dtype):
        return 1.0
    text = values.astype(str).str.strip()
    present = text[~text.str.lower().isin(MISSING_TOKENS)]
    if present.empty:
        return 0.0
    numbers = pd.to_numeric(present.to_numpy(dtype=object), errors="coerce")
    return float(np.mean(~np.isnan(np.asarray(numbers, dtype=np.float64))))


def _groups(
    table: pd.DataFrame, config: DataConfig, target: str, rows: np.ndarray
) -> list[tuple[str, np.ndarray]]:
    """Row positions of each series, in order of first appearance; one named after the target if no id column."""
    if config.id_col is None:
        return [(target, np.arange(len(table)))]
    ids = table[config.id_col].astype(str).str.strip().to_numpy(dtype=object)
    empty = np.flatnonzero(ids == "")
    if empty.size:
        raise DataError(
            f"Column {_q(config.id_col)} has an empty id at row {rows[empty[0]]} {_ROWS}. Fill in the id or remove the row."
        )
    codes, uniques = pd.factorize(ids)
    order = [str(u) for u in uniques]
    by_code = np.argsort(codes, kind="stable")
    positions = np.split(by_code, np.cumsum(np.bincount(codes))[:-1])
    if config.series is not None:
        if config.series not in order:
            raise DataError(
                f"Series {_q(config.series)} not found in column {_q(config.id_col)}. Series: {_listing(order)}.{_suggest(config.series, order)} Use --series with one of those."
            )
        return [(config.series, positions[order.index(config.series)])]
    return [(sid, positions[k]) for k, sid in enumerate(order)]


# --- values ------------------------------------------------------------------------


def _parse_numbers(values: pd.Series, column: str, rows: np.ndarray) -> np.ndarray:
    """Parse a column as float64; missing tokens become NaN, anything else is an error."""
    if is_numeric_dtype(values.dtype) and not is_bool_dtype(values.dtype):
        numbers = values.to_numpy(dtype=np.float64, na_value=np.nan)
        text = values.astype(str).to_numpy(dtype=object)
        bad = np.zeros(len(numbers), dtype=bool)
    else:
        stripped = values.astype(str).str.strip()
        text = stripped.to_numpy(dtype=object)
        missing = stripped.str.lower().isin(MISSING_TOKENS).to_numpy()
        numbers = pd.to_numeric(np.where(missing, "nan", text), errors="coerce").astype(
            np.float64
        )
        bad = np.isnan(numbers) & ~missing
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"Column {_q(column)} has non-numeric value {_q(text[i])} at row {rows[i]} {_ROWS}. {_number_hint(text[i])}"
        )
    infinite = np.isinf(numbers)
    if infinite.any():
        i = int(np.flatnonzero(infinite)[0])
        raise DataError(
            f"Column {_q(column)} has infinite value {_q(text[i])} at row {rows[i]} {_ROWS}. Replace it with a number, or empty the cell to mark it missing."
        )
    if np.isnan(numbers).all():
        raise DataError(
            f"Column {_q(column)} has no values: every cell is empty or NA. Pick a column that holds numbers."
        )
    return numbers


def _number_hint(value: str) -> str:
    if re.fullmatch(r"[+-]?\d+,\d+", value):
        return "Use a dot as the decimal separator, or fix the value."
    if re.fullmatch(r"[+-]?\d{1,3}(,\d{3})+(\.\d+)?", value):
        return "Remove the thousands separators, or fix the value."
    return "Fix the value or remove the row."


# --- order and gaps ----------------------------------------------------------------


def _order(
    frame: pd.DataFrame,
    rows: np.ndarray,
    date_col: str,
    policy: DuplicatePolicy,
    where: str,
    notes: list[str],
) -> tuple[pd.DataFrame, np.ndarray]:
    """Sort by date (stably) and resolve repeated timestamps by ``policy``."""
    prefix = f"{where[4:]}: " if where else ""
    if not frame.index.is_monotonic_increasing:
        order = np.argsort(frame.index.to_numpy(), kind="stable")
        frame, rows = frame.iloc[order], rows[order]
        notes.append(
            f"{prefix}sorted the rows by date (the input was not in date order)"
        )
    repeated = frame.index.duplicated(keep=False)
    if not repeated.any():
        return frame, rows
    stamps = frame.index[repeated]
    n_extra = int(frame.index.duplicated().sum())
    if policy is DuplicatePolicy.ERROR:
        first_rows = rows[np.flatnonzero(frame.index == stamps[0])[:2]]
        raise DataError(
            f"Column {_q(date_col)} repeats {_count(stamps.nunique(), 'timestamp')}{where}; the first is {iso_dates([stamps[0]], sep=' ')[0]} at rows {first_rows[0]} and {first_rows[1]} {_ROWS}. Use --duplicates first, last or mean to combine them, or remove the repeats."
        )
    if policy is DuplicatePolicy.MEAN:
        keep = ~frame.index.duplicated(keep="first")
        counts = frame.notna().groupby(level=0).transform("sum")
        # Sum of x / n, not sum(x) / n: it cannot overflow for values near 1.8e308.
        frame = (frame / counts).groupby(level=0, sort=True).sum(min_count=1)
        rows = rows[keep]
    else:
        keep = ~frame.index.duplicated(
            keep="first" if policy is DuplicatePolicy.FIRST else "last"
        )
        frame, rows = frame[keep], rows[keep]
    notes.append(
        f"{prefix}combined {_count(n_extra, 'extra row')} with repeated timestamps in {_q(date_col)} (duplicates={policy.value})"
    )
    return frame, rows


def _regularise(
    frame: pd.DataFrame,
    rows: np.ndarray,
    offset: BaseOffset,
    fill: FillPolicy,
    date_col: str,
    where: str,
    notes: list[str],
) -> pd.DataFrame:
    """Reindex to the full range at ``offset`` and apply the fill policy."""
    prefix = f"{where[4:]}: " if where else ""
    first, last = frame.index[0], frame.index[-1]
    size = _range_size(first, last, offset)
    if size > max(_MAX_FILL_ROWS, 100 * len(frame)):
        raise DataError(
            f"The dates in {_q(date_col)}{where} run from {iso_dates([first], sep=' ')[0]} to {iso_dates([last], sep=' ')[0]}, which at freq={offset.freqstr} needs {size} rows for {len(frame)} dates. Check the dates, or use a coarser --freq."
        )
    full = pd.date_range(first, last, freq=offset, name="date")
    off_grid = np.flatnonzero(~frame.index.isin(full))
    if off_grid.size:
        i = int(off_grid[0])
        raise DataError(
            f"Dates in {_q(date_col)}{where} do not fall on freq={offset.freqstr}: {iso_dates([frame.index[i]], sep=' ')[0]} at row {rows[i]} {_ROWS} is off that grid. Use a --freq that matches the dates, or leave --freq out to infer it."
        )
    frame = frame.reindex(full)
    n_gaps = len(full) - len(rows)
    missing = frame.isna().sum()
    if n_gaps:
        notes.append(
            f"{prefix}added {_count(n_gaps, 'row')} for missing timestamps at freq={offset.freqstr}"
        )
    if int(missing.sum()):
        counts = ", ".join(f"{int(n)} in {_q(str(c))}" for c, n in missing.items() if n)
        first_missing = frame.index[
            np.flatnonzero(frame.isna().any(axis=1).to_numpy())[0]
        ]
        if fill is FillPolicy.NONE:
            gaps = (
                f"; {_count(n_gaps, 'row')} added for missing timestamps at freq={offset.freqstr}"
                if n_gaps
                else ""
            )
            found = f"Found missing values{where}: {counts} (first at {iso_dates([first_missing], sep=' ')[0]}{gaps})"
            raise MissingValuesError(
                f"{found}. Use --fill ffill, bfill, interpolate, zero or drop to fill or drop them.",
                found=found,
            )
        if fill is FillPolicy.ZERO:
            frame = frame.fillna(0.0)
        elif fill is FillPolicy.FFILL:
            frame = frame.ffill()
        elif fill is FillPolicy.BFILL:
            frame = frame.bfill()
        elif fill is FillPolicy.INTERPOLATE:
            frame = frame.interpolate(method="linear", limit_area="inside")
        filled = missing - frame.isna().sum()
        if int(filled.sum()):
            done = ", ".join(
                f"{int(n)} in {_q(str(c))}" for c, n in filled.items() if n
            )
            notes.append(
                f"{prefix}filled {_count(int(filled.sum()), 'missing value')} with {fill.value} ({done})"
            )
        frame = _trim(frame, fill, date_col, where, notes)
    if len(frame) < 2:
        raise DataError(
            f"The series{where} has {_count(len(frame), 'row')} after filling; at least 2 are needed. Load more history or use another --fill."
        )
    finite = np.isfinite(frame.to_numpy(dtype=np.float64))
    if not finite.all():  # only arithmetic on values near the float64 limit gets here
        column = str(frame.columns[int(np.flatnonzero(~finite.all(axis=0))[0])])
        raise DataError(
            f"Column {_q(column)}{where} overflows when filled or combined: its values are too close to the float64 limit (1.8e308). Rescale the values."
        )
    return frame.astype(np.float64)


def _trim(
    frame: pd.DataFrame, fill: FillPolicy, date_col: str, where: str, notes: list[str]
) -> pd.DataFrame:
    """Drop leading and trailing rows the policy left incomplete; refuse inner holes."""
    prefix = f"{where[4:]}: " if where else ""
    complete = frame.notna().all(axis=1).to_numpy()
    if not complete.any():
        raise DataError(
            f"No row{where} has every column filled, so nothing is left after --fill {fill.value}. Check the columns given to --target and --features."
        )
    start = int(complete.argmax())
    stop = len(complete) - int(complete[::-1].argmax())
    holes = np.flatnonzero(~complete[start:stop])
    if holes.size:
        raise DataError(
            f"--fill drop only drops leading or trailing rows, but{where} missing values remain in {_count(holes.size, 'row')} inside the series (first {iso_dates([frame.index[start + holes[0]]], sep=' ')[0]}); dropping them would break the regular dates. Use --fill ffill or interpolate."
        )
    if start or stop < len(frame):
        reason = (
            "with missing values"
            if fill is FillPolicy.DROP
            else f"that {fill.value} cannot fill"
        )
        parts = [
            f"{n} {side}"
            for n, side in ((start, "leading"), (len(frame) - stop, "trailing"))
            if n
        ]
        total = start + len(frame) - stop
        notes.append(
            f"{prefix}dropped {' and '.join(parts)} {'row' if total == 1 else 'rows'} {reason}"
        )
    return frame.iloc[start:stop]


# --- message helpers ---------------------------------------------------------------


def _where(series_id: str, n_series: int) -> str:
    return f" in series {_q(series_id)}" if n_series > 1 else ""


def _prefix(series_id: str, n_series: int) -> str:
    return f"series {_q(series_id)}: " if n_series > 1 else ""


def _listing(names: Iterable[str], limit: int = 20) -> str:
    items = [_q(n)[1:-1] for n in names]
    more = f" (and {len(items) - limit} more)" if len(items) > limit else ""
    return ", ".join(items[:limit]) + more


def _suggest(name: str, choices: Sequence[str]) -> str:
    """Return " Did you mean 'x'?" for a close match, else ""."""
    lowered = {c.lower(): c for c in choices}
    close = difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=0.6)
    return f" Did you mean {_q(lowered[close[0]])}?" if close else ""


def read_data(source: str | Path | pd.DataFrame) -> pd.DataFrame:
    """Return a raw table from a CSV path, ``-`` for stdin, or a DataFrame (copied)."""
    import pandas as pd

    if isinstance(source, pd.DataFrame):
        return source.copy()
    from seqcast.data.csv import read_csv

    return read_csv(source)


def prepare_series(
    source: str | Path | pd.DataFrame, config: DataConfig
) -> tuple[SeriesSet, Series]:
    """Read and validate data, returning the whole set and the one series to model."""
    series_set = prepare(read_data(source), config)
    return series_set, series_set.single(config.series)
