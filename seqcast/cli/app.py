"""Typer commands: parse options, call the API, render results, map errors to exit codes."""

from __future__ import annotations

import logging
import os
import signal
import sys
from collections.abc import Iterator, MutableMapping
from pathlib import Path
from typing import Annotated, Any, ClassVar

import typer

from seqcast import __version__, logs
from seqcast.cli.edge import renders_errors, state
from seqcast.cli.sources import (
    CacheDirOpt,
    ColumnOpt,
    EndOpt,
    IntervalOpt,
    MaxStaleOpt,
    OfflineOpt,
    RawOpt,
    SourceChoice,
    StartOpt,
    TickerOpt,
    TimeoutOpt,
)
from seqcast.config import (
    Cell,
    DuplicatePolicy,
    Engine,
    FillPolicy,
    Loss,
    ModelKind,
    OutputFormat,
    RunConfig,
    ScalerKind,
    WindowNorm,
    load_config_file,
)
from seqcast.errors import ExitCode, SeqcastError
from seqcast.logs import LogFormat

app = typer.Typer(
    name="seqcast",
    help="Train, evaluate and forecast time series with recurrent neural networks.",
    rich_markup_mode=None,
    pretty_exceptions_show_locals=False,
    no_args_is_help=True,
    add_completion=False,
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


def _csv_list(value: str | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    return tuple(v.strip() for v in value.split(",") if v.strip())


def _units(value: str | None) -> tuple[int, ...] | None:
    if value is None:
        return None
    try:
        return tuple(int(v) for v in value.split(",") if v.strip())
    except ValueError:
        raise typer.BadParameter(
            f"'{value}' is not a comma-separated list of whole numbers, such as 128,64,32.",
            param_hint="--units",
        ) from None


def _warn(message: str) -> None:
    logs.warn(message)  # stderr shows "warning: ..."; --log-file records it too


def _progress(quiet: bool) -> Any:
    if quiet:
        return None
    return lambda line: typer.echo(line, err=True)


def _is_tty() -> bool:
    return sys.stdout.isatty()


def _emit(text: str, output: Path | None, lock_timeout: float) -> None:
    if output is None:
        typer.echo(text, nl=False)
        return
    from seqcast.artifacts import atomic_write_text

    atomic_write_text(output, text, lock_timeout=lock_timeout)
    typer.echo(f"wrote {output}", err=True)


DataArg = Annotated[
    str,
    typer.Argument(help="CSV file, or - to read standard input.", show_default=False),
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
EngineOpt = Annotated[
    Engine,
    typer.Option(
        "--engine",
        help="numpy (no TensorFlow), keras, or auto (numpy when it supports the model).",
    ),
]


@app.command()
@renders_errors
def train(
    out: Annotated[
        Path,
        typer.Option(
            "--out", "-o", help="Model directory to write (replaced atomically)."
        ),
    ],
    data: OptionalDataArg = None,
    target: Annotated[
        str | None,
        typer.Option(help="Column to forecast (detected if only one is numeric)."),
    ] = None,
    date_col: Annotated[
        str | None,
        typer.Option(
            "--date-col", help="Column with timestamps (detected if unambiguous)."
        ),
    ] = None,
    features: Annotated[
        str | None,
        typer.Option(help="Comma-separated covariate columns fed to the model."),
    ] = None,
    freq: Annotated[
        str | None,
        typer.Option(
            help="Pandas frequency such as D, B, W-SUN, MS, QS, h (inferred if omitted)."
        ),
    ] = None,
    fill: Annotated[
        FillPolicy | None,
        typer.Option(
            help="Missing values: none (refuse), ffill, bfill, interpolate, zero, drop."
        ),
    ] = None,
    duplicates: Annotated[
        DuplicatePolicy | None,
        typer.Option(help="Repeated timestamps: error, first, last, mean."),
    ] = None,
    id_col: Annotated[
        str | None,
        typer.Option("--id-col", help="Column keying several series in one file."),
    ] = None,
    series: Annotated[
        str | None, typer.Option(help="Which series (value of --id-col) to train on.")
    ] = None,
    window: Annotated[
        int | None,
        typer.Option(min=1, help="Past steps the model reads.  [default: 24]"),
    ] = None,
    horizon: Annotated[
        int | None, typer.Option(min=1, help="Steps predicted at once.  [default: 1]")
    ] = None,
    model: Annotated[
        ModelKind | None,
        typer.Option(
            "--model", help="Architecture: rnn, lstm, gru, stacked.  [default: lstm]"
        ),
    ] = None,
    cell: Annotated[
        Cell | None,
        typer.Option(help="Cell of --model stacked: rnn, lstm, gru.  [default: lstm]"),
    ] = None,
    units: Annotated[
        str | None, typer.Option(help="Units per recurrent layer, e.g. 128,64,32.")
    ] = None,
    layers: Annotated[
        int | None, typer.Option(min=1, help="Number of recurrent layers.")
    ] = None,
    bidirectional: Annotated[
        bool | None,
        typer.Option(
            "--bidirectional/--no-bidirectional",
            help="Read each window in both directions.",
        ),
    ] = None,
    dropout: Annotated[
        float | None,
        typer.Option(
            min=0.0, max=0.99, help="Dropout between layers (never recurrent dropout)."
        ),
    ] = None,
    scaler: Annotated[
        ScalerKind | None,
        typer.Option(
            help="Scaler fitted on the training part: minmax, standard, robust, none.  [default: standard]"
        ),
    ] = None,
    window_norm: Annotated[
        WindowNorm | None,
        typer.Option(
            "--window-norm",
            help="Per-window normalisation: none, or last (relative to the window's last value).  [default: last]",
        ),
    ] = None,
    loss: Annotated[Loss | None, typer.Option(help="Loss: mse, mae, huber.")] = None,
    epochs: Annotated[
        int | None, typer.Option(min=1, help="Maximum epochs.  [default: 50]")
    ] = None,
    batch_size: Annotated[
        int | None,
        typer.Option("--batch-size", min=1, help="Windows per step.  [default: 32]"),
    ] = None,
    lr: Annotated[
        float | None,
        typer.Option(min=0.0, help="Adam learning rate.  [default: 0.001]"),
    ] = None,
    patience: Annotated[
        int | None,
        typer.Option(
            min=0, help="Early-stopping patience in epochs (0 = off).  [default: 5]"
        ),
    ] = None,
    seed: Annotated[
        int | None,
        typer.Option(
            min=0,
            help="Random seed; same data, seed and machine give the same forecast.  [default: 0]",
        ),
    ] = None,
    val_fraction: Annotated[
        float | None,
        typer.Option(
            "--val-fraction",
            min=0.0,
            max=0.49,
            help="Share of rows validating early stopping.  [default: 0.15]",
        ),
    ] = None,
    test_fraction: Annotated[
        float | None,
        typer.Option(
            "--test-fraction",
            min=0.0,
            max=0.49,
            help="Share of rows held out for scoring.  [default: 0.15]",
        ),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option("--config", help="TOML file of options; the command line wins."),
    ] = None,
    fmt: Annotated[
        OutputFormat,
        typer.Option(
            "--format", help="Format of the test-part scores on stdout: table or json."
        ),
    ] = OutputFormat.TABLE,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress on stderr.")
    ] = False,
    lock_timeout: LockTimeout = 60.0,
    ticker: TickerOpt = None,
    start: StartOpt = None,
    end: EndOpt = None,
    interval: IntervalOpt = "1d",
    column: ColumnOpt = "Close",
    raw_prices: RawOpt = False,
    cache_dir: CacheDirOpt = None,
    offline: OfflineOpt = False,
    max_stale: MaxStaleOpt = None,
    timeout: TimeoutOpt = 30.0,
    plot: Annotated[
        Path | None,
        typer.Option("--plot", help="Also draw the loss curves as a PNG here."),
    ] = None,
) -> None:
    """Train a model on a CSV or a ticker and save it to --out.

    Example: seqcast train sample_data/air_passengers.csv --target passengers --window 24 --horizon 12 --out models/air
    """
    from seqcast import api
    from seqcast.models import cudnn_forfeits

    source = SourceChoice(
        data,
        ticker,
        start,
        end,
        interval,
        column,
        raw_prices,
        cache_dir,
        offline,
        max_stale,
        timeout,
    )
    source.check(required=True)
    base = RunConfig.from_dict(load_config_file(config)) if config else RunConfig()
    options: dict[str, Any] = {
        "target": target,
        "date_col": date_col,
        "features": _csv_list(features),
        "freq": freq,
        "fill": fill,
        "duplicates": duplicates,
        "id_col": id_col,
        "series": series,
        "window": window,
        "horizon": horizon,
        "kind": model,
        "cell": cell,
        "units": _units(units),
        "layers": layers,
        "bidirectional": bidirectional,
        "dropout": dropout,
        "scaler": scaler,
        "window_norm": window_norm,
        "loss": loss,
        "epochs": epochs,
        "batch_size": batch_size,
        "lr": lr,
        "patience": patience,
        "seed": seed,
        "val_fraction": val_fraction,
        "test_fraction": test_fraction,
    }
    frame, defaults, record = source.load(_warn)
    if frame is None:  # unreachable after check(required=True); keeps the types exact
        raise typer.BadParameter("Give a CSV path or --ticker.", param_hint="DATA")
    run_config = base.with_overrides(
        {**defaults, **{k: v for k, v in options.items() if v is not None}}
    )
    if (
        record is not None
        and options["fill"] is None
        and base.data.fill is FillPolicy.NONE
    ):
        run_config = run_config.with_overrides(
            {"fill": FillPolicy.FFILL}
        )  # market holidays
    for reason in cudnn_forfeits(run_config.model):
        _warn(reason)
    progress = _progress(quiet)
    result = api.train(
        frame,
        out=out,
        source=record,
        config=run_config,
        progress=progress,
        command=_command_line(
            data if data is not None else f"--ticker {ticker}", out, config, options
        ),
        lock_timeout=lock_timeout,
    )
    for note in result.notes:
        logs.event("note", note)
    if result.path is not None:
        logs.event("saved", f"saved model to {result.path}", model=str(result.path))
    if not quiet:
        for note in result.notes:
            typer.echo(f"note: {note}", err=True)
        fit = result.fit
        stop = (
            f"stopped early, best epoch {fit.best_epoch}"
            if fit.stopped_early
            else f"best epoch {fit.best_epoch}"
        )
        typer.echo(
            f"trained {fit.epochs_run} epochs in {fit.seconds:.1f} s ({stop}) on {result.device}",
            err=True,
        )
        typer.echo(f"saved model to {result.path}", err=True)
    if result.evaluation is not None:
        typer.echo(_evaluation_text(result.evaluation.as_dict(), fmt), nl=False)
    if plot is not None:
        from seqcast.plotting import plot_losses

        hist = result.fit
        written = plot_losses(
            plot,
            hist.loss,
            hist.val_loss,
            best_epoch=hist.best_epoch,
            title=f"{result.config.data.target}: training and validation loss",
        )
        typer.echo(f"wrote {written}", err=True)


@app.command()
@renders_errors
def evaluate(
    model_dir: ModelArg,
    data: OptionalDataArg = None,
    season: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Season length for seasonal naive and MASE (inferred from the frequency).",
        ),
    ] = None,
    fmt: Annotated[
        OutputFormat, typer.Option("--format", help="table or json.")
    ] = OutputFormat.TABLE,
    engine: EngineOpt = Engine.AUTO,
    ticker: TickerOpt = None,
    start: StartOpt = None,
    end: EndOpt = None,
    interval: IntervalOpt = "1d",
    column: ColumnOpt = "Close",
    raw_prices: RawOpt = False,
    cache_dir: CacheDirOpt = None,
    offline: OfflineOpt = False,
    max_stale: MaxStaleOpt = None,
    timeout: TimeoutOpt = 30.0,
    folds: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Score this many origins, --step apart, without re-training (needs DATA).",
        ),
    ] = None,
    step: Annotated[
        int | None,
        typer.Option(
            min=1, help="Rows between --folds origins (default: the horizon)."
        ),
    ] = None,
    plot: PlotOpt = None,
) -> None:
    """Score a model beside naive baselines on unseen points.

    Example: seqcast evaluate models/air sample_data/air_passengers.csv
    """
    from seqcast import api

    forecaster = api.load(model_dir, engine=engine)
    source = SourceChoice(
        data,
        ticker,
        start,
        end,
        interval,
        column,
        raw_prices,
        cache_dir,
        offline,
        max_stale,
        timeout,
    )
    source.check(required=False)
    frame, _, _ = source.for_model(forecaster.artifact.meta).load(_warn)
    if folds is not None or plot is not None:
        _evaluate_origins(forecaster, frame, folds, step, season, fmt, plot)
        return
    evaluation = forecaster.evaluate(frame, season=season)
    typer.echo(_evaluation_text(evaluation.as_dict(), fmt), nl=False)
    if fmt is OutputFormat.TABLE:
        typer.echo(_coverage_text(forecaster.artifact.meta), nl=False)


