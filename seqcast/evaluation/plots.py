"""PNG plots of forecasts, backtests and loss curves (matplotlib, Agg backend, lazy import).

matplotlib is imported inside each function, never when seqcast or its CLI loads. Every
plot is saved into a temporary sibling file and moved into place with ``os.replace``, so
a reader never sees half a PNG.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from seqcast import atomic
from seqcast._types import FloatArray
from seqcast.errors import ConfigError

if TYPE_CHECKING:
    from seqcast.evaluation.backtest import BacktestResult

FIGSIZE = (10.0, 4.5)
DPI = 100
"""Plots are FIGSIZE * DPI pixels: 1000 x 450."""

_MODEL = "#1f77b4"
_ACTUAL = "#222222"
_BASELINE = "#d62728"


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
) -> Path:
    """Plot the history tail, the forecast, its interval bands and a baseline.

    Args:
        path: PNG file to write.
        history_dates: ISO timestamps of ``history``.
        history: Observed values, shape (n,).
        dates: ISO timestamps of the forecast steps.
        forecast: Forecast values, shape (steps,).
        bands: Level label (``"80"``) mapped to (lower, upper), each shape (steps,).
        baseline: Seasonal-naive forecast of the same steps, shape (steps,).
        target: Name of the series, for the y axis.
        title: Figure title.

    Returns:
        The path written.
    """
    plt, fig, ax = _figure()
    try:
        hx = _dates(history_dates)
        fx = _dates(dates)
        ax.plot(hx, history, color=_ACTUAL, lw=1.2, label="history")
        joined_x = np.concatenate([hx[-1:], fx])
        joined = np.concatenate([np.asarray(history)[-1:], np.asarray(forecast)])
        _bands(ax, fx, bands)
        if baseline is not None:
            ax.plot(
                fx, baseline, color=_BASELINE, lw=1.0, ls="--", label="seasonal naive"
            )
        ax.plot(joined_x, joined, color=_MODEL, lw=1.8, label="forecast")
        ax.axvline(hx[-1], color="#888888", lw=0.8, ls=":")
        _finish(ax, target, title or f"{target}: forecast of {len(fx)} steps")
        return _save(fig, path)
    finally:
        plt.close(fig)


def plot_backtest(
    path: str | Path,
    result: BacktestResult,
    *,
    target: str = "value",
    title: str | None = None,
    context: int | None = None,
) -> Path:
    """Plot the actual series around the backtest origins and each fold's forecasts.

    Args:
        path: PNG file to write.
        result: A backtest or multi-origin evaluation.
        target: Name of the series, for the y axis.
        title: Figure title (default: the relative MASE).
        context: Rows of history shown before the first origin (default: 3 windows).

    Returns:
        The path written.
    """
    plt, fig, ax = _figure()
    try:
        first = result.folds[0].cut
        last = result.folds[-1].cut + result.horizon
        lo = max(0, first - (context if context is not None else 3 * result.window))
        x = _dates(result.dates[lo:last])
        ax.plot(x, result.target[lo:last], color=_ACTUAL, lw=1.2, label="actual")
        for i, fold in enumerate(result.folds):
            fx = _dates(result.dates[fold.cut : fold.cut + result.horizon])
            _bands(ax, fx, fold.bands, labelled=i == 0)
            ax.plot(
                fx,
                fold.forecasts["seasonal_naive"],
                color=_BASELINE,
                lw=1.0,
                ls="--",
                label="seasonal naive" if i == 0 else None,
            )
            ax.plot(
                fx,
                fold.forecasts["model"],
                color=_MODEL,
                lw=1.8,
                label="seqcast" if i == 0 else None,
            )
            ax.axvline(
                _dates(result.dates[fold.cut - 1 : fold.cut])[0],
                color="#bbbbbb",
                lw=0.6,
                ls=":",
            )
        rel = result.relative_mase()
        kind = "backtest" if result.retrained else "evaluation"
        _finish(
            ax,
            target,
            title
            or f"{target}: {kind} over {len(result.folds)} origins, relative MASE vs seasonal naive {rel:.3f}",
        )
        return _save(fig, path)
    finally:
        plt.close(fig)


def plot_losses(
    path: str | Path,
    loss: Sequence[float],
    val_loss: Sequence[float] = (),
    *,
    best_epoch: int | None = None,
    title: str = "training loss",
) -> Path:
    """Plot training and validation loss per epoch (log scale when all are positive).

    Args:
        path: PNG file to write.
        loss: Training loss per epoch.
        val_loss: Validation loss per epoch (may be empty).
        best_epoch: 1-based epoch whose weights were kept, marked with a line.
        title: Figure title.

    Returns:
        The path written.
    """
    plt, fig, ax = _figure()
    try:
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
            ax.axvline(
                best_epoch, color="#888888", ls=":", label=f"best epoch {best_epoch}"
            )
        values = np.asarray([*loss, *val_loss], dtype=np.float64)
        if values.size and np.all(np.isfinite(values)) and np.all(values > 0):
            ax.set_yscale("log")
        ax.set_xlabel("epoch")
        ax.set_ylabel("loss")
        ax.set_title(title)
        ax.grid(True, alpha=0.3)
        ax.legend(loc="upper right", frameon=False)
        return _save(fig, path)
    finally:
        plt.close(fig)


def _figure() -> tuple[Any, Any, Any]:
    try:
        import matplotlib as mpl
    except ImportError:  # pragma: no cover - matplotlib is a dependency
        raise ConfigError(
            "Plotting needs matplotlib, which is not installed. Install it: pip install matplotlib."
        ) from None
    mpl.use("Agg", force=True)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=FIGSIZE, dpi=DPI)
    return plt, fig, ax


def _dates(values: Sequence[str]) -> Any:
    return np.array(list(values), dtype="datetime64[s]")


def _bands(
    ax: Any,
    x: Any,
    bands: Mapping[str, tuple[FloatArray, FloatArray]] | None,
    *,
    labelled: bool = True,
) -> None:
    if not bands:
        return
    ordered = sorted(bands.items(), key=lambda kv: -float(kv[0]))
    for i, (label, (lower, upper)) in enumerate(ordered):
        ax.fill_between(
            x,
            lower,
            upper,
            color=_MODEL,
            alpha=0.12 + 0.12 * i,
            lw=0,
            label=f"{label}% interval" if labelled else None,
        )


def _finish(ax: Any, target: str, title: str) -> None:
    ax.set_ylabel(target)
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper left", frameon=False)
    ax.figure.autofmt_xdate()


def _save(fig: Any, path: str | Path) -> Path:
    """Write the figure to a temporary sibling, then move it into place."""
    target = Path(path)
    if target.suffix.lower() != ".png":
        raise ConfigError(
            f"Plot file {target} does not end in .png. Give a path such as forecast.png."
        )
    if not target.parent.is_dir():
        raise ConfigError(
            f"The folder of plot file {target} does not exist. Create it or choose another path."
        )
    fig.tight_layout()
    atomic.replace_file(target, lambda tmp: fig.savefig(tmp, format="png", dpi=DPI))
    return target
