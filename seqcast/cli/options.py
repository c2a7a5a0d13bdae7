"""Options and small helpers shared by the commands: option types, parsing, progress, output."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from seqcast import logs
from seqcast.config import (
    Engine,
)
from seqcast.errors import ConfigError
from seqcast.printable import printable_lines
from seqcast.progress import Display, Step


def csv_list(value: str | None) -> tuple[str, ...] | None:
    """Split a comma-separated option into names (None stays None)."""
    if value is None:
        return None
    return tuple(v.strip() for v in value.split(",") if v.strip())


def parse_units(value: str | None) -> tuple[int, ...] | None:
    """Parse --units such as 128,64,32 (None stays None)."""
    if value is None:
        return None
    try:
        return tuple(int(v) for v in value.split(",") if v.strip())
    except ValueError:
        raise typer.BadParameter(
            f"'{value}' is not a comma-separated list of whole numbers, such as 128,64,32.",
            param_hint="--units",
        ) from None


def warn(message: str) -> None:
    """Show a warning on stderr and record it in the log."""
    logs.warn(message)  # stderr shows "warning: ..."; --log-file records it too


def progress_printer(quiet: bool) -> Display | None:
    """Return the progress display on stderr (a bar on a terminal), or None when quiet."""
    if quiet:
        return None
    return Display(sys.stderr)


def stdout_is_terminal() -> bool:
    """Whether stdout is a terminal (tables) rather than a pipe or file (CSV)."""
    return sys.stdout.isatty()


def check_output(
    output: Path | None, *, data: str | None, model_dir: Path, option: str = "--output"
) -> None:
    """Refuse an output path that is the input CSV or lies inside the model directory.

    Paths are compared after resolving symlinks, and an existing output is also compared
    by device and inode with the input and with every file of the model directory, so a
    symlink or a hard link to either is caught too.

    Raises:
        ConfigError: If writing ``output`` would replace the input or damage the model.
    """
    if output is None:
        return
    target = output.resolve()
    if data is not None and data != "-" and _same_file(output, Path(data)):
        raise ConfigError(
            f"{option} {output} is the input CSV {data}: the forecast would replace the data. Choose another {option}."
        )
    model = model_dir.resolve()
    inside = target == model or model in target.parents
    if not inside and model.is_dir() and output.exists():
        inside = any(_same_file(output, f) for f in model.iterdir() if f.is_file())
    if inside:
        raise ConfigError(
            f"{option} {output} is inside the model directory {model_dir}: writing it would damage the model. Choose a path outside {model_dir}."
        )


def _same_file(a: Path, b: Path) -> bool:
    """Whether two paths name the same file (resolved path, or device and inode)."""
    if a.resolve() == b.resolve():
        return True
    try:
        first, second = a.stat(), b.stat()
    except OSError:
        return False
    return (first.st_dev, first.st_ino) == (second.st_dev, second.st_ino)


def output_locked(
    output: Path | None, lock_timeout: float
) -> contextlib.AbstractContextManager[None]:
    """Return the lock on ``output`` (a no-op without one), to hold before the work starts.

    :func:`emit` takes the same lock again; it is re-entrant within the thread.

    Raises:
        LockError: If another process holds it for longer than ``lock_timeout``.
    """
    if output is None or output.is_dir() or not output.parent.is_dir():
        return contextlib.nullcontext()  # emit() reports these with its own message
    from seqcast.store.output import output_lock

    return output_lock(output, lock_timeout)


def echo_data(text: str) -> None:
    """Write data to stdout; on a terminal with unsafe characters escaped (see :mod:`seqcast.printable`)."""
    typer.echo(printable_lines(text) if stdout_is_terminal() else text, nl=False)


def emit(text: str, output: Path | None, lock_timeout: float) -> None:
    """Write command output to stdout, or atomically to ``output`` under its lock."""
    if output is None:
        echo_data(text)
        return
    from seqcast.store.output import atomic_write_text

    atomic_write_text(output, text, lock_timeout=lock_timeout)
    typer.echo(f"wrote {output}", err=True)


DataArg = Annotated[
    str,
    typer.Argument(help="CSV file, or - to read standard input.", show_default=False),
]
TrainDataArg = Annotated[
    str | None,
    typer.Argument(
        help="CSV file to train on, or - for stdin (or give --ticker instead).",
        show_default=False,
    ),
]
OptionalDataArg = Annotated[
    str | None,
    typer.Argument(
        help="CSV file (or - for stdin) with newer data; default: the data stored in the model.",
        show_default=False,
    ),
]
ModelArg = Annotated[
    Path,
    typer.Argument(
        help="Model directory written by `seqcast train --out`.", show_default=False
    ),
]
LockTimeout = Annotated[
    float,
    typer.Option(
        "--lock-timeout",
        min=0,
        help="Seconds to wait for another seqcast writing the same output.",
    ),
]
Precision = Annotated[
    int | None,
    typer.Option(
        "--precision",
        min=0,
        max=15,
        help="Decimal places of every number (default: enough for 6 significant digits of the largest).",
        show_default=False,
    ),
]
EngineOpt = Annotated[
    Engine,
    typer.Option(
        "--engine",
        help="numpy (no TensorFlow), keras, or auto (numpy when it supports the model).",
    ),
]


PlotOpt = Annotated[
    Path | None,
    typer.Option(
        "--plot",
        help="Also draw a PNG here (history, forecasts, intervals, seasonal naive).",
    ),
]


def _levels(values: list[float] | None) -> list[float] | None:
    """Refuse a level outside (0, 1) as a usage error; typer's ranges are closed."""
    for value in values or ():
        if not 0.0 < value < 1.0:
            raise typer.BadParameter(
                f"{value} is not strictly between 0 and 1; use a level such as 0.8 or 0.95."
            )
    return values


