"""The names inside a model directory: which files seqcast owns there."""

from __future__ import annotations

import re

MODEL_FILE = "model.keras"
META_FILE = "seqcast.json"

_OWNED = re.compile(r"(model|series-[0-9]+)(-[0-9]+)?\.keras")


def member_file(member: int) -> str:
    """Return the file name of ensemble member ``member`` (0-based).

    Member 0 is ``model.keras``, so readers that know one model still find it; the
    others are ``model-1.keras``, ``model-2.keras``, ... Example: an ensemble of 3 is
    ``model.keras``, ``model-1.keras``, ``model-2.keras``.
    """
    return MODEL_FILE if member == 0 else f"model-{member}.keras"


def series_file(series: int, member: int = 0) -> str:
    """Return the file name of member ``member`` of series ``series``'s own network.

    In a model of local models (``per_series``) each series has its own networks,
    named by the series' position in ``seqcast.json``'s ``series`` list (0-based),
    never by its id, which is the user's text. Example: series 2 is
    ``series-2.keras``; with an ensemble of 3, also ``series-2-1.keras`` and
    ``series-2-2.keras``.
    """
    return (
        f"series-{series}.keras" if member == 0 else f"series-{series}-{member}.keras"
    )


def is_owned(name: str) -> bool:
    """Whether seqcast writes ``name`` in a model directory (everything else is the user's)."""
    return name == META_FILE or _OWNED.fullmatch(name) is not None
