"""Edited seqcast.json files and awkward dates that used to end in a traceback.

Each case starts from a real tiny model, edits its metadata (or feeds it data) the
way a copied-in directory or an unusual file could, and runs the command a user
would: every one must end with one ``error:`` line and its exit code, or work.
"""

from __future__ import annotations

import copy
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from seqcast import api
from seqcast.cli import app
from seqcast.config import RunConfig
from seqcast.data.pandas_compat import PANDAS_3
from seqcast.errors import ArtifactError, ExitCode
from seqcast.store.directory import load_artifact

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings(
        "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning"
    ),
]

WINDOW, HORIZON = 8, 2


def _config() -> RunConfig:
    return RunConfig().with_overrides(
        {
            "target": "y",
            "window": WINDOW,
            "horizon": HORIZON,
            "units": (4,),
            "epochs": 1,
            "batch_size": 16,
            "seed": 0,
        }
    )


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.conftest import make_sine_frame

    root = tmp_path_factory.mktemp("crafted")
    result = api.train(
        make_sine_frame(80)[["date", "y"]], out=root / "m", config=_config()
    )
    assert result.path is not None
    return result.path


def _edited(
    model: Path, tmp_path: Path, edit: Callable[[dict[str, Any]], None]
) -> Path:
    out = tmp_path / "edited"
    shutil.copytree(model, out)
    meta_path = out / "seqcast.json"
    meta = json.loads(meta_path.read_text())
    edit(meta)
    meta_path.write_text(json.dumps(meta))
    return out


def _fails(args: list[str], code: int, start: str) -> str:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"error: {start}"), lines[0]
    return lines[0]


def test_an_integer_of_thousands_of_digits_is_corrupt_metadata(
    model: Path, tmp_path: Path
) -> None:
    out = tmp_path / "m"
    shutil.copytree(model, out)
    meta = out / "seqcast.json"
    text = meta.read_text()
    assert '"n_rows": 80' in text
    meta.write_text(text.replace('"n_rows": 80', '"n_rows": ' + "1" * 5000, 1))
    _fails(
        ["info", str(out)], ExitCode.USER_ERROR, f"{meta} is unreadable or corrupted"
    )


def test_an_integer_of_thousands_of_digits_in_the_keras_config_is_unsafe(
    model: Path, tmp_path: Path
) -> None:
    from tests.test_untrusted import read_members, rerecord, write_model

    out = tmp_path / "m"
    shutil.copytree(model, out)
    members = read_members(out)
    config = members["config.json"].decode()
    assert '"units": 4' in config
    members["config.json"] = config.replace(
        '"units": 4', '"units": ' + "9" * 5000
    ).encode()
    write_model(out, members)
    rerecord(out)
    for engine in ("auto", "numpy", "keras"):
        line = _fails(
            ["forecast", str(out), "--engine", engine], ExitCode.USER_ERROR, "Model "
        )
        assert "config.json is not JSON (ValueError)" in line


@pytest.mark.parametrize(
    "name", ["a\x00b", "../../etc/passwd", "model-1.keras", "notes.txt"]
)
def test_files_the_model_does_not_use_are_refused_before_reading(
    model: Path, tmp_path: Path, name: str
) -> None:
    out = _edited(
        model,
        tmp_path,
        lambda d: d["files"].__setitem__(name, {"sha256": "x", "bytes": 1}),
    )
    with pytest.raises(
        ArtifactError, match="1 file\\(s\\) that are not this model's networks"
    ):
        load_artifact(out)
    _fails(
        ["info", str(out)], ExitCode.USER_ERROR, f"{out / 'seqcast.json'} lists 1 file"
    )


def test_a_per_series_file_name_that_is_not_seqcast_s_is_invalid(
    tmp_path: Path,
) -> None:
    from seqcast.store.directory import _verified_bytes

    with pytest.raises(ArtifactError, match="lists an invalid file entry 'a\\\\x00b'"):
        _verified_bytes(-1, tmp_path, "a\x00b", {}, None)  # type: ignore[arg-type]


def _set_horizon(meta: dict[str, Any]) -> None:
    meta["config"]["train"]["horizon"] = 1
    meta["intervals"] = None
    meta["metrics"]["test"] = None
    meta["metrics"]["test_coverage"] = None


