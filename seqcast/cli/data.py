"""The ``seqcast data`` commands: fill, refresh and print the local ticker price cache."""

from __future__ import annotations

import logging
import math
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer

from seqcast import logs
from seqcast.cli.edge import renders_errors
from seqcast.cli.options import echo_data
from seqcast.cli.render import records
from seqcast.cli.sources import RawOpt
from seqcast.config import OutputFormat
from seqcast.data.cache import (
    INTRADAY_INTERVALS,
    PRICE_COLUMNS,
    CachedPrices,
    cache_file,
    parse_age,
    read_cache,
    resolve_cache_dir,
)
from seqcast.data.calendar import iso_dates
from seqcast.data.ticker import (
    DEFAULT_TIMEOUT_S,
    Interval,
    PriceColumn,
    TickerData,
    TickerQuery,
    fetch_history,
    price_table,
)
from seqcast.errors import ConfigError, SeqcastError, SourceError
from seqcast.printable import printable

data_app = typer.Typer(
    name="data",
    help="Fill, refresh and print the local ticker price cache.",
    rich_markup_mode=None,
    pretty_exceptions_show_locals=False,
    no_args_is_help=True,
    add_completion=False,
)


def _age(value: str) -> timedelta:
    try:
        return parse_age(value)
    except ConfigError as exc:
        raise typer.BadParameter(str(exc)) from None


def _symbol(value: str) -> str:
    try:
        return TickerQuery(value).ticker
    except ConfigError as exc:
        raise typer.BadParameter(str(exc)) from None


def _symbols(values: list[str]) -> list[str]:
    return list(dict.fromkeys(_symbol(v) for v in values))


def _day(value: datetime | None) -> date | None:
    return None if value is None else value.date()


CacheDirOpt = Annotated[
    Path | None,
    typer.Option(
        "--cache-dir",
        help="Cache folder (default: $SEQCAST_CACHE_DIR, else the user cache folder).",
        show_default=False,
    ),
]
IntervalOpt = Annotated[Interval, typer.Option("--interval", help="Bar interval.")]
FormatOpt = Annotated[
    OutputFormat, typer.Option("--format", help="table, csv or json.")
]


@data_app.command("fetch")
@renders_errors
def fetch(
    tickers: Annotated[
        list[str],
        typer.Argument(
            help="Yahoo Finance symbols, such as AAPL MSFT ^GSPC.",
            callback=_symbols,
            metavar="TICKER",
            show_default=False,
        ),
    ],
    start: Annotated[
        datetime | None,
        typer.Option(
            formats=["%Y-%m-%d"],
            help="First date to fetch (default: the whole history).",
            show_default=False,
        ),
    ] = None,
    end: Annotated[
        datetime | None,
        typer.Option(
            formats=["%Y-%m-%d"],
            help="Last date to fetch, inclusive (default: today).",
            show_default=False,
        ),
    ] = None,
    interval: IntervalOpt = Interval.D1,
    cache_dir: CacheDirOpt = None,
    timeout: Annotated[
        float,
        typer.Option(min=1, help="Seconds allowed to download each ticker."),
    ] = DEFAULT_TIMEOUT_S,
    max_stale: Annotated[
        timedelta | None,
        typer.Option(
            "--max-stale",
            parser=_age,
            metavar="AGE",
            help="If a refresh fails, accept a cache fetched within AGE (12h, 3d, 2w).",
            show_default=False,
        ),
    ] = None,
    fmt: FormatOpt = OutputFormat.TABLE,
) -> None:
    """Download tickers into the cache, or bring them up to date.

    Example: seqcast data fetch AAPL MSFT --start 2020-01-01
    """
    queries = [
        TickerQuery(symbol, start=_day(start), end=_day(end), interval=interval.value)
        for symbol in tickers
    ]
    rows: list[dict[str, Any]] = []
    failed: list[str] = []
    for query in queries:
        try:
            data = fetch_history(
                query, cache_dir=cache_dir, max_age=max_stale, timeout=timeout
            )
        except SeqcastError as exc:
            if len(queries) == 1:
                raise
            logs.event(
                "error", f"error: {exc}", level=logging.ERROR, ticker=query.ticker
            )
            typer.echo(f"error: {printable(str(exc))}", err=True)
            failed.append(query.ticker)
            continue
        for note in data.notes:
            logs.warn(note)
        rows.append(_summary(query, data))
    if rows:
        echo_data(records(rows, fmt))
    if failed:
        raise SourceError(
            f"Could not fetch {len(failed)} of {len(queries)} tickers: {', '.join(failed)}. See the errors above; the other tickers were cached."
        )


@data_app.command("show")
@renders_errors
def show(
    ticker: Annotated[
        str,
        typer.Argument(
            help="Yahoo Finance symbol, such as AAPL.",
            callback=_symbol,
            metavar="TICKER",
            show_default=False,
        ),
    ],
    interval: IntervalOpt = Interval.D1,
    cache_dir: CacheDirOpt = None,
    column: Annotated[
        PriceColumn | None,
        typer.Option(
            case_sensitive=False,
            help="Print only this column (default: all).",
            show_default=False,
        ),
    ] = None,
    raw_prices: RawOpt = False,
    tail: Annotated[
        int | None,
        typer.Option(min=1, help="Print only the last N rows.", show_default=False),
    ] = None,
    fmt: FormatOpt = OutputFormat.TABLE,
) -> None:
    """Print a cached ticker series; never uses the network.

    Example: seqcast data show AAPL --format csv
    """
    query = TickerQuery(ticker, interval=interval.value)
    directory = resolve_cache_dir(cache_dir)
    held = read_cache(cache_file(directory, query.ticker, query.interval))
    if held is None or held.frame.empty:
        hint = "" if query.interval == "1d" else f" --interval {query.interval}"
        raise SourceError(
            f"No cached data for {query.ticker} ({query.interval}) in {directory}. Run `seqcast data fetch {query.ticker}{hint}` first."
        )
    table = price_table(held.frame, adjusted=not raw_prices)
    columns = list(PRICE_COLUMNS) if column is None else [column.value]
    table = table.loc[:, ["date", *columns]]
    if tail is not None:
        table = table.tail(tail)
    echo_data(records(_rows(table, query.interval), fmt))


def _summary(query: TickerQuery, data: TickerData) -> dict[str, Any]:
    """One line of `data fetch` output: what the cache file now holds."""
    held: CachedPrices | None = read_cache(data.path)
    frame = held.frame if held is not None else data.frame
    status = "stale" if data.stale else ("cached" if data.from_cache else "updated")
    return {
        "ticker": query.ticker,
        "interval": query.interval,
        "rows": len(frame),
        "first": _text(frame["date"].iloc[0], query.interval),
        "last": _text(frame["date"].iloc[-1], query.interval),
        "status": status,
        "file": str(data.path),
    }


def _rows(table: pd.DataFrame, interval: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    names = [str(c) for c in table.columns]
    for values in table.itertuples(index=False, name=None):
        row: dict[str, Any] = {"date": _text(values[0], interval)}
        for name, value in zip(names[1:], values[1:], strict=True):
            row[name] = _value(name, value)
        rows.append(row)
    return rows


def _value(name: str, value: Any) -> Any:
    number = float(value)
    if math.isnan(number):
        return None
    if name == "Volume" and number.is_integer():
        return int(number)
    return number


def _text(stamp: Any, interval: str) -> str:
    timespec = "minutes" if interval in INTRADAY_INTERVALS else "date"
    return iso_dates([pd.Timestamp(stamp)], sep=" ", timespec=timespec)[0]
