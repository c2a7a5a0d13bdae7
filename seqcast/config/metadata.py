"""``option()``: a configuration field declared together with what its CLI flag needs.

The metadata it attaches (``help``, ``min``, ``max``, ``shown``) is read by
:mod:`seqcast.cli.options`, which builds every command's options from the dataclasses of
:mod:`seqcast.config.sections`.
"""

from __future__ import annotations

from dataclasses import field
from typing import Any

__all__ = ["option"]


def option(
    default: Any,
    help: str,
    *,
    min: float | None = None,
    max: float | None = None,
    shown: str | None = None,
) -> Any:
    """Declare a configuration field with what its flag needs: help, bounds, shown default.

    The field's name is the flag (``--batch-size``), the TOML key and the Python keyword
    (``batch_size``); :mod:`seqcast.cli.options` builds every command's options from
    these declarations, so help texts and defaults are written once, here.
    """
    return field(
        default=default,
        metadata={"help": help, "min": min, "max": max, "shown": shown},
    )
