"""What a forecast returns: values with their dates, origin and interval bands.

NumPy and the standard library only (pandas is imported by ``to_frame`` and for
frequencies the NumPy calendar does not know), so the forecast path stays light.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from seqcast._types import FloatArray
from seqcast.data.calendar import iso_dates

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Forecast", "future_dates"]


@dataclass(frozen=True, slots=True)
class Forecast:
    """Forecast values with their timestamps, continuing the series' frequency.

    Attributes:
        target: Name of the forecast column.
        dates: ISO timestamps, one per step.
        values: Forecast values in the series' own units, shape (steps,).
        origin: Timestamp of the last observation the forecast starts from.
        engine: ``numpy`` or ``keras``.
        bands: Interval level label (``"80"``) mapped to (lower, upper) arrays of
            shape (steps,); see :mod:`seqcast.evaluation.intervals`.
        series: The series' id, for a model over several series (else None).
        id_col: The id column's name in the training data (with ``series``).
    """

    target: str
    dates: tuple[str, ...]
    values: FloatArray
    origin: str
    engine: str
    bands: dict[str, tuple[FloatArray, FloatArray]] = dataclasses.field(
        default_factory=dict
    )
    series: str | None = None
    id_col: str | None = None

    def rows(self) -> list[dict[str, Any]]:
        """Return one dict per step: ``{"date": ..., target: ..., "lower_80": ...}``."""
        first: dict[str, Any] = {}
        if self.series is not None:
            first[self.id_col or "id"] = self.series
        rows: list[dict[str, Any]] = [
            {**first, "date": d, self.target: float(v)}
            for d, v in zip(self.dates, self.values, strict=True)
        ]
        for label, (lower, upper) in self.bands.items():
            for row, lo, hi in zip(rows, lower, upper, strict=True):
                row[f"lower_{label}"] = float(lo)
                row[f"upper_{label}"] = float(hi)
        return rows

    def to_frame(self) -> pd.DataFrame:
        """Return a DataFrame with ``date``, the target and any interval columns."""
        import pandas as pd

        frame = pd.DataFrame(
            {"date": pd.to_datetime(list(self.dates)), self.target: self.values}
        )
        if self.series is not None:
            frame.insert(0, self.id_col or "id", self.series)
        for label, (lower, upper) in self.bands.items():
            frame[f"lower_{label}"] = lower
            frame[f"upper_{label}"] = upper
        return frame


def future_dates(origin: str, freq: str, steps: int) -> list[str]:
    """Timestamps after ``origin``: NumPy for common aliases, pandas for the rest."""
    from seqcast.data.calendar import UnsupportedFrequencyError, future_dates

    try:
        return future_dates(origin, freq, steps)
    except UnsupportedFrequencyError:
        import pandas as pd

        from seqcast.data.frame import future_index

        return iso_dates(future_index(pd.Timestamp(origin), freq, steps))
