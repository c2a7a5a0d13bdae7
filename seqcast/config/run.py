"""``RunConfig``, the whole configuration of a training run, and reading it from TOML.

A configuration is validated once, when it is built, and saved inside the artifact, so that
the artifact alone is enough to reproduce a run.
"""

from __future__ import annotations

import dataclasses
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
    """Everything that defines a training run; saved in the artifact's ``seqcast.json``.

    ``given`` names the fields a caller, flag or config file set (whatever the value),
    so that :meth:`with_defaults` never overrides them; it is not saved.
    """

    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    given: frozenset[str] = field(default=frozenset(), compare=False, repr=False)

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
            given=frozenset(key for part in sections.values() for key in part),
        )

    def with_overrides(self, overrides: dict[str, Any]) -> RunConfig:
        """Return a copy with flat ``{field: value}`` overrides applied (None = keep)."""
        merged = self.to_dict()
        given = set(self.given)
        for key, value in overrides.items():
            if value is None:
                continue
            section = FIELD_SECTION.get(key)
            if section is None:
                raise ConfigError(
                    f"Unknown option '{key}'. Known options: {', '.join(sorted(FIELD_SECTION))}."
                )
            merged[section][key] = plain(value)
            given.add(key)
        return dataclasses.replace(RunConfig.from_dict(merged), given=frozenset(given))

    def with_defaults(self, defaults: dict[str, Any]) -> RunConfig:
        """Return a copy with flat ``defaults`` applied to the fields nobody chose.

        A field counts as chosen when it is in ``given`` (``--lr 0.001`` is a choice even
        though it is the one-series default) or differs from its default. A data
        source's own suggestions (a ticker's frequency and fill policy) and the defaults
        of a model over many series use this, so that a value from a config file or the
        caller always wins over them. The defaults applied do not join ``given``.
        """
        pristine = RunConfig().to_dict()
        current = self.to_dict()
        keep = {
            key: value
            for key, value in defaults.items()
            if key not in self.given
            and current[FIELD_SECTION[key]][key] == pristine[FIELD_SECTION[key]][key]
        }
        return dataclasses.replace(self.with_overrides(keep), given=self.given)


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
