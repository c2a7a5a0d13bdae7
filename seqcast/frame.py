"""Turn a raw table into validated series: dates, order, duplicates, frequency, gaps, values."""

from __future__ import annotations

import difflib
import re
import warnings
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from pandas.api.types import (
    is_bool_dtype,
    is_datetime64_any_dtype,
    is_integer_dtype,
    is_numeric_dtype,
)
from pandas.tseries.frequencies import to_offset
from pandas.tseries.offsets import BaseOffset, Day, Tick

from seqcast.config import DataConfig, DuplicatePolicy, FillPolicy
from seqcast.errors import ConfigError, DataError

MISSING_TOKENS = frozenset({"", "na", "n/a", "nan", "null", "none", "#n/a", "nat"})
_ROWS = "(header is row 1)"
_DATE_WORDS = frozenset({"date", "time", "datetime", "timestamp", "ds", "dt", "day", "week", "month", "quarter", "year", "period"})  # fmt: skip
_RENAMED_ALIASES = {
    "M": "ME or MS",
    "H": "h",
    "A": "YE or YS",
    "Y": "YE or YS",
    "Q": "QE or QS",
    "T": "min",
    "S": "s",
    "L": "ms",
    "U": "us",
    "N": "ns",
    "BM": "BME",
    "BA": "BYE",
    "BY": "BYE",
    "BQ": "BQE",
    "BH": "bh",
    "CBM": "CBME",
    "SM": "SME",
}
_INT_RE = re.compile(r"^[+-]?\d+$")
_NUMBER_RE = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_OFFSET_RE = re.compile(r"(Z|[+-]\d\d(:?\d\d)?)$")
_QUARTER_RE = re.compile(r"^(\d{4})[-\s]?[Qq]([1-4])$")
_DATE_FORMATS = (
    "%Y/%m/%d",
    "%m/%d/%Y",
    "%d/%m/%Y",
    "%d.%m.%Y",
    "%d-%m-%Y",
    "%m-%d-%Y",
    "%Y%m%d",
)
_SWAPPED_LAYOUTS = {"%m/%d/%Y": "%d/%m/%Y", "%d-%m-%Y": "%m-%d-%Y"}
_TIME_SUFFIXES = ("", " %H:%M", " %H:%M:%S")
_MAX_FILL_ROWS = 10_000_000
_MONTHS = (
    "JAN",
    "FEB",
    "MAR",
    "APR",
    "MAY",
    "JUN",
    "JUL",
    "AUG",
    "SEP",
    "OCT",
    "NOV",
    "DEC",
)
_WEEKDAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")


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
        raw: Table from a source, cells as strings (``sources.csv.read_csv``) or
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
    columns = [str(c) for c in table.columns]
    named = [
        ("--date-col", config.date_col),
        ("--target", config.target),
        ("--id-col", config.id_col),
    ]
    named += [("--features", f) for f in config.features]
    for flag, column in named:
        if column is not None and column not in columns:
            raise DataError(
                f"Column {_q(column)} not found. Columns: {_listing(columns)}.{_suggest(column, columns)} Use {flag} with one of those."
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
    for item in series:
        target_values = item.data[target].to_numpy()
        if target_values.min() == target_values.max():
            notes.append(
                f"{_prefix(item.id, len(series))}target {_q(target)} is constant ({target_values[0]:g})"
            )
    return SeriesSet(
        series,
        target,
        tuple(config.features),
        offset.freqstr,
        date_col,
        tuple(dict.fromkeys(notes)),
    )


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


def _parse_dates(
    values: pd.Series, column: str, rows: np.ndarray, notes: list[str]
) -> pd.DatetimeIndex:
    """Parse a date column to a tz-naive DatetimeIndex, naming the first bad row."""
    how = ""
    if is_datetime64_any_dtype(values.dtype):
        dates = pd.DatetimeIndex(values)
        text = values.astype(str).to_numpy(dtype=object)
    else:
        stripped = values.astype(str).str.strip()
        text = stripped.to_numpy(dtype=object)
        empty = np.flatnonzero(stripped.str.lower().isin(MISSING_TOKENS).to_numpy())
        if empty.size:
            i = int(empty[0])
            raise DataError(
                f"Column {_q(column)} has no date at row {rows[i]} {_ROWS}. Fill in the date or remove the row."
            )
        _refuse_mixed_layouts(stripped, column, rows)
        unique = pd.Index(pd.unique(text))
        parsed, how = _parse_date_text(pd.Series(unique, dtype=object))
        dates = pd.DatetimeIndex(parsed.take(unique.get_indexer(text)))
    bad = np.flatnonzero(np.asarray(dates.isna()))
    if bad.size:
        i = int(bad[0])
        value = str(text[i])
        hint = (
            "Use --date-col to name the date column, or write"
            if _NUMBER_RE.fullmatch(value)
            else "Write"
        )
        raise DataError(
            f"Column {_q(column)} has value {_q(value)} at row {rows[i]} {_ROWS} that is not a date. {hint} dates like 2024-01-31 or 2024-01-31 13:00 (integer years like 1749 also work)."
        )
    if how == "local dates":
        notes.append(
            f"dates in {_q(column)} carry differing UTC offsets (daylight saving?); kept their local dates and dropped the offsets"
        )
    elif how.startswith("Unix"):
        notes.append(f"read {_q(column)} as {how}")
    elif how in ("month first", "day first"):
        notes.append(
            f"dates in {_q(column)} fit both day-first and month-first order; read them {how} (write YYYY-MM-DD dates to be sure)"
        )
    if dates.tz is not None:
        if how == "UTC":
            dates = dates.tz_convert("UTC").tz_localize(None)
            notes.append(
                f"converted dates in {_q(column)} with mixed UTC offsets to UTC and dropped the time zone"
            )
        else:
            notes.append(
                f"dropped the time zone ({dates.tz}) from {_q(column)}, keeping local times"
            )
            dates = dates.tz_localize(None)
    return pd.DatetimeIndex(dates.as_unit("us"), name="date")


_YEAR_FIRST_RE = re.compile(r"^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}")
_YEAR_LAST_RE = re.compile(r"^\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}\b")


def _refuse_mixed_layouts(text: pd.Series, column: str, rows: np.ndarray) -> None:
    """Refuse a column mixing year-first (2020-01-31) and year-last (31/01/2020) dates.

    Reading such a column with one rule silently swaps days and months in some rows.
    """
    year_first = text.str.match(_YEAR_FIRST_RE).to_numpy(dtype=bool)
    year_last = text.str.match(_YEAR_LAST_RE).to_numpy(dtype=bool)
    if year_first.any() and year_last.any():
        i, j = int(np.flatnonzero(year_first)[0]), int(np.flatnonzero(year_last)[0])
        raise DataError(
            f"Column {_q(column)} mixes date formats: {_q(str(text.iloc[i]))} at row {rows[i]} and {_q(str(text.iloc[j]))} at row {rows[j]} {_ROWS}. Write every date in one format, preferably YYYY-MM-DD."
        )


def _parse_date_text(text: pd.Series) -> tuple[pd.DatetimeIndex, str]:
    """Parse unique date strings; return NaT for unreadable ones and how they were read.

    Tries, in order: integers (4-digit years, YYYYMMDD, Unix seconds/milliseconds),
    quarters (``1959Q1``), ISO 8601, common day/month layouts, then dateutil.
    """
    strings = text.astype(str)
    if strings.str.fullmatch(_INT_RE).all():
        width = strings.str.lstrip("+-").str.len()
        for size, layout in ((4, "%Y"), (8, "%Y%m%d")):
            if (width == size).all():
                return pd.DatetimeIndex(
                    pd.to_datetime(strings, format=layout, errors="coerce")
                ), ""
        if (width == 10).all():
            stamps = pd.to_datetime(strings.astype(np.int64).to_numpy(), unit="s")
            return pd.DatetimeIndex(stamps), "Unix time in seconds"
        if (width == 13).all():
            stamps = pd.to_datetime(strings.astype(np.int64).to_numpy(), unit="ms")
            return pd.DatetimeIndex(stamps), "Unix time in milliseconds"
        return pd.DatetimeIndex([pd.NaT] * len(strings)), ""
    quarters = strings.str.extract(_QUARTER_RE)
    if quarters.notna().all().all() and (quarters[0] > "0000").all():
        return pd.PeriodIndex(
            quarters[0] + "Q" + quarters[1], freq="Q"
        ).to_timestamp(), ""
    try:
        return pd.DatetimeIndex(pd.to_datetime(strings, format="ISO8601")), ""
    except (ValueError, OverflowError) as exc:
        if "Mixed timezones" in str(exc):
            return _mixed_offsets(strings)
    for layout in _DATE_FORMATS:
        for suffix in _TIME_SUFFIXES:
            try:
                parsed = pd.DatetimeIndex(
                    pd.to_datetime(strings, format=layout + suffix)
                )
            except (ValueError, OverflowError):
                continue
            return parsed, _ambiguity(strings, layout, suffix)
    loose = strings.where(~strings.str.fullmatch(_NUMBER_RE), "")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for utc, how in ((False, ""), (True, "UTC")):
            try:
                return pd.DatetimeIndex(
                    pd.to_datetime(loose, format="mixed", errors="coerce", utc=utc)
                ), how
            except (ValueError, OverflowError, TypeError):
                continue
    return pd.DatetimeIndex(
        [pd.NaT] * len(strings)
    ), ""  # pragma: no cover - coerce never raises twice


def _ambiguity(strings: pd.Series, layout: str, suffix: str) -> str:
    """Return "month first"/"day first" if the swapped day/month layout also fits, else ""."""
    swapped = _SWAPPED_LAYOUTS.get(layout)
    if swapped is None:
        return ""
    try:
        pd.to_datetime(strings, format=swapped + suffix)
    except (ValueError, OverflowError):
        return ""
    return "month first" if layout.startswith("%m") else "day first"


def _mixed_offsets(strings: pd.Series) -> tuple[pd.DatetimeIndex, str]:
    """Read ISO dates with differing UTC offsets: local dates if all are midnight, else UTC."""
    local = pd.to_datetime(
        strings.str.replace(_OFFSET_RE, "", regex=True),
        format="ISO8601",
        errors="coerce",
    )
    if local.notna().all() and (local == local.dt.normalize()).all():
        return pd.DatetimeIndex(local), "local dates"
    return pd.DatetimeIndex(
        pd.to_datetime(strings, format="ISO8601", utc=True, errors="coerce")
    ), "UTC"


# --- order, frequency, gaps --------------------------------------------------------


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
            f"Column {_q(date_col)} repeats {_count(stamps.nunique(), 'timestamp')}{where}; the first is {_stamp(stamps[0])} at rows {first_rows[0]} and {first_rows[1]} {_ROWS}. Use --duplicates first, last or mean to combine them, or remove the repeats."
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


def _resolve_freq(freq: str) -> BaseOffset:
    """Validate a pandas frequency alias."""
    try:
        offset = to_offset(freq)
    except (ValueError, TypeError):
        base = re.sub(r"^\d+", "", str(freq).strip()).split("-")[0]
        if base in _RENAMED_ALIASES:
            raise ConfigError(
                f"freq={freq!r} is no longer a pandas frequency alias. Use {_RENAMED_ALIASES[base]} instead."
            ) from None
        raise ConfigError(
            f"freq={freq!r} is not a pandas frequency alias. Use one such as D, B, W-SUN, MS, ME, QS, YS, h or min."
        ) from None
    if offset is None or offset.n < 1:
        raise ConfigError(
            f"freq={freq!r} must step forward in time. Use a positive alias such as D or 2h."
        )
    return offset


def _infer_freq(
    indexes: Sequence[pd.DatetimeIndex], date_col: str, notes: list[str]
) -> BaseOffset:
    """Infer the frequency of the longest series.

    ``pd.infer_freq`` decides for regular dates. For irregular ones, the candidates are
    pandas' aliases for triples of consecutive dates (by vote), then the aliases of the most
    common and of the smallest step; the first whose grid holds every date and is at least
    half filled wins.
    """
    longest = max(indexes, key=len)
    exact = _pandas_alias(longest)
    if exact is not None:
        notes.append(f"inferred freq={exact} from {_q(date_col)}")
        return _resolve_freq(exact)
    n_triples = max(len(longest) - 2, 0)
    starts = np.linspace(0, n_triples - 1, num=min(n_triples, 300)).astype(np.int64)
    votes = Counter(_pandas_alias(longest[s : s + 3]) for s in np.unique(starts))
    steps = pd.Series(longest).diff().dropna()
    step = steps.mode().iloc[0]
    candidates = [a for a, _ in votes.most_common() if a is not None]
    candidates += _step_aliases(step, longest[0]) + _step_aliases(
        steps.min(), longest[0]
    )
    span = (longest[-1].normalize() - longest[0].normalize()).days
    weekend = span >= 6 or any(
        (longest[0].day_of_week + k) % 7 >= 5 for k in range(span + 1)
    )
    if weekend and not (longest.day_of_week >= 5).any():
        candidates = ["B" if a == "D" else a for a in candidates]
    for alias in dict.fromkeys(candidates):
        offset = _resolve_freq(alias)
        coverage = _coverage(longest, offset)
        if coverage is not None and coverage >= 0.5:
            how = (
                "the step between the two dates"
                if len(longest) == 2
                else "the most common step"
            )
            irregular = "" if len(longest) == 2 else " (the dates are irregular)"
            notes.append(
                f"inferred freq={offset.freqstr} from {how} in {_q(date_col)}{irregular}"
            )
            return offset
    raise DataError(
        f"Cannot infer a regular frequency from {_q(date_col)}: the most common step is {_span(step)}, but the dates do not fit one. Use --freq to set one, such as D, W-SUN, MS or h."
    )


def _step_aliases(step: pd.Timedelta, first: pd.Timestamp) -> list[str]:
    """Aliases that a step of this length suggests, anchored as ``pd.infer_freq`` would.

    Quarter starts anchor on January-March (``QS-JAN`` covers Jan/Apr/Jul/Oct) and
    quarter ends on October-December, as pandas spells them.
    """
    days = step / pd.Timedelta(days=1)
    phase = (first.month - 1) % 3
    if days == 7:
        return [f"W-{_WEEKDAYS[first.day_of_week]}"]
    if 28 <= days <= 31:
        return ["MS", "ME"]
    if 89 <= days <= 92:
        return [f"QS-{_MONTHS[phase]}", f"QE-{_MONTHS[phase + 9]}"]
    if 365 <= days <= 366:
        return [f"YS-{_MONTHS[first.month - 1]}", f"YE-{_MONTHS[first.month - 1]}"]
    if days == int(days):
        return [f"{int(days)}D" if days != 1 else "D"]
    return [to_offset(step).freqstr]


def _pandas_alias(index: pd.DatetimeIndex) -> str | None:
    """Return ``pd.infer_freq``'s alias for 3 or more dates, or None."""
    if len(index) < 3:
        return None
    with pd.option_context("future.infer_freq_returns_offset", True):
        found: object = pd.infer_freq(index)
    return found.freqstr if isinstance(found, BaseOffset) else None


def _coverage(index: pd.DatetimeIndex, offset: BaseOffset) -> float | None:
    """Share of the regular range that ``index`` fills, or None if a date is off the grid."""
    if _range_size(index[0], index[-1], offset) > 2 * len(index) + 10:
        return 0.0
    full = pd.date_range(index[0], index[-1], freq=offset)
    if not index.isin(full).all():
        return None
    return len(index) / len(full)


def _range_size(first: pd.Timestamp, last: pd.Timestamp, offset: BaseOffset) -> int:
    """Length of the regular range from first to last: exact for fixed steps, else estimated."""
    try:
        if isinstance(offset, Day):
            step = pd.Timedelta(days=offset.n)
        elif isinstance(offset, Tick):
            step = pd.Timedelta(offset)
        else:
            step = ((first + 7 * offset) - first) / 7
        return int((last - first) // step) + 1
    except (ValueError, OverflowError, ZeroDivisionError):
        return _MAX_FILL_ROWS + 1


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
            f"The dates in {_q(date_col)}{where} run from {_stamp(first)} to {_stamp(last)}, which at freq={offset.freqstr} needs {size} rows for {len(frame)} dates. Check the dates, or use a coarser --freq."
        )
    full = pd.date_range(first, last, freq=offset, name="date")
    off_grid = np.flatnonzero(~frame.index.isin(full))
    if off_grid.size:
        i = int(off_grid[0])
        raise DataError(
            f"Dates in {_q(date_col)}{where} do not fall on freq={offset.freqstr}: {_stamp(frame.index[i])} at row {rows[i]} {_ROWS} is off that grid. Use a --freq that matches the dates, or leave --freq out to infer it."
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
            raise DataError(
                f"Found missing values{where}: {counts} (first at {_stamp(first_missing)}{gaps}). Use --fill ffill, bfill, interpolate, zero or drop to fill or drop them."
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
            f"--fill drop only drops leading or trailing rows, but{where} missing values remain in {_count(holes.size, 'row')} inside the series (first {_stamp(frame.index[start + holes[0]])}); dropping them would break the regular dates. Use --fill ffill or interpolate."
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


def _q(text: object, limit: int = 40) -> str:
    """Quote user text for a one-line message: control characters escaped, long text cut."""
    shown = re.sub(r"[\x00-\x1f\x7f]", lambda m: repr(m.group())[1:-1], str(text))
    return "'" + (shown if len(shown) <= limit else shown[: limit - 1] + "…") + "'"


def _listing(names: Iterable[str], limit: int = 20) -> str:
    items = [_q(n)[1:-1] for n in names]
    more = f" (and {len(items) - limit} more)" if len(items) > limit else ""
    return ", ".join(items[:limit]) + more


def _suggest(name: str, choices: Sequence[str]) -> str:
    """Return " Did you mean 'x'?" for a close match, else ""."""
    lowered = {c.lower(): c for c in choices}
    close = difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=0.6)
    return f" Did you mean {_q(lowered[close[0]])}?" if close else ""


def _span(step: pd.Timedelta) -> str:
    days = step / pd.Timedelta(days=1)
    return _count(int(days), "day") if days == int(days) else str(step)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _stamp(ts: pd.Timestamp) -> str:
    return (
        ts.strftime("%Y-%m-%d")
        if ts == ts.normalize()
        else ts.strftime("%Y-%m-%d %H:%M:%S")
    )
