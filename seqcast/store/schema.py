"""The typed, versioned schema of ``seqcast.json``: frozen records, validated once on load.

Version 2 holds every per-series part (rows, split, scaler, MASE scale, last window) in a
``series`` list, so that one directory can cover one series or many with the same format;
``left_out`` names the series a run skipped and why. Version 1 directories (one series,
per-series parts at the top level) are migrated on read.

Nothing outside ``store`` reads ``seqcast.json`` by key: readers get a :class:`ModelMeta`.
Every malformed document (wrong type, missing key, ragged or empty array, bogus date) is
refused with one :class:`~seqcast.errors.ArtifactError` naming the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from seqcast._types import FloatArray
from seqcast.config import DateFormat, RunConfig
from seqcast.data.source import Source
from seqcast.errors import ArtifactError
from seqcast.evaluation.intervals import Calibration
from seqcast.evaluation.scoring import Evaluation
from seqcast.prep.scaling import Scaler
from seqcast.prep.transforms import TargetTransform

SCHEMA_VERSION = 2
READABLE_VERSIONS = (1, 2)
RETRAIN = "Retrain with `seqcast train`."
"""The advice every refusal of a malformed ``seqcast.json`` ends with."""


@dataclass(frozen=True, slots=True)
class Columns:
    """The columns and calendar shared by every series of the model.

    Attributes:
        target: The forecast column.
        features: Covariate columns read besides the target.
        date_col: The timestamp column.
        freq: Pandas frequency alias of every series.
        date_format: How the training data wrote its dates (plain years, quarters or
            ISO dates), which forecasts follow; ISO in directories written before
            seqcast recorded it.
    """

    target: str
    features: tuple[str, ...]
    date_col: str
    freq: str
    date_format: DateFormat = DateFormat.ISO


@dataclass(frozen=True, slots=True)
class Split:
    """Where one series was cut: rows ``[0, train_end)`` train, then validation, then test.

    Attributes:
        train_end: First row after the training part.
        val_end: First row after the validation part (the test part starts here).
        n_steps: Rows of the series.
        train_last_date: Last training timestamp (ISO).
        fit_last_date: Last timestamp the model trained or validated on (ISO).
        n_train_windows: Training windows.
        n_val_windows: Validation windows.
        n_test_windows: Test windows.
    """

    train_end: int
    val_end: int
    n_steps: int
    train_last_date: str
    fit_last_date: str
    n_train_windows: int
    n_val_windows: int
    n_test_windows: int


@dataclass(frozen=True, slots=True)
class MaseScale:
    """In-sample MASE denominators of the training part.

    Attributes:
        season: Season length of the seasonal difference.
        scale: Mean absolute seasonal difference (None when undefined).
        naive_scale: Mean absolute first difference (None when undefined).
    """

    season: int
    scale: float | None
    naive_scale: float | None


@dataclass(frozen=True, slots=True)
class LastWindow:
    """The last ``window`` rows of a series, the default input of ``forecast``.

    Attributes:
        dates: ISO timestamps, oldest first.
        values: One row of (target, features...) per timestamp, unscaled.
    """

    dates: tuple[str, ...]
    values: tuple[tuple[float, ...], ...]

    def array(self) -> FloatArray:
        """Return the values as a new array of shape (window, n_features)."""
        return np.asarray(self.values, dtype=np.float64)


@dataclass(frozen=True, slots=True)
class SeriesRecord:
    """Everything fitted or remembered for one series.

    Attributes:
        id: The series' id in a long-format file (None for a single series).
        n_rows: Rows after preparation.
        first_date: First timestamp (ISO).
        last_date: Last timestamp (ISO).
        notes: What data preparation did (filled values, sorting...).
        split: The train/validation/test cut.
        transform: Target transform fitted on the training part (identity for
            models of schema 1).
        scaler: Fitted on the transformed training part.
        mase: MASE denominators of the training part.
        last_window: The last ``window`` rows, or every row of a series (of a model
            over several) shorter than the window.
    """

    id: str | None
    n_rows: int
    first_date: str
    last_date: str
    notes: tuple[str, ...]
    split: Split
    transform: TargetTransform
    scaler: Scaler
    mase: MaseScale
    last_window: LastWindow


@dataclass(frozen=True, slots=True)
class LeftOut:
    """A series the run skipped, and why."""

    id: str
    reason: str


@dataclass(frozen=True, slots=True)
class Member:
    """One ensemble member: its seed, file and training outcome."""

    seed: int
    file: str
    best_epoch: int
    epochs_run: int
    seconds: float


@dataclass(frozen=True, slots=True)
class History:
    """Loss curves and early-stopping outcome (of member 0), and every member's summary."""

    loss: tuple[float, ...]
    val_loss: tuple[float, ...]
    best_epoch: int
    epochs_run: int
    stopped_early: bool
    seconds: float
    members: tuple[Member, ...]


