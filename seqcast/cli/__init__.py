"""The ``seqcast`` command line: a thin Typer layer over :mod:`seqcast.api`."""

from seqcast.cli.app import app, main

__all__ = ["app", "main"]
