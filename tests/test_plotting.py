from __future__ import annotations

import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from seqcast.errors import ConfigError
from seqcast.evaluation.plot_layout import BEYOND_HORIZON, MAX_TICKS
from seqcast.evaluation.plots import (
    DPI,
    FIGSIZE,
    backtest_figure,
    forecast_figure,
    plot_backtest,
    plot_forecast,
    plot_losses,
)

WIDTH, HEIGHT = int(FIGSIZE[0] * DPI), int(FIGSIZE[1] * DPI)


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG signature"
    assert data[12:16] == b"IHDR"
    assert data[-8:-4] == b"IEND"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def _dates(n: int, start: str = "2020-01-01") -> list[str]:
    return [str(d) for d in np.arange(np.datetime64(start), np.datetime64(start) + n)]


def test_importing_the_cli_does_not_import_matplotlib() -> None:
    code = "import sys, seqcast.cli, seqcast.evaluation.plots; print('matplotlib' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"


def test_forecast_plot_is_a_png_of_the_expected_size(tmp_path: Path) -> None:
    history = np.sin(np.arange(60) / 3.0)
    forecast = np.sin(np.arange(60, 72) / 3.0)
    bands = {
        "80": (forecast - 0.2, forecast + 0.2),
        "95": (forecast - 0.4, forecast + 0.4),
    }
    path = plot_forecast(
        tmp_path / "f.png",
        history_dates=_dates(60),
        history=history,
        dates=_dates(12, "2020-03-01"),
        forecast=forecast,
        bands=bands,
        baseline=history[-12:],
        target="y",
    )
    assert path == tmp_path / "f.png"
    assert path.stat().st_size > 10_000
    assert png_size(path) == (WIDTH, HEIGHT)
    assert [p.name for p in tmp_path.iterdir()] == ["f.png"]  # no temporary left


def test_loss_plot_and_atomic_replacement(tmp_path: Path) -> None:
    target = tmp_path / "loss.png"
    target.write_bytes(b"old")
    plot_losses(target, [1.0, 0.5, 0.3], [1.2, 0.6, 0.7], best_epoch=2)
    assert png_size(target) == (WIDTH, HEIGHT)
    assert [p.name for p in tmp_path.iterdir()] == ["loss.png"]


def test_plot_path_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        plot_losses(tmp_path / "loss.jpg", [1.0])
    assert str(err.value) == (
        f"Plot file {tmp_path / 'loss.jpg'} does not end in .png. Give a path such as forecast.png."
    )
    with pytest.raises(ConfigError, match="does not exist"):
        plot_losses(tmp_path / "missing" / "loss.png", [1.0])


def test_backtest_plot(tmp_path: Path) -> None:
    from seqcast.evaluation.backtest import pool_folds, score_fold

    target = 10 + np.sin(np.arange(80) / 2.0)
    dates = _dates(80)
    folds = []
    for k, cut in enumerate((74, 77)):
        start = np.array([cut - 10])
        pred = target[None, cut : cut + 3] + 0.1
        folds.append(
            score_fold(k, target, start, pred, 10, 3, 7, 1.0, dates, None, (), 0)
        )
    result = pool_folds(folds, 10, 3, np.array([74, 77]), None, False, dates, target, 7)
    assert result.folds[1].forecasts["model"] == pytest.approx(target[77:80] + 0.1)
    path = plot_backtest(tmp_path / "b.png", result, target="y")
    assert png_size(path) == (WIDTH, HEIGHT)


# --- what the figures show -------------------------------------------------------------


def _display_points(ax: Any) -> np.ndarray:
    """Every plotted vertex (lines, bands, markers) in display pixels."""
    points = []
    for line in ax.lines:
        xy = np.column_stack(
            [ax.xaxis.convert_units(line.get_xdata()), line.get_ydata()]
        ).astype(np.float64)
        xy = xy[np.isfinite(xy).all(axis=1)]
        points.append(line.get_transform().transform(xy))
    for coll in ax.collections:
        for path in coll.get_paths():
            points.append(coll.get_transform().transform(path.vertices))
    return np.concatenate(points)


