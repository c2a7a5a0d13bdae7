"""The closed sets of choices of seqcast's options, as StrEnums that Typer uses directly.

Re-exported by :mod:`seqcast.config`, where the options that take them are declared.
"""

from __future__ import annotations

from enum import StrEnum


class ModelKind(StrEnum):
    """Model architectures that ``build_model`` knows."""

    RNN = "rnn"
    LSTM = "lstm"
    GRU = "gru"
    STACKED = "stacked"


class Cell(StrEnum):
    """Recurrent cell types, for ``stacked`` models."""

    RNN = "rnn"
    LSTM = "lstm"
    GRU = "gru"


class Loss(StrEnum):
    """Training losses."""

    MSE = "mse"
    MAE = "mae"
    HUBER = "huber"


class ScalerKind(StrEnum):
    """Scalers, each fitted on the training part only."""

    MINMAX = "minmax"
    STANDARD = "standard"
    ROBUST = "robust"
    NONE = "none"


class FillPolicy(StrEnum):
    """What to do with missing values (and with the rows added for missing timestamps)."""

    NONE = "none"  # refuse: report the counts and ask for a policy
    FFILL = "ffill"
    BFILL = "bfill"
    INTERPOLATE = "interpolate"
    ZERO = "zero"
    DROP = "drop"


class DuplicatePolicy(StrEnum):
    """What to do with rows that share a timestamp."""

    ERROR = "error"
    FIRST = "first"
    LAST = "last"
    MEAN = "mean"


class WindowNorm(StrEnum):
    """Per-window input normalisation applied after global scaling."""

    NONE = "none"
    LAST = "last"  # inputs and targets relative to the window's last observed target
    MEAN = "mean"  # relative to the mean of the window's targets: a less noisy level


class Combine(StrEnum):
    """How the forecasts of an ensemble's members become one."""

    MEAN = "mean"
    MEDIAN = "median"  # elementwise, per window and step: robust to one member astray


class Transform(StrEnum):
    """Variance stabilisation of the target, fitted on the training part."""

    AUTO = "auto"  # log when every training value is above zero
    LOG = "log"
    NONE = "none"


class Deseasonalize(StrEnum):
    """Deseasonalisation of the (transformed) target, fitted on the training part."""

    AUTO = "auto"  # classical, when the training part holds two seasons
    TEST = "test"  # classical, when the training part passes the seasonality test
    CLASSICAL = "classical"
    NONE = "none"
    # As auto for the first half of the ensemble's members; the other half read each
    # series one step less prepared (with its seasonal pattern, or where it has no
    # seasonal indices, without its log), and the two halves' forecasts are averaged.
    MIXED = "mixed"


class Engine(StrEnum):
    """Inference engines: NumPy forward pass, Keras, or the fastest that can run the model."""

    AUTO = "auto"
    NUMPY = "numpy"
    KERAS = "keras"


class OutputFormat(StrEnum):
    """Formats for tabular output."""

    CSV = "csv"
    JSON = "json"
    TABLE = "table"


class DateFormat(StrEnum):
    """How the input wrote its dates, so output writes future dates the same way.

    ``YEAR``: plain integer years (``1749``); ``QUARTER``: quarters (``1959Q1``);
    ``ISO``: anything else, written ``YYYY-MM-DD[THH:MM:SS]``.
    """

    ISO = "iso"
    YEAR = "year"
    QUARTER = "quarter"
