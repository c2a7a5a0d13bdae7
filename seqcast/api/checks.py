"""Checks a trained model's inputs and outputs must pass: finite values, data on the model's grid.

``matching_series`` prepares new data exactly as the model's training data was prepared.

A non-finite forecast is an error with its own exit code (5), never an exit 0 with
``nan`` in the output; data that ends before the training data, or lies off its time
grid, is refused; revised history is a warning.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from seqcast._types import FloatArray
from seqcast.data.calendar import iso_dates
from seqcast.errors import DataError, NonFiniteError, SeqcastError

if TYPE_CHECKING:
    import pandas as pd

    from seqcast.data.frame import Series, SeriesSet
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
    record = next((r for r in art.meta.series if r.id == series_id), art.meta.one)
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


def matching_series(
    art: Artifact, data: str | Path | pd.DataFrame, series: str | None = None
) -> tuple[SeriesSet, Series]:
    """Prepare ``data`` as the model's training data was prepared, and check it fits.

    Raises:
        DataError: If the frequency, columns or time grid differ from the model's.
    """
    from seqcast.data.frame import (
        HiddenSeriesError,
        MissingColumnError,
        MissingValuesError,
        prepare_series,
        read_data,
    )

    dc = art.config.data
    if series is not None:
        dc = dataclasses.replace(dc, series=series)
    raw = read_data(data)
    try:  # the data's own frequency, when it can be inferred
        series_set, found = prepare_series(
            raw,
            dataclasses.replace(dc, freq=None),
            static_names=art.meta.columns.static,
        )
    except SeqcastError:
        series_set = None
    if series_set is not None and series_set.freq != art.freq:
        raise DataError(
            f"The data has frequency {series_set.freq} but the model was trained on {art.freq}. Give data at the model's frequency."
        )
    if series_set is None:
        try:
            series_set, found = prepare_series(
                raw,
                dataclasses.replace(dc, freq=art.freq),
                static_names=art.meta.columns.static,
            )
        except MissingColumnError as exc:  # train's advice (--target) is not ours
            raise DataError(
                f"The data has no column {exc.column!r}, which the model reads. Columns: {exc.columns}. Give data with the columns the model was trained on (see `seqcast info`)."
            ) from None
        except HiddenSeriesError:  # nor is --id-col
            raise DataError(
                f"The data holds several series, but the model at {art.path} was trained on one. Give that series' rows only."
            ) from None
        except MissingValuesError as exc:  # nor is --fill, a training option
            raise DataError(
                f"{exc.found}. The model was trained with fill={dc.fill.value}: fill or drop them in the data, or retrain with a fill policy (`seqcast train ... --fill ffill`)."
            ) from None
    check_against_training(art, found, series)
    return series_set, found
