"""seqcast: time-series forecasting with Keras 3 recurrent models, from the command line or Python."""

from __future__ import annotations

from typing import Any

from seqcast._version import __version__

__all__ = ["Forecaster", "RunConfig", "__version__", "load", "train"]


def __getattr__(name: str) -> Any:
    """Import the API on first use, so ``import seqcast`` and the CLI start quickly."""
    if name in ("train", "load", "Forecaster"):
        from seqcast import api

        return getattr(api, name)
    if name == "RunConfig":
        from seqcast.config import RunConfig

        return RunConfig
    raise AttributeError(f"module 'seqcast' has no attribute {name!r}")
