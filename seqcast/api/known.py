"""The known-ahead inputs of a forecast: future features, calendar terms, holidays.

A model trained with future features, ``--calendar`` or ``--holidays`` reads those
columns over the forecast period (see :func:`seqcast.prep.windows.lead_known`). For a
forecast of ``steps`` steps it needs them at the ``ceil(steps / horizon) * horizon``
timestamps after the origin: the calendar terms and holidays are computed from the
timestamps; the future features come from the ``future`` table or the data's rows
after its history.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from seqcast._types import FloatArray
from seqcast.api.forecast import future_dates
from seqcast.errors import ConfigError

if TYPE_CHECKING:
    import pandas as pd

    from seqcast.store.directory import Artifact


def market_days(
    art: Artifact, origin: str, steps: int
) -> tuple[int, npt.NDArray[np.bool_]] | None:
    """Steps to forecast so that ``steps`` of them fall on open days, and which those are.

    A business-day model (``B``) with ``--holidays`` (an exchange such as ``NYSE``, or a
    country) keeps holidays on its time grid, as the filled rows it trained on, but its
    forecasts never land on one: it forecasts further and drops the holiday steps.
    Returns None for any other model.

    Returns:
        (steps to forecast, mask of the steps to keep, with ``steps`` True values).
    """
    data = art.config.data
    if not data.holidays or not art.freq.lstrip("0123456789").startswith("B"):
        return None
    from seqcast.data.known import holiday_values

    total = steps
    while True:
        dates = future_dates(origin, art.freq, total)
        closed = holiday_values(dates, data.holidays, daily=True)
        open_days = int((closed == 0).sum())
        if open_days >= steps:
            return total, (closed == 0) & (np.cumsum(closed == 0) <= steps)
        total += steps - open_days


def known_ahead(
    art: Artifact,
    origin: str,
    steps: int,
    *,
    data_future: pd.DataFrame | None,
    future: str | Path | pd.DataFrame | None,
    series: str | None,
    static_row: FloatArray | None = None,
) -> FloatArray | None:
    """Return the known columns at the timestamps after ``origin``, unscaled; None if none.

    ``series`` is the id of the series forecast (None for a model of one series): the
    rows of ``future`` with that id in the id column are its values. ``static_row``
    holds the series' static columns (constant), repeated at every step.

    Raises:
        ConfigError: If ``future`` is given to a model without future features.
        DataError: If a future feature's value is missing at a needed timestamp.
    """
    data = art.config.data
    static = art.meta.columns.static
    if not art.meta.columns.known and not static:
        if future is not None:
            raise ConfigError(
                f"The model at {art.path} reads no future features, so --future does not apply. Drop --future."
            )
        return None
    horizon = art.horizon
    rows = -(-steps // horizon) * horizon
    dates = future_dates(origin, art.freq, rows + 1)
    parts = []
    if data.future_features:
        from seqcast.data.future import aligned_future, read_future

        table = read_future(future, data, series) if future is not None else data_future
        parts.append(
            aligned_future(
                table,
                dates[:rows],
                data.future_features,
                steps=steps,
                horizon=horizon,
                series=series,
            )
        )
    elif future is not None:
        raise ConfigError(
            f"The model at {art.path} reads no future features (only calendar or holiday terms, computed from the dates), so --future does not apply. Drop --future."
        )
    if data.calendar or data.holidays:
        from seqcast.data.known import known_values

        parts.append(
            known_values(
                dates[:rows], art.freq, data.calendar, data.holidays, dates[rows]
            )
        )
    if static:  # constant over the series: its last row's values, every step
        if static_row is None:
            raise ValueError("a model with static features needs static_row")
        parts.append(np.tile(static_row, (rows, 1)))
    return np.concatenate(parts, axis=1)
