"""The seqcast Typer app: global options, logging, command registration and the entry point."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator, MutableMapping
from pathlib import Path
from typing import Annotated, Any, ClassVar

import typer

from seqcast import logs
from seqcast._version import __version__
from seqcast.cli import startup
from seqcast.cli.edge import state
from seqcast.errors import ExitCode, SeqcastError
from seqcast.logs import LogFormat

app = typer.Typer(
    name="seqcast",
    help="Train, evaluate and forecast time series with recurrent neural networks.",
    rich_markup_mode=None,
    pretty_exceptions_show_locals=False,
    no_args_is_help=True,
    add_completion=True,  # --install-completion / --show-completion (bash, zsh, fish)
)


def _data_command() -> Any:
    from typer.main import get_command

    from seqcast.cli.data import data_app

    return get_command(data_app)


class _LazyCommands(MutableMapping[str, Any]):
    """Commands by name; a lazy one is imported on its first lookup, not on listing."""

    def __init__(self, eager: MutableMapping[str, Any], lazy: dict[str, Any]) -> None:
        self._eager = eager
        self._lazy = lazy

    def __getitem__(self, name: str) -> Any:
        if name not in self._eager and name in self._lazy:
            self._eager[name] = self._lazy[name]()
        return self._eager[name]

    def __setitem__(self, name: str, command: Any) -> None:
        self._eager[name] = command

    def __delitem__(self, name: str) -> None:
        self._lazy.pop(name, None)
        del self._eager[name]

    def __iter__(self) -> Iterator[str]:
        yield from self._eager
        yield from (n for n in self._lazy if n not in self._eager)

    def __len__(self) -> int:
        return len(set(self._eager) | set(self._lazy))

    def loaded(self, name: str) -> bool:
        return name in self._eager


class _LazyGroup(typer.core.TyperGroup):
    """The top-level group; ``seqcast data`` (pandas, the ticker cache) loads only when used.

    ``seqcast --help`` lists it from its one-line help without importing it, so
    ``--help``, ``forecast`` and ``info`` start without pandas.
    """

    lazy_help: ClassVar[dict[str, str]] = {
        "data": "Fill, refresh and print the local ticker price cache."
    }

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.commands = _LazyCommands(self.commands, {"data": _data_command})
        self._listing = False

    def list_commands(self, ctx: Any) -> list[str]:
        return list(self.commands)  # names only: listing imports nothing

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        commands = self.commands
        if (
            self._listing
            and cmd_name in self.lazy_help
            and isinstance(commands, _LazyCommands)
            and not commands.loaded(cmd_name)
        ):
            return typer.core.TyperCommand(name=cmd_name, help=self.lazy_help[cmd_name])
        return commands.get(cmd_name)

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        self._listing = True
        try:
            super().format_commands(ctx, formatter)
        finally:
            self._listing = False


def _add_subcommands() -> None:
    app.info.cls = _LazyGroup  # registers `seqcast data` lazily


def _version(value: bool) -> None:
    if value:
        typer.echo(f"seqcast {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    ctx: typer.Context,
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_version,
            is_eager=True,
            help="Print the version and exit.",
        ),
    ] = False,
    debug: Annotated[
        bool,
        typer.Option(
            "--debug",
            envvar="SEQCAST_DEBUG",
            help="Show tracebacks for errors (also SEQCAST_DEBUG=1).",
        ),
    ] = False,
    log_file: Annotated[
        Path | None,
        typer.Option(
            "--log-file",
            envvar="SEQCAST_LOG_FILE",
            help="Append log lines (warnings, notes, errors, exit code) to this file.",
        ),
    ] = None,
    log_format: Annotated[
        LogFormat,
        typer.Option(
            "--log-format", help="Log file format: text or json (one object per line)."
        ),
    ] = LogFormat.TEXT,
) -> None:
    """Train, evaluate and forecast time series with recurrent neural networks."""
    state["debug"] = debug
    _start_logging(ctx.invoked_subcommand, log_file, log_format)


def _start_logging(
    command: str | None, log_file: Path | None, log_format: LogFormat
) -> None:
    try:
        logs.configure(log_file, log_format, command=command)
    except SeqcastError as exc:
        raise typer.BadParameter(str(exc), param_hint="--log-file") from None
    logs.event("start", " ".join(["seqcast", *sys.argv[1:]]), argv=sys.argv[1:])


from seqcast.cli.predict import evaluate, forecast, info  # noqa: E402
from seqcast.cli.train import backtest_command, train  # noqa: E402

app.command()(train)
app.command()(evaluate)
app.command()(forecast)
app.command()(info)
app.command("backtest")(backtest_command)

_add_subcommands()


def main() -> None:
    """Console-script entry point (also ``seqcast.cli.main``, which handles signals first)."""
    from seqcast.cli.startup import main as start

    start()


def run() -> None:
    """Run the app; :func:`seqcast.cli.startup.main` has installed the signal handling."""
    try:
        app()
    except SystemExit as exc:
        if exc.code == ExitCode.USAGE:
            logs.event("error", "usage error", level=logging.ERROR, exit_code=2)
        raise
    except KeyboardInterrupt:
        # An interrupt that escaped the command's own handling (seen once on a loaded
        # machine, after the command had printed its line): Python would otherwise
        # end by killing itself with SIGINT. Exit with the documented code instead.
        if not startup.reported["interrupt"]:
            startup.report_interrupt()
        raise SystemExit(int(ExitCode.INTERRUPTED)) from None
