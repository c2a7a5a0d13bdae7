"""The three sections of a run configuration as frozen, validated dataclasses.

``DataConfig``, ``ModelConfig`` and ``TrainConfig`` check their values once, when built;
every field is declared with :func:`seqcast.config.metadata.option`, so its help text,
bounds and shown default live beside it. The limits they enforce are constants here.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, fields
from typing import Any

from seqcast.choices import (
    Cell,
    Combine,
    Deseasonalize,
    DuplicatePolicy,
    FillPolicy,
    Loss,
    ModelKind,
    ScalerKind,
    Transform,
    WindowNorm,
)
from seqcast.config.known import AUTO, check_calendar, known_columns
from seqcast.config.metadata import option
from seqcast.errors import ConfigError

__all__ = [
    "DEFAULT_SINGLE_UNITS",
    "DEFAULT_STACKED_UNITS",
    "MAX_ENSEMBLE",
    "MAX_LAYERS",
    "MAX_UNITS",
    "DataConfig",
    "ModelConfig",
    "TrainConfig",
    "config_fields",
]


DEFAULT_STACKED_UNITS = (128, 64, 32)
DEFAULT_SINGLE_UNITS = 64
MAX_UNITS = 10_000  # per layer; an LSTM of 10**7 units would need terabytes
MAX_LAYERS = 64
MAX_ENSEMBLE = 20  # members per model; each costs a full training run


@dataclass(frozen=True, slots=True)
class DataConfig:
    """How to turn a raw table into a validated series.

    Attributes:
        target: Column to forecast; detected when there is exactly one numeric candidate.
        date_col: Column holding timestamps; detected when unambiguous.
        features: Extra numeric columns fed to the model as inputs (covariates) whose
            future values are unknown: the model reads their past only.
        future_features: Numeric columns known in advance (a planned price, a
            promotion calendar): the model reads their values over the forecast
            period too, and ``forecast`` needs them for the steps it forecasts.
        calendar: Calendar features derived from the timestamps (``auto``, or names
            from :data:`seqcast.config.known.CALENDAR_FEATURES`): always known ahead.
        holidays: A country, subdivision or exchange (``US``, ``AU-VIC``, ``NYSE``)
            whose public holidays become a known-ahead feature.
        static_features: Columns of a long-format file holding one value per series
            (category, region): each value becomes a 0/1 column, constant over the
            series, so that a global model can tell kinds of series apart.
        freq: Pandas frequency alias (``D``, ``MS``, ``W-SUN``, ``B``…); inferred if None.
        fill: Policy for missing values and missing timestamps.
        duplicates: Policy for repeated timestamps.
        id_col: Column that keys several series in one table (long format).
        series: Which series id to use when the table holds several.
        per_series: With ``id_col``: fit one local model per series (each sized,
            transformed and trained as a file of that series alone would be) rather
            than one global model over all of them.
    """

    target: str | None = option(
        None, "Column to forecast (detected if only one is numeric)."
    )
    date_col: str | None = option(
        None, "Column with timestamps (detected if unambiguous)."
    )
    features: tuple[str, ...] = option(
        (), "Comma-separated covariate columns fed to the model."
    )
    future_features: tuple[str, ...] = option(
        (),
        "Comma-separated columns known in advance (planned prices, promotions): the model reads them over the forecast period, and forecast needs their future values.",
    )
    calendar: tuple[str, ...] = option(
        (),
        "Calendar features from the timestamps: auto (by frequency) or a list of hour, dow, weekend, doy, month, quarter.",
    )
    holidays: str | None = option(
        None,
        "Public holidays as a known-ahead feature: a country (US), subdivision (AU-VIC) or exchange (NYSE).",
    )
    static_features: tuple[str, ...] = option(
        (),
        "With --id-col: comma-separated columns holding one value per series (category, region); each value becomes a 0/1 input of the global model.",
    )
    freq: str | None = option(
        None, "Pandas frequency such as D, B, W-SUN, MS, QS, h (inferred if omitted)."
    )
    fill: FillPolicy = option(
        FillPolicy.NONE,
        "Missing values: none (refuse), ffill, bfill, interpolate, zero, drop.",
    )
    duplicates: DuplicatePolicy = option(
        DuplicatePolicy.ERROR, "Repeated timestamps: error, first, last, mean."
    )
    id_col: str | None = option(
        None,
        "Column keying several series in one file: one global model learns from all of them (--series picks one, --per-series fits one model per series).",
    )
    series: str | None = option(None, "Which series (value of --id-col) to train on.")
    per_series: bool = option(
        False,
        "With --id-col: one local model per series, trained in parallel (--jobs), rather than one global model.",
    )

    @property
    def known(self) -> tuple[str, ...]:
        """Names of the input columns known ahead, last in every row, in order.

        Empty until ``calendar`` is resolved from ``auto`` to names (at training).
        """
        calendar = () if AUTO in self.calendar else self.calendar
        return known_columns(self.future_features, calendar, self.holidays)

    def n_ahead(self, n_columns: int) -> int:
        """How many of ``n_columns`` input columns are read ahead: all after the features.

        The known columns and the static ones (constant, so reading them ahead changes
        nothing) follow the target and the past-only features in every row.
        """
        return n_columns - 1 - len(self.features)

    def __post_init__(self) -> None:
        if self.target is not None and self.target in self.features:
            raise ConfigError(
                f"Column '{self.target}' is both the target and a feature. Remove it from --features."
            )
        if len(set(self.features)) != len(self.features):
            raise ConfigError(
                f"--features lists a column twice: {', '.join(self.features)}. List each column once."
            )
        known = (*self.features, *self.future_features)
        if self.target is not None and self.target in self.future_features:
            raise ConfigError(
                f"Column '{self.target}' is both the target and a future feature. Remove it from --future-features."
            )
        if len(set(known)) != len(known):
            both = sorted({c for c in known if known.count(c) > 1})
            raise ConfigError(
                f"Column {both[0]!r} is listed twice in --features and --future-features. Give each column once: --features for past-only covariates, --future-features for those known ahead."
            )
        check_calendar(self.calendar)
        if self.holidays is not None and not self.holidays.strip():
            raise ConfigError(
                "--holidays is empty. Give a country code such as US, or drop --holidays."
            )
        if self.static_features and self.id_col is None:
            raise ConfigError(
                "--static-features describe each series of a long-format file, but no --id-col names the column that keys them. Give --id-col, or drop --static-features."
            )
        if self.static_features and self.per_series:
            raise ConfigError(
                "--static-features tell series apart inside one global model; with --per-series each model sees one series, for which they are constant. Drop one of them."
            )
        taken = {*self.features, *self.future_features, self.target}
        for name in self.static_features:
            if name in taken:
                raise ConfigError(
                    f"Column {name!r} is given to --static-features and also as the target or a feature. Give each column one role."
                )
        if self.per_series and self.id_col is None:
            raise ConfigError(
                "per_series=True fits one model per series of a long-format file, but no --id-col names the column that keys them. Give --id-col, or drop --per-series."
            )
        if self.per_series and self.series is not None:
            raise ConfigError(
                f"per_series=True fits every series, but --series {self.series!r} picks one. Drop --series to train them all, or drop --per-series to train {self.series!r} alone."
            )


@dataclass(frozen=True, slots=True)
class ModelConfig:
    """Architecture of the recurrent network.

    Attributes:
        model: ``rnn``, ``lstm``, ``gru`` (one recurrent layer unless ``layers`` or
            ``units`` say more) or ``stacked`` (LSTM 128-64-32 by default). GRU by
            default: on the M1 sample (60 series, one model each) 0.798 against the
            LSTM's 0.806 with seed 0 and 0.803 against 0.818 with seed 1 (geometric
            mean of relative MASE; docs/ACCURACY.md).
        cell: Cell type for ``stacked``; ignored otherwise (the kind is the cell).
        units: Units per recurrent layer, first to last; empty means the kind's default.
        layers: Number of recurrent layers; None means ``len(units)`` or the default.
        bidirectional: Wrap every recurrent layer in ``Bidirectional``.
        dropout: Dropout rate between layers (never recurrent dropout, which would
            forfeit the cuDNN kernels).
        skip: Add a linear map of the whole input window to the forecast, beside the
            recurrent layers: an autoregressive skip connection, so that the network
            learns the linear part directly and the recurrent layers what is left.
            Off for one series (not measured to help there); on for a model over
            several series. Models saved before it existed have none.
    """

    model: ModelKind = option(ModelKind.GRU, "Architecture: rnn, lstm, gru, stacked.")
    cell: Cell | None = option(
        None, "Cell of --model stacked: rnn, lstm, gru (default lstm)."
    )
    units: tuple[int, ...] = option(
        (),
        "Units per recurrent layer, e.g. 128,64,32.",
        shown="64; 128,64,32 for stacked",
    )
    layers: int | None = option(None, "Number of recurrent layers.", min=1)
    bidirectional: bool = option(False, "Read each window in both directions.")
    dropout: float = option(
        0.0, "Dropout between layers (never recurrent dropout).", min=0.0, max=0.99
    )
    skip: bool = option(
        False,
        "Add a linear map of the input window to the forecast (an autoregressive skip connection beside the recurrent layers).",
    )

    def __post_init__(self) -> None:
        if any(u < 1 for u in self.units):
            raise ConfigError(
                f"Every entry of --units must be at least 1, got units={','.join(map(str, self.units))}. Use positive layer sizes such as 64,32."
            )
        if any(u > MAX_UNITS for u in self.units):
            raise ConfigError(
                f"units={','.join(map(str, self.units))} is larger than seqcast supports ({MAX_UNITS} per layer). Use layer sizes such as 64,32."
            )
        if self.layers is not None and self.layers > MAX_LAYERS:
            raise ConfigError(
                f"layers={self.layers} is more than seqcast supports ({MAX_LAYERS}). Use a few layers, such as --layers 3."
            )
        if self.layers is not None and self.layers < 1:
            raise ConfigError(
                f"layers={self.layers} must be at least 1. Use --layers 1 or more."
            )
        if (
            self.layers is not None
            and len(self.units) > 1
            and self.layers != len(self.units)
        ):
            raise ConfigError(
                f"layers={self.layers} contradicts units={','.join(map(str, self.units))} ({len(self.units)} layers). Give one of --layers or --units, or make them agree."
            )
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(
                f"dropout={self.dropout} must be at least 0 and below 1. Use a rate such as 0.1."
            )
        if (
            self.model is not ModelKind.STACKED
            and self.cell is not None
            and self.cell.value != self.model.value
        ):
            raise ConfigError(
                f"--cell {self.cell.value} only applies to --model stacked, got --model {self.model.value}. Use --model stacked --cell {self.cell.value}, or drop --cell."
            )

    @property
    def resolved_cell(self) -> Cell:
        """Cell type actually used by every recurrent layer."""
        if self.model is ModelKind.STACKED:
            return self.cell or Cell.LSTM
        return Cell(self.model.value)

    @property
    def resolved_units(self) -> tuple[int, ...]:
        """Units of every recurrent layer, first to last."""
        if self.model is ModelKind.STACKED:
            default: tuple[int, ...] = DEFAULT_STACKED_UNITS
        else:
            default = (DEFAULT_SINGLE_UNITS,)
        units = self.units or default
        if self.layers is None:
            return units
        if len(units) == self.layers:
            return units
        if len(self.units) == 1 or not self.units:
            if self.model is ModelKind.STACKED and not self.units:
                # Halve the default widths down the stack, as 128-64-32 does.
                return tuple(
                    max(DEFAULT_STACKED_UNITS[0] >> i, 8) for i in range(self.layers)
                )
            return (units[0],) * self.layers
        return units  # pragma: no cover - rejected in __post_init__


@dataclass(frozen=True, slots=True)
class TrainConfig:
    """Windowing, scaling and optimisation settings.

    Attributes:
        window: Past steps fed to the model per sample.
        horizon: Future steps predicted at once by the Dense head.
        scaler: Global scaler fitted on the training part only.
        window_norm: Per-window normalisation of inputs and targets.
        transform: Variance stabilisation of the target (see
            :mod:`seqcast.prep.transforms`).
        deseasonalize: Deseasonalisation of the target before the network.
        loss: Training loss.
        epochs: Maximum number of passes over the training windows.
        batch_size: Windows per gradient step.
        lr: Adam learning rate.
        patience: Epochs without validation improvement before stopping early (0 = off).
        seed: Seed for weights, shuffling and dropout; same data + seed + machine gives
            the same forecast.
        val_fraction: Share of the rows, before the test part, whose targets validate.
        test_fraction: Share of the rows at the end held out for ``evaluate``.
        refit: Fit the final model again on every window of the series, for the
            epoch count early stopping chose; validation and test scores stay those of
            the first fit, which never saw them.
        ensemble: Models trained from seeds ``seed .. seed + ensemble - 1`` on the same
            data and splits, together in one fit.
        combine: How the members' forecasts become one: their mean, or their median
            at each window and step.
        history_horizons: Train only on each series' newest windows: those whose
            targets end in the last ``history_horizons`` x ``horizon`` rows of its
            training part (of all its rows in the final fit); 0 keeps every window.
    """

    window: int | None = option(
        None,
        "Past steps the model reads (auto: 1.25 x the longer of horizon and season, fitted to the history).",
        min=1,
        shown="auto",
    )
    horizon: int | None = option(
        None,
        "Steps predicted at once (auto: from the frequency, 6 yearly, 8 quarterly, 18 monthly, 13 weekly, 14 daily, 48 hourly).",
        min=1,
        shown="auto",
    )
    scaler: ScalerKind = option(
        ScalerKind.STANDARD,
        "Scaler fitted on the training part: minmax, standard, robust, none.",
    )
    window_norm: WindowNorm = option(
        WindowNorm.LAST,
        "Per-window normalisation: none, last (relative to the window's last value), or mean (to the mean of its values).",
    )
    transform: Transform = option(
        Transform.AUTO,
        "Target transform fitted on the training part: log, none, or auto (log when positive).",
    )
    deseasonalize: Deseasonalize = option(
        Deseasonalize.AUTO,
        "Remove the seasonal pattern before the network: classical, none, test (when the training part passes the seasonality test), auto (whenever it holds two seasons), or mixed (auto for half of the --ensemble members; the rest read each series without its seasonal indices, or where it has none, without its log; their forecasts averaged).",
    )
    loss: Loss = option(Loss.MSE, "Loss: mse, mae, huber.")
    epochs: int = option(50, "Maximum epochs.", min=1)
    batch_size: int = option(32, "Windows per step.", min=1)
    lr: float = option(1e-3, "Adam learning rate.", min=0.0)
    patience: int = option(5, "Early-stopping patience in epochs (0 = off).", min=0)
    seed: int = option(
        0, "Random seed; same data, seed and machine give the same forecast.", min=0
    )
    val_fraction: float = option(
        0.15, "Share of rows validating early stopping.", min=0.0, max=0.49
    )
    test_fraction: float = option(
        0.15, "Share of rows held out for scoring.", min=0.0, max=0.49
    )
    refit: bool = option(
        False,
        "After choosing the epoch count on validation, fit again on all the history (scores stay those of the first fit).",
    )
    ensemble: int = option(
        1,
        "Models trained together from seeds seed, seed+1, ...; --combine makes one forecast of theirs.",
        min=1,
    )
    combine: Combine = option(
        Combine.MEAN,
        "How an ensemble's forecasts become one: mean, or median (per window and step).",
    )
    history_horizons: float = option(
        0.0,
        "Train on each series' newest windows only: those whose targets end in its last N horizons of training rows (0 = every window).",
        min=0.0,
    )

    @property
    def seasonal_members(self) -> int:
        """How many of the ``ensemble`` members read the series deseasonalised.

        All of them, except with ``deseasonalize = "mixed"``: then the first half,
        rounded up (members ``0 .. k-1``); members ``k ..`` read the series one step
        less prepared: with its seasonal pattern, or where it has no seasonal indices,
        without its log (:meth:`seqcast.model.pipeline.Prep.raw`).
        """
        n = self.ensemble
        return n - n // 2 if self.deseasonalize is Deseasonalize.MIXED else n

    @property
    def sizes(self) -> tuple[int, int]:
        """Return (window, horizon) of a resolved configuration (see :mod:`seqcast.prep.sizing`).

        Raises:
            ConfigError: If either is still None (auto).
        """
        if self.window is None or self.horizon is None:
            raise ConfigError(
                f"window={self.window} and horizon={self.horizon} must be chosen before fitting. Give --window and --horizon, or train through seqcast.train, which chooses them."
            )
        return self.window, self.horizon

    def __post_init__(self) -> None:
        for name in ("window", "horizon", "epochs", "batch_size"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ConfigError(
                    f"{name}={value} must be at least 1. Use --{name.replace('_', '-')} 1 or more."
                )
        if self.window is not None and self.window > 100_000:
            raise ConfigError(
                f"window={self.window} is larger than seqcast supports (100000). Use a shorter window."
            )
        if self.horizon is not None and self.horizon > 10_000:
            raise ConfigError(
                f"horizon={self.horizon} is larger than seqcast supports (10000). Use a shorter --horizon: forecasts beyond it feed their own predictions back."
            )
        if self.patience < 0:
            raise ConfigError(
                f"patience={self.patience} must be 0 (off) or more. Use --patience 0 to turn early stopping off."
            )
        if not self.lr > 0.0:
            raise ConfigError(
                f"lr={self.lr} must be above 0. Use a learning rate such as 0.001."
            )
        if not 1 <= self.ensemble <= MAX_ENSEMBLE:
            raise ConfigError(
                f"ensemble={self.ensemble} must be between 1 and {MAX_ENSEMBLE}. Use a small ensemble such as --ensemble 3; each member adds to the training time."
            )
        for name in ("val_fraction", "test_fraction"):
            value = getattr(self, name)
            if not 0.0 <= value < 0.5:
                raise ConfigError(
                    f"{name}={value} must be at least 0 and below 0.5. Use a share such as 0.15."
                )


def config_fields() -> list[dataclasses.Field[Any]]:
    """Return every field of DataConfig, ModelConfig and TrainConfig, in that order."""
    return [f for cls in (DataConfig, ModelConfig, TrainConfig) for f in fields(cls)]
