"""Checks a trained model's inputs and outputs must pass: finite values, data on the model's grid.

A non-finite forecast is an error with its own exit code (5), never an exit 0 with
``nan`` in the output; data that ends before the training data, or lies off its time
grid, is refused; revised history is a warning.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from seqcast._types import FloatArray
from seqcast.data.calendar import iso_dates
from seqcast.errors import DataError, NonFiniteError

if TYPE_CHECKING:
    from seqcast.data.frame import Series
    from seqcast.store.directory import Artifact


def check_finite(
    values: FloatArray, what: str, inputs: FloatArray | None = None
) -> None:
    """Refuse an array holding nan or inf, naming ``what`` produced it.

    Args:
        values: Forecasts, predictions or scores, any shape.
        what: The subject of the message, such as ``"The forecast of models/air"``.
        inputs: The unscaled input values, whose largest magnitude the message echoes.

    Raises:
        NonFiniteError: If any value is nan or inf.
    """
    arr = np.asarray(values, dtype=np.float64)
    bad = ~np.isfinite(arr)
    if not bad.any():
        return
    largest = ""
    if inputs is not None and np.asarray(inputs).size:
        with np.errstate(all="ignore"):
            largest = f"; largest |input| {float(np.nanmax(np.abs(inputs))):.3g}"
    raise NonFiniteError(
        f"{what} has {int(bad.sum())} non-finite values (nan or inf) among {arr.size}: the model's weights or the input values overflow{largest}. Check the input data for extreme values, or retrain with `seqcast train`; nothing was written."
    )


def check_against_training(
    art: Artifact, series: Series, series_id: str | None = None
) -> None:
    """Refuse data that ends before, or is off the time grid of, the training data.

    ``series_id`` names the series of a model over several (None: its only one).
    """
    import pandas as pd

    index = series.data.index
    record = (
        next((r for r in art.meta.series if r.id == series_id), art.meta.one)
        if series_id is not None
        else art.meta.one
    )
    train_last = pd.Timestamp(record.last_date)
    if index[-1] < train_last:
        raise DataError(
            f"The data ends at {iso_dates(index[-1:])[0]}, before the model's training data ends ({record.last_date}), so a forecast from it would start in the past. Give data up to {record.last_date} or later."
        )
    if index[0] <= train_last and train_last not in index:
        raise DataError(
            f"The data's timestamps ({iso_dates(index[:1])[0]}, ...) do not line up with the training data's (last {record.last_date}) at freq={art.freq}. Give data on the same time grid as the training data."
        )
    stored = record.last_window
    overlap = [
        (pd.Timestamp(d), v[0])
        for d, v in zip(stored.dates, stored.values, strict=True)
        if pd.Timestamp(d) in index
    ]
    if overlap:
        new = series.data.loc[[d for d, _ in overlap]].to_numpy(dtype=np.float64)[:, 0]
        old = np.asarray([v for _, v in overlap], dtype=np.float64)
        mismatch = ~np.isclose(new, old, rtol=1e-6, atol=1e-9)
        if mismatch.any():
            from seqcast import logs

            first = overlap[int(mismatch.argmax())][0]
            logs.warn(
                f"The data's '{art.target}' differs from the training data at {int(mismatch.sum())} of {len(overlap)} shared timestamps (first {iso_dates([first])[0]}); revised data? Forecasting from the data as given.",
                name="data_mismatch",
            )
