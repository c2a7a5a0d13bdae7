"""`seqcast train` and `seqcast backtest`: fit models from a CSV or a ticker."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from seqcast import logs
from seqcast.atomic import DEFAULT_LOCK_TIMEOUT
from seqcast.cli.edge import renders_errors
from seqcast.cli.options import (
    DataArg,
    LockTimeout,
    PlotOpt,
    TrainDataArg,
    command_line,
    fold_progress,
    progress_printer,
    warn,
    with_config_options,
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
    OutputFormat,
    RunConfig,
    load_config_file,
)
from seqcast.errors import ConfigError
from seqcast.evaluation.backtest import DEFAULT_FOLDS
from seqcast.model.cluster import ENV_SCHEDULER, check_address
from seqcast.printable import printable

if TYPE_CHECKING:
    from seqcast.api import TrainResult


def _scheduler_address(value: str | None) -> str | None:
    """Check ``--dask-scheduler``'s form (``tcp://HOST:PORT``) before anything runs."""
    if value is None:
        return None
    try:
        return check_address(value)
    except ConfigError as exc:
        raise typer.BadParameter(str(exc)) from None


def _cluster(flag: str | None, *, applies: bool, jobs: int | None) -> str | None:
    """The scheduler to use: the flag's, or $SEQCAST_DASK_SCHEDULER's where it applies.

    The variable is a default, so it does not apply where the flag would be refused
    (``applies`` False: a training without --per-series), or with --jobs (which asks
    for local processes).
    """
    if flag is not None:
        return flag
    value = os.environ.get(ENV_SCHEDULER, "").strip()
    if not value or not applies or jobs is not None:
        return None
    try:
        return check_address(value)
    except ConfigError:
        raise ConfigError(
            f"{ENV_SCHEDULER}={value!r} is not a Dask scheduler address. Set it to tcp://HOST:PORT, as `dask scheduler` prints it (for example tcp://10.0.0.5:8786), or unset it to train on this machine."
        ) from None


DaskSchedulerOpt = Annotated[
    str | None,
    typer.Option(
        "--dask-scheduler",
        help=f"With --per-series: fit the series on the workers of the Dask scheduler at tcp://HOST:PORT instead of local processes (needs seqcast[dask]; default: ${ENV_SCHEDULER}, when --jobs is not given).",
        callback=_scheduler_address,
        show_default=False,
    ),
]


BacktestSchedulerOpt = Annotated[
    str | None,
    typer.Option(
        "--dask-scheduler",
        help=f"Train the folds on the workers of the Dask scheduler at tcp://HOST:PORT instead of here (needs seqcast[dask]; default: ${ENV_SCHEDULER}, when --jobs is not given).",
        callback=_scheduler_address,
        show_default=False,
    ),
]