def _set_window(meta: dict[str, Any]) -> None:
    meta["config"]["train"]["window"] = 5
    series = meta["series"][0]
    series["last_window"] = {k: v[-5:] for k, v in series["last_window"].items()}


@pytest.mark.parametrize(
    ("edit", "engine", "said"),
    [
        (
            _set_horizon,
            "auto",
            f"predicts {HORIZON} steps, but seqcast.json records window={WINDOW} with 1 columns and horizon=1",
        ),
        (
            _set_window,
            "keras",
            f"reads windows of shape ({WINDOW}, 1) and predicts {HORIZON} steps, but seqcast.json records window=5",
        ),
        (
            _set_window,
            "numpy",
            f"shape ({WINDOW}, 1) and predicts {HORIZON} steps, but seqcast.json records window=5",
        ),
    ],
)
def test_a_network_of_other_sizes_than_the_metadata_is_refused(
    model: Path,
    tmp_path: Path,
    edit: Callable[[dict[str, Any]], None],
    engine: str,
    said: str,
) -> None:
    from tests.conftest import make_sine_frame

    out = _edited(model, tmp_path, edit)
    csv = tmp_path / "s.csv"
    make_sine_frame(80)[["date", "y"]].to_csv(csv, index=False)
    for command in (
        ["forecast", str(out), "--engine", engine],
        ["evaluate", str(out), str(csv), "--engine", engine],
    ):
        line = _fails(
            command,
            ExitCode.USER_ERROR,
            f"{out / 'model.keras'} reads windows of shape",
        )
        assert said in line
        assert line.endswith(
            "they are not from the same model. Retrain with `seqcast train`."
        )


def test_a_time_zone_in_the_stored_dates_is_refused(
    model: Path, tmp_path: Path
) -> None:
    def zoned(meta: dict[str, Any]) -> None:
        window = meta["series"][0]["last_window"]
        window["dates"] = [d + "T00:00:00+05:00" for d in window["dates"]]
        meta["series"][0]["last_date"] = window["dates"][-1]

    out = _edited(model, tmp_path, zoned)
    line = _fails(["info", str(out)], ExitCode.USER_ERROR, f"{out / 'seqcast.json'}: ")
    assert "last_window.dates[0] must be an ISO timestamp without a time zone" in line
    load_artifact(model)  # its own creation time carries UTC and still loads


@pytest.mark.parametrize("copies", [2, 3])
def test_a_model_without_an_id_column_holds_exactly_one_series(
    model: Path, tmp_path: Path, copies: int
) -> None:
    def repeat(meta: dict[str, Any]) -> None:
        meta["series"] = [copy.deepcopy(meta["series"][0]) for _ in range(copies)]

    out = _edited(model, tmp_path, repeat)
    line = _fails(
        ["forecast", str(out)], ExitCode.USER_ERROR, f"{out / 'seqcast.json'}: "
    )
    assert "series must be one series (the model has no id column)" in line


def test_series_ids_must_be_distinct(tmp_path: Path) -> None:
    from tests.conftest import make_sine_frame

    frames = [make_sine_frame(60, seed=k).assign(id=f"s{k}") for k in range(2)]
    result = api.train(
        pd.concat(frames)[["id", "date", "y"]],
        out=tmp_path / "g",
        config=_config().with_overrides({"id_col": "id"}),
    )
    assert result.path is not None
    load_artifact(result.path)

    def same_ids(meta: dict[str, Any]) -> None:
        meta["series"][1]["id"] = meta["series"][0]["id"]

    out = _edited(result.path, tmp_path, same_ids)
    with pytest.raises(
        ArtifactError, match="series must be series of distinct ids \\('s0' repeats\\)"
    ):
        load_artifact(out)


@pytest.mark.skipif(not PANDAS_3, reason="pandas 2 holds no date past 2262")
def test_a_forecast_past_9999_is_an_error_not_a_traceback(
    model: Path, tmp_path: Path
) -> None:
    from tests.conftest import make_sine_frame

    late = make_sine_frame(80, start="9999-09-01")[["date", "y"]]
    assert late["date"].iloc[-1] == pd.Timestamp("9999-11-19")
    csv = tmp_path / "late.csv"
    late.to_csv(csv, index=False)
    trained = api.train(csv, out=tmp_path / "late", config=_config())
    assert trained.path is not None
    ok = CliRunner().invoke(app, ["forecast", str(trained.path), "--steps", "2"])
    assert ok.exit_code == 0, ok.output
    assert ok.stdout.splitlines()[-1].startswith("9999-11-21,")
    # 9999-12-31 is 42 days after the last date: 43 steps reach past it.
    _fails(
        ["forecast", str(trained.path), "--steps", "43"],
        ExitCode.USER_ERROR,
        "A date past 9999-12-31 (or before year 1) came up, which seqcast cannot write.",
    )


