"""Where a command's data comes from: a CSV path (or stdin) or a stock ticker, never both."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    import pandas as pd

    from seqcast.data.source import Source
    from seqcast.store.schema import ModelMeta


def _age(value: str | None) -> timedelta | None:
    if value is None:
        return None
    from seqcast.data.cache import parse_age
    from seqcast.errors import ConfigError

    try:
        return parse_age(value)
    except ConfigError as exc:
        raise typer.BadParameter(str(exc), param_hint="--max-stale") from None


TickerOpt = Annotated[
    str | None,
    typer.Option(
        "--ticker",
        help="Yahoo Finance symbol to use instead of a CSV (AAPL, ^GSPC).",
        show_default=False,
        rich_help_panel="Ticker source",
    ),
]
StartOpt = Annotated[
    datetime | None,
    typer.Option(
        formats=["%Y-%m-%d"],
        help="First date of ticker history (default: all).",
        show_default=False,
        rich_help_panel="Ticker source",
    ),
]
EndOpt = Annotated[
    datetime | None,
    typer.Option(
        formats=["%Y-%m-%d"],
        help="Last date of ticker history, inclusive (default: today).",
        show_default=False,
        rich_help_panel="Ticker source",
    ),
]
IntervalOpt = Annotated[
    str,
    typer.Option(
        help="Bar interval: 1d, 1wk, 1mo, 1h, ... (yfinance's).",
        rich_help_panel="Ticker source",
    ),
]
ColumnOpt = Annotated[
    str,
    typer.Option(
        help="Price column: Close, Open, High, Low, Volume, Adj Close.",
        rich_help_panel="Ticker source",
    ),
]
RawOpt = Annotated[
    bool,
    typer.Option(
        "--raw-prices",
        help="Use prices not adjusted for splits and dividends (default: adjusted).",
        rich_help_panel="Ticker source",
    ),
]
CacheDirOpt = Annotated[
    Path | None,
    typer.Option(
        "--cache-dir",
        help="Ticker cache folder (default: $SEQCAST_CACHE_DIR or the user cache dir).",
        show_default=False,
        rich_help_panel="Ticker source",
    ),
]
OfflineOpt = Annotated[
    bool,
    typer.Option(
        "--offline",
        help="Use only the ticker cache; never touch the network.",
        rich_help_panel="Ticker source",
    ),
]
MaxStaleOpt = Annotated[
    str | None,
    typer.Option(
        "--max-stale",
        metavar="AGE",
        help="If a refresh fails, go on with a cache fetched within AGE (12h, 3d).",
        show_default=False,
        rich_help_panel="Ticker source",
    ),
]
TimeoutOpt = Annotated[
    float,
    typer.Option(
        "--timeout",
        min=1,
        help="Seconds allowed for the ticker download.",
        rich_help_panel="Ticker source",
    ),
]


@dataclass(frozen=True, slots=True)
class SourceChoice:
    """The data a command reads: a CSV path (``-`` = stdin), a ticker, or neither."""

    data: str | None
    ticker: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    interval: str = "1d"
    column: str = "Close"
    raw_prices: bool = False
    cache_dir: Path | None = None
    offline: bool = False
    max_stale: str | None = None
    timeout: float = 30.0

    def check(self, *, required: bool) -> None:
        """Exactly one of a CSV and --ticker (or neither, when not required); else exit 2."""
        if self.data is not None and self.ticker is not None:
            raise typer.BadParameter(
                "Give a CSV path or --ticker, not both.", param_hint="DATA / --ticker"
            )
        if required and self.data is None and self.ticker is None:
            raise typer.BadParameter(
                "Give a CSV path (or - for stdin) or --ticker SYMBOL.",
                param_hint="DATA / --ticker",
            )

    def for_model(self, meta: ModelMeta) -> SourceChoice:
        """Default --start to the model's first training date, so a refresh stays incremental."""
        if self.ticker is None or self.start is not None:
            return self
        first = meta.one.first_date[:10]
        return dataclasses.replace(self, start=datetime.fromisoformat(first))

    def load(
        self, warn: Any
    ) -> tuple[str | pd.DataFrame | None, dict[str, Any], Source | None]:
        """Return (data for the API, data-config defaults, source record for the artifact).

        Ticker prices are fetched here, before anything imports Keras (importing TensorFlow
        first has been reported to break yfinance's HTTP session).
        """
        if self.ticker is None:
            return self.data, {}, None
        from seqcast.data.ticker import TickerQuery, fetch_history

        query = TickerQuery(
            self.ticker,
            start=self.start.date() if self.start else None,
            end=self.end.date() if self.end else None,
            interval=self.interval,
            column=self.column,
            adjusted=not self.raw_prices,
        )
        fetched = fetch_history(
            query,
            cache_dir=self.cache_dir,
            offline=self.offline,
            max_age=_age(self.max_stale),
            timeout=self.timeout,
        )
        for note in fetched.notes:
            warn(note)
        return fetched.frame, fetched.config_defaults(), fetched.source