@app.command()
@renders_errors
def forecast(
    model_dir: ModelArg,
    data: OptionalDataArg = None,
    steps: Annotated[
        int | None,
        typer.Option(min=1, help="Steps to forecast (default: the model's horizon)."),
    ] = None,
    fmt: Annotated[
        OutputFormat | None,
        typer.Option(
            "--format",
            help="csv, json or table (default: table on a terminal, csv otherwise).",
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", help="Write to this file (atomically) instead of stdout."
        ),
    ] = None,
    engine: EngineOpt = Engine.AUTO,
    lock_timeout: LockTimeout = 60.0,
    ticker: TickerOpt = None,
    start: StartOpt = None,
    end: EndOpt = None,
    interval: IntervalOpt = "1d",
    column: ColumnOpt = "Close",
    raw_prices: RawOpt = False,
    cache_dir: CacheDirOpt = None,
    offline: OfflineOpt = False,
    max_stale: MaxStaleOpt = None,
    timeout: TimeoutOpt = 30.0,
    level: LevelOpt = None,
    plot: PlotOpt = None,
) -> None:
    """Forecast the next steps after the last observation.

    Example: seqcast forecast models/air --steps 12 --format csv --output next.csv
    """
    from seqcast import api

    forecaster = api.load(model_dir, engine=engine)
    source = SourceChoice(
        data,
        ticker,
        start,
        end,
        interval,
        column,
        raw_prices,
        cache_dir,
        offline,
        max_stale,
        timeout,
    )
    source.check(required=False)
    frame, _, _ = source.for_model(forecaster.artifact.meta).load(_warn)
    result = forecaster.forecast(steps, frame, intervals=level or ())
    chosen = fmt or (
        OutputFormat.TABLE if output is None and _is_tty() else OutputFormat.CSV
    )
    from seqcast.cli.render import records

    _emit(records(result.rows(), chosen), output, lock_timeout)
    if plot is not None:
        _plot_forecast(plot, forecaster, frame, result)