LevelOpt = Annotated[
    list[float] | None,
    typer.Option(
        "--level",
        callback=_levels,
        help="Prediction interval level strictly between 0 and 1, e.g. 0.8 (repeat for several): adds lower_80 and upper_80.",
    ),
]


def fold_progress(quiet: bool) -> Display | None:
    """Return the backtest's progress display on stderr, or None when quiet.

    On a terminal it shows the folds and a bar for each fit's epochs; in a pipe, only
    the fold lines (one fit's epochs per fold would bury them).
    """
    if quiet:
        return None
    return Display(
        sys.stderr,
        plain=lambda line: isinstance(line, Step) and line.kind == "fold",
    )


def command_line(
    data: str, out: Path, config: Path | None, options: dict[str, Any]
) -> list[str]:
    """Rebuild the command line from the options given, for the artifact's record."""
    words = ["seqcast", "train", data, "--out", str(out)]
    if config is not None:
        words += ["--config", str(config)]
    for key, value in options.items():
        if value is None:
            continue
        flag = "--" + key.replace("_", "-")
        if isinstance(value, bool):
            words.append(flag if value else "--no-" + flag[2:])
        elif isinstance(value, tuple):
            words += [flag, ",".join(map(str, value))]
        else:
            words += [flag, str(getattr(value, "value", value))]
    return words


def with_config_options(command: Any) -> Any:
    """Give a command one option per configuration field, generated from the dataclasses.

    The flag is the field's name (``batch_size`` -> ``--batch-size``), the help text,
    bounds and shown default come from the field's declaration in
    :mod:`seqcast.config`, and every generated option defaults to None, so that a
    ``--config`` file's value stands unless the flag is given. The command receives the
    given values in ``**options``.
    """
    import inspect

    own = [
        p
        for p in inspect.signature(command, eval_str=True).parameters.values()
        if p.kind is not inspect.Parameter.VAR_KEYWORD
    ]
    positional = [p for p in own if p.default is inspect.Parameter.empty]
    rest = [
        p.replace(kind=inspect.Parameter.KEYWORD_ONLY)
        for p in own
        if p not in positional
    ]
    params = positional + config_parameters() + rest
    command.__signature__ = inspect.Signature(params, return_annotation=None)
    command.__annotations__ = {p.name: p.annotation for p in params}
    return command


def config_parameters() -> list[Any]:
    """Return a keyword-only Typer parameter for every field of the run configuration."""
    import dataclasses
    import inspect
    import typing

    from seqcast.config import DataConfig, ModelConfig, TrainConfig

    params = []
    for cls in (DataConfig, ModelConfig, TrainConfig):
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            option = _field_option(f, hints[f.name])
            params.append(
                inspect.Parameter(
                    f.name,
                    inspect.Parameter.KEYWORD_ONLY,
                    default=None,
                    annotation=option,
                )
            )
    return params


def _field_option(f: Any, hint: Any) -> Any:
    import types
    import typing

    if typing.get_origin(hint) in (types.UnionType, typing.Union):
        hint = next(a for a in typing.get_args(hint) if a is not type(None))
    callback = None
    if typing.get_origin(hint) is tuple:
        if typing.get_args(hint)[0] is int:
            callback = _whole_numbers
        hint = str  # a comma-separated list, split by the configuration's converter
    meta = f.metadata
    flag = "--" + f.name.replace("_", "-")
    decls = [f"{flag}/--no-{flag[2:]}"] if hint is bool else [flag]
    shown = meta.get("shown") or _shown(f.default)
    bounds = {k: meta[k] for k in ("min", "max") if meta.get(k) is not None}
    option = typer.Option(
        *decls,
        help=meta["help"],
        show_default=shown or False,
        callback=callback,
        **bounds,
    )
    return Annotated[hint | None, option]


def _whole_numbers(value: str | None) -> str | None:
    """Refuse a list such as --units 64,big at the command line (exit 2)."""
    if value is not None:
        try:
            [int(v) for v in value.split(",") if v.strip()]
        except ValueError:
            raise typer.BadParameter(
                f"{value!r} is not a comma-separated list of whole numbers such as 128,64,32."
            ) from None
    return value


def _shown(default: Any) -> str:
    """Return the default as help shows it ("" for none)."""
    if default is None or default == ():
        return ""
    if isinstance(default, bool):
        return "no" if not default else "yes"
    return str(getattr(default, "value", default))