@pytest.mark.parametrize("freq", ["100000000D", "99999999999999MS"])
def test_a_frequency_that_would_overflow_the_dates_is_an_error(
    model: Path, tmp_path: Path, freq: str
) -> None:
    def stretch(meta: dict[str, Any]) -> None:
        meta["columns"]["freq"] = meta["config"]["data"]["freq"] = freq

    out = _edited(model, tmp_path, stretch)
    _fails(
        ["forecast", str(out)],
        ExitCode.USER_ERROR,
        f"{HORIZON} steps at freq={freq} after ",
    )


def test_sub_second_data_keeps_distinct_dates_through_the_model(
    tmp_path: Path,
) -> None:
    from tests.conftest import make_sine_frame

    frame = make_sine_frame(80, freq="100ms")[["date", "y"]]
    csv = tmp_path / "ms.csv"
    frame.to_csv(csv, index=False, date_format="%Y-%m-%dT%H:%M:%S.%f")
    trained = api.train(csv, out=tmp_path / "ms", config=_config())
    assert trained.path is not None
    stored = load_artifact(trained.path).meta.series[0].last_window.dates
    assert stored[-1] == "2020-01-01T00:00:07.900000"
    assert len(set(stored)) == WINDOW
    result = CliRunner().invoke(app, ["forecast", str(trained.path), "--steps", "2"])
    assert result.exit_code == 0, result.output
    dates = [row.split(",")[0] for row in result.stdout.splitlines()[1:]]
    assert dates == ["2020-01-01T00:00:08.000000", "2020-01-01T00:00:08.100000"]


@pytest.mark.parametrize("level", ["1.0", "0", "1.5"])
def test_a_level_outside_zero_to_one_is_a_usage_error(model: Path, level: str) -> None:
    result = CliRunner().invoke(app, ["forecast", str(model), "--level", level])
    assert result.exit_code == ExitCode.USAGE
    assert "is not strictly between 0 and 1" in result.output


@pytest.mark.parametrize(
    ("features", "said"),
    [
        ([[]], "config.data.features must be a list of text, got [[]]"),
        ([1], "config.data.features must be a list of text, got [1]"),
        (["x"], "columns.features must be ['x'], as config.data.features, got []"),
    ],
)
def test_stored_features_must_be_text_and_match_the_columns(
    model: Path, tmp_path: Path, features: list[Any], said: str
) -> None:
    out = _edited(
        model, tmp_path, lambda d: d["config"]["data"].__setitem__("features", features)
    )
    line = _fails(["info", str(out)], ExitCode.USER_ERROR, f"{out / 'seqcast.json'}")
    assert said in line


def test_a_network_of_another_input_width_is_refused_by_both_engines(
    model: Path, tmp_path: Path
) -> None:
    from tests.conftest import make_sine_frame
    from tests.test_untrusted import rerecord

    wider = api.train(
        make_sine_frame(80)[["date", "y", "temp"]],
        out=tmp_path / "wider",
        config=_config().with_overrides({"features": ("temp",)}),
    )
    assert wider.path is not None
    out = tmp_path / "swapped"
    shutil.copytree(model, out)
    shutil.copyfile(wider.path / "model.keras", out / "model.keras")
    rerecord(out)
    for engine in ("numpy", "keras"):
        line = _fails(
            ["forecast", str(out), "--engine", engine],
            ExitCode.USER_ERROR,
            f"{out / 'model.keras'} reads windows of shape ({WINDOW}, 2)",
        )
        assert f"records window={WINDOW} with 1 columns" in line


@pytest.mark.parametrize("level", ["0.999999", "0.000001"])
def test_levels_just_inside_zero_to_one_are_accepted_by_the_option(
    model: Path, level: str
) -> None:
    result = CliRunner().invoke(app, ["forecast", str(model), "--level", level])
    assert "is not strictly between 0 and 1" not in result.output
    assert result.exit_code != ExitCode.USAGE