def _series(kind: str, n: int = 48) -> np.ndarray:
    t = np.arange(n, dtype=np.float64)
    wiggle = 3.0 * np.sin(t)
    return {
        "rising": 20.0 + 1.5 * t + wiggle,  # ends high on the right
        "falling": 100.0 - 1.5 * t + wiggle,  # starts high on the left
        "peak": 50.0 + 40.0 * np.exp(-(((t - 5.0) / 4.0) ** 2)) + wiggle,
        "flat_high": 100.0 + 0.01 * wiggle,  # one level, filling the axes' middle
    }[kind]


@pytest.mark.parametrize("kind", ["rising", "falling", "peak", "flat_high"])
def test_forecast_legend_covers_no_data(kind: str) -> None:
    history = _series(kind)
    forecast = history[-12:] + 1.0
    dates = [str(d) for d in np.arange("1972-01", "1977-01", dtype="datetime64[M]")]
    fig = forecast_figure(
        history_dates=[f"{d}-01" for d in dates[:48]],
        history=history,
        dates=[f"{d}-01" for d in dates[48:]],
        forecast=forecast,
        bands={"80": (forecast - 5.0, forecast + 5.0)},
        baseline=history[-12:],
        horizon=6,
    )
    ax = fig.axes[0]
    renderer = fig.canvas.get_renderer()
    (legend,) = fig.legends
    box = legend.get_window_extent(renderer)
    assert len(legend.get_texts()) == 5
    assert fig.bbox.x0 <= box.x0  # all of it on the canvas
    assert box.x1 <= fig.bbox.x1
    assert fig.bbox.y0 <= box.y0
    inside = [box.contains(x, y) for x, y in _display_points(ax)]
    assert not any(inside)
    assert not box.overlaps(ax.get_window_extent(renderer))
    assert not box.overlaps(ax.xaxis.get_tightbbox(renderer))  # nor the tick labels


def _major_ticks(ax: Any) -> list[str]:
    """The visible major x ticks as ISO stamps (seconds)."""
    import matplotlib.dates as mdates

    lo, hi = ax.get_xlim()
    return [
        mdates.num2date(t).strftime("%Y-%m-%dT%H:%M:%S")
        for t in ax.get_xticks()
        if lo <= t <= hi
    ]


def _quarters(first: str, n: int) -> list[str]:
    start = np.datetime64(first, "M")
    return [f"{start + 3 * i}-01" for i in range(n)]


def test_quarterly_ticks_fall_on_quarter_starts() -> None:
    # 1970-07 .. 1973-10: 14 quarter starts are too many ticks, so half-year starts.
    dates = _quarters("1970-07", 14)
    values = np.linspace(4300.0, 5000.0, 14)
    fig = forecast_figure(
        history_dates=dates[:10],
        history=values[:10],
        dates=dates[10:],
        forecast=values[10:],
    )
    ticks = _major_ticks(fig.axes[0])
    assert ticks == [
        f"{y}-{m}-01T00:00:00"
        for y, m in [
            (1970, "07"),
            (1971, "01"),
            (1971, "07"),
            (1972, "01"),
            (1972, "07"),
            (1973, "01"),
            (1973, "07"),
        ]
    ]
    labels = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert "1973-07" in labels


