"""The ``seqcast`` command line: a thin Typer layer over :mod:`seqcast.api`.

``main`` (the console script) is importable without Typer, so that it can install its
signal handling before the heavy imports; ``app`` is imported on first use.
"""

from __future__ import annotations

from typing import Any

from seqcast.cli.startup import main

__all__ = ["app", "main"]


def __getattr__(name: str) -> Any:
    """Import the Typer app on first use (``from seqcast.cli import app``)."""
    if name == "app":
        from seqcast.cli.app import app

        # Importing the submodule bound ``seqcast.cli.app`` to the module; the name
        # stands for the Typer app, as it did when this package imported it eagerly.
        globals()["app"] = app
        return app
    raise AttributeError(f"module 'seqcast.cli' has no attribute {name!r}")