@app.command()
@renders_errors
def info(
    model_dir: ModelArg,
    fmt: Annotated[
        OutputFormat, typer.Option("--format", help="table or json.")
    ] = OutputFormat.TABLE,
) -> None:
    """Show what a model directory holds.

    Example: seqcast info models/air --format json
    """
    from seqcast.artifacts import load_artifact

    artifact = load_artifact(model_dir)
    meta = artifact.meta
    if fmt is OutputFormat.JSON:
        from seqcast.cli.render import document

        typer.echo(document({"path": str(artifact.path), **meta}), nl=False)
        return
    typer.echo(_info_text(artifact.path, meta), nl=False)


PlotOpt = Annotated[
    Path | None,
    typer.Option(
        "--plot",
        help="Also draw a PNG here (history, forecasts, intervals, seasonal naive).",
    ),
]
LevelOpt = Annotated[
    list[float] | None,
    typer.Option(
        "--level",
        min=0.0,
        max=1.0,
        help="Prediction interval level, e.g. 0.8 (repeat for several): adds lower_80 and upper_80.",
    ),
]


def _with_train_options(command: Any) -> Any:
    """Give a command train's model, data and training options (same flags, help, defaults).

    The command takes its own parameters plus ``**options``; every train parameter that
    names a configuration field (and ``--model``, ``--config``) is added to its
    signature, so the two commands cannot drift apart.
    """
    import inspect

    known = {name for section in RunConfig().to_dict().values() for name in section} | {
        "model",
        "config",
    }
    own = [
        p
        for p in inspect.signature(command, eval_str=True).parameters.values()
        if p.kind is not inspect.Parameter.VAR_KEYWORD
    ]
    names = {p.name for p in own}
    borrowed = [
        p.replace(kind=inspect.Parameter.KEYWORD_ONLY)
        for p in inspect.signature(train, eval_str=True).parameters.values()
        if p.name in known and p.name not in names
    ]
    positional = [p for p in own if p.default is inspect.Parameter.empty]
    rest = [
        p.replace(kind=inspect.Parameter.KEYWORD_ONLY)
        for p in own
        if p not in positional
    ]
    params = positional + borrowed + rest
    command.__signature__ = inspect.Signature(params, return_annotation=None)
    command.__annotations__ = {p.name: p.annotation for p in params}
    return command


