"""Choosing the date and target columns of a table: named by the options, else detected.

Detection reads a sample of each column: a date column parses as timestamps (or is named
like one: ``date``, ``ds``, ``month``...), a target is the one numeric column left. A
named column that is missing is a :class:`MissingColumnError` listing the columns there
are, with a close match when there is one.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
from pandas.api.types import is_bool_dtype, is_datetime64_any_dtype, is_numeric_dtype

from seqcast.config import DataConfig
from seqcast.data.dates import _NUMBER_RE, MISSING_TOKENS, _parse_date_text, _q
from seqcast.data.pandas_compat import to_numbers
from seqcast.errors import ConfigError, DataError

_DATE_WORDS = frozenset({"date", "time", "datetime", "timestamp", "ds", "dt", "day", "week", "month", "quarter", "year", "period"})  # fmt: skip


class MissingColumnError(DataError):
    """A column the options name is not in the table (``column``; ``columns`` lists them)."""

    def __init__(self, message: str, *, column: str, columns: str) -> None:
        super().__init__(message)
        self.column = column
        self.columns = columns


def choose_columns(table: pd.DataFrame, config: DataConfig) -> tuple[str, str]:
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
    named += [("--future-features", f) for f in config.future_features]
    for flag, column in named:
        if column is not None and column not in columns:
            raise MissingColumnError(
                f"Column {_q(column)} not found. Columns: {listing(columns)}.{suggest(column, columns)} Use {flag} with one of those.",
                column=column,
                columns=listing(columns),
            )
    if config.series is not None and config.id_col is None:
        raise ConfigError(
            f"--series {config.series} needs --id-col naming the column that holds the series ids. Add --id-col."
        )
    taken = {
        c
        for c in (
            config.target,
            config.id_col,
            *config.features,
            *config.future_features,
        )
        if c is not None
    }
    date_col = config.date_col or _detect_date_column(
        table, [c for c in columns if c not in taken]
    )
    for flag, column in named[1:]:
        if column == date_col:
            raise ConfigError(
                f"Column {_q(date_col)} holds the dates, so it cannot also be given to {flag}. Pick another column."
            )
    if config.id_col is not None and config.id_col in (
        config.target,
        *config.features,
        *config.future_features,
    ):
        raise ConfigError(
            f"Column {_q(config.id_col)} is the id column, so it cannot also be the target or a feature. Pick another column."
        )
    taken |= {date_col}
    target = config.target or _detect_target(
        table, [c for c in columns if c not in taken]
    )
    return date_col, target


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
            f"Several columns could hold the dates: {listing(hits)}. Use --date-col to pick one."
        )
    named = [c for c in candidates if _looks_like_date_name(c)]
    if len(named) == 1:
        return named[0]  # parsing it names the first value that is not a date
    raise DataError(
        f"No date column found. Columns: {listing(candidates)}. Use --date-col to name the column that holds the dates."
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
            f"Several numeric columns could be the target: {listing(numeric)}. Use --target to pick one (and --features to feed others to the model)."
        )
    raise DataError(
        f"No numeric column to forecast. Columns: {listing(candidates)}. Use --target to name the column to forecast."
    )


def _numeric_share(values: pd.Series) -> float:
    if is_numeric_dtype(values.dtype) and not is_bool_dtype(values.dtype):
        return 1.0
    text = values.astype(str).str.strip()
    present = text[~text.str.lower().isin(MISSING_TOKENS)]
    if present.empty:
        return 0.0
    numbers = to_numbers(present.to_numpy(dtype=object))
    return float(np.mean(~np.isnan(numbers)))


def listing(names: Iterable[str], limit: int = 20) -> str:
    """Return names quoted and comma-separated, the first ``limit`` of them."""
    items = [_q(n)[1:-1] for n in names]
    more = f" (and {len(items) - limit} more)" if len(items) > limit else ""
    return ", ".join(items[:limit]) + more


def suggest(name: str, choices: Sequence[str]) -> str:
    """Return " Did you mean 'x'?" for a close match, else ""."""
    lowered = {c.lower(): c for c in choices}
    close = difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=0.6)
    return f" Did you mean {_q(lowered[close[0]])}?" if close else ""
