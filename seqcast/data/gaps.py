"""One series onto its regular time grid: date order, repeated timestamps, gaps, fill policy.

:func:`seqcast.data.frame.prepare` hands each parsed series here: :func:`order_rows`
sorts it by date and combines repeated timestamps by ``--duplicates``;
:func:`regularise` adds rows for missing timestamps at the frequency and applies
``--fill``, refusing dates off the grid and holes the policy cannot fill.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pandas.tseries.offsets import BaseOffset

from seqcast.config import DuplicatePolicy, FillPolicy
from seqcast.data.calendar import iso_dates
from seqcast.data.dates import _MAX_FILL_ROWS, _ROWS, _count, _q, _range_size
from seqcast.errors import DataError

__all__ = ["MissingValuesError", "order_rows", "regularise"]


class MissingValuesError(DataError):
    """Missing values with no fill policy; ``found`` says where, without the advice."""

    def __init__(self, message: str, *, found: str) -> None:
        super().__init__(message)
        self.found = found


def order_rows(
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


def regularise(
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
