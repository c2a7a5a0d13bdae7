"""Turn a raw table into validated series: dates, order, duplicates, frequency, gaps, values."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from pandas.api.types import (
    is_bool_dtype,
    is_integer_dtype,
    is_numeric_dtype,
)
from pandas.tseries.offsets import BaseOffset

from seqcast.config import DataConfig, DateFormat, DuplicatePolicy
from seqcast.config.known import (
    AUTO,
    HOLIDAY_COLUMN,
    auto_calendar,
    calendar_columns,
    known_columns,
)
from seqcast.data.columns import (
    MissingColumnError as MissingColumnError,
)
from seqcast.data.columns import choose_columns, listing, suggest
from seqcast.data.dates import (
    _ROWS,
    MISSING_TOKENS,
    _count,
    _infer_freq,
    _parse_dates,
    _q,
    _resolve_freq,
)
from seqcast.data.gaps import (
    MissingValuesError as MissingValuesError,
)
from seqcast.data.gaps import order_rows, regularise
from seqcast.data.pandas_compat import PANDAS_2_DATES, PANDAS_3, to_numbers
from seqcast.errors import ConfigError, DataError

_YEARLY_RE = re.compile(r"\d*YS-JAN")
_QUARTERLY_RE = re.compile(r"\d*QS-(JAN|APR|JUL|OCT)")

__all__ = ["MISSING_TOKENS", "Series", "SeriesSet", "future_index", "prepare"]


@dataclass(frozen=True, slots=True)
class Series:
    """One validated series.

    Attributes:
        id: The series' value in the id column, or the target name for a single series.
        data: Float64 frame indexed by a tz-naive, sorted, unique DatetimeIndex named
            ``date`` that is regular at the set's ``freq``; columns
            ``[target, *features, *known]``, with no NaN or inf.
        future: Values of the future features at timestamps after the last row (the
            file's rows with an empty target), as read; None when there are none.
    """

    id: str
    data: pd.DataFrame
    future: pd.DataFrame | None = None


@dataclass(frozen=True, slots=True)
class SeriesSet:
    """Series ready for scaling and windowing, with a record of what was done to them.

    Attributes:
        series: One or more series, in order of first appearance in the table.
        target: Name of the column to forecast (column 0 of every ``Series.data``).
        features: Names of the past-only covariate columns, in order.
        freq: Pandas frequency alias as pandas spells it (``D``, ``MS``, ``W-SUN``...).
        date_col: Name of the source column that held the dates.
        notes: Human-readable notes on what was changed (filled, sorted, trimmed...).
        date_format: How the input wrote its dates, kept for output: ``YEAR`` for plain
            years (``1749``) on a yearly grid starting in January, ``QUARTER`` for
            quarters (``1959Q1``) on a quarterly grid, else ``ISO``.
        known: Names of the columns known ahead, last in every ``Series.data``: the
            future features, then the calendar terms, then ``holiday``.
        calendar: The calendar features (``auto`` resolved for ``freq``).
        static: The 0/1 columns of the static features, last in every ``Series.data``
            (``region=north``...; see :mod:`seqcast.data.static`).
    """

    series: tuple[Series, ...]
    target: str
    features: tuple[str, ...]
    freq: str
    date_col: str
    notes: tuple[str, ...]
    date_format: DateFormat = DateFormat.ISO
    known: tuple[str, ...] = ()
    calendar: tuple[str, ...] = ()
    static: tuple[str, ...] = ()

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
                f"The data holds {len(ids)} series: {listing(ids)}. Use --series to pick one."
            )
        for item in self.series:
            if item.id == series_id:
                return item
        raise DataError(
            f"Series {_q(series_id)} not found. Series: {listing(ids)}.{suggest(series_id, ids)} Use --series with one of those."
        )


def prepare(
    raw: pd.DataFrame,
    config: DataConfig,
    *,
    static_names: Sequence[str] | None = None,
) -> SeriesSet:
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
        static_names: The 0/1 columns of the static features to encode (those of a
            model the data is read for); None builds them from the values seen.

    Returns:
        The validated series, with notes on every change made.

    Raises:
        DataError: If the data cannot be used as asked; the message names the column,
            row and value, and the option that fixes it.
        ConfigError: If ``freq`` is not a pandas alias or ``series`` lacks ``id_col``.
    """
    table = _normalise(raw, config.date_col)
    rows = _row_labels(table)
    date_col, target = choose_columns(table, config)
    value_cols = [target, *config.features, *config.future_features]
    notes: list[str] = []
    dates, layout = _parse_dates(table[date_col], date_col, rows, notes)
    values = pd.DataFrame(
        {c: _parse_numbers(table[c], c, rows) for c in value_cols}, index=dates
    )
    values.index.name = "date"
    groups = _groups(table, config, target, rows)
    if config.id_col is None and config.duplicates is DuplicatePolicy.ERROR:
        _refuse_hidden_series(table, dates, date_col, value_cols)
    ordered = _order_each(values, rows, groups, date_col, config.duplicates, notes)
    offset = (
        _resolve_freq(config.freq)
        if config.freq
        else _infer_freq(
            [pd.DatetimeIndex(f.index) for _, f, _ in ordered], date_col, notes
        )
    )
    calendar = config.calendar
    if AUTO in calendar:
        calendar = auto_calendar(offset.freqstr)
    known = known_columns(config.future_features, calendar, config.holidays)
    _refuse_clashes(known, [*table.columns], config.future_features)
    statics: dict[str, tuple[str, ...]] = {}
    static: tuple[str, ...] = ()
    if config.static_features:
        from seqcast.data.static import static_columns, static_values

        statics = static_values(table, config.static_features, groups)
        static = tuple(
            static_names
            if static_names is not None
            else static_columns(statics, config.static_features)
        )
    series = []
    for sid, frame, row in ordered:
        where = _where(sid, len(groups))
        history, row, future = _split_future(
            frame, row, target, config.future_features, where
        )
        if future is not None:
            notes.append(
                f"{_prefix(sid, len(groups))}kept {_count(len(future), 'row')} after the last {target} value as future values of {', '.join(config.future_features)} (not trained on)"
            )
        data = regularise(
            history, row, offset, config.fill, date_col, _where(sid, len(groups)), notes
        )
        data = _with_known(data, calendar, config.holidays, offset)
        if config.static_features:
            from seqcast.data.static import static_frame

            extra = static_frame(
                pd.DatetimeIndex(data.index),
                static,
                config.static_features,
                statics[sid],
                sid,
            )
            data = pd.concat([data, extra], axis=1)
        series.append(Series(sid, data, future))
    notes += _constant_notes(series, target)
    return SeriesSet(
        tuple(series),
        target,
        tuple(config.features),
        offset.freqstr,
        date_col,
        tuple(dict.fromkeys(notes)),
        _date_format(layout, offset.freqstr),
        known=known,
        calendar=tuple(calendar),
        static=static,
    )


def _refuse_clashes(
    known: Sequence[str], columns: Sequence[str], future_features: Sequence[str]
) -> None:
    """Refuse a calendar or holiday column whose name a column of the file already has."""
    derived = [c for c in known if c not in future_features]
    for name in derived:
        if name in columns:
            raise ConfigError(
                f"The file has a column {_q(name)}, the name of a --calendar or --holidays feature seqcast adds. Rename that column, or drop --calendar/--holidays."
            )


def _split_future(
    frame: pd.DataFrame,
    rows: np.ndarray,
    target: str,
    future_features: Sequence[str],
    where: str,
) -> tuple[pd.DataFrame, np.ndarray, pd.DataFrame | None]:
    """Cut off the trailing rows whose target is empty: the future features' future.

    Only with future features; otherwise such rows stay, for the fill policy to judge.
    """
    if not future_features:
        return frame, rows, None
    present = frame[target].notna().to_numpy()
    if not present.any():
        raise DataError(
            f"The target {_q(target)}{where} has no values, only future rows. Give its history."
        )
    last = int(np.flatnonzero(present)[-1])
    if last == len(frame) - 1:
        return frame, rows, None
    future = frame.iloc[last + 1 :][list(future_features)]
    return frame.iloc[: last + 1], rows[: last + 1], future


def _with_known(
    data: pd.DataFrame,
    calendar: Sequence[str],
    holidays: str | None,
    offset: BaseOffset,
) -> pd.DataFrame:
    """Append the calendar and holiday columns to a regular frame (a new frame)."""
    if not calendar and not holidays:
        return data
    from seqcast.data.calendar import iso_dates
    from seqcast.data.known import known_values

    dates = iso_dates(data.index)
    after = iso_dates(future_index(data.index[-1], offset.freqstr, 1))[0]
    values = known_values(dates, offset.freqstr, calendar, holidays, next_date=after)
    names = [*calendar_columns(calendar), *([HOLIDAY_COLUMN] if holidays else [])]
    extra = pd.DataFrame(values, index=data.index, columns=names)
    return pd.concat([data, extra], axis=1)


class HiddenSeriesError(DataError):
    """A file of several series was read without ``id_col``; ``column`` keys them."""


def _refuse_hidden_series(
    table: pd.DataFrame, dates: pd.DatetimeIndex, date_col: str, used: list[str]
) -> None:
    """Refuse a long-format file read as one series: say which column keys the series.

    When timestamps repeat and some other non-numeric column holds a few values that
    make every (value, timestamp) pair unique, the file holds several series side by
    side; combining their rows (``--duplicates mean``) would silently average them.
    """
    if not dates.duplicated().any():
        return
    for column in table.columns:
        if column in used or column == date_col:
            continue
        keys = table[column].astype(str).str.strip()
        if not np.isnan(to_numbers(keys.to_numpy(dtype=object))).any():
            continue
        n_keys = keys.nunique()
        if (
            1 < n_keys < len(keys)
            and not pd.Series(list(zip(keys, dates, strict=True))).duplicated().any()
        ):
            raise HiddenSeriesError(
                f"The file holds {n_keys} series keyed by column {_q(str(column))} (each date repeats once per series). Use --id-col {column} to train one model over all of them, or --id-col {column} --series NAME for one."
            )


def _date_format(layout: DateFormat, freq: str) -> DateFormat:
    """Keep plain years or quarters for output only where every future date is one.

    Years read with ``--freq MS``, say, get monthly future dates, which a year cannot
    name: those are written as ISO dates.
    """
    grid = {DateFormat.YEAR: _YEARLY_RE, DateFormat.QUARTER: _QUARTERLY_RE}.get(layout)
    return layout if grid is not None and grid.fullmatch(freq) else DateFormat.ISO


def _order_each(
    values: pd.DataFrame,
    rows: np.ndarray,
    groups: list[tuple[str, np.ndarray]],
    date_col: str,
    policy: DuplicatePolicy,
    notes: list[str],
) -> list[tuple[str, pd.DataFrame, np.ndarray]]:
    """Put each series in date order with its repeats resolved; refuse one of < 2 rows."""
    ordered = [
        (
            sid,
            *order_rows(
                values.iloc[pos],
                rows[pos],
                date_col,
                policy,
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
    return ordered


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
        DataError: On pandas 2.2, if the dates run past 2262-04-11.
    """
    if steps < 0:
        raise ConfigError(f"steps={steps} must be 0 or more. Use --steps 1 or more.")
    offset = _resolve_freq(freq)
    try:
        return pd.date_range(
            start=pd.Timestamp(last) + offset, periods=steps, freq=offset, name="date"
        )
    except (ValueError, OverflowError):  # past pandas' range (2262-04-11 on pandas 2.2)
        after = f"The {steps} dates after {pd.Timestamp(last).isoformat()} at freq={offset.freqstr}"
        if PANDAS_3:
            raise DataError(
                f"{after} run past 9999-12-31, the last date seqcast can write. Forecast fewer steps, or check the data's dates."
            ) from None
        raise DataError(
            f"{after} run past what pandas 2 can hold ({PANDAS_2_DATES}). Forecast fewer steps, or install pandas 3 (pip install 'pandas>=3')."
        ) from None


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
                f"Series {_q(config.series)} not found in column {_q(config.id_col)}. Series: {listing(order)}.{suggest(config.series, order)} Use --series with one of those."
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
        numbers = to_numbers(np.where(missing, "nan", text))
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


# --- message helpers ---------------------------------------------------------------


def _where(series_id: str, n_series: int) -> str:
    return f" in series {_q(series_id)}" if n_series > 1 else ""


def _prefix(series_id: str, n_series: int) -> str:
    return f"series {_q(series_id)}: " if n_series > 1 else ""


def read_data(source: str | Path | pd.DataFrame) -> pd.DataFrame:
    """Return a raw table from a CSV path, ``-`` for stdin, or a DataFrame (copied)."""
    import pandas as pd

    if isinstance(source, pd.DataFrame):
        return source.copy()
    from seqcast.data.csv import read_csv

    return read_csv(source)


def prepare_series(
    source: str | Path | pd.DataFrame,
    config: DataConfig,
    *,
    static_names: Sequence[str] | None = None,
) -> tuple[SeriesSet, Series]:
    """Read and validate data, returning the whole set and the one series to model."""
    series_set = prepare(read_data(source), config, static_names=static_names)
    return series_set, series_set.single(config.series)
