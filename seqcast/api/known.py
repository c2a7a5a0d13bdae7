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

from seqcast._types import FloatArray
from seqcast.api.forecast import future_dates
from seqcast.errors import ConfigError

if TYPE_CHECKING:
    import pandas as pd

    from seqcast.store.directory import Artifact


def known_ahead(
    art: Artifact,
    origin: str,
    steps: int,
    *,
    data_future: pd.DataFrame | None,
    future: str | Path | pd.DataFrame | None,
    series: str | None,
) -> FloatArray | None:
    """Return the known columns at the timestamps after ``origin``, unscaled; None if none.

    Raises:
        ConfigError: If ``future`` is given to a model without future features.
        DataError: If a future feature's value is missing at a needed timestamp.
    """
    data = art.config.data
    if not art.meta.columns.known:
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

        several = len(art.meta.series) > 1 or art.meta.per_series
        table = (
            read_future(future, data, series if several else None)
            if future is not None
            else data_future
        )
        parts.append(
            aligned_future(
                table,
                dates[:rows],
                data.future_features,
                steps=steps,
                horizon=horizon,
                series=series if several else None,
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
    return np.concatenate(parts, axis=1)
