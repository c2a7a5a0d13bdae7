"""seqcast: time-series forecasting with Keras 3 recurrent models, from the command line or Python."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from seqcast._version import __version__

if TYPE_CHECKING:
    from seqcast.api import Forecast, Forecaster, TrainResult, backtest, load, train
    from seqcast.config import DataConfig, ModelConfig, RunConfig, TrainConfig
    from seqcast.errors import (
        ArtifactError,
        ClusterError,
        ConfigError,
        DataError,
        ExitCode,
        LockError,
        NonFiniteError,
        SeqcastError,
        SourceError,
    )

_LAZY = {
    "train": "seqcast.api",
    "backtest": "seqcast.api",
    "load": "seqcast.api",
    "Forecaster": "seqcast.api",
    "Forecast": "seqcast.api",
    "TrainResult": "seqcast.api",
    "RunConfig": "seqcast.config",
    "DataConfig": "seqcast.config",
    "ModelConfig": "seqcast.config",
    "TrainConfig": "seqcast.config",
    "SeqcastError": "seqcast.errors",
    "DataError": "seqcast.errors",
    "ConfigError": "seqcast.errors",
    "ArtifactError": "seqcast.errors",
    "SourceError": "seqcast.errors",
    "LockError": "seqcast.errors",
    "NonFiniteError": "seqcast.errors",
    "ClusterError": "seqcast.errors",
    "ExitCode": "seqcast.errors",
}
"""Public name -> module defining it, imported on first use (see ``__getattr__``)."""

__all__ = [
    "ArtifactError",
    "ClusterError",
    "ConfigError",
    "DataConfig",
    "DataError",
    "ExitCode",
    "Forecast",
    "Forecaster",
    "LockError",
    "ModelConfig",
    "NonFiniteError",
    "RunConfig",
    "SeqcastError",
    "SourceError",
    "TrainConfig",
    "TrainResult",
    "__version__",
    "backtest",
    "load",
    "train",
]


def __getattr__(name: str) -> Any:
    """Import a public name on first use, so ``import seqcast`` and the CLI start quickly."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'seqcast' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value  # later look-ups skip __getattr__
    return value


def __dir__() -> list[str]:
    """List the public API beside the module's own attributes, for ``dir`` and completion."""
    return sorted(set(globals()) | set(__all__))
