"""A trained model in use: verify it, forecast with timestamps and intervals, evaluate it.

Example:
    >>> import seqcast
    >>> model = seqcast.load("models/air")
    >>> print(model.forecast(24, intervals=(0.8,)).to_frame())
    >>> model.evaluate("sample_data/air_passengers.csv")
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from seqcast._types import Float32Array, FloatArray
from seqcast.api.checks import check_finite, matching_series
from seqcast.api.forecast import Forecast, future_dates
from seqcast.config import Engine
from seqcast.data.calendar import iso_dates
from seqcast.errors import ArtifactError, ConfigError, DataError
from seqcast.evaluation.scoring import Evaluation
from seqcast.model.pipeline import Members, Predict, Prep, blend, group_members
from seqcast.model.pooled import pad_rows
from seqcast.prep.scaling import Scaler
from seqcast.prep.windows import denormalize, normalize_windows
from seqcast.store.directory import (
    Artifact,
    load_artifact,
)
from seqcast.store.layout import META_FILE

if TYPE_CHECKING:
    import pandas as pd

    from seqcast.data.frame import Series, SeriesSet
    from seqcast.evaluation.backtest import BacktestResult
    from seqcast.store.schema import SeriesRecord


def load(path: str | Path, *, engine: Engine = Engine.AUTO) -> Forecaster:
    """Load and verify a model directory written by :func:`train`.

    Raises:
        ArtifactError: If the directory is missing, incomplete, edited or from another schema.
    """
    return Forecaster(load_artifact(Path(path)), engine=engine)


class Forecaster:
    """A trained model ready to forecast and evaluate.

    Args:
        artifact: A verified model directory.
        engine: ``auto`` uses the NumPy forward pass when it supports the model, else Keras.
    """

    def __init__(self, artifact: Artifact, engine: Engine = Engine.AUTO) -> None:
        self.artifact = artifact
        self.engine = engine
        self._predict: Members | None = None
        self._engine_used = ""
        self._locals: dict[str | None, Forecaster] = {}

    def local(self, series: str | None = None) -> Forecaster:
        """The model of one series of a model of local models, as a one-series model.

        It forecasts, evaluates and plots as the model of that series trained alone
        (``seqcast train ... --series ID``) would.

        Raises:
            ConfigError: If the model is not per series, or covers several series and
                ``series`` is None.
            DataError: If no series has id ``series``.
        """
        art = self.artifact
        if not art.meta.per_series:
            raise ConfigError(
                f"The model at {art.path} is one model over all its series, not one per series. Forecast its series with --series (series=)."
            )
        record = self.record(series)
        if record.id not in self._locals:
            self._locals[record.id] = Forecaster(art.local(record.id), self.engine)
        return self._locals[record.id]

    def one_series(self, series: str) -> Forecaster:
        """One series of a model over several series, as a one-series model.

        For a model of local models, :meth:`local`; for one global model, a view with
        that series' record on the same networks (loaded once, shared by every view).

        Raises:
            DataError: If no series has id ``series``.
        """
        if self.artifact.meta.per_series:
            return self.local(series)
        record = self.record(series)
        if record.id not in self._locals:
            view = Forecaster(self.artifact.one_series(str(record.id)), self.engine)
            view._predict = self.predictor()
            view._engine_used = self._engine_used
            self._locals[record.id] = view
        return self._locals[record.id]

    @property
    def scaler(self) -> Scaler:
        """The scaler fitted on the (transformed) training part."""
        return self.artifact.meta.one.scaler

    @property
    def prep(self) -> Prep:
        """The target transform and scaler fitted on the training part."""
        record = self.artifact.meta.one
        return Prep(record.transform, record.scaler, record.raw_scaler)

    @property
    def series_ids(self) -> tuple[str, ...]:
        """Ids of the series a model over several series covers (empty for one series)."""
        meta = self.artifact.meta
        several = len(meta.series) > 1 or meta.per_series
        return tuple(str(r.id) for r in meta.series) if several else ()

    def record(self, series: str | None = None) -> SeriesRecord:
        """The stored record of one series: the only one, or the one named ``series``.

        Raises:
            ConfigError: If the model covers several series and ``series`` is None.
            DataError: If no series has id ``series``.
        """
        records = self.artifact.meta.series
        if series is None:
            if len(records) == 1:
                return records[0]
            raise ConfigError(
                f"The model at {self.artifact.path} covers {len(records)} series; name one with --series (series=) or forecast them all."
            )
        for record in records:
            if record.id == series:
                return record
        from seqcast.data.columns import listing, suggest  # pandas: the error path only

        ids = [str(r.id) for r in records]
        raise DataError(
            f"The model at {self.artifact.path} has no series {series!r}. Series: {listing(ids)}.{suggest(series, ids)} Use --series with one of those."
        )

    def forecast_all(
        self,
        steps: int | None = None,
        *,
        intervals: Sequence[float] = (),
        series: Sequence[str] | None = None,
        future: str | Path | pd.DataFrame | None = None,
    ) -> list[Forecast]:
        """Forecast every series of the model (or those named in ``series``), each from its stored window.

        ``future`` holds the future features' values of every series (with the id column).
        """
        if not self.series_ids:
            return [self.forecast(steps, intervals=intervals, future=future)]
        chosen = list(series) if series else list(self.series_ids)
        return [
            self.forecast(steps, intervals=intervals, series=s, future=future)
            for s in chosen
        ]

    @property
    def engine_used(self) -> str:
        """Which engine ran the last prediction (empty before the first)."""
        return self._engine_used

    def predictor(self) -> Members:
        """Return the members' prediction functions, choosing the engine on first use."""
        if self._predict is None:
            self._predict, self._engine_used = _choose_engine(
                self.artifact, self.engine
            )
        return self._predict

    def forecast(
        self,
        steps: int | None = None,
        data: str | Path | pd.DataFrame | None = None,
        *,
        intervals: Sequence[float] = (),
        series: str | None = None,
        future: str | Path | pd.DataFrame | None = None,
    ) -> Forecast:
        """Forecast ``steps`` values after the last observation.

        Args:
            steps: Steps to forecast; defaults to the model's horizon. Beyond the horizon,
                predictions are fed back as inputs (models without past-only features).
            data: New data whose tail is the forecast's input; None uses the window stored
                in the artifact at training time. Rows after its last target value (the
                target empty) give the future features' values.
            intervals: Levels (such as 0.8, 0.95) of conformal prediction intervals.
            series: Which series of a model over several series (see :meth:`record`).
            future: A table (CSV path or DataFrame) of the future features' values after
                the origin; it takes precedence over future rows in ``data``.

        Raises:
            ConfigError: If steps < 1, or steps > horizon for a model with features,
                or intervals are asked of a model stored without calibration.
            DataError: If ``data`` does not match the model.
            NonFiniteError: If a forecast value or interval bound is nan or inf.
        """
        art = self.artifact
        if art.meta.per_series:  # the series' own model, as if trained alone
            local = self.local(series)
            made = local.forecast(steps, data, intervals=intervals, future=future)
            self._engine_used = local.engine_used
            return dataclasses.replace(
                made, series=local.artifact.meta.one.id, id_col=art.config.data.id_col
            )
        steps = art.horizon if steps is None else steps
        if steps < 1:
            raise ConfigError(
                f"steps={steps} must be at least 1. Use --steps 1 or more."
            )
        record = self.record(series)
        ahead = None
        if data is None:
            raw_window = pad_rows(record.last_window.array(), art.window)
            origin = record.last_window.dates[-1]
            first_row = record.n_rows - art.window
        else:
            _, found = self.matching_series(data, series)
            if len(found.data) < art.window:
                raise DataError(
                    f"The data has {len(found.data)} rows after preparation but the model needs window={art.window}. Give at least {art.window} rows."
                )
            raw_window = found.data.to_numpy(dtype=np.float64)[-art.window :]
            origin = iso_dates(found.data.index)[-1]
            first_row = self._first_row(found.data.index[-art.window], record)
            ahead = found.future
        from seqcast.api.known import known_ahead, market_days

        open_days = market_days(art, origin, steps)
        total = steps if open_days is None else open_days[0]
        n_static = len(art.meta.columns.static)
        known = known_ahead(
            art,
            origin,
            total,
            data_future=ahead,
            future=future,
            series=record.id,
            static_row=raw_window[-1, raw_window.shape[1] - n_static :]
            if n_static
            else None,
        )
        with np.errstate(over="ignore", invalid="ignore"):  # check_finite reports it
            values = self._forecast_values(raw_window, total, first_row, record, known)
        check_finite(values, f"The forecast of {art.path}", raw_window)
        bands = self.interval_bands(values, intervals, record)
        for label, band in bands.items():
            check_finite(np.concatenate(band), f"The {label}% interval of {art.path}")
        dates = future_dates(origin, art.freq, total)
        if open_days is not None:  # a business-day model skips market holidays
            keep = open_days[1]
            values = values[keep]
            dates = [d for d, k in zip(dates, keep, strict=True) if k]
            bands = {k: (lo[keep], hi[keep]) for k, (lo, hi) in bands.items()}
        return Forecast(
            target=art.target,
            dates=tuple(dates),
            values=values,
            origin=origin,
            engine=self._engine_used,
            bands=bands,
            series=series if self.series_ids else None,
            id_col=art.config.data.id_col,
        )

    def interval_bands(
        self,
        values: FloatArray,
        levels: Sequence[float],
        record: SeriesRecord | None = None,
    ) -> dict[str, tuple[FloatArray, FloatArray]]:
        """Return (lower, upper) around ``values`` for each level, keyed ``"80"``, ``"95"``.

        Raises:
            ConfigError: If levels are given but the model stored no calibration.
        """
        if not levels:
            return {}
        from seqcast.evaluation.intervals import check_level, level_label

        calibration = self.artifact.meta.intervals
        if calibration is None:
            raise ConfigError(
                f"The model at {self.artifact.path} stored no interval calibration (it had no validation windows). Retrain with --val-fraction 0.15 or more, or on more history, to use --level."
            )
        from seqcast import logs
        from seqcast.config import Transform

        record = record or self.artifact.meta.one
        positive = record.transform.kind is Transform.LOG
        calibration = record.served(calibration)
        n = calibration.n_residuals
        bands = {}
        for level in levels:
            check_level(level)
            if level > n / (n + 1):
                logs.warn(
                    f"level={level} needs at least {math.ceil(level / (1 - level))} calibration errors, but the model kept {n}: its band is the widest calibration error and cannot promise {level_label(level)}%. Use a lower --level, or train on more history.",
                    name="level_unresolved",
                )
            lower, upper = calibration.bounds(values, level)
            if (
                positive
            ):  # the training part was positive (log transform): so are bounds
                lower = np.maximum(lower, 0.0)
            bands[level_label(level)] = (lower, upper)
        return bands

    def evaluate(
        self,
        data: str | Path | pd.DataFrame | None = None,
        *,
        season: int | None = None,
    ) -> Evaluation:
        """Score the model beside the baselines on points it never trained or validated on.

        Without ``data``, returns the test-part scores computed at training time (re-scored
        for another ``season``, which needs data). With ``data``, scores every window whose
        targets all fall after the last training or validation timestamp.

        Raises:
            DataError: If there is nothing to score or the data does not match the model.
        """
        art = self.artifact
        if data is not None and (art.meta.per_series or len(art.meta.series) > 1):
            from seqcast.api.evaluating import evaluate_each_series

            return evaluate_each_series(self, data, season)
        if data is None:
            stored = art.meta.test
            if stored is None:
                raise DataError(
                    f"The model at {art.path} kept no test part (test_fraction=0). Give data to evaluate on: seqcast evaluate {art.path} DATA.csv."
                )
            if season is not None and season != stored.season:
                raise ConfigError(
                    f"--season {season} differs from the season {stored.season} used at training time; re-scoring needs the data. Give the CSV: seqcast evaluate {art.path} DATA.csv --season {season}."
                )
            return stored
        from seqcast.api.evaluating import evaluate_windows

        return evaluate_windows(self, data, season)

    def evaluate_by_series(
        self, data: str | Path | pd.DataFrame, *, season: int | None = None
    ) -> dict[str, Any]:
        """Score each series of a model over several series on ``data``, one by one.

        Returns:
            ``per_series`` (each series' MASE, seasonal naive's, relative MASE, sMAPE
            and best forecaster), ``geometric_mean_relative_mase``, ``series_scored``
            and ``beats_seasonal_naive``.

        Raises:
            ConfigError: If the model covers one series.
            DataError: Naming the first series whose rows cannot be scored.
        """
        from seqcast.api.evaluating import evaluate_series, series_summary

        if not self.series_ids:
            raise ConfigError(
                f"The model at {self.artifact.path} covers one series; its scores are the pooled ones."
            )
        return series_summary(evaluate_series(self, data, season))

    def evaluate_folds(
        self,
        data: str | Path | pd.DataFrame,
        *,
        folds: int | None = None,
        step: int | None = None,
        season: int | None = None,
    ) -> BacktestResult:
        """Score the model at ``folds`` origins of ``data`` without re-training.

        Args:
            data: Data at the model's frequency reaching past its training data.
            folds: Origins, ``step`` apart, counted back from the end of ``data``
                (default: as many as fit after the training data).
            step: Rows between origins (default: the horizon).
            season: Season length for seasonal naive and MASE (default: the model's).

        Raises:
            DataError: If an origin would score points the model trained on.
        """
        from seqcast.api.evaluating import evaluate_origins

        art = self.artifact
        if self.series_ids:
            raise ConfigError(
                f"The model at {art.path} covers {len(self.series_ids)} series; scoring origins takes one series at a time. Use --series ID (Forecaster.one_series(ID).evaluate_folds)."
            )
        return evaluate_origins(self, data, folds=folds, step=step, season=season)

    def plot_forecast(
        self,
        path: str | Path,
        forecast: Forecast,
        data: str | Path | pd.DataFrame | None = None,
    ) -> Path:
        """Draw the history's tail, ``forecast`` with its bands, and seasonal naive as a PNG.

        Steps past the model's horizon (predicted from earlier predictions) are shaded.

        Args:
            path: The PNG to write (atomically).
            forecast: What :meth:`forecast` returned.
            data: The data the forecast started from (None: the stored last window).

        Returns:
            The path written.

        Raises:
            ConfigError: If the path does not end in ``.png``, its folder is missing,
                or the file cannot be written (the previous file is kept).
        """
        from seqcast.evaluation.baselines import seasonal_naive
        from seqcast.evaluation.plots import plot_forecast

        if self.artifact.meta.per_series:
            return self.local(forecast.series).plot_forecast(path, forecast, data)
        record = self.artifact.meta.one
        steps = len(forecast.values)
        if data is None:
            history_dates = list(record.last_window.dates)
            history = record.last_window.array()[:, 0]
        else:
            _, series = self.matching_series(data)
            tail = series.data.iloc[-max(4 * self.artifact.window, 3 * steps) :]
            history_dates = iso_dates(tail.index)
            history = tail.iloc[:, 0].to_numpy(dtype=np.float64)
        season = record.mase.season
        baseline = None
        if len(history) >= season:
            start = np.array([len(history) - season])
            baseline = seasonal_naive(history, start, season, steps, season)[0]
        return plot_forecast(
            path,
            history_dates=history_dates,
            history=history,
            dates=forecast.dates,
            forecast=forecast.values,
            bands=forecast.bands,
            baseline=baseline,
            target=self.artifact.target,
            horizon=self.artifact.horizon,
        )

    def matching_series(
        self, data: str | Path | pd.DataFrame, series: str | None = None
    ) -> tuple[SeriesSet, Series]:
        """Prepare ``data`` as the model's training data was prepared, and check it fits.

        ``series`` picks one series of a model over several (see :meth:`record`).

        Raises:
            DataError: If the frequency, columns or time grid differ from the model's.
        """
        return matching_series(self.artifact, data, series)

    def _first_row(self, timestamp: Any, record: SeriesRecord | None = None) -> int:
        """Return the row of ``timestamp`` counted from the series' first training row."""
        from seqcast.data.dates import periods_between

        first = (record or self.artifact.meta.one).first_date
        return periods_between(first, timestamp, self.artifact.freq)

    def _forecast_values(
        self,
        raw_window: FloatArray,
        steps: int,
        first_row: int,
        record: SeriesRecord | None = None,
        known: FloatArray | None = None,
    ) -> FloatArray:
        art = self.artifact
        record = record or art.meta.one
        prep = Prep(record.transform, record.scaler, record.raw_scaler)
        forecasts = [
            self._forecast_group(
                predict, group_prep, raw_window, steps, first_row, known
            )
            for predict, group_prep in self.predictor().parts(prep)
        ]
        return blend(forecasts, prep)

    def _forecast_group(
        self,
        predict: Predict,
        prep: Prep,
        raw_window: FloatArray,
        steps: int,
        first_row: int,
        known: FloatArray | None,
    ) -> FloatArray:
        """``steps`` values from one group of members, reading through ``prep``."""
        from seqcast.model.predict import recursive_forecast

        art = self.artifact
        scaled = prep.apply(raw_window, first_row)
        norm = art.config.train.window_norm

        def predict_scaled(x: Float32Array) -> FloatArray:
            xn, _, offset = normalize_windows(x.astype(np.float64), None, norm)
            return denormalize(predict(xn.astype(np.float32)), offset)

        known_scaled = None
        if known is not None:
            ahead = np.full((len(known), raw_window.shape[1]), np.nan)
            ahead[:, raw_window.shape[1] - known.shape[1] :] = known
            known_scaled = prep.apply(ahead, first_row + art.window)[
                :, raw_window.shape[1] - known.shape[1] :
            ]
        out = recursive_forecast(
            predict_scaled,
            scaled,
            steps,
            art.horizon,
            features=art.features,
            known_future=known_scaled,
        )
        rows = first_row + art.window + np.arange(steps)
        return prep.invert(np.asarray(out, dtype=np.float64), rows)


