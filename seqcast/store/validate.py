"""Reading ``seqcast.json`` field by field into :mod:`seqcast.store.schema`'s records.

Every field is checked for presence, type and range, and the parts for consistency with
each other (the last window's length and the scaler's columns against the
configuration, the calibration's horizon, the members' count), so a malformed or edited
document is refused with one :class:`~seqcast.errors.ArtifactError` that names the
field (``series[0].split.train_end must be a whole number of at least 1, got 'x'``).
Version 1 documents are first rewritten as version 2 (:func:`migrate_v1`). A model of
local models (version 3, ``config.data.per_series``) has a ``local`` part in every series
record, whose network files must be exactly the names
:func:`~seqcast.store.layout.series_file` gives that series: nothing else, so no path
such as ``../x`` is ever opened.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from seqcast.config import DateFormat, RunConfig, Transform
from seqcast.data.source import Source
from seqcast.errors import ArtifactError, ConfigError
from seqcast.evaluation.intervals import REFERENCES, Calibration
from seqcast.evaluation.scoring import Evaluation, Scores
from seqcast.prep.scaling import Scaler
from seqcast.prep.transforms import TargetTransform
from seqcast.store.layout import series_file
from seqcast.store.node import Node
from seqcast.store.schema import (
    RETRAIN,
    Columns,
    History,
    LastWindow,
    LeftOut,
    LocalModel,
    MaseScale,
    Member,
    ModelMeta,
    Provenance,
    SeriesRecord,
    Split,
)
from seqcast.store.stored_config import read_config

_FIX = RETRAIN


def parse_document(doc: Mapping[str, Any], where: str, version: int = 3) -> ModelMeta:
    """Validate a version-2 or version-3 document and build its record.

    Args:
        doc: The parsed document.
        where: The file's path, for messages.
        version: Its schema version; only version 3 may hold local models.

    Raises:
        ArtifactError: Naming the first field that is missing or malformed.
    """
    return _parse(Node(doc, where, ""), version)


def migrate_v1(doc: Mapping[str, Any], where: str) -> dict[str, Any]:
    """Rewrite a version-1 document (one series, parts at the top level) as version 2.

    Raises:
        ArtifactError: If a part that version 1 always wrote is missing.
    """
    node = Node(doc, where, "")
    data = node.get("data").mapping()
    return {
        "schema_version": 2,
        "provenance": {
            "created": doc.get("created"),
            "seqcast_version": doc.get("seqcast_version"),
            "versions": doc.get("versions", {}),
            "hardware": doc.get("hardware", ""),
            "command": doc.get("command", []),
            "seed": doc.get("seed"),
            "source": {
                k: v for k, v in dict(doc.get("source") or {}).items() if v is not None
            },
        },
        "config": doc.get("config"),
        "columns": {k: data.get(k) for k in ("target", "features", "date_col", "freq")},
        "series": [
            {
                "id": data.get("series_id"),
                "n_rows": data.get("n_rows"),
                "first_date": data.get("first_date"),
                "last_date": data.get("last_date"),
                "notes": data.get("notes", []),
                "split": doc.get("split"),
                "scaler": doc.get("scaler"),
                "mase": doc.get("mase"),
                "last_window": doc.get("last_window"),
            }
        ],
        "left_out": [],
        "history": doc.get("history"),
        "metrics": doc.get("metrics"),
        "intervals": doc.get("intervals"),
    }


def _parse(root: Node, version: int) -> ModelMeta:
    config = read_config(root.get("config"))
    if config.data.per_series:
        _check_per_series(root, config, version)
    columns = _columns(root.get("columns"))
    if columns.features != config.data.features:
        raise (
            root.get("columns")
            .get("features")
            .fail(f"{list(config.data.features)}, as config.data.features")
        )
    if columns.known != config.data.known:
        raise root.get("columns").fail(
            f"known columns {list(config.data.known)} (from config.data's future_features, calendar and holidays)"
        )
    for name in columns.static:
        if name.partition("=")[0] not in config.data.static_features or "=" not in name:
            raise (
                root.get("columns")
                .get("static")
                .fail(
                    f"columns named FEATURE=VALUE for the static features {list(config.data.static_features)}"
                )
            )
    if config.data.static_features and not columns.static:
        raise root.get("columns").fail("static columns for config.data.static_features")
    series = tuple(
        _series(n, config, columns, k) for k, n in enumerate(root.get("series").items())
    )
    if not series:
        raise root.get("series").fail("a non-empty list")
    if config.data.id_col is None and len(series) != 1:
        raise root.get("series").fail("one series (the model has no id column)")
    ids = [s.id for s in series]
    if len(set(ids)) != len(ids):
        again = next(i for k, i in enumerate(ids) if i in ids[:k])
        raise root.get("series").fail(f"series of distinct ids ({again!r} repeats)")
    metrics = root.get("metrics")
    test = metrics.opt("test")
    coverage = metrics.opt("test_coverage")
    intervals = root.opt("intervals")
    meta = ModelMeta(
        provenance=_provenance(root.get("provenance")),
        config=config,
        columns=columns,
        series=series,
        history=_history(root.get("history")),
        test=_evaluation(test, config) if test else None,
        test_coverage=_coverages(coverage) if coverage else None,
        intervals=_calibration(intervals) if intervals else None,
        left_out=tuple(
            LeftOut(id=n.get("id").text(), reason=n.get("reason").text())
            for n in root.get("left_out").items()
        ),
    )
    if meta.intervals is not None and (
        meta.intervals.horizon != config.train.sizes[1]
        or meta.intervals.n_residuals == 0
    ):
        raise intervals.fail(f"a calibration of {config.train.sizes[1]} steps")  # type: ignore[union-attr]
    if len(meta.history.members) != config.train.ensemble:
        raise (
            root.get("history")
            .get("members")
            .fail(f"a list of {config.train.ensemble} members")
        )
    return meta


def _check_per_series(root: Node, config: RunConfig, version: int) -> None:
    """Refuse the parts a model of local models cannot have.

    Raises:
        ArtifactError: Naming the field.
    """
    if version < 3:
        raise (
            root.get("config")
            .get("data")
            .get("per_series")
            .fail(
                "false in a document of schema_version 2 (local models came with version 3)"
            )
        )
    if config.train.horizon is None:
        raise (
            root.get("config")
            .get("train")
            .get("horizon")
            .fail("a whole number of at least 1")
        )
    intervals = root.opt("intervals")
    if intervals is not None:
        raise intervals.fail(
            "null in a model of local models (each series keeps its own)"
        )


def _raw_scaler(
    node: Node | None, transform: TargetTransform, config: RunConfig, n_features: int
) -> Scaler | None:
    """Read the scaler of the members that read a series without its log (version 5).

    It only belongs to a series whose transform is a log without seasonal indices, in a
    model whose members are mixed (:meth:`seqcast.model.pipeline.Prep.raw`).

    Raises:
        ArtifactError: Naming the field.
    """
    if node is None:
        return None
    tc = config.train
    if tc.seasonal_members == tc.ensemble:
        raise node.fail("absent (config.train.deseasonalize is not mixed)")
    if transform.kind is not Transform.LOG or transform.indices:
        raise node.fail(
            "absent (it serves a series whose transform is a log without seasonal indices)"
        )
    scaler: Scaler = node.built(Scaler.from_dict)
    if scaler.n_features_in_ != n_features:
        raise node.fail(f"parameters for {n_features} columns")
    return scaler


def _local(node: Node, config: RunConfig, k: int) -> LocalModel:
    """Read series ``k``'s own network: window, split shares, fit, scores, calibration.

    Its members' files must be exactly ``series_file(k, m)``.

    Raises:
        ArtifactError: Naming the field.
    """
    history_node = node.get("history")
    history = _history(history_node)
    members = history_node.get("members").items()
    if len(members) != config.train.ensemble:
        raise history_node.get("members").fail(
            f"a list of {config.train.ensemble} members"
        )
    for m, member in enumerate(members):
        expected = series_file(k, m)
        if history.members[m].file != expected:
            raise member.get("file").fail(f"{expected!r} (series {k}, member {m})")
    local_config = _with_window(config, node.get("window").integer(1))
    window, horizon = local_config.train.sizes
    metrics = node.get("metrics")
    test = metrics.opt("test")
    coverage = metrics.opt("test_coverage")
    intervals = node.opt("intervals")
    calibration = _calibration(intervals) if intervals else None
    if calibration is not None and (
        calibration.horizon != horizon or calibration.n_residuals == 0
    ):
        raise intervals.fail(f"a calibration of {horizon} steps")  # type: ignore[union-attr]
    return LocalModel(
        window=window,
        val_fraction=_share(node.get("val_fraction")),
        test_fraction=_share(node.get("test_fraction")),
        history=history,
        test=_evaluation(test, local_config) if test else None,
        test_coverage=_coverages(coverage) if coverage else None,
        intervals=calibration,
    )


def _with_window(config: RunConfig, window: int) -> RunConfig:
    import dataclasses

    try:
        train = dataclasses.replace(config.train, window=window)
    except ConfigError as exc:
        raise ArtifactError(f"window={window} is invalid: {exc} {_FIX}") from None
    return dataclasses.replace(config, train=train)


def _share(node: Node) -> float:
    """Read a validation or test share: at least 0 and below 0.5."""
    value = node.number()
    if not 0.0 <= value < 0.5:
        raise node.fail("a share of at least 0 and below 0.5")
    return value


def _coverages(node: Node) -> dict[str, float]:
    return {
        str(k): Node(v, node.where, f"{node.path}.{k}").fraction()
        for k, v in node.mapping().items()
    }


_SCORED = ("model", "naive", "seasonal_naive", "drift")
_METRICS = ("mae", "rmse", "mape", "smape", "mase")


def _evaluation(node: Node, config: RunConfig) -> Evaluation:
    """Read test-part scores: every forecaster, every metric, a number or null (NaN)."""
    scores_node = node.get("scores")
    scores = {}
    for name in _SCORED:
        entry = scores_node.get(name)
        scores[name] = Scores(
            **{
                metric: math.nan
                if (v := entry.get(metric)).value is None
                else v.number()
                for metric in _METRICS
            }
        )
    horizon = node.get("horizon")
    if horizon.integer(1) != config.train.horizon:
        raise horizon.fail(f"the model's horizon ({config.train.horizon})")
    return Evaluation(
        n_windows=node.get("n_windows").integer(1),
        horizon=config.train.horizon,
        season=node.get("season").integer(1),
        first_date=node.get("first_date").date(),
        last_date=node.get("last_date").date(),
        scores=scores,
    )


def _calibration(node: Node) -> Calibration:
    """Read conformal residuals: one non-empty row of non-negative numbers per step."""
    rows = node.get("residuals").items()
    residuals = []
    for row in rows:
        cells = row.items()
        if not cells:
            raise row.fail("a non-empty list of residuals")
        values = [c.number() for c in cells]
        if min(values) < 0:
            raise row.fail("absolute residuals (no negative numbers)")
        residuals.append(tuple(sorted(values)))
    if len({len(r) for r in residuals}) > 1:
        raise node.get("residuals").fail("rows of equal length")
    per_scale = node.opt("per_scale")
    steps_pooled = node.opt("steps_pooled")
    relative = node.opt("relative")
    reference, ratio = None, None
    if node.opt("reference") is not None:
        found = node.get("reference")
        reference = found.text()
        if reference not in REFERENCES:
            raise found.fail(f"one of {', '.join(REFERENCES)}")
        ratio = node.get("reference_ratio").number()
        if ratio < 0:
            raise node.get("reference_ratio").fail("a ratio of 0 or more")
    is_relative = False if relative is None else relative.flag()
    absolute = None
    inner = node.opt("absolute")
    if inner is not None:
        if not is_relative:
            raise inner.fail("absent: only a relative calibration has an absolute one")
        if inner.opt("absolute") is not None:  # checked before reading it: no recursion
            raise inner.fail("an absolute calibration (not relative, none nested)")
        absolute = _calibration(inner)
        if absolute.relative or not absolute.per_scale:
            raise inner.fail("an absolute calibration (not relative, none nested)")
        if absolute.horizon != len(residuals):
            raise inner.fail(f"a calibration of {len(residuals)} steps")
    return Calibration(
        residuals=tuple(residuals),
        n_windows=node.get("n_windows").integer(1),
        per_scale=False if per_scale is None else per_scale.flag(),
        steps_pooled=False if steps_pooled is None else steps_pooled.flag(),
        reference=reference,
        reference_ratio=ratio,
        relative=is_relative,
        absolute=absolute,
    )


def _columns(node: Node) -> Columns:
    layout = node.opt("date_format")  # absent before seqcast recorded it: ISO dates
    return Columns(
        target=node.get("target").text(empty=False),
        features=node.get("features").texts(),
        known=() if node.opt("known") is None else node.get("known").texts(),
        static=() if node.opt("static") is None else node.get("static").texts(),
        date_col=node.get("date_col").text(empty=False),
        freq=node.get("freq").text(empty=False),
        date_format=DateFormat.ISO if layout is None else _date_format(layout),
    )


def _date_format(node: Node) -> DateFormat:
    try:
        return DateFormat(node.value)
    except ValueError:
        raise node.fail(f"one of {', '.join(DateFormat)}") from None


def _series(node: Node, config: RunConfig, columns: Columns, k: int) -> SeriesRecord:
    local_node = node.opt("local")
    local = None
    if config.data.per_series:
        local = _local(node.get("local"), config, k)
    elif local_node is not None:
        raise local_node.fail("absent (the model is not per_series)")
    window = local.window if local else config.train.sizes[0]
    n_features = 1 + len(columns.features) + len(columns.known) + len(columns.static)
    lw = node.get("last_window")
    dates = tuple(n.date() for n in lw.get("dates").items())
    rows = lw.get("values").items()
    values = []
    for row in rows:
        cells = row.items()
        if len(cells) != n_features:
            raise row.fail(f"a row of {n_features} numbers")
        values.append(tuple(c.number() for c in cells))
    # A series of a pool shorter than the window keeps all its rows (padded when forecast).
    wanted = min(window, node.get("n_rows").integer(1))
    if len(dates) != wanted or len(values) != wanted:
        raise lw.fail(
            f"{wanted} dates and {wanted} rows (window={window}, or all the rows of a shorter series)"
        )
    scaler = node.get("scaler").built(Scaler.from_dict)
    if scaler.n_features_in_ != n_features:
        raise node.get("scaler").fail(f"parameters for {n_features} columns")
    split_node = node.get("split")
    split = Split(
        train_end=split_node.get("train_end").integer(1),
        val_end=split_node.get("val_end").integer(1),
        n_steps=split_node.get("n_steps").integer(1),
        train_last_date=split_node.get("train_last_date").date(),
        fit_last_date=split_node.get("fit_last_date").date(),
        n_train_windows=split_node.get("n_train_windows").integer(),
        n_val_windows=split_node.get("n_val_windows").integer(),
        n_test_windows=split_node.get("n_test_windows").integer(),
    )
    if not split.train_end <= split.val_end <= split.n_steps:
        raise split_node.fail("train_end <= val_end <= n_steps")
    stamps = [datetime.fromisoformat(d) for d in dates]
    try:
        ordered = all(a < b for a, b in itertools.pairwise(stamps))
    except TypeError:  # time zones on some timestamps only
        ordered = False
    if not ordered:
        raise lw.get("dates").fail(
            "timestamps in increasing order, all with or all without a time zone"
        )
    mase = node.get("mase")
    record_id = node.opt("id")
    transform = node.opt("transform")
    n_rows = node.get("n_rows")
    if n_rows.integer(1) != split.n_steps:
        raise n_rows.fail(f"split.n_steps ({split.n_steps})")
    last_date = node.get("last_date")
    if last_date.date() != dates[-1]:
        raise last_date.fail(f"the last timestamp of last_window ({dates[-1]})")
    built = (
        transform.built(TargetTransform.from_dict)
        if transform
        else TargetTransform.identity()
    )
    if built.kind is Transform.LOG and any(not row[0] > 0 for row in values):
        # A log model was fitted on a positive target: its window cannot hold 0 or less.
        raise lw.get("values").fail("positive targets (the transform is log)")
    raw_scaler = _raw_scaler(node.opt("raw_scaler"), built, config, n_features)
    return SeriesRecord(
        id=record_id.text() if record_id else None,
        n_rows=node.get("n_rows").integer(1),
        first_date=node.get("first_date").date(),
        last_date=node.get("last_date").date(),
        notes=node.get("notes").texts(),
        split=split,
        transform=built,
        scaler=scaler,
        raw_scaler=raw_scaler,
        mase=MaseScale(
            season=mase.get("season").integer(1),
            scale=mase.get("scale").number_or_none(),
            naive_scale=mase.get("naive_scale").number_or_none(),
        ),
        last_window=LastWindow(dates=dates, values=tuple(values)),
        local=local,
    )


def _history(node: Node) -> History:
    return History(
        loss=_losses(node.get("loss")),
        val_loss=_losses(node.get("val_loss")),
        best_epoch=node.get("best_epoch").integer(),
        epochs_run=node.get("epochs_run").integer(),
        stopped_early=node.get("stopped_early").flag(),
        seconds=node.get("seconds").number(),
        members=tuple(
            Member(
                seed=m.get("seed").integer(),
                file=m.get("file").text(empty=False),
                best_epoch=m.get("best_epoch").integer(),
                epochs_run=m.get("epochs_run").integer(),
                seconds=m.get("seconds").number(),
            )
            for m in node.get("members").items()
        ),
    )


def _losses(node: Node) -> tuple[float, ...]:
    """Read a loss curve; a diverged epoch is stored as null and read back as NaN."""
    return tuple(math.nan if n.value is None else n.number() for n in node.items())


def _provenance(node: Node) -> Provenance:
    source = node.get("source")
    adjusted = source.opt("adjusted")
    return Provenance(
        created=node.get("created").date(zone=True),
        seqcast_version=node.get("seqcast_version").text(),
        versions=tuple(
            (str(k), str(v)) for k, v in node.get("versions").mapping().items()
        ),
        hardware=node.get("hardware").text(),
        command=node.get("command").texts(),
        seed=node.get("seed").integer(),
        source=Source(
            kind=source.get("kind").text(empty=False),
            path=_opt_text(source, "path"),
            ticker=_opt_text(source, "ticker"),
            interval=_opt_text(source, "interval"),
            column=_opt_text(source, "column"),
            adjusted=adjusted.flag() if adjusted else None,
        ),
    )


def _opt_text(node: Node, key: str) -> str | None:
    child = node.opt(key)
    return child.text() if child else None
