"""The typed, versioned schema of ``seqcast.json``: frozen records, validated once on load.

Version 2 holds every per-series part (rows, split, scaler, MASE scale, last window) in a
``series`` list, so that one directory can cover one series or many with the same format;
``left_out`` names the series a run skipped and why. Version 3 adds models of local
models (``config.data.per_series``): each series record then carries a ``local`` part,
its own window, fit, scores and calibration, and names its own network files
(``series-<k>.keras``, see :func:`seqcast.store.layout.series_file`). Version 4 adds
``columns.known``: the input columns known ahead (future features, calendar terms,
holidays), read over the forecast period, and ``columns.static``: the 0/1 columns of
the static features. Version 5 adds ``series[].raw_scaler``: with ``deseasonalize =
"mixed"``, the scaler of the members that read a log-transformed series without
seasonal indices in its own units (:meth:`seqcast.model.pipeline.Prep.raw`); an older
seqcast would read them through the log, so it refuses the version. Version 2, 3 and
4 documents read as version 5 without local models, known columns or raw scalers; version 1 directories (one series, per-series
parts at the top level) are migrated on read.

Nothing outside ``store`` reads ``seqcast.json`` by key: readers get a :class:`ModelMeta`.
Every malformed document (wrong type, missing key, ragged or empty array, bogus date) is
refused with one :class:`~seqcast.errors.ArtifactError` naming the field.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from seqcast._types import FloatArray
from seqcast.config import DateFormat, RunConfig, Transform
from seqcast.data.source import Source
from seqcast.errors import ArtifactError
from seqcast.evaluation.intervals import Calibration
from seqcast.evaluation.scoring import Evaluation
from seqcast.prep.scaling import Scaler
from seqcast.prep.transforms import TargetTransform
from seqcast.store.layout import member_file

SCHEMA_VERSION = 5
READABLE_VERSIONS = (1, 2, 3, 4, 5)
RETRAIN = "Retrain with `seqcast train`."
"""The advice every refusal of a malformed ``seqcast.json`` ends with."""


@dataclass(frozen=True, slots=True)
class Columns:
    """The columns and calendar shared by every series of the model.

    Attributes:
        target: The forecast column.
        features: Past-only covariate columns read besides the target.
        known: Columns known ahead, after ``features`` in every row: the model reads
            them ``horizon`` rows ahead (:func:`seqcast.prep.windows.lead_known`).
        static: The 0/1 columns of the static features (``region=north``), last in
            every row, constant over a series.
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
    known: tuple[str, ...] = ()
    static: tuple[str, ...] = ()


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

    @property
    def band_unit(self) -> float:
        """What a band calibrated per scale is multiplied by for this series.

        The seasonal scale, by which the global model's calibration divided each
        series' errors; the naive one where that is undefined (such a series gave no
        calibration errors); 0 when neither is.
        """
        return self.scale or self.naive_scale or 0.0


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
        raw_scaler: With ``deseasonalize = "mixed"``, for a log-transformed series
            without seasonal indices: fitted on the untransformed training part, for
            the members that read it without the log. None otherwise.
        mase: MASE denominators of the training part.
        last_window: The last ``window`` rows, or every row of a series (of a model
            over several) shorter than the window.
        local: The series' own network, in a model of local models
            (``per_series``); None in a global or one-series model.
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
    local: LocalModel | None = None
    raw_scaler: Scaler | None = None

    def served(self, calibration: Calibration) -> Calibration:
        """The part of ``calibration`` that serves this series, in its own units."""
        return calibration.for_series(
            self.transform.kind is Transform.LOG, self.mase.band_unit
        )


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
class LocalModel:
    """One series' own network in a model of local models (``per_series``).

    Each series is sized, fitted, scored and calibrated as a file of that series alone
    would be; what differs from the shared configuration is kept here.

    Attributes:
        window: Its window (chosen for its length when ``window`` was automatic).
        val_fraction: Its validation share (smaller for a short series).
        test_fraction: Its test share (0 for a series too short for one).
        history: Its fit; ``history.members[m].file`` names member ``m``'s network,
            ``series-<k>.keras`` then ``series-<k>-<m>.keras`` for series ``k``.
        test: Its test-part scores beside the baselines (None without a test part).
        test_coverage: Interval level label mapped to its test-part coverage.
        intervals: Its conformal calibration, in the series' own units (None without
            validation windows).
    """

    window: int
    val_fraction: float
    test_fraction: float
    history: History
    test: Evaluation | None
    test_coverage: dict[str, float] | None
    intervals: Calibration | None

    @property
    def files(self) -> tuple[str, ...]:
        """The network files of its members, member 0 first."""
        return tuple(m.file for m in self.history.members)


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
        history: Training history (of a model of local models: its first series').
        test: Test-part scores beside the baselines (None without a test part); of
            a model over several series, every series' windows pooled.
        test_coverage: Interval level label mapped to its test-part coverage.
        intervals: Conformal calibration (None without validation windows, and in a
            model of local models, whose series each keep their own).
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

    @property
    def per_series(self) -> bool:
        """Whether every series has its own network (a model of local models)."""
        return self.config.data.per_series

    def model_files(self) -> tuple[str, ...]:
        """Every network file the directory must hold, in a stable order.

        ``model.keras``, ``model-1.keras``, ... for one network (or ensemble); every
        series' own files in series order for a model of local models.
        """
        if self.per_series:
            return tuple(name for r in self.series if r.local for name in r.local.files)
        return tuple(member_file(i) for i in range(self.config.train.ensemble))

    def shared_meta(self, k: int) -> ModelMeta:
        """Series ``k`` of one global model, as a one-series model on the shared networks.

        The result keeps the global model's networks, configuration and pooled
        history; its only record is series ``k``'s (window, transform, scaler,
        split dates), and its interval calibration the one that serves that series,
        in its units (:meth:`Calibration.for_series`), so that it scores and
        forecasts that series as the global model does.
        """
        record = self.series[k]
        config = dataclasses.replace(
            self.config, data=dataclasses.replace(self.config.data, series=record.id)
        )
        intervals = None if self.intervals is None else record.served(self.intervals)
        return dataclasses.replace(
            self, config=config, series=(record,), intervals=intervals
        )

    def local_meta(self, k: int) -> ModelMeta:
        """Series ``k`` of a model of local models, as the model of that series alone.

        The result reads as the directory a one-series run (``--series ID``) would
        have written: the series' own window, fit, scores and calibration, with the
        shared configuration and columns; its networks are ``series[k].local.files``.

        Raises:
            ValueError: If the model is not per series (a bug, never user input).
        """
        record = self.series[k]
        local = record.local
        if local is None:
            raise ValueError(f"series {k} has no local model")
        config = self.config
        config = dataclasses.replace(
            config,
            data=dataclasses.replace(config.data, series=record.id, per_series=False),
            train=dataclasses.replace(
                config.train,
                window=local.window,
                val_fraction=local.val_fraction,
                test_fraction=local.test_fraction,
            ),
        )
        return ModelMeta(
            provenance=self.provenance,
            config=config,
            columns=self.columns,
            series=(dataclasses.replace(record, local=None),),
            history=local.history,
            test=local.test,
            test_coverage=local.test_coverage,
            intervals=local.intervals,
        )

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
                "known": list(self.columns.known),
                "static": list(self.columns.static),
            },
            "series": [_series_json(s) for s in self.series],
            "left_out": [_fields(x) for x in self.left_out],
            "history": _history_json(self.history),
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
        return validate.parse_document(doc, where, version=max(version, 2))


def _fields(record: Any) -> dict[str, Any]:
    return {name: getattr(record, name) for name in record.__dataclass_fields__}


def _history_json(h: History) -> dict[str, Any]:
    return {
        **_fields(h),
        "loss": list(h.loss),
        "val_loss": list(h.val_loss),
        "members": [_fields(m) for m in h.members],
    }


def _local_json(local: LocalModel) -> dict[str, Any]:
    return {
        "window": local.window,
        "val_fraction": local.val_fraction,
        "test_fraction": local.test_fraction,
        "history": _history_json(local.history),
        "metrics": {
            "test": local.test.as_dict() if local.test else None,
            "test_coverage": local.test_coverage,
        },
        "intervals": local.intervals.to_dict() if local.intervals else None,
    }


def _series_json(s: SeriesRecord) -> dict[str, Any]:
    local = {"local": _local_json(s.local)} if s.local is not None else {}
    if s.raw_scaler is not None:
        local["raw_scaler"] = s.raw_scaler.to_dict()
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
        **local,
    }
