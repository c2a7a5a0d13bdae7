"""seqcast: time-series forecasting with Keras 3 recurrent models, from the command line or Python."""

from __future__ import annotations

__version__ = "0.1.0"