@pytest.mark.parametrize(
    ("dates", "months"),
    [
        (_quarters("2008-07", 9), {1, 4, 7, 10}),  # two years: every quarter
        (_quarters("1959-01", 203), {1}),  # fifty years: years
        (
            [f"{m}-01" for m in np.arange("1949-01", "1961-01", dtype="datetime64[M]")],
            {1},
        ),
        (
            [f"{m}-01" for m in np.arange("1960-01", "1960-11", dtype="datetime64[M]")],
            set(range(1, 13)),
        ),
        ([f"{y}-01-01" for y in range(1700, 2009)], {1}),
    ],
)
def test_date_ticks_sit_on_calendar_boundaries(
    dates: list[str], months: set[int]
) -> None:
    values = np.arange(len(dates), dtype=np.float64)
    fig = forecast_figure(
        history_dates=dates[:-4],
        history=values[:-4],
        dates=dates[-4:],
        forecast=values[-4:],
    )
    ticks = [np.datetime64(t) for t in _major_ticks(fig.axes[0])]
    assert 3 <= len(ticks) <= MAX_TICKS
    for t in ticks:
        text = str(t)
        assert text.endswith("-01T00:00:00")  # first of a month, midnight
        assert int(text[5:7]) in months
    if months == {1, 4, 7, 10}:  # a tick every quarter: all four are used
        assert {int(str(t)[5:7]) for t in ticks} == months


@pytest.fixture
def no_theta(monkeypatch: pytest.MonkeyPatch) -> None:
    """Skip the Theta reference of hand-built folds: plots do not draw it, and 55 cost 5 s."""
    monkeypatch.setattr("seqcast.evaluation.references.theta", lambda *a, **k: None)


def _backtest(n_folds: int, step: int, horizon: int = 3) -> Any:
    """A backtest result built by hand: the 'model' is the actual series plus 0.1."""
    from seqcast.evaluation.backtest import pool_folds, score_fold

    n = 40 + step * (n_folds - 1) + horizon
    target = 10 + np.sin(np.arange(n) / 2.0)
    dates = _dates(n)
    cuts = np.array([n - horizon - step * (n_folds - 1 - k) for k in range(n_folds)])
    folds = []
    for k, cut in enumerate(cuts):
        pred = target[None, cut : cut + horizon] + 0.1
        fold = score_fold(
            k,
            target,
            np.array([cut - 10]),
            pred,
            10,
            horizon,
            7,
            1.0,
            dates,
            None,
            (),
            0,
        )
        fold.bands["80"] = (pred[0] - 0.2, pred[0] + 0.2)
        folds.append(fold)
    result = pool_folds(folds, 10, horizon, cuts, step, False, dates, target, 7)
    return result, [dates[c - 1] for c in cuts]


def _vertical_lines(ax: Any) -> list[Any]:
    return [
        line
        for line in ax.lines
        if len(line.get_xdata()) == 2
        and line.get_xdata()[0] == line.get_xdata()[1]
        and line.get_transform() == ax.get_xaxis_transform()
    ]


def _artists(ax: Any) -> int:
    return len(ax.lines) + len(ax.collections) + len(ax.patches)


@pytest.mark.usefixtures("no_theta")
def test_many_origins_are_one_span_and_a_rug() -> None:
    result, origins = _backtest(55, step=1)
    fig = backtest_figure(result, target="y")
    ax = fig.axes[0]
    assert _vertical_lines(ax) == []
    (rug,) = [
        line for line in ax.lines if line.get_label() == "55 origins, 1 step apart"
    ]
    stamps = np.array(origins, dtype="datetime64[s]")
    np.testing.assert_array_equal(rug.get_xdata(), stamps)
    assert "55 origins" in ax.get_title()
    assert "55 origins, 1 step apart" in [
        t.get_text() for t in fig.legends[0].get_texts()
    ]
    # The figure costs the same artists for 55 origins as for 12.
    few_more, _ = _backtest(12, step=1)
    assert _artists(ax) == _artists(backtest_figure(few_more).axes[0]) <= 10


@pytest.mark.usefixtures("no_theta")
def test_overlapping_origins_draw_a_tiling_subset_in_full() -> None:
    # horizon=3, step=1: folds 54, 51, ..., 0 (19 of them) in full, the other 36 faint.
    result, _ = _backtest(55, step=1, horizon=3)
    ax = backtest_figure(result).axes[0]
    (bold,) = [line for line in ax.lines if line.get_label() == "seqcast"]
    y = np.asarray(bold.get_ydata(), dtype=np.float64)
    x = np.asarray(ax.xaxis.convert_units(bold.get_xdata()))[np.isfinite(y)]
    assert len(x) == 19 * 3
    assert len(np.unique(x)) == len(x)  # the full folds tile: no stamp twice
    (faint,) = [
        line for line in ax.lines if "36 other origins" in str(line.get_label())
    ]
    assert np.isfinite(np.asarray(faint.get_ydata(), dtype=np.float64)).sum() == 36 * 3