@dataclass(frozen=True, slots=True)
class Provenance:
    """What is needed to say how and where the model was made."""

    created: str
    seqcast_version: str
    versions: tuple[tuple[str, str], ...]
    hardware: str
    command: tuple[str, ...]
    seed: int
    source: Source


@dataclass(frozen=True, slots=True)
class ModelMeta:
    """The whole of ``seqcast.json`` except the file checksums.

    Attributes:
        provenance: Versions, hardware, command line, seed, data source.
        config: The configuration in force (detected columns and frequency filled in).
        columns: Target, features, date column and frequency.
        series: One record per series covered, in training order.
        history: Training history.
        test: Test-part scores beside the baselines (None without a test part).
        test_coverage: Interval level label mapped to its test-part coverage.
        intervals: Conformal calibration (None without validation windows).
        left_out: Series skipped by the run.
    """

    provenance: Provenance
    config: RunConfig
    columns: Columns
    series: tuple[SeriesRecord, ...]
    history: History
    test: Evaluation | None
    test_coverage: dict[str, float] | None
    intervals: Calibration | None
    left_out: tuple[LeftOut, ...] = field(default=())

    @property
    def one(self) -> SeriesRecord:
        """The record of a single-series model (the first series of any model)."""
        return self.series[0]

    def to_json(self) -> dict[str, Any]:
        """Return the JSON-ready document, without ``schema_version`` and ``files``."""
        p = self.provenance
        return {
            "provenance": {
                "created": p.created,
                "seqcast_version": p.seqcast_version,
                "versions": dict(p.versions),
                "hardware": p.hardware,
                "command": list(p.command),
                "seed": p.seed,
                "source": {k: v for k, v in _fields(p.source).items() if v is not None},
            },
            "config": self.config.to_dict(),
            "columns": {
                **_fields(self.columns),
                "features": list(self.columns.features),
            },
            "series": [_series_json(s) for s in self.series],
            "left_out": [_fields(x) for x in self.left_out],
            "history": {
                **_fields(self.history),
                "loss": list(self.history.loss),
                "val_loss": list(self.history.val_loss),
                "members": [_fields(m) for m in self.history.members],
            },
            "metrics": {
                "test": self.test.as_dict() if self.test else None,
                "test_coverage": self.test_coverage,
            },
            "intervals": self.intervals.to_dict() if self.intervals else None,
        }

    @classmethod
    def from_json(cls, doc: Mapping[str, Any], where: str) -> ModelMeta:
        """Validate a parsed ``seqcast.json`` (either readable version) and build the record.

        Args:
            doc: The parsed document.
            where: The file's path, for messages.

        Raises:
            ArtifactError: Naming the first field that is missing or malformed.
        """
        version = doc.get("schema_version")
        if version not in READABLE_VERSIONS or isinstance(version, bool):
            raise ArtifactError(
                f"{where} has schema_version={version!r}, but this seqcast reads versions {', '.join(map(str, READABLE_VERSIONS))}. Retrain with this version of seqcast, or use the version that wrote it."
            )
        from seqcast.store import validate

        if version == 1:
            doc = validate.migrate_v1(doc, where)
        return validate.parse_document(doc, where)


def _fields(record: Any) -> dict[str, Any]:
    return {name: getattr(record, name) for name in record.__dataclass_fields__}


def _series_json(s: SeriesRecord) -> dict[str, Any]:
    return {
        "id": s.id,
        "n_rows": s.n_rows,
        "first_date": s.first_date,
        "last_date": s.last_date,
        "notes": list(s.notes),
        "split": _fields(s.split),
        "transform": s.transform.to_dict(),
        "scaler": s.scaler.to_dict(),
        "mase": _fields(s.mase),
        "last_window": {
            "dates": list(s.last_window.dates),
            "values": [list(row) for row in s.last_window.values],
        },
    }
