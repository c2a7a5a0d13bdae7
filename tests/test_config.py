from __future__ import annotations

from pathlib import Path

import pytest

from seqcast.config import (
    Cell,
    ModelConfig,
    ModelKind,
    RunConfig,
    ScalerKind,
    TrainConfig,
    load_config_file,
)
from seqcast.errors import ConfigError


def test_flat_and_nested_dicts_build_the_same_config() -> None:
    flat = RunConfig.from_dict(
        {"window": 12, "model": "gru", "units": [8, 4], "target": "y"}
    )
    nested = RunConfig.from_dict(
        {
            "train": {"window": 12},
            "model": {"model": "gru", "units": [8, 4]},
            "data": {"target": "y"},
        }
    )
    assert flat == nested
    assert flat.train.window == 12
    assert flat.model.model is ModelKind.GRU
    assert flat.model.units == (8, 4)


def test_to_dict_round_trips() -> None:
    config = RunConfig().with_overrides(
        {
            "window": 30,
            "scaler": ScalerKind.ROBUST,
            "features": ("a", "b"),
            "bidirectional": True,
        }
    )
    assert RunConfig.from_dict(config.to_dict()) == config
    assert config.to_dict()["train"]["scaler"] == "robust"


def test_overrides_skip_none_and_reject_unknown_names() -> None:
    config = RunConfig().with_overrides({"window": None, "epochs": 3})
    assert config.train.window == TrainConfig().window
    assert config.train.epochs == 3
    with pytest.raises(ConfigError, match="Unknown option 'windw'"):
        RunConfig().with_overrides({"windw": 3})


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"window": 0}, "window=0 must be at least 1. Use --window 1 or more."),
        ({"horizon": -2}, "horizon=-2 must be at least 1. Use --horizon 1 or more."),
        ({"epochs": 0}, "epochs=0 must be at least 1. Use --epochs 1 or more."),
        (
            {"batch_size": 0},
            "batch_size=0 must be at least 1. Use --batch-size 1 or more.",
        ),
        (
            {"window": 10**9},
            "window=1000000000 is larger than seqcast supports (100000). Use a shorter window.",
        ),
        ({"lr": 0.0}, "lr=0.0 must be above 0. Use a learning rate such as 0.001."),
        (
            {"test_fraction": 0.7},
            "test_fraction=0.7 must be at least 0 and below 0.5. Use a share such as 0.15.",
        ),
    ],
)
def test_train_config_rejects_bad_values(
    kwargs: dict[str, float], message: str
) -> None:
    with pytest.raises(ConfigError) as info:
        TrainConfig(**kwargs)  # type: ignore[arg-type]
    assert str(info.value) == message


def test_model_config_resolves_defaults() -> None:
    assert ModelConfig(model=ModelKind.STACKED).resolved_units == (128, 64, 32)
    assert ModelConfig(model=ModelKind.STACKED).resolved_cell is Cell.LSTM
    assert ModelConfig(model=ModelKind.STACKED, cell=Cell.GRU).resolved_cell is Cell.GRU
    assert ModelConfig(model=ModelKind.GRU, layers=3, units=(16,)).resolved_units == (
        16,
        16,
        16,
    )
    assert ModelConfig(model=ModelKind.LSTM).resolved_units == (64,)


def test_model_config_rejects_contradictions() -> None:
    with pytest.raises(
        ConfigError, match=r"layers=2 contradicts units=8,4,2 \(3 layers\)"
    ):
        ModelConfig(units=(8, 4, 2), layers=2)
    with pytest.raises(ConfigError, match="--cell gru only applies to --model stacked"):
        ModelConfig(model=ModelKind.LSTM, cell=Cell.GRU)
    with pytest.raises(
        ConfigError, match=r"dropout=1\.5 must be at least 0 and below 1"
    ):
        ModelConfig(dropout=1.5)


def test_enum_values_are_checked_with_choices() -> None:
    with pytest.raises(ConfigError) as info:
        RunConfig.from_dict({"scaler": "zscore"})
    assert (
        str(info.value)
        == "scaler='zscore' is not one of: minmax, standard, robust, none. Pick one of those."
    )


def test_wrong_types_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="window='ten' must be a whole number"):
        RunConfig.from_dict({"window": "ten"})
    with pytest.raises(ConfigError, match="bidirectional=1 must be true or false"):
        RunConfig.from_dict({"bidirectional": 1})


def test_toml_file_loads_flat_and_sectioned_keys(tmp_path: Path) -> None:
    path = tmp_path / "opts.toml"
    path.write_text(
        'window = 36\n[model]\nmodel = "stacked"\nunits = [16, 8]\n', encoding="utf-8"
    )
    config = RunConfig.from_dict(load_config_file(path))
    assert config.train.window == 36
    assert config.model.resolved_units == (16, 8)


def test_toml_errors_name_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("window = = 3\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=f"Config file {bad} is not valid TOML"):
        load_config_file(bad)
    with pytest.raises(ConfigError, match=r"Cannot read config file .*missing\.toml"):
        load_config_file(tmp_path / "missing.toml")
    unknown = tmp_path / "unknown.toml"
    unknown.write_text("[model]\nwindow = 3\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"Unknown option 'window' in \[model\]"):
        load_config_file(unknown)


def test_the_architecture_key_before_schema_2_still_reads() -> None:
    # Model directories of schema 1 stored the architecture as "kind".
    legacy = RunConfig.from_dict({"model": {"kind": "gru"}})
    assert legacy.model.model is ModelKind.GRU
    assert RunConfig.from_dict({"kind": "rnn"}).model.model is ModelKind.RNN


def test_flags_toml_keys_and_keywords_are_one_vocabulary() -> None:
    from typer.testing import CliRunner

    from seqcast.cli import app
    from seqcast.config import config_fields

    help_text = CliRunner().invoke(app, ["train", "--help"], terminal_width=200).stdout
    for f in config_fields():
        flag = "--" + f.name.replace("_", "-")
        assert flag in help_text, flag
        RunConfig().with_overrides({f.name: None})  # every keyword is accepted
    assert RunConfig.from_dict({"model": "gru"}).model.model is ModelKind.GRU


def test_a_chosen_value_equal_to_the_default_still_beats_pooled_defaults() -> None:
    pooled = {"lr": 0.003, "refit": True, "batch_size": 128}
    chosen = RunConfig().with_overrides({"lr": 0.001, "refit": False})
    applied = chosen.with_defaults(pooled)
    # lr 0.001 and refit false are the one-series defaults, but they were asked for.
    assert applied.train.lr == 0.001
    assert applied.train.refit is False
    assert applied.train.batch_size == 128  # nobody chose it
    assert RunConfig().with_defaults(pooled).train.lr == 0.003
    # A config file's keys count as chosen too, and a value off the default always does.
    from_file = RunConfig.from_dict({"train": {"lr": 0.001}})
    assert from_file.with_defaults(pooled).train.lr == 0.001
    off_default = RunConfig(train=TrainConfig(batch_size=64))
    assert off_default.with_defaults(pooled).train.batch_size == 64
