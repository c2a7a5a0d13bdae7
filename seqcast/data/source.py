"""Where a series came from, recorded in the model directory: a CSV, a DataFrame or a ticker."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True, slots=True)
class Source:
    """Where the training data came from.

    Attributes:
        kind: ``csv``, ``dataframe`` or ``ticker``.
        path: The CSV path (``-`` for stdin), for ``csv``.
        ticker: The symbol, for ``ticker``; ``interval``, ``column`` and ``adjusted``
            describe the query.
    """

    kind: str
    path: str | None = None
    ticker: str | None = None
    interval: str | None = None
    column: str | None = None
    adjusted: bool | None = None


def source_of(data: Any) -> Source:
    """Describe a ``data`` argument of ``train``: a CSV path, ``-`` or a DataFrame."""
    if isinstance(data, str | Path):
        return Source(kind="csv", path=str(data))
    return Source(kind="dataframe")
