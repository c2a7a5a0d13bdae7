"""Reading the configuration stored in ``seqcast.json``: every field typed, none defaulted.

A stored configuration must rebuild the run exactly: every field has its declared type
(an enum member, a whole number, a list of text...), the fields that shape a forecast
are present rather than defaulted, and window and horizon are resolved (a model of
local models resolves only the horizon: each series keeps its own window). Options
added since a model was written get the value that model was trained with.
"""

from __future__ import annotations

import enum
import math
import types
import typing
from typing import Any

from seqcast.config import RunConfig
from seqcast.errors import ArtifactError, ConfigError
from seqcast.store.node import Node
from seqcast.store.schema import RETRAIN

_FIX = RETRAIN


def read_config(node: Node) -> RunConfig:
    """Build the stored configuration at ``node`` and check every field's type.

    Raises:
        ArtifactError: Naming the field, or what the configuration's own checks said.
    """
    try:
        config = RunConfig.from_dict(_with_old_defaults(node.mapping()))
        if not config.data.per_series:
            config.train.sizes  # noqa: B018 - a stored configuration is always resolved
    except ConfigError as exc:
        raise ArtifactError(f"{node.where}: config is invalid: {exc} {_FIX}") from None
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as exc:
        detail = f"{type(exc).__name__}: {str(exc)[:80]}"
        raise ArtifactError(
            f"{node.where}: config is invalid ({detail}). {_FIX}"
        ) from None
    _check_config(node, config)
    return config


_REQUIRED_CONFIG = {
    "data": ("target", "features", "freq"),
    "model": ("model",),  # "kind" in schema 1
    "train": ("window", "horizon", "scaler", "window_norm", "ensemble"),
}
"""Fields that change what a forecast computes: a default in their place would be wrong."""


def _with_old_defaults(raw: Any) -> dict[str, Any]:
    """The stored config, with the values of options added since it was written.

    A model saved before ``skip`` existed has no skip connection, whatever today's
    default says.
    """
    out = dict(raw)
    model = out.get("model")
    if isinstance(model, dict) and "skip" not in model:
        out["model"] = {**model, "skip": False}
    return out


def _check_config(node: Node, config: RunConfig) -> None:
    """Refuse a config that ``RunConfig.from_dict`` accepted but that cannot be right.

    Every field must have its declared type (an enum member, a whole number, a tuple of
    text...), and the fields that shape a forecast must be present, not defaulted.

    Raises:
        ArtifactError: Naming the field.
    """
    for section, names in _REQUIRED_CONFIG.items():
        part = node.get(section)
        for name in names:
            if name == "model" and "kind" in part.mapping():
                continue  # schema 1 spelled the architecture "kind"
            part.get(name)
    for section in ("data", "model", "train"):
        record = getattr(config, section)
        hints = typing.get_type_hints(type(record))
        raw = node.get(section).mapping()
        for name, hint in hints.items():
            if _is_texts(hint) and name in raw and not _all_text(raw[name]):
                shown = repr(raw[name])[:60]
                raise ArtifactError(
                    f"{node.where}: config.{section}.{name} must be a list of text, got {shown}. {_FIX}"
                )
            value = getattr(record, name)
            if not _has_type(value, hint):
                shown = repr(value)
                shown = shown if len(shown) <= 60 else shown[:57] + "..."
                raise ArtifactError(
                    f"{node.where}: config.{section}.{name} must be {_type_name(hint)}, got {shown}. {_FIX}"
                )


def _is_texts(hint: Any) -> bool:
    """Whether ``hint`` is ``tuple[str, ...]`` (column names, calendar parts...)."""
    return typing.get_origin(hint) is tuple and typing.get_args(hint)[:1] == (str,)


def _all_text(raw: Any) -> bool:
    """Whether a stored value is a list of strings (``RunConfig`` would str() others)."""
    return isinstance(raw, list | tuple) and all(isinstance(v, str) for v in raw)


def _has_type(value: Any, hint: Any) -> bool:
    origin = typing.get_origin(hint)
    if origin in (types.UnionType, typing.Union):
        return any(_has_type(value, arg) for arg in typing.get_args(hint))
    if origin is tuple:
        (item, *_) = typing.get_args(hint)
        return isinstance(value, tuple) and all(_has_type(v, item) for v in value)
    if hint is type(None):
        return value is None
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return (
            isinstance(value, int | float)
            and not isinstance(value, bool)
            and math.isfinite(value)
        )
    if isinstance(hint, type):
        return isinstance(value, hint)
    return True  # a form this check does not know: trust from_dict


def _type_name(hint: Any) -> str:
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return "one of " + ", ".join(str(m.value) for m in hint)
    names = {
        int: "a whole number",
        float: "a finite number",
        bool: "true or false",
        str: "text",
    }
    if typing.get_origin(hint) in (types.UnionType, typing.Union):
        return " or ".join(
            "null" if a is type(None) else _type_name(a) for a in typing.get_args(hint)
        )
    if typing.get_origin(hint) is tuple:
        return f"a list of {_type_name(typing.get_args(hint)[0])}"
    return names.get(hint, str(hint))