@with_config_options
@renders_errors
def train(
    out: Annotated[
        Path,
        typer.Option(
            "--out", "-o", help="Model directory to write (replaced atomically)."
        ),
    ],
    data: TrainDataArg = None,
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
    lock_timeout: LockTimeout = DEFAULT_LOCK_TIMEOUT,
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
    jobs: Annotated[
        int | None,
        typer.Option(
            "--jobs",
            min=1,
            help="With --per-series: worker processes training series at once, each with its share of the cores (default: one per core; 1 trains them in turn in this process).",
            show_default=False,
        ),
    ] = None,
    dask_scheduler: DaskSchedulerOpt = None,
    **options: Any,
) -> None:
    """Train a model on a CSV or a ticker and save it to --out.

    With --id-col, a long-format file trains one global model over every series, or
    with --per-series one local model per series, --jobs at a time (or on the
    workers of a Dask cluster, with --dask-scheduler).

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
    frame, defaults, record = source.load(warn)
    if frame is None:  # unreachable after check(required=True); keeps the types exact
        raise typer.BadParameter("Give a CSV path or --ticker.", param_hint="DATA")
    run_config = base.with_defaults(defaults).with_overrides(
        {k: v for k, v in options.items() if v is not None}
    )
    for reason in cudnn_forfeits(run_config.model):
        warn(reason)
    dask_scheduler = _cluster(
        dask_scheduler, applies=run_config.data.per_series, jobs=jobs
    )
    progress = progress_printer(quiet)
    result = api.train(
        frame,
        out=out,
        source=record,
        config=run_config,
        progress=progress,
        command=command_line(
            data if data is not None else f"--ticker {ticker}",
            out,
            config,
            {**options, "jobs": jobs, "dask_scheduler": dask_scheduler},
        ),
        lock_timeout=lock_timeout,
        jobs=jobs,
        dask_scheduler=dask_scheduler,
    )
    if progress is not None:
        progress.close()
    _report_training(result, fmt=fmt, quiet=quiet, plot=plot)


def _report_training(
    result: TrainResult, *, fmt: OutputFormat, quiet: bool, plot: Path | None
) -> None:
    """Log and show what ``train`` did: notes, epochs and path on stderr; scores on stdout."""
    for note in result.notes:
        logs.event("note", note)
    if result.path is not None:
        logs.event("saved", f"saved model to {result.path}", model=str(result.path))
    if not quiet:
        for note in result.notes:
            typer.echo(f"note: {printable(note)}", err=True)
        if result.meta.per_series:
            typer.echo(_local_summary(result), err=True)
            typer.echo(f"saved model to {result.path}", err=True)
        else:
            _fit_summary(result)
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
            title=f"{result.config.data.target}{_first_series(result)}: training and validation loss",
        )
        typer.echo(f"wrote {written}", err=True)


def _fit_summary(result: TrainResult) -> None:
    """Say how the fit went: epochs, early stopping, members, device, path."""
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
        # The members train together in one joint fit: the line above is all of them.
        typer.echo(
            f"the {len(members)} members of the ensemble were trained together in that fit",
            err=True,
        )
    typer.echo(f"saved model to {result.path}", err=True)


def _first_series(result: TrainResult) -> str:
    """`` (series 'north')`` for a model of local models, whose first fit is drawn."""
    if not result.meta.per_series:
        return ""
    return f" (series {printable(repr(result.meta.one.id))})"


def _local_summary(result: TrainResult) -> str:
    """One line on a model of local models: how many, their epochs, what was left out."""
    meta = result.meta
    locals_ = [r.local for r in meta.series if r.local is not None]
    epochs = [loc.history.epochs_run for loc in locals_]
    seconds = sum(loc.history.seconds for loc in locals_)
    left = f"; {len(meta.left_out)} left out" if meta.left_out else ""
    return f"trained {len(locals_)} local models ({min(epochs)} to {max(epochs)} epochs, {seconds:.1f} s of fitting in all) on {result.device}{left}"


def options_to_config(options: dict[str, Any]) -> RunConfig:
    """Turn the generated options into a RunConfig (config file first, flags win)."""
    config = options.pop("config", None)
    base = RunConfig.from_dict(load_config_file(config)) if config else RunConfig()
    return base.with_overrides(options)


@with_config_options
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
    jobs: Annotated[
        int | None,
        typer.Option(
            "--jobs",
            min=1,
            help="Folds trained at once in worker processes, each with its share of the cores (default 1: in turn, here, with a line per epoch); the scores are the same.",
            show_default=False,
        ),
    ] = None,
    dask_scheduler: BacktestSchedulerOpt = None,
    **options: Any,
) -> None:
    """Re-train at several origins and score each next horizon.

    Example: seqcast backtest sample_data/air_passengers.csv --window 24 --horizon 12 --folds 4
    """
    from seqcast import api

    run_config = options_to_config(options)
    progress = fold_progress(quiet)
    result = api.backtest(
        data,
        config=run_config,
        folds=folds,
        step=step,
        season=season,
        progress=progress,
        jobs=jobs,
        dask_scheduler=_cluster(dask_scheduler, applies=True, jobs=jobs),
    )
    if progress is not None:
        progress.close()
    if not quiet:
        for note in result.notes:
            typer.echo(f"note: {printable(note)}", err=True)
    typer.echo(backtest_text(result.as_dict(), fmt), nl=False)
    if plot is not None:
        from seqcast.evaluation.plots import plot_backtest

        typer.echo(f"wrote {plot_backtest(plot, result, target=result.name)}", err=True)
