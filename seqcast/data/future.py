"""Future values of the known-ahead features: read from a table, aligned to the forecast.

A model trained with ``--future-features price,promo`` reads their values over the
forecast period. They come from the rows after the history in the data argument (the
target left empty), or from a separate table (``forecast --future FILE.csv``) with the
date column, those columns and, for a model over several series, the id column.
:func:`aligned_future` picks the values of the timestamps a forecast needs and refuses,
naming the first missing timestamp, when one is absent or empty.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from seqcast._types import FloatArray
from seqcast.config import DataConfig
from seqcast.data.calendar import iso_dates
from seqcast.data.columns import listing
from seqcast.data.dates import _parse_dates, _q
from seqcast.errors import DataError

__all__ = ["aligned_future", "read_future"]


def read_future(
    source: str | Path | pd.DataFrame, config: DataConfig, series: str | None
) -> pd.DataFrame:
    """Read a table of future feature values; one frame indexed by date, sorted.

    Args:
        source: CSV path, ``-`` for stdin, or a DataFrame.
        config: The model's data configuration (date, id and future feature columns).
        series: The series whose rows to keep (by the id column), for a model over
            several series; None for a model of one series.

    Raises:
        DataError: If a column is missing, or a date or number cannot be read.
    """
    from seqcast.data.frame import _normalise, _parse_numbers, _row_labels, read_data

    where = source if isinstance(source, str | Path) else "the future table"
    table = _normalise(read_data(source), config.date_col)
    columns = [str(c) for c in table.columns]
    wanted = [config.date_col, *config.future_features]
    if config.id_col is not None and series is not None:
        wanted.append(config.id_col)
    for column in wanted:
        if column not in columns:
            raise DataError(
                f"{where} has no column {_q(str(column))}; the model needs {listing([str(c) for c in wanted])}. Columns: {listing(columns)}. Give a table with those columns to --future."
            )
    rows = _row_labels(table)
    if config.id_col is not None and series is not None:
        keep = (table[config.id_col].astype(str).str.strip() == series).to_numpy()
        table, rows = table[keep], rows[keep]
    dates, _ = _parse_dates(table[str(config.date_col)], str(config.date_col), rows, [])
    frame = pd.DataFrame(
        {c: _parse_numbers(table[c], c, rows) for c in config.future_features},
        index=dates,
    )
    if frame.index.duplicated().any():
        first = iso_dates(frame.index[frame.index.duplicated()][:1], sep=" ")[0]
        raise DataError(
            f"{where} gives {first} twice{_for(series)}. Give each timestamp once."
        )
    return frame.sort_index()


def aligned_future(
    table: pd.DataFrame | None,
    dates: Sequence[str],
    columns: Sequence[str],
    *,
    steps: int,
    horizon: int,
    series: str | None = None,
) -> FloatArray:
    """Return the values of ``columns`` at every timestamp of ``dates``, (len(dates), k).

    Rows of ``table`` up to the forecast origin and past the last needed timestamp are
    ignored; one between the needed timestamps that is not on their grid is refused.

    Args:
        table: Future values indexed by timestamp (None: none were given).
        dates: ISO timestamps the forecast needs, in order.
        columns: The future features, in the model's order.
        steps: Steps asked for (for the message).
        horizon: The model's horizon (for the message).
        series: The series, for the message of a model over several.

    Raises:
        DataError: Naming the first missing timestamp and what to give.
    """
    span = f"from {_plain(dates[0])} to {_plain(dates[-1])}"
    why = f"The model reads {listing(list(columns))} over the {horizon} steps after each forecast origin, so forecasting {steps} step{'s' if steps != 1 else ''}{_for(series)} needs their values {span}"
    fix = "Add rows after the history with the target empty, or give them in --future FILE.csv."
    if table is None or table.empty:
        raise DataError(f"{why}, but none were given. {fix}")
    index = pd.DatetimeIndex(table.index)
    wanted = pd.DatetimeIndex(pd.to_datetime(list(dates)))
    inside = index[(index >= wanted[0]) & (index <= wanted[-1])]
    stray = inside[~inside.isin(wanted)]
    if len(stray):
        raise DataError(
            f"The future values{_for(series)} give {iso_dates(stray[:1], sep=' ')[0]}, which is not on the model's time grid {span}. Give one row per step of the model's frequency."
        )
    values = table.reindex(wanted)[list(columns)].to_numpy(dtype=np.float64)
    bad = ~np.isfinite(values)
    if bad.any():
        row, col = (int(v) for v in np.argwhere(bad)[0])
        raise DataError(
            f"{why}; the first missing is {columns[col]} at {_plain(dates[row])}. {fix}"
        )
    return values


def _plain(stamp: str) -> str:
    return stamp.replace("T00:00:00", "").replace("T", " ")


def _for(series: str | None) -> str:
    return "" if series is None else f" for series {_q(series)}"