def _options_to_config(options: dict[str, Any]) -> tuple[RunConfig, dict[str, Any]]:
    """Turn train-style CLI values into a RunConfig (config file first, flags win)."""
    config = options.pop("config", None)
    base = RunConfig.from_dict(load_config_file(config)) if config else RunConfig()
    converters = {"features": _csv_list, "units": _units}
    flat = {
        ("kind" if key == "model" else key): converters.get(key, lambda v: v)(value)
        for key, value in options.items()
    }
    return base.with_overrides(flat), flat


@app.command("backtest")
@_with_train_options
@renders_errors
def backtest_command(
    data: DataArg,
    folds: Annotated[
        int, typer.Option(min=1, help="Forecast origins, each re-trained.")
    ] = 5,
    step: Annotated[
        int | None,
        typer.Option(min=1, help="Rows between origins (default: the horizon)."),
    ] = None,
    season: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Season length for seasonal naive and MASE (inferred from the frequency).",
        ),
    ] = None,
    fmt: Annotated[
        OutputFormat, typer.Option("--format", help="table or json.")
    ] = OutputFormat.TABLE,
    plot: PlotOpt = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress on stderr.")
    ] = False,
    **options: Any,
) -> None:
    """Re-train at several origins and score each next horizon.

    Example: seqcast backtest sample_data/air_passengers.csv --window 24 --horizon 12 --folds 4
    """
    import dataclasses

    from seqcast import api
    from seqcast.backtest import backtest
    from seqcast.baselines import season_for_freq

    run_config, _ = _options_to_config(options)
    series_set, series = api.prepare_series(data, run_config.data)
    run_config = dataclasses.replace(
        run_config,
        data=dataclasses.replace(
            run_config.data, target=series_set.target, freq=series_set.freq
        ),
    )
    if not quiet:
        for note in series_set.notes:
            typer.echo(f"note: {note}", err=True)
    result = backtest(
        series.data.to_numpy(dtype="float64"),
        api._iso_dates(series.data.index),
        run_config,
        folds=folds,
        step=step,
        season=season or season_for_freq(series_set.freq),
        progress=_fold_progress(quiet),
    )
    typer.echo(_backtest_text(result.as_dict(), fmt), nl=False)
    if plot is not None:
        from seqcast.plotting import plot_backtest

        typer.echo(
            f"wrote {plot_backtest(plot, result, target=series_set.target)}", err=True
        )