def _choose_engine(artifact: Artifact, engine: Engine) -> tuple[Members, str]:
    """Return the members' prediction functions (combined as trained) and the engine name."""
    from seqcast.model.predict import KerasModel, UnsupportedModelError

    members = range(len(artifact.member_names))
    tc = artifact.config.train
    if engine in (Engine.AUTO, Engine.NUMPY):
        try:
            loaded = [artifact.numpy_model(i) for i in members]
        except UnsupportedModelError:
            if engine is Engine.NUMPY:
                raise
        else:
            for i, model in zip(members, loaded, strict=True):
                shape = (model.window, model.n_features)
                _check_sizes(artifact, i, shape, model.horizon)
            return group_members([m.predict for m in loaded], tc), "numpy"
    networks = [artifact.keras_model(i) for i in members]
    for i, network in zip(members, networks, strict=True):
        _check_sizes(artifact, i, network.input_shape[1:], network.output_shape[-1])
    return group_members([KerasModel(n).predict for n in networks], tc), "keras"


def _check_sizes(
    artifact: Artifact, member: int, inputs: Sequence[Any], horizon: Any
) -> None:
    """Refuse a network whose input or output sizes are not those seqcast.json records.

    ``inputs`` is the network's (window, n_features) per window; a window of None (a
    network that accepts any length) fits every window.
    """
    columns = artifact.meta.columns
    n_features = 1 + len(columns.features) + len(columns.known) + len(columns.static)
    shape = tuple(inputs)
    if (
        len(shape) == 2
        and shape[0] in (None, artifact.window)
        and shape[1] == n_features
        and horizon == artifact.horizon
    ):
        return
    name = artifact.member_names[member]
    raise ArtifactError(
        f"{artifact.path / name} reads windows of shape {shape} and predicts {horizon} steps, but {META_FILE} records window={artifact.window} with {n_features} columns and horizon={artifact.horizon}: they are not from the same model. Retrain with `seqcast train`."
    )
