"""The Python API: train, load, forecast, evaluate and backtest; everything the CLI does.

Example:
    >>> import seqcast
    >>> result = seqcast.train("sample_data/air_passengers.csv", target="passengers",
    ...                        window=24, horizon=12, out="models/air")
    >>> model = seqcast.load("models/air")
    >>> print(model.forecast(12).to_frame())
"""

from seqcast.api.forecast import Forecast
from seqcast.api.forecaster import Forecaster, load
from seqcast.api.training import TrainResult, backtest, train

__all__ = ["Forecast", "Forecaster", "TrainResult", "backtest", "load", "train"]
