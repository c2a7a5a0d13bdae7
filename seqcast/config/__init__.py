"""Typed run configuration: closed choices, defaults, validation, and (de)serialisation.

A configuration is validated once, when it is built, and saved inside the artifact, so that
the artifact alone is enough to reproduce a run. Field names are the CLI flag names and
the JSON/TOML keys (``--window`` = ``window``).

This package's modules, each importable on its own, with their names gathered here:

- :mod:`seqcast.config.metadata`: ``option()``, a field declared with its flag's help,
  bounds and shown default;
- :mod:`seqcast.config.sections`: ``DataConfig``, ``ModelConfig``, ``TrainConfig`` and
  the limits they enforce;
- :mod:`seqcast.config.parse`: plain dicts to sections and back (key placement, value
  coercion);
- :mod:`seqcast.config.run`: ``RunConfig`` and ``load_config_file`` (TOML).

The closed sets of choices live in :mod:`seqcast.choices` and are re-exported here.
"""

from __future__ import annotations

from seqcast.choices import (
    Cell,
    Combine,
    DateFormat,
    Deseasonalize,
    DuplicatePolicy,
    Engine,
    FillPolicy,
    Loss,
    ModelKind,
    OutputFormat,
    ScalerKind,
    Transform,
    WindowNorm,
)
from seqcast.config.metadata import option
from seqcast.config.run import RunConfig, load_config_file
from seqcast.config.sections import (
    DEFAULT_SINGLE_UNITS,
    DEFAULT_STACKED_UNITS,
    MAX_ENSEMBLE,
    MAX_LAYERS,
    MAX_UNITS,
    DataConfig,
    ModelConfig,
    TrainConfig,
    config_fields,
)

__all__ = [
    "DEFAULT_SINGLE_UNITS",
    "DEFAULT_STACKED_UNITS",
    "MAX_ENSEMBLE",
    "MAX_LAYERS",
    "MAX_UNITS",
    "Cell",
    "Combine",
    "DataConfig",
    "DateFormat",
    "Deseasonalize",
    "DuplicatePolicy",
    "Engine",
    "FillPolicy",
    "Loss",
    "ModelConfig",
    "ModelKind",
    "OutputFormat",
    "RunConfig",
    "ScalerKind",
    "TrainConfig",
    "Transform",
    "WindowNorm",
    "config_fields",
    "load_config_file",
    "option",
]
