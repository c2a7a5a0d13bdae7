"""The one place where errors become output: ``error: ...`` on stderr and a documented exit code."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import typer

from seqcast.errors import ExitCode, SeqcastError

_P = ParamSpec("_P")
_R = TypeVar("_R")

state: dict[str, bool] = {"debug": False}


def renders_errors(command: Callable[_P, _R]) -> Callable[_P, _R]:
    """Wrap a Typer command so a SeqcastError prints one line and exits with its code.

    Any other exception is a bug and keeps its traceback. With ``--debug`` (or
    ``SEQCAST_DEBUG=1``) SeqcastError is re-raised too.
    """

    @functools.wraps(command)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return command(*args, **kwargs)
        except SeqcastError as exc:
            if state["debug"]:
                raise
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(int(exc.exit_code)) from None
        except KeyboardInterrupt:
            if state["debug"]:
                raise
            typer.echo("error: Interrupted; nothing was written.", err=True)
            raise typer.Exit(int(ExitCode.INTERRUPTED)) from None

    return wrapper
