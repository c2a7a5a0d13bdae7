"""Plain dicts to configuration sections and back: key placement and value coercion.

Used by :class:`seqcast.config.run.RunConfig` for ``seqcast.json``, ``--config`` TOML
files and flat overrides: a key finds its section by name (``window`` is in ``train``),
and a JSON/TOML value is converted to the field's type, judged from its default.
"""

from __future__ import annotations

import dataclasses
from dataclasses import fields
from enum import StrEnum
from typing import Any, TypeVar

from seqcast.choices import (
    Cell,
    Combine,
    Deseasonalize,
    DuplicatePolicy,
    FillPolicy,
    Loss,
    ModelKind,
    ScalerKind,
    Transform,
    WindowNorm,
)
from seqcast.config.sections import DataConfig, ModelConfig, TrainConfig
from seqcast.errors import ConfigError

__all__ = [
    "FIELD_SECTION",
    "SECTIONS",
    "plain",
    "section_from_dict",
    "section_to_dict",
    "split_sections",
]

SECTIONS = ("data", "model", "train")
_SECTION_TYPES: dict[str, type[Any]] = {
    "data": DataConfig,
    "model": ModelConfig,
    "train": TrainConfig,
}
FIELD_SECTION: dict[str, str] = {
    f.name: name for name, cls in _SECTION_TYPES.items() for f in fields(cls)
}

_S = TypeVar("_S")


def plain(value: Any) -> Any:
    """Return ``value`` as JSON has it: enums as their value, tuples as lists."""
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, tuple | list):
        return [plain(v) for v in value]
    return value


def section_to_dict(section: Any) -> dict[str, Any]:
    """Return one section's fields as a plain dict."""
    return {f.name: plain(getattr(section, f.name)) for f in fields(section)}


def split_sections(raw: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Sort nested (``{"train": {"window": 24}}``) or flat keys into their sections.

    Raises:
        ConfigError: On an unknown key, or a key in a table not its own.
    """
    by_section: dict[str, dict[str, Any]] = {name: {} for name in SECTIONS}
    for key, value in raw.items():
        if key in SECTIONS and isinstance(value, dict):
            for sub_key, sub_value in value.items():
                _place(by_section, sub_key, sub_value, expected=key)
        else:
            _place(by_section, key, value, expected=None)
    return by_section


def _place(
    by_section: dict[str, dict[str, Any]], key: str, value: Any, expected: str | None
) -> None:
    if key == "kind":  # the architecture's name before schema 2 (``--model``'s field)
        key = "model"
    section = FIELD_SECTION.get(key)
    if section is None or (expected is not None and section != expected):
        where = f" in [{expected}]" if expected else ""
        raise ConfigError(
            f"Unknown option '{key}'{where}. Known options: {', '.join(sorted(FIELD_SECTION))}."
        )
    by_section[section][key] = value


def section_from_dict(cls: type[_S], values: dict[str, Any]) -> _S:
    """Build a section from its plain values, each coerced to the field's type.

    Raises:
        ConfigError: On a value of the wrong type or failing the section's checks.
    """
    kwargs: dict[str, Any] = {}
    hints = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    for key, value in values.items():
        kwargs[key] = _coerce(key, value, hints[key].default)
    try:
        return cls(**kwargs)
    except TypeError as exc:  # pragma: no cover - guarded by _coerce
        raise ConfigError(f"Invalid options: {exc}.") from None


def _coerce(key: str, value: Any, default: Any) -> Any:
    """Convert a JSON/TOML value to the field's type, judged from its default."""
    enum_types: dict[str, type[StrEnum]] = {
        "model": ModelKind,
        "cell": Cell,
        "loss": Loss,
        "scaler": ScalerKind,
        "fill": FillPolicy,
        "duplicates": DuplicatePolicy,
        "window_norm": WindowNorm,
        "transform": Transform,
        "deseasonalize": Deseasonalize,
        "combine": Combine,
    }
    if value is None:
        return None
    if key in enum_types:
        enum = enum_types[key]
        try:
            return enum(value)
        except ValueError:
            choices = ", ".join(m.value for m in enum)
            raise ConfigError(
                f"{key}={value!r} is not one of: {choices}. Pick one of those."
            ) from None
    if key in ("features", "future_features", "calendar", "static_features", "units"):
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, list | tuple):
            raise ConfigError(
                f"{key}={value!r} must be a list. Use a comma-separated list such as a,b."
            )
        if key == "units":
            try:
                return tuple(int(v) for v in value)
            except (TypeError, ValueError):
                raise ConfigError(
                    f"units={value!r} must be whole numbers. Use sizes such as 128,64,32."
                ) from None
        return tuple(str(v) for v in value)
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ConfigError(f"{key}={value!r} must be true or false.")
        return value
    if isinstance(default, int) or key in ("layers", "window", "horizon"):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{key}={value!r} must be a whole number.")
        return value
    if isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{key}={value!r} must be a number.")
        return float(value)
    if not isinstance(value, str):
        raise ConfigError(f"{key}={value!r} must be text.")
    return value
