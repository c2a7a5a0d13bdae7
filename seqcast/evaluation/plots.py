"""PNG plots of forecasts, backtests and loss curves (matplotlib, Agg canvas, lazy import).

matplotlib is imported inside each function, never when seqcast or its CLI loads, and
no figure goes through ``pyplot``: each is a ``Figure`` with its own Agg canvas, so
plotting neither changes the caller's backend nor keeps figures alive. ``*_figure``
returns the laid-out figure for inspection or further drawing; ``plot_*`` saves it into
a temporary sibling file and moves that into place with ``os.replace``, so a reader
never sees half a PNG.

Every plot keeps its legend in a strip below the axes (off the data), puts date ticks
on calendar boundaries of the data's frequency (see
:mod:`seqcast.evaluation.plot_layout`), marks a forecast's steps past the horizon the
model was trained for, and draws the origins of a long backtest as one span and a rug
rather than a line each.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from seqcast import atomic
from seqcast._types import FloatArray
from seqcast.errors import ConfigError
from seqcast.evaluation.plot_layout import (
    count,
    date_ticks,
    legend_below,
    mark_beyond_horizon,
    mark_origins,
)

if TYPE_CHECKING:
    from seqcast.evaluation.backtest import BacktestResult

FIGSIZE = (10.0, 4.5)
DPI = 100
"""Plots are FIGSIZE * DPI pixels: 1000 x 450."""

_MODEL = "#1f77b4"
_ACTUAL = "#222222"
_BASELINE = "#d62728"
_MARK = "#888888"
_FAINT = 0.35


def forecast_figure(
    *,
    history_dates: Sequence[str],
    history: FloatArray,
    dates: Sequence[str],
    forecast: FloatArray,
    bands: Mapping[str, tuple[FloatArray, FloatArray]] | None = None,
    baseline: FloatArray | None = None,
    target: str = "value",
    title: str | None = None,
    horizon: int | None = None,
) -> Any:
    """Draw the history tail, the forecast, its interval bands and a baseline.

    Args:
        history_dates: ISO timestamps of ``history``.
        history: Observed values, shape (n,).
        dates: ISO timestamps of the forecast steps.
        forecast: Forecast values, shape (steps,).
        bands: Level label (``"80"``) mapped to (lower, upper), each shape (steps,).
        baseline: Seasonal-naive forecast of the same steps, shape (steps,).
        target: Name of the series, for the y axis.
        title: Figure title.
        horizon: Steps the model predicts at once. When the forecast is longer, the
            steps after it (fed by the model's own predictions) are shaded and
            labelled: with horizon=12 and 20 steps, steps 13-20.

    Returns:
        The matplotlib Figure, laid out, with one Axes.

    Raises:
        ConfigError: If horizon is below 1.
    """
    if horizon is not None and horizon < 1:
        raise ConfigError(
            f"horizon={horizon} must be at least 1. Give the horizon the model was trained with."
        )
    fig, ax = _figure()
    hx = _dates(history_dates)
    fx = _dates(dates)
    ax.plot(hx, history, color=_ACTUAL, lw=1.2, label="history")
    joined_x = np.concatenate([hx[-1:], fx])
    joined = np.concatenate([np.asarray(history)[-1:], np.asarray(forecast)])
    _bands(ax, [(fx, bands or {})])
    if baseline is not None:
        ax.plot(fx, baseline, color=_BASELINE, lw=1.0, ls="--", label="seasonal naive")
    ax.plot(joined_x, joined, color=_MODEL, lw=1.8, label="forecast")
    ax.axvline(hx[-1], color=_MARK, lw=0.8, ls=":")
    if horizon is not None and len(fx) > horizon:
        mark_beyond_horizon(ax, fx, horizon)
    _finish(
        fig,
        ax,
        np.concatenate([hx, fx]),
        target,
        title or f"{target}: forecast of {count(len(fx), 'step')}",
    )
    return fig


def plot_forecast(
    path: str | Path,
    *,
    history_dates: Sequence[str],
    history: FloatArray,
    dates: Sequence[str],
    forecast: FloatArray,
    bands: Mapping[str, tuple[FloatArray, FloatArray]] | None = None,
    baseline: FloatArray | None = None,
    target: str = "value",
    title: str | None = None,
    horizon: int | None = None,
) -> Path:
    """Draw :func:`forecast_figure` with these arguments and save it as the PNG ``path``.

    Returns:
        The path written.

    Raises:
        ConfigError: If ``path`` does not end in ``.png``, its folder is missing,
            horizon is below 1, or the file cannot be written.
    """
    _check_path(path)
    fig = forecast_figure(
        history_dates=history_dates,
        history=history,
        dates=dates,
        forecast=forecast,
        bands=bands,
        baseline=baseline,
        target=target,
        title=title,
        horizon=horizon,
    )
    return _save(fig, path)


def backtest_figure(
    result: BacktestResult,
    *,
    target: str = "value",
    title: str | None = None,
    context: int | None = None,
) -> Any:
    """Draw the actual series around the backtest origins and each fold's forecasts.

    The folds are drawn as one artist per forecaster and band level, so a backtest over
    55 origins costs no more artists than one over 5. When origins are closer than a
    horizon apart (``step < horizon``) their forecasts overlap: bands, seasonal naive
    and a bold model line are drawn for every ``ceil(horizon / step)``-th fold counting
    back from the last, which tile without overlapping, and the other folds' model
    forecasts as thin faint lines. With horizon=12 and step=1 over 55 origins: folds
    54, 42, 30, 18 and 6 in full, the other 50 faint.

    Up to ``MAX_ORIGIN_LINES`` origins get a dotted line each; more get one shaded span
    from the first origin to the last and a rug of ticks along the x axis (see
    :func:`~seqcast.evaluation.plot_layout.mark_origins`). The legend gives the number
    of origins either way.

    Args:
        result: A backtest or multi-origin evaluation.
        target: Name of the series, for the y axis.
        title: Figure title (default: the relative MASE).
        context: Rows of history shown before the first origin (default: 3 windows).

    Returns:
        The matplotlib Figure, laid out, with one Axes.
    """
    fig, ax = _figure()
    x = _draw_backtest(ax, result, context)
    rel = result.relative_mase()
    kind = "backtest" if result.retrained else "evaluation"
    _finish(
        fig,
        ax,
        x,
        target,
        title
        or f"{target}: {kind} over {count(len(result.folds), 'origin')}, relative MASE vs seasonal naive {rel:.3f}",
    )
    return fig


def _draw_backtest(ax: Any, result: BacktestResult, context: int | None) -> Any:
    """Draw one backtest on ``ax`` (see :func:`backtest_figure`); return its dates."""
    folds = result.folds
    first = folds[0].cut
    last = folds[-1].cut + result.horizon
    lo = max(0, first - (context if context is not None else 3 * result.window))
    x = _dates(result.dates[lo:last])
    ax.plot(x, result.target[lo:last], color=_ACTUAL, lw=1.2, label="actual")
    spans = [_dates(result.dates[f.cut : f.cut + result.horizon]) for f in folds]
    # Origins closer than a horizon apart overlap: draw in full only every overlap-th
    # fold counting back from the last, so those tile, and the others faintly.
    overlap = -(-result.horizon // result.step)
    full = [(len(folds) - 1 - i) % overlap == 0 for i in range(len(folds))]
    shown = [i for i, keep in enumerate(full) if keep]
    _bands(ax, [(spans[i], folds[i].bands) for i in shown])
    _pieces(
        ax,
        [spans[i] for i in shown],
        [folds[i].forecasts["seasonal_naive"] for i in shown],
        color=_BASELINE,
        lw=1.0,
        ls="--",
        label="seasonal naive",
    )
    _pieces(
        ax,
        [spans[i] for i in shown],
        [folds[i].forecasts["model"] for i in shown],
        color=_MODEL,
        lw=1.8,
        label="seqcast",
    )
    others = [i for i, keep in enumerate(full) if not keep]
    if others:
        _pieces(
            ax,
            [spans[i] for i in others],
            [folds[i].forecasts["model"] for i in others],
            color=_MODEL,
            lw=0.8,
            alpha=_FAINT,
            label=f"seqcast from the {count(len(others), 'other origin')}",
        )
    origins = _dates([result.dates[f.cut - 1] for f in folds])
    mark_origins(ax, origins, result.step)
    return x


def series_grid_figure(
    results: Sequence[tuple[str, BacktestResult]],
    *,
    target: str = "value",
    title: str | None = None,
) -> Any:
    """Draw several series' evaluations in a grid, two per row, each with its own scale.

    Used for the best and worst series of a model over several series. The legend is
    the first panel's.

    Args:
        results: (panel title, the series' evaluation over origins), in drawing order.
        target: Name of the target, for the y axes.
        title: Figure title.
    """
    if not results:
        raise ConfigError(
            "No series to draw. Give data that reaches past the model's training data."
        )
    fig, _ = _figure()
    fig.clear()
    rows = -(-len(results) // 2)
    fig.set_size_inches(FIGSIZE[0], 2.6 * rows + 0.9)
    axes = fig.subplots(rows, 2 if len(results) > 1 else 1, squeeze=False).ravel()
    for ax, (series, result) in zip(axes, results, strict=False):
        x = _draw_backtest(ax, result, None)
        ax.set_title(
            f"{series}: relative MASE {result.relative_mase():.3f}", fontsize=9
        )
        ax.set_ylabel(target)
        ax.grid(True, alpha=0.3)
        date_ticks(ax, x)
    for ax in axes[len(results) :]:
        ax.set_visible(False)
    if title:
        fig.suptitle(title)
    legend_below(fig, axes[0])
    return fig


def plot_series_grid(
    path: str | Path,
    results: Sequence[tuple[str, BacktestResult]],
    *,
    target: str = "value",
    title: str | None = None,
) -> Path:
    """Draw :func:`series_grid_figure` and save it as the PNG ``path`` (atomically)."""
    _check_path(path)
    return _save(series_grid_figure(results, target=target, title=title), path)


def plot_backtest(
    path: str | Path,
    result: BacktestResult,
    *,
    target: str = "value",
    title: str | None = None,
    context: int | None = None,
) -> Path:
    """Draw :func:`backtest_figure` with these arguments and save it as the PNG ``path``.

    Returns:
        The path written.

    Raises:
        ConfigError: If ``path`` does not end in ``.png``, its folder is missing, or
            the file cannot be written.
    """
    _check_path(path)
    return _save(
        backtest_figure(result, target=target, title=title, context=context), path
    )


def losses_figure(
    loss: Sequence[float],
    val_loss: Sequence[float] = (),
    *,
    best_epoch: int | None = None,
    title: str = "training loss",
) -> Any:
    """Draw training and validation loss per epoch (log scale when all are positive).

    Args:
        loss: Training loss per epoch.
        val_loss: Validation loss per epoch (may be empty).
        best_epoch: 1-based epoch whose weights were kept, marked with a line.
        title: Figure title.

    Returns:
        The matplotlib Figure, laid out, with one Axes.
    """
    from matplotlib.ticker import MaxNLocator

    fig, ax = _figure()
    epochs = np.arange(1, len(loss) + 1)
    ax.plot(epochs, loss, color=_MODEL, marker="o", ms=3, label="training")
    if len(val_loss):
        ax.plot(
            np.arange(1, len(val_loss) + 1),
            val_loss,
            color=_BASELINE,
            marker="o",
            ms=3,
            label="validation",
        )
    if best_epoch:
        ax.axvline(best_epoch, color=_MARK, ls=":", label=f"best epoch {best_epoch}")
    values = np.asarray([*loss, *val_loss], dtype=np.float64)
    if values.size and np.all(np.isfinite(values)) and np.all(values > 0):
        ax.set_yscale("log")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    legend_below(fig, ax)
    return fig


def plot_losses(
    path: str | Path,
    loss: Sequence[float],
    val_loss: Sequence[float] = (),
    *,
    best_epoch: int | None = None,
    title: str = "training loss",
) -> Path:
    """Draw :func:`losses_figure` with these arguments and save it as the PNG ``path``.

    Returns:
        The path written.

    Raises:
        ConfigError: If ``path`` does not end in ``.png``, its folder is missing, or
            the file cannot be written.
    """
    _check_path(path)
    return _save(
        losses_figure(loss, val_loss, best_epoch=best_epoch, title=title), path
    )


def _figure() -> tuple[Any, Any]:
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:  # pragma: no cover - matplotlib is a dependency
        raise ConfigError(
            "Plotting needs matplotlib, which is not installed. Install it: pip install matplotlib."
        ) from None
    fig = Figure(figsize=FIGSIZE, dpi=DPI)
    FigureCanvasAgg(fig)
    return fig, fig.subplots()


def _dates(values: Sequence[str]) -> Any:
    return np.array(list(values), dtype="datetime64[s]")


def _bands(
    ax: Any,
    pieces: Sequence[tuple[Any, Mapping[str, tuple[FloatArray, FloatArray]]]],
) -> None:
    """Fill each level's band over every (dates, bands) piece as one PolyCollection."""
    from matplotlib.collections import PolyCollection

    labels = {label for _, bands in pieces for label in bands}
    ordered = sorted(labels, key=lambda label: -float(label))
    for i, label in enumerate(ordered):
        polygons = []
        for x, bands in pieces:
            if label not in bands:
                continue
            lower, upper = (np.asarray(b, dtype=np.float64) for b in bands[label])
            num = np.asarray(ax.xaxis.convert_units(x), dtype=np.float64)
            polygons.append(
                np.column_stack(
                    [
                        np.concatenate([num, num[::-1]]),
                        np.concatenate([lower, upper[::-1]]),
                    ]
                )
            )
        alpha = 0.12 + 0.12 * i
        ax.add_collection(
            PolyCollection(
                polygons,
                facecolors=_MODEL,
                alpha=alpha,
                lw=0,
                label=f"{label}% interval",
            ),
            autolim=True,
        )
    if ordered:
        ax.autoscale_view()


def _pieces(ax: Any, xs: Sequence[Any], ys: Sequence[FloatArray], **style: Any) -> None:
    """Draw several separate stretches of line as one Line2D, broken by NaN values."""
    x = np.concatenate([np.concatenate([xi, xi[-1:]]) for xi in xs])
    y = np.concatenate(
        [np.append(np.asarray(yi, dtype=np.float64), np.nan) for yi in ys]
    )
    ax.plot(x, y, **style)


def _finish(fig: Any, ax: Any, dates: Any, target: str, title: str) -> None:
    ax.set_ylabel(target)
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    date_ticks(ax, dates)
    legend_below(fig, ax)


def _check_path(path: str | Path) -> None:
    target = Path(path)
    if target.suffix.lower() != ".png":
        raise ConfigError(
            f"Plot file {target} does not end in .png. Give a path such as forecast.png."
        )
    if not target.parent.is_dir():
        raise ConfigError(
            f"The folder of plot file {target} does not exist. Create it or choose another path."
        )


def _save(fig: Any, path: str | Path) -> Path:
    """Write the laid-out figure to a temporary sibling, then move it into place.

    Raises:
        ConfigError: If the file cannot be written (a full disk, a read-only folder);
            the previous file at ``path`` is left as it was, and no temporary stays.
    """
    target = Path(path)
    try:
        atomic.replace_file(target, lambda tmp: fig.savefig(tmp, format="png", dpi=DPI))
    except OSError as exc:
        raise ConfigError(
            f"Cannot write the plot {target}: {exc.strerror or exc}. {atomic.fault_advice(exc, target.parent, '--plot')}"
        ) from None
    return target
