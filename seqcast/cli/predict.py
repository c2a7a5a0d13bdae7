"""`seqcast evaluate`, `forecast` and `info`: use a trained model."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from seqcast.cli.edge import renders_errors
from seqcast.cli.options import (
    EngineOpt,
    LevelOpt,
    LockTimeout,
    ModelArg,
    OptionalDataArg,
    PlotOpt,
    Precision,
    check_output,
    emit,
    output_locked,
    stdout_is_terminal,
    warn,
)
from seqcast.cli.render import backtest_text, coverage_text, evaluation_text, info_text
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
    Engine,
    OutputFormat,
)
from seqcast.errors import ConfigError


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
    series: Annotated[
        str | None,
        typer.Option(
            help="For a model over several series: score this series alone (with --folds and --plot too)."
        ),
    ] = None,
) -> None:
    """Score a model beside naive baselines on unseen points.

    A model over several series is scored on every series, pooled, with a table per
    series when DATA is given; --series scores one of them as a one-series model.

    Example: seqcast evaluate models/air sample_data/air_passengers.csv
    """
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
    forecaster, frame = _model_and_data(model_dir, engine, source)
    if series is not None:
        if not forecaster.series_ids:
            raise ConfigError(
                f"The model at {model_dir} covers one series, so --series does not apply. Drop --series."
            )
        forecaster = forecaster.one_series(series.strip())
    elif folds is not None and forecaster.series_ids:
        raise ConfigError(
            f"--folds scores one series at a time; the model at {model_dir} covers {len(forecaster.series_ids)}. Add --series with one of: {', '.join(forecaster.series_ids[:5])}{'...' if len(forecaster.series_ids) > 5 else ''}."
        )
    if (folds is not None or plot is not None) and frame is None:
        raise ConfigError(
            "--folds and --plot score the model on data it has not seen. Give the CSV: seqcast evaluate MODEL DATA.csv --plot FILE.png."
        )
    summary = None
    if folds is not None:
        result = forecaster.evaluate_folds(frame, folds=folds, step=step, season=season)
        text = backtest_text(result.as_dict(), fmt)
    else:
        evaluation = forecaster.evaluate(frame, season=season)
        payload = evaluation.as_dict()
        if frame is not None and forecaster.series_ids:
            summary = forecaster.evaluate_by_series(frame, season=season)
            payload = {**payload, **summary}
        text = evaluation_text(payload, fmt)
        if fmt is OutputFormat.TABLE:
            text += coverage_text(forecaster.artifact.meta)
            if summary is not None:
                from seqcast.cli.render import series_text

                text += series_text(summary)
    if plot is not None and summary is not None:  # several series: best and worst
        written = _plot_best_and_worst(plot, forecaster, frame, summary, step, season)
        typer.echo(f"wrote {written}", err=True)
    elif (
        plot is not None
    ):  # before the scores: a plot that cannot be written prints none
        from seqcast.evaluation.plots import plot_backtest

        if folds is None:  # the picture's origins; the text stays the same
            result = forecaster.evaluate_folds(frame, step=step, season=season)
        written = plot_backtest(plot, result, target=forecaster.artifact.target)
        typer.echo(f"wrote {written}", err=True)
    typer.echo(text, nl=False)


def _plot_best_and_worst(
    plot: Path,
    forecaster: Any,
    frame: Any,
    summary: dict[str, Any],
    step: int | None,
    season: int | None,
) -> Path:
    """Draw the two best and two worst series by relative MASE, each over its origins."""
    from seqcast.evaluation.plots import plot_series_grid

    ranked = sorted(
        (r for r in summary["per_series"] if r["relative_mase"] == r["relative_mase"]),
        key=lambda r: r["relative_mase"],
    )
    chosen = ranked[:2] + [r for r in ranked[-2:] if r not in ranked[:2]]
    results = [
        (
            f"{r['series']}: relative MASE {r['relative_mase']:.3f} over its {r['n_windows']} windows",
            forecaster.one_series(r["series"]).evaluate_folds(
                frame, step=step, season=season
            ),
        )
        for r in chosen
    ]
    n = len(summary["per_series"])
    return plot_series_grid(
        plot,
        results,
        target=forecaster.artifact.target,
        title=f"best and worst of {n} series by relative MASE (--series ID for one)",
    )


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
    series: Annotated[
        str | None,
        typer.Option(
            help="For a model over several series: the ids to forecast, comma-separated (default: all of them)."
        ),
    ] = None,
    precision: Precision = None,
    future: Annotated[
        Path | None,
        typer.Option(
            "--future",
            help="CSV of the future features' values after the history (date column, those columns, and the id column for several series); otherwise they come from rows of the data with the target empty.",
        ),
    ] = None,
) -> None:
    """Forecast the next steps after the last observation.

    A model trained on several series (--id-col) writes long format: the id column,
    the date and the target, --steps rows per series. A model trained with
    --future-features needs their values over the forecast period: give them with
    --future, or as rows after the history in the data with the target empty.

    Example: seqcast forecast models/air --steps 12 --format csv --output next.csv
    """
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
    check_output(output, data=data, model_dir=model_dir)
    check_output(plot, data=data, model_dir=model_dir, option="--plot")
    with output_locked(output, lock_timeout):  # before the work, not after it
        forecaster, frame = _model_and_data(model_dir, engine, source)
        ids = [s.strip() for s in series.split(",") if s.strip()] if series else []
        if forecaster.series_ids and frame is None:
            for name in ids:  # an unknown id fails before any forecast
                forecaster.record(name)
            results = forecaster.forecast_all(
                steps, intervals=level or (), series=ids, future=future
            )
        else:
            if len(ids) > 1:
                raise ConfigError(
                    f"--series names {len(ids)} series, but forecasting from data takes one. Give one id, or leave the data out to forecast every series from the model."
                )
            one = ids[0] if ids else None
            results = [
                forecaster.forecast(
                    steps, frame, intervals=level or (), series=one, future=future
                )
            ]
        result = results[0]
        chosen = fmt or (
            OutputFormat.TABLE
            if output is None and stdout_is_terminal()
            else OutputFormat.CSV
        )
        from seqcast.cli.render import forecast_records

        rows = [row for r in results for row in r.rows()]
        text = forecast_records(
            rows,
            chosen,
            precision=precision,
            date_format=forecaster.artifact.meta.columns.date_format,
        )
        if plot is not None:  # first: a plot that cannot be written writes nothing
            written = forecaster.plot_forecast(plot, result, frame)
            typer.echo(f"wrote {written}", err=True)
        emit(text, output, lock_timeout)


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
    from seqcast.store.directory import load_artifact

    artifact = load_artifact(model_dir)
    meta = artifact.meta
    if fmt is OutputFormat.JSON:
        from seqcast.cli.render import document
        from seqcast.store.schema import SCHEMA_VERSION

        doc = {"path": str(artifact.path), "schema_version": SCHEMA_VERSION}
        typer.echo(document({**doc, **meta.to_json()}), nl=False)
        return
    typer.echo(info_text(artifact.path, meta), nl=False)


def _model_and_data(
    model_dir: Path, engine: Engine, source: SourceChoice
) -> tuple[Any, Any]:
    """Load and verify the model, then the data it should read (a CSV, a ticker, or none).

    A ticker's history starts by default at the model's first training date, so the
    cache refresh stays incremental.
    """
    from seqcast import api

    source.check(required=False)
    forecaster = api.load(model_dir, engine=engine)
    frame, _, _ = source.for_model(forecaster.artifact.meta).load(warn)
    return forecaster, frame
