"""Axis furniture of seqcast's plots: calendar date ticks, a legend off the data, marks.

Like :mod:`seqcast.evaluation.plots`, nothing here imports matplotlib at module level;
each function takes a matplotlib Figure or Axes that the caller already made.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

MAX_TICKS = 10
"""Most major date ticks on an axis."""

MAX_ORIGIN_LINES = 10
"""Backtests with more origins than this mark them with one span and a rug of ticks."""

BEYOND_HORIZON = "beyond the trained horizon"
"""Start of the legend label of the steps a forecast predicts from its own output."""

_MARK = "#888888"

# Tick spacings in months, finest first: every one is a whole number of months within a
# year (a divisor of 12) or a round number of years, so ticks fall on calendar boundaries.
_MONTH_STEPS = (1, 2, 3, 6, 12, 24, 60, 120, 240, 600, 1200, 2400, 6000, 12000)
_EPOCH_MONTH = 1970 * 12  # datetime64[M] counts months from 1970-01


def month_step(dates: npt.NDArray[np.datetime64]) -> int | None:
    """Return the months between consecutive dates on a month grid, else None.

    Monthly data gives 1, quarterly 3, yearly 12; a row missing here and there does not
    change the answer (the smallest gap counts). Data with two stamps in one month
    (daily, weekly, hourly) or fewer than two stamps gives None.

    Args:
        dates: Timestamps in increasing order, shape (n,).

    Returns:
        The step in months, or None when the dates are not on a month grid. For
        ``1973-01-01, 1973-04-01, 1973-07-01``: 3.
    """
    if len(dates) < 2:
        return None
    months = np.asarray(dates).astype("datetime64[M]").astype(np.int64)
    steps = np.diff(months)
    smallest = int(steps.min())
    return smallest if smallest >= 1 else None


def tick_months(first: np.datetime64, last: np.datetime64, step: int) -> int:
    """Return the tick spacing in months for a date axis from ``first`` to ``last``.

    The spacing is the finest of 1, 2, 3, 6 months or 1, 2, 5, 10, 20, 50, ... years
    that is a multiple of the data's ``step`` and puts at most ``MAX_TICKS`` ticks
    between ``first`` and ``last``. Ticks then sit on month starts whose month number
    minus one is a multiple of the spacing (3: Jan, Apr, Jul, Oct), or on 1 January of
    years that are multiples of it in years (24: even years).

    Args:
        first: Left end of the axis.
        last: Right end of the axis.
        step: Months between the data's stamps (see :func:`month_step`).

    Returns:
        The spacing in months. From 1973-01 to 1975-06 with step 3: 3 (10 quarter
        starts); to 1975-12: 6 (12 quarter starts are too many, 6 half-year starts
        are not); from 1959-01 to 2009-07 with step 3: 60 (1960, 1965, ..., 2005).
    """
    first_month = np.asarray(first).astype("datetime64[M]")
    lo = int(first_month.astype(np.int64)) + _EPOCH_MONTH
    if first_month < first:  # a tick needs the month's first instant
        lo += 1
    hi = int(np.asarray(last).astype("datetime64[M]").astype(np.int64)) + _EPOCH_MONTH
    candidates = [m for m in _MONTH_STEPS if m % step == 0] or [step]
    for months in candidates:
        if hi // months - (lo - 1) // months <= MAX_TICKS:
            return months
    return candidates[-1]


def date_ticks(ax: Any, dates: npt.NDArray[np.datetime64]) -> None:
    """Put the x ticks of ``ax`` on calendar boundaries that match the data's frequency.

    Monthly, quarterly and yearly data get ticks on month, quarter or year starts (see
    :func:`tick_months`), labelled ``YYYY-MM`` below a year and ``YYYY`` from a year
    up. Data with several stamps a month (daily, weekly, hourly) gets matplotlib's
    ``AutoDateLocator`` with ``interval_multiples`` and a concise formatter.

    Args:
        ax: A matplotlib Axes whose x axis holds dates; call it after plotting so the
            x limits cover the data.
        dates: Timestamps of the data drawn, used to tell the frequency, shape (n,).
    """
    import matplotlib.dates

    mdates: Any = matplotlib.dates  # partly untyped
    step = month_step(dates)
    if step is None:
        auto = mdates.AutoDateLocator(
            minticks=3, maxticks=MAX_TICKS, interval_multiples=True
        )
        ax.xaxis.set_major_locator(auto)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(auto))
        return
    left, right = np.array(
        [mdates.num2date(v).replace(tzinfo=None) for v in ax.get_xlim()],
        dtype="datetime64[s]",
    )
    months = tick_months(left, right, step)
    if months < 12:
        ax.xaxis.set_major_locator(
            mdates.MonthLocator(bymonth=range(1, 13, months), bymonthday=1)
        )
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m"))
    else:
        ax.xaxis.set_major_locator(
            mdates.YearLocator(base=months // 12, month=1, day=1)
        )
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))


def legend_below(fig: Any, ax: Any) -> Any:
    """Lay the figure out with the legend of ``ax`` in a strip below the axes.

    Outside the axes the legend can never cover a line, band or marker, whichever way
    the series trends. The entries go in one row when it fits the figure's width, else
    in two. Call it last: it runs ``tight_layout`` with the strip kept free.

    Args:
        fig: The matplotlib Figure holding ``ax``, with an Agg canvas.
        ax: The Axes whose labelled artists become legend entries.

    Returns:
        The figure legend, or None when no artist has a label.
    """
    handles, labels = ax.get_legend_handles_labels()
    if not handles:
        fig.tight_layout()
        return None
    renderer = fig.canvas.get_renderer()
    for ncol in (len(handles), (len(handles) + 1) // 2):
        legend = fig.legend(
            handles,
            labels,
            loc="lower center",
            ncol=ncol,
            frameon=False,
            borderaxespad=0.3,
        )
        box = legend.get_window_extent(renderer)
        if box.width <= 0.98 * fig.bbox.width or ncol == 1:
            break
        legend.remove()
    fig.tight_layout(rect=(0.0, box.height / fig.bbox.height, 1.0, 1.0))
    return legend


def mark_origins(ax: Any, origins: npt.NDArray[np.datetime64], step: int) -> None:
    """Mark backtest origins: a dotted line each, or a span and a rug when there are many.

    Up to ``MAX_ORIGIN_LINES`` origins get a vertical line each; more get one light span
    from the first to the last and one row of short ticks along the bottom of the axes
    (a single artist). The legend entry reads ``55 origins, 1 step apart``.

    Args:
        ax: The matplotlib Axes, x axis in dates.
        origins: The last observed stamp before each fold's forecast, shape (n,).
        step: Rows between consecutive origins.
    """
    n = len(origins)
    label = count(n, "origin") + ("" if n == 1 else f", {count(step, 'step')} apart")
    if n <= MAX_ORIGIN_LINES:
        for i, x in enumerate(origins):
            ax.axvline(
                x, color="#bbbbbb", lw=0.8, ls=":", label=label if i == 0 else None
            )
        return
    ax.axvspan(origins[0], origins[-1], color=_MARK, alpha=0.07, lw=0)
    ax.plot(
        origins,
        np.full(n, 0.015),
        transform=ax.get_xaxis_transform(),
        ls="none",
        marker="|",
        ms=7,
        color=_MARK,
        label=label,
    )


def mark_beyond_horizon(
    ax: Any, dates: npt.NDArray[np.datetime64], horizon: int
) -> None:
    """Shade a forecast's steps after ``horizon``, from halfway between the two steps.

    Past its horizon a model predicts from its own earlier predictions, so errors
    compound there. With horizon=4 and 20 forecast dates the shade starts halfway
    between dates[3] and dates[4] (steps 4 and 5), with a dotted line at its edge,
    and the legend reads ``beyond the trained horizon of 4 steps``.

    Args:
        ax: The matplotlib Axes, x axis in dates.
        dates: Stamps of the forecast steps, shape (steps,) with steps > horizon.
        horizon: Steps the model predicts at once.
    """
    start = dates[horizon - 1] + (dates[horizon] - dates[horizon - 1]) / 2
    ax.axvspan(
        start,
        dates[-1],
        color=_MARK,
        alpha=0.10,
        lw=0,
        label=f"{BEYOND_HORIZON} of {count(horizon, 'step')}",
    )
    ax.axvline(start, color=_MARK, lw=1.0, ls=":")


def count(n: int, noun: str) -> str:
    """Return ``n`` and ``noun``, plural unless n is 1: ``1 origin``, ``55 origins``."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
