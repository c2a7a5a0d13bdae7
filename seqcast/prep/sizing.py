"""Choosing the horizon, the lookback window and the split from the season and the length.

A fixed window of 24 and 15% + 15% splits refuse a 14-point yearly series; the choices
here give every series that can honestly be fitted a model:

- the horizon, when not given, is the forecasting competitions' for the frequency:
  6 yearly, 8 quarterly, 18 monthly, 13 weekly, 14 daily, 48 hourly (else 2 seasons);
- the window, when not given, is ``ceil(1.25 * max(horizon, season))``, the rule of
  Hewamalage, Bergmeir & Bandara (2021), shortened until the training part holds at
  least :data:`MIN_TRAIN_WINDOWS` windows;
- if even a window of 1 leaves too few training windows, the test part is dropped
  (the model is then scored by ``backtest`` or by ``evaluate`` on newer data), then
  the validation part shrinks to one horizon, then to none.

Example: 14 yearly points, horizon 6: window 8 does not fit, so the test part goes,
the validation part is the last 6 rows, and the window is 2 with 1 training window
(the validation windows join training when the final fit uses all the history).
"""

from __future__ import annotations

import dataclasses
import math

from seqcast.config import TrainConfig
from seqcast.errors import DataError

MIN_TRAIN_WINDOWS = 4
"""Training windows the automatic window tries to leave (fewer only for short series)."""

_HORIZONS = {1: 6, 4: 8, 12: 18, 52: 13, 7: 14, 5: 10, 24: 48}


def default_horizon(season: int) -> int:
    """Return the competitions' horizon for a season length (2 seasons for others)."""
    return _HORIZONS.get(season, max(2 * season, 4))


def resolve_sizes(
    train: TrainConfig, n_rows: int, season: int
) -> tuple[TrainConfig, tuple[str, ...]]:
    """Fill in an automatic window and horizon, and fit the split to a short series.

    Args:
        train: The training settings; ``window`` or ``horizon`` None means choose.
        n_rows: Rows of the series (the shortest series, for several origins).
        season: Season length of the frequency.

    Returns:
        Settings with window and horizon set, and notes on what was adjusted.

    Raises:
        DataError: If no honest model can be fitted: fewer rows than one window of 1
            plus one horizon for training plus the validation part. The message gives
            the shortest history that works.
    """
    horizon = train.horizon or default_horizon(season)
    if train.window is not None:
        return dataclasses.replace(train, horizon=horizon), ()
    wanted = math.ceil(1.25 * max(horizon, season))
    val, test = train.val_fraction, train.test_fraction
    one_horizon = 1e-9 if val > 0 else 0.0  # a validation part of exactly one horizon
    for step, (v, t) in enumerate(
        ((val, test), (val, 0.0), (one_horizon, 0.0), (0.0, 0.0))
    ):
        n_val = _part_rows(v, n_rows, horizon)
        n_train = n_rows - n_val - _part_rows(t, n_rows, horizon)
        for windows in (MIN_TRAIN_WINDOWS, 1):
            longest = n_train - horizon - windows + 1
            if longest < 1:
                continue
            window = min(wanted, longest)
            if step:
                note = f"The series has {n_rows} rows, too few for window={wanted} with a test part: trained with window={window}, {n_val} validation rows and no test part. Score it with `seqcast backtest`."
            elif window < wanted:
                note = f"window={window} rather than {wanted}: the series has {n_rows} rows."
            else:
                note = ""
            resolved = dataclasses.replace(
                train, window=window, horizon=horizon, val_fraction=v, test_fraction=t
            )
            return resolved, (note,) if note else ()
    raise DataError(
        f"The series has {n_rows} rows, too few to fit any model for horizon={horizon}: it needs at least {horizon + 1} (window 1 plus one horizon). Use a shorter --horizon, or load more history."
    )


def _part_rows(fraction: float, n_rows: int, horizon: int) -> int:
    """Rows a validation or test part takes (as :func:`seqcast.prep.windows.split_bounds`)."""
    return max(horizon, round(fraction * n_rows)) if fraction > 0 else 0


def resolve_pool_sizes(
    train: TrainConfig, lengths: list[int], season: int
) -> tuple[TrainConfig, tuple[str, ...]]:
    """Fill in an automatic window and horizon for one model over many series.

    The horizon is as for one series. The window is ``ceil(1.25 * max(horizon,
    season))``, shortened until at least half of the series hold one training window
    before their validation part (a series shorter than the window is padded when forecast, and
    one shorter than window + horizon gives no holdout window but is still learned
    from by the final fit).

    Args:
        train: The training settings; ``window`` or ``horizon`` None means choose.
        lengths: Rows of every series.
        season: Season length of the frequency.

    Raises:
        DataError: If even the longest series cannot hold one window of 1 plus one
            horizon; the message gives the shortest history that works.
    """
    horizon = train.horizon or default_horizon(season)
    if train.window is not None:
        return dataclasses.replace(train, horizon=horizon), ()
    if max(lengths) < horizon + 1:
        raise DataError(
            f"The longest series has {max(lengths)} rows, too few to fit any model for horizon={horizon}: it needs at least {horizon + 1} (window 1 plus one horizon). Use a shorter --horizon, or load more history."
        )
    wanted = math.ceil(1.25 * max(horizon, season))
    room = sorted(
        n - _part_rows(train.val_fraction, n, horizon) - horizon for n in lengths
    )
    median_room = room[len(room) // 2]
    window = max(1, min(wanted, median_room))
    notes: tuple[str, ...] = ()
    if window < wanted:
        notes = (
            f"window={window} rather than {wanted}, so that half of the {len(lengths)} series hold a training window before their validation part.",
        )
    return dataclasses.replace(train, window=window, horizon=horizon), notes
