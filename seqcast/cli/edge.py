"""The one place where errors become output: ``error: ...`` on stderr and a documented exit code."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import typer

from seqcast import logs, progress
from seqcast.cli import startup
from seqcast.errors import ExitCode, SeqcastError
from seqcast.printable import printable

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
        startup.phase["now"] = "command"  # SIGTERM now raises KeyboardInterrupt here
        try:
            result = command(*args, **kwargs)
        except SeqcastError as exc:
            progress.finish()
            _log_error(str(exc), exc.exit_code, type(exc).__name__)
            if state["debug"]:
                raise
            typer.echo(f"error: {printable(str(exc))}", err=True)
            raise typer.Exit(int(exc.exit_code)) from None
        except KeyboardInterrupt:
            progress.finish()
            message = "Interrupted; nothing was written."
            _log_error(message, ExitCode.INTERRUPTED, "KeyboardInterrupt")
            if state["debug"]:
                raise
            startup.reported["interrupt"] = True
            typer.echo(f"error: {message}", err=True)
            raise typer.Exit(int(ExitCode.INTERRUPTED)) from None
        finally:
            startup.phase["now"] = "done"
            progress.finish()  # so that what follows starts on a line of its own
        logs.event("exit", "finished", exit_code=int(ExitCode.OK))
        return result

    return wrapper


def _log_error(message: str, code: ExitCode, kind: str) -> None:
    """Record the final error line and its exit code in the log file (stderr shows it once)."""
    logs.event(
        "error",
        f"error: {message}",
        level=logging.ERROR,
        exit_code=int(code),
        error=kind,
    )
