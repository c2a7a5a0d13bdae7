"""Static features: one value per series of a long-format file, as 0/1 columns.

``--static-features region,kind`` reads columns that hold one value per series (a
category, a region). Each value seen in training becomes a column named
``region=north``, 1 for the series of that value and 0 for the others, constant over
every row (and every future step) of a series, so that one global model can tell kinds
of series apart. The model records the columns; data read later for it is encoded with
the model's columns, and a value it never saw gets 0 in all of them, with a warning.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from seqcast.data.columns import listing
from seqcast.data.dates import _q
from seqcast.errors import DataError

__all__ = ["static_columns", "static_frame", "static_values"]


def static_values(
    table: pd.DataFrame,
    columns: Sequence[str],
    groups: Sequence[tuple[str, np.ndarray]],
) -> dict[str, tuple[str, ...]]:
    """Return every series' value of each static column, as text.

    Raises:
        DataError: If a series holds no value or several values in a static column.
    """
    out = {}
    for sid, pos in groups:
        values = []
        for column in columns:
            cells = table[column].iloc[pos].astype(str).str.strip()
            found = sorted({c for c in cells if c and c.lower() not in ("nan", "none")})
            if len(found) != 1:
                held = f"{len(found)}: {listing(found)}" if found else "none"
                raise DataError(
                    f"Column {_q(column)} must hold one value per series (a static feature), but series {_q(sid)} has {held}. Give each series one value, or pass a column that changes over time with --features or --future-features."
                )
            values.append(found[0])
        out[sid] = tuple(values)
    return out


def static_columns(
    values: Mapping[str, tuple[str, ...]], columns: Sequence[str]
) -> tuple[str, ...]:
    """The 0/1 columns of the values seen: ``column=value``, column by column, sorted."""
    names = []
    for i, column in enumerate(columns):
        seen = sorted({v[i] for v in values.values()})
        names += [f"{column}={value}" for value in seen]
    return tuple(names)


def static_frame(
    index: pd.DatetimeIndex,
    names: Sequence[str],
    columns: Sequence[str],
    values: tuple[str, ...],
    series: str,
) -> pd.DataFrame:
    """One series' 0/1 columns ``names`` over ``index``; warns of a value not among them."""
    from seqcast import logs

    row = np.zeros(len(names), dtype=np.float64)
    for column, value in zip(columns, values, strict=True):
        name = f"{column}={value}"
        if name in names:
            row[list(names).index(name)] = 1.0
        else:
            logs.warn(
                f"Series {_q(series)} has {name}, a value the model never saw in training: it reads as none of {listing([n for n in names if n.startswith(column + '=')])}.",
                name="unseen_static",
            )
    return pd.DataFrame(np.tile(row, (len(index), 1)), index=index, columns=list(names))
