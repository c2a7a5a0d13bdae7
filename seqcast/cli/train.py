"""`seqcast train` and `seqcast backtest`: fit models from a CSV or a ticker."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from seqcast import logs
from seqcast.cli.edge import renders_errors
from seqcast.cli.options import (
    DataArg,
    LockTimeout,
    OptionalDataArg,
    PlotOpt,
    command_line,
    csv_list,
    fold_progress,
    parse_units,
    progress_printer,
    warn,
)
from seqcast.cli.render import backtest_text, evaluation_text
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
    FillPolicy,
    Loss,
    ModelKind,
    OutputFormat,
    RunConfig,
    ScalerKind,
    WindowNorm,
    load_config_file,
)
from seqcast.evaluation.backtest import DEFAULT_FOLDS
from seqcast.printable import printable


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
    ensemble: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Models trained with seeds seed, seed+1, ...; the forecast is their mean (N times the training time).  [default: 1]",
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
    from seqcast.model.build import cudnn_forfeits

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
        "features": csv_list(features),
        "freq": freq,
        "fill": fill,
        "duplicates": duplicates,
        "id_col": id_col,
        "series": series,
        "window": window,
        "horizon": horizon,
        "kind": model,
        "cell": cell,
        "units": parse_units(units),
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
        "ensemble": ensemble,
        "val_fraction": val_fraction,
        "test_fraction": test_fraction,
    }
    frame, defaults, record = source.load(warn)
    if frame is None:  # unreachable after check(required=True); keeps the types exact
        raise typer.BadParameter("Give a CSV path or --ticker.", param_hint="DATA")
    run_config = base.with_defaults(defaults).with_overrides(
        {k: v for k, v in options.items() if v is not None}
    )
    for reason in cudnn_forfeits(run_config.model):
        warn(reason)
    progress = progress_printer(quiet)
    result = api.train(
        frame,
        out=out,
        source=record,
        config=run_config,
        progress=progress,
        command=command_line(
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
            typer.echo(f"note: {printable(note)}", err=True)
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
        members = result.meta.history.members
        if len(members) > 1:
            typer.echo(
                f"trained an ensemble of {len(members)} members in {sum(m.seconds for m in members):.1f} s (the line above is member 1)",
                err=True,
            )
        typer.echo(f"saved model to {result.path}", err=True)
    if result.evaluation is not None:
        typer.echo(evaluation_text(result.evaluation.as_dict(), fmt), nl=False)
    if plot is not None:
        from seqcast.evaluation.plots import plot_losses

        hist = result.fit
        written = plot_losses(
            plot,
            hist.loss,
            hist.val_loss,
            best_epoch=hist.best_epoch,
            title=f"{result.config.data.target}: training and validation loss",
        )
        typer.echo(f"wrote {written}", err=True)


def with_train_options(command: Any) -> Any:
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


def options_to_config(options: dict[str, Any]) -> tuple[RunConfig, dict[str, Any]]:
    """Turn train-style CLI values into a RunConfig (config file first, flags win)."""
    config = options.pop("config", None)
    base = RunConfig.from_dict(load_config_file(config)) if config else RunConfig()
    converters = {"features": csv_list, "units": parse_units}
    flat = {
        ("kind" if key == "model" else key): converters.get(key, lambda v: v)(value)
        for key, value in options.items()
    }
    return base.with_overrides(flat), flat


@with_train_options
@renders_errors
def backtest_command(
    data: DataArg,
    folds: Annotated[
        int, typer.Option(min=1, help="Forecast origins, each re-trained.")
    ] = DEFAULT_FOLDS,
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
    from seqcast import api

    run_config, _ = options_to_config(options)
    result = api.backtest(
        data,
        config=run_config,
        folds=folds,
        step=step,
        season=season,
        progress=fold_progress(quiet),
    )
    if not quiet:
        for note in result.notes:
            typer.echo(f"note: {printable(note)}", err=True)
    typer.echo(backtest_text(result.as_dict(), fmt), nl=False)
    if plot is not None:
        from seqcast.evaluation.plots import plot_backtest

        typer.echo(f"wrote {plot_backtest(plot, result, target=result.name)}", err=True)
