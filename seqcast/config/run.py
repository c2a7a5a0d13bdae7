"""``RunConfig``, the whole configuration of a training run, and reading it from TOML.

A configuration is validated once, when it is built, and saved inside the artifact, so that
the artifact alone is enough to reproduce a run.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from seqcast.config.parse import (
    FIELD_SECTION,
    SECTIONS,
    plain,
    section_from_dict,
    section_to_dict,
    split_sections,
)
from seqcast.config.sections import DataConfig, ModelConfig, TrainConfig
from seqcast.errors import ConfigError

__all__ = ["RunConfig", "load_config_file"]


@dataclass(frozen=True, slots=True)
class RunConfig:
    """Everything that defines a training run; saved in the artifact's ``seqcast.json``."""

    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def to_dict(self) -> dict[str, dict[str, Any]]:
        """Return plain JSON-ready dicts, one per section."""
        return {name: section_to_dict(getattr(self, name)) for name in SECTIONS}

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> RunConfig:
        """Build from nested (``{"train": {"window": 24}}``) or flat (``{"window": 24}``) keys.

        Raises:
            ConfigError: On an unknown key or a value of the wrong type.
        """
        sections = split_sections(raw)
        return cls(
            data=section_from_dict(DataConfig, sections["data"]),
            model=section_from_dict(ModelConfig, sections["model"]),
            train=section_from_dict(TrainConfig, sections["train"]),
        )

    def with_overrides(self, overrides: dict[str, Any]) -> RunConfig:
        """Return a copy with flat ``{field: value}`` overrides applied (None = keep)."""
        merged = self.to_dict()
        for key, value in overrides.items():
            if value is None:
                continue
            section = FIELD_SECTION.get(key)
            if section is None:
                raise ConfigError(
                    f"Unknown option '{key}'. Known options: {', '.join(sorted(FIELD_SECTION))}."
                )
            merged[section][key] = plain(value)
        return RunConfig.from_dict(merged)

    def with_defaults(self, defaults: dict[str, Any]) -> RunConfig:
        """Return a copy with flat ``defaults`` applied only to fields still at their default.

        A data source's own suggestions (a ticker's frequency and fill policy) use this,
        so that a value from a config file or the caller always wins over them.
        """
        pristine = RunConfig().to_dict()
        current = self.to_dict()
        keep = {
            key: value
            for key, value in defaults.items()
            if current[FIELD_SECTION[key]][key] == pristine[FIELD_SECTION[key]][key]
        }
        return self.with_overrides(keep)


def load_config_file(path: Path) -> dict[str, Any]:
    """Read a TOML options file: flat keys, or ``[data]``/``[model]``/``[train]`` tables.

    Raises:
        ConfigError: If the file is missing, unreadable or not valid TOML.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            f"Cannot read config file {path}: {exc.strerror}. Check the path given to --config."
        ) from None
    try:
        parsed = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"Config file {path} is not valid TOML: {exc}. Fix the file or drop --config."
        ) from None
    RunConfig.from_dict(parsed)  # validate names and types early, with the file named
    return parsed