@pytest.mark.usefixtures("no_theta")
def test_a_handful_of_origins_keep_a_line_each() -> None:
    result, origins = _backtest(5, step=3)
    ax = backtest_figure(result).axes[0]
    lines = _vertical_lines(ax)
    stamps = np.array(origins, dtype="datetime64[s]")
    np.testing.assert_array_equal([line.get_xdata()[0] for line in lines], stamps)
    assert lines[0].get_label() == "5 origins, 3 steps apart"
    assert "over 5 origins" in ax.get_title()


def _beyond(ax: Any) -> list[Any]:
    return [p for p in ax.patches if str(p.get_label()).startswith(BEYOND_HORIZON)]


@pytest.mark.parametrize(
    ("steps", "horizon", "marked"),
    [
        (20, 12, True),
        (13, 12, True),
        (12, 12, False),
        (5, 12, False),
        (20, None, False),
    ],
)
def test_steps_past_the_trained_horizon_are_marked(
    steps: int, horizon: int | None, marked: bool
) -> None:
    history = np.linspace(1.0, 2.0, 40)
    fdates = _dates(steps, "2020-02-10")
    fig = forecast_figure(
        history_dates=_dates(40),
        history=history,
        dates=fdates,
        forecast=np.full(steps, 2.0),
        horizon=horizon,
    )
    ax = fig.axes[0]
    spans = _beyond(ax)
    assert len(spans) == int(marked)
    if marked:
        x0, x1 = (
            spans[0].get_path().get_extents(spans[0].get_patch_transform()).intervalx
        )
        left = ax.xaxis.convert_units(np.datetime64(fdates[11]))
        right = ax.xaxis.convert_units(np.datetime64(fdates[12]))
        # The span starts between step 12 (the last predicted directly) and step 13.
        (start,) = [v for v in (x0, x1) if left < v < right]
        assert start == pytest.approx((left + right) / 2)
        assert spans[0].get_label() == "beyond the trained horizon of 12 steps"


def test_forecast_figure_rejects_a_horizon_below_one() -> None:
    with pytest.raises(ConfigError) as err:
        forecast_figure(
            history_dates=_dates(3),
            history=np.ones(3),
            dates=_dates(2, "2020-01-04"),
            forecast=np.ones(2),
            horizon=0,
        )
    assert str(err.value) == (
        "horizon=0 must be at least 1. Give the horizon the model was trained with."
    )


@pytest.mark.slow
@pytest.mark.filterwarnings(
    "ignore:.*__array__ implementation doesn't accept a copy keyword:DeprecationWarning"
)
def test_forecaster_marks_the_steps_past_its_horizon(
    sine_frame: Any, tmp_path: Path, tiny_config: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import seqcast
    from seqcast.evaluation import plots

    seqcast.train(sine_frame, out=tmp_path / "m", config=tiny_config)  # horizon=3
    model = seqcast.load(tmp_path / "m")
    drawn: list[Any] = []
    save = plots._save
    monkeypatch.setattr(
        plots, "_save", lambda fig, path: drawn.append(fig) or save(fig, path)
    )
    model.plot_forecast(tmp_path / "a.png", model.forecast(3), sine_frame)
    model.plot_forecast(tmp_path / "b.png", model.forecast(5), sine_frame)
    assert [len(_beyond(fig.axes[0])) for fig in drawn] == [0, 1]
    assert _beyond(drawn[1].axes[0])[0].get_label() == (
        "beyond the trained horizon of 3 steps"
    )