def _evaluate_origins(
    forecaster: Any,
    frame: Any,
    folds: int | None,
    step: int | None,
    season: int | None,
    fmt: OutputFormat,
    plot: Path | None,
) -> None:
    """Score several origins without re-training (``evaluate --folds/--plot``)."""
    from seqcast.backtest import evaluate_origins
    from seqcast.errors import ConfigError

    if frame is None:
        raise ConfigError(
            "--folds and --plot score the model on data it has not seen. Give the CSV: seqcast evaluate MODEL DATA.csv --plot FILE.png."
        )
    art = forecaster.artifact
    if folds is None:  # as many non-overlapping origins as fit after the fit data
        _, series = forecaster._matching_series(frame)
        n_after = int((series.data.index > art.meta["split"]["fit_last_date"]).sum())
        folds = max(1, (n_after - art.horizon) // (step or art.horizon) + 1)
    result = evaluate_origins(forecaster, frame, folds=folds, step=step, season=season)
    typer.echo(_backtest_text(result.as_dict(), fmt), nl=False)
    if plot is not None:
        from seqcast.plotting import plot_backtest

        typer.echo(f"wrote {plot_backtest(plot, result, target=art.target)}", err=True)


def _plot_forecast(plot: Path, forecaster: Any, frame: Any, result: Any) -> None:
    """Draw the history tail, the forecast, its bands and seasonal naive."""
    import numpy as np

    from seqcast.api import _iso_dates
    from seqcast.baselines import seasonal_naive
    from seqcast.plotting import plot_forecast

    art = forecaster.artifact
    if frame is None:
        history_dates = list(art.meta["last_window"]["dates"])
        history = np.asarray(art.meta["last_window"]["values"], dtype=np.float64)[:, 0]
    else:
        _, series = forecaster._matching_series(frame)
        tail = series.data.iloc[-max(4 * art.window, 3 * len(result.values)) :]
        history_dates = _iso_dates(tail.index)
        history = tail.iloc[:, 0].to_numpy(dtype=np.float64)
    season = int(art.meta["mase"]["season"])
    baseline = None
    if len(history) >= season:
        one = seasonal_naive(
            history,
            np.array([len(history) - season]),
            season,
            len(result.values),
            season,
        )
        baseline = one[0]
    written = plot_forecast(
        plot,
        history_dates=history_dates,
        history=history,
        dates=result.dates,
        forecast=result.values,
        bands=result.bands,
        baseline=baseline,
        target=art.target,
    )
    typer.echo(f"wrote {written}", err=True)


def _fold_progress(quiet: bool) -> Any:
    if quiet:
        return None
    return lambda line: typer.echo(line, err=True) if line.startswith("fold ") else None


def _backtest_text(result: dict[str, Any], fmt: OutputFormat) -> str:
    from seqcast.cli.render import document, number, table

    if fmt is OutputFormat.JSON:
        return document(result)
    names = ["model", "naive", "seasonal_naive", "drift"]
    rows = [
        [
            fold["fold"] + 1,
            fold["first_date"],
            *[fold["scores"][n]["mase"] for n in names],
            fold["scores"]["model"]["mae"],
        ]
        for fold in result["per_fold"]
    ]
    kind = "re-trained" if result["retrained"] else "one model"
    head = (
        f"{result['folds']} origins ({kind}) x {result['horizon']} steps, step {result['step']}, "
        f"season {result['overall']['season']}; MASE per fold\n"
    )
    per_fold = table(
        ["fold", "first target", *[f"{n} MASE" for n in names], "model MAE"], rows
    )
    overall = _evaluation_text(result["overall"], OutputFormat.TABLE)
    cover = result.get("coverage") or {}
    tail = (
        "interval coverage: "
        + ", ".join(f"{label}% -> {number(v, 3)}" for label, v in cover.items())
        + "\n"
        if cover
        else ""
    )
    return head + per_fold + "\noverall (pooled)\n" + overall + tail


def _coverage_text(meta: dict[str, Any]) -> str:
    from seqcast.cli.render import number

    cover = (meta.get("metrics") or {}).get("test_coverage") or {}
    if not cover:
        return ""
    return (
        "test interval coverage: "
        + ", ".join(f"{label}% -> {number(v, 3)}" for label, v in cover.items())
        + "\n"
    )


def _command_line(
    data: str, out: Path, config: Path | None, options: dict[str, Any]
) -> list[str]:
    """Rebuild the command line from the options given, for the artifact's record."""
    flags = {"kind": "model", "date_col": "date-col", "id_col": "id-col"}
    words = ["seqcast", "train", data, "--out", str(out)]
    if config is not None:
        words += ["--config", str(config)]
    for key, value in options.items():
        if value is None:
            continue
        flag = "--" + flags.get(key, key.replace("_", "-"))
        if isinstance(value, bool):
            words.append(flag if value else "--no-" + flag[2:])
        elif isinstance(value, tuple):
            words += [flag, ",".join(map(str, value))]
        else:
            words += [flag, str(getattr(value, "value", value))]
    return words


def _evaluation_text(evaluation: dict[str, Any], fmt: OutputFormat) -> str:
    from seqcast.cli.render import document, table

    if fmt is OutputFormat.JSON:
        return document(evaluation)
    metric_names = ["mae", "rmse", "mape", "smape", "mase"]
    rows = [
        [name, *[scores[m] for m in metric_names]]
        for name, scores in evaluation["scores"].items()
    ]
    head = (
        f"{evaluation['n_windows']} windows x {evaluation['horizon']} steps, "
        f"{evaluation['first_date']} to {evaluation['last_date']}, season {evaluation['season']}\n"
    )
    rel = evaluation.get("relative_mase")
    tail = (
        f"relative MASE vs seasonal naive: {rel:.3f} ({'better' if rel < 1 else 'worse'} than seasonal naive)\n"
        if isinstance(rel, float) and rel == rel
        else ""
    )
    return head + table(["forecaster", *metric_names], rows) + tail


def _info_text(path: Path, meta: dict[str, Any]) -> str:
    from seqcast.cli.render import number

    cfg = meta["config"]
    data = meta["data"]
    hist = meta["history"]
    test = (meta.get("metrics") or {}).get("test")
    lines = [
        f"model        {path}",
        f"created      {meta.get('created')} with seqcast {meta.get('seqcast_version')}",
        f"architecture {cfg['model']['kind']} units={','.join(map(str, cfg['model']['units'])) or 'default'} bidirectional={cfg['model']['bidirectional']} dropout={cfg['model']['dropout']}",
        f"data         target={data['target']} features={','.join(data['features']) or '-'} freq={data['freq']} rows={data['n_rows']} {data['first_date']} to {data['last_date']}",
        f"window       window={cfg['train']['window']} horizon={cfg['train']['horizon']} scaler={cfg['train']['scaler']} window_norm={cfg['train']['window_norm']}",
        f"training     epochs_run={hist['epochs_run']} best_epoch={hist['best_epoch']} seconds={number(hist['seconds'], 4)} seed={meta.get('seed')} on {meta.get('hardware')}",
    ]
    if test:
        model = test["scores"]["model"]
        lines.append(
            f"test         MAE={number(model['mae'], 6)} MASE={number(model['mase'], 4)} relative MASE vs seasonal naive={number(test.get('relative_mase'), 4)}"
        )
    versions = meta.get("versions", {})
    lines.append("versions     " + " ".join(f"{k}={v}" for k, v in versions.items()))
    return "\n".join(lines) + "\n"


_add_subcommands()


def main() -> None:
    """Console-script entry point."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    signal.signal(signal.SIGTERM, _interrupt)  # cron/timeout: clean up as on Ctrl-C
    try:
        app()
    except SystemExit as exc:
        if exc.code == ExitCode.USAGE:
            logs.event("error", "usage error", level=logging.ERROR, exit_code=2)
        raise


def _interrupt(signum: int, frame: object) -> None:
    """Turn SIGTERM into KeyboardInterrupt, so temporaries are removed and exit is 130."""
    raise KeyboardInterrupt
