"""`forecast --output` never replaces the input CSV or a file of the model directory."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from seqcast.cli import app
from seqcast.errors import ExitCode


@pytest.fixture
def model_dir(tmp_path: Path) -> Path:
    model = tmp_path / "model"
    model.mkdir()
    (model / "model.keras").write_bytes(b"weights")
    (model / "seqcast.json").write_text("{}")
    return model


def _forecast(model: Path, csv: Path, output: Path) -> object:
    args = ["forecast", str(model), str(csv), "--output", str(output)]
    return CliRunner().invoke(app, args)


def _link(kind: str, target: Path, at: Path) -> Path:
    if kind == "symlink":
        at.symlink_to(target)
    elif kind == "hardlink":
        os.link(target, at)
    else:
        return target
    return at


@pytest.mark.parametrize("kind", ["same", "symlink", "hardlink"])
def test_output_that_is_the_input_csv_is_refused(
    kind: str, sample_csv: Path, model_dir: Path, tmp_path: Path
) -> None:
    before = sample_csv.read_bytes()
    output = _link(kind, sample_csv, tmp_path / "out.csv")
    result = _forecast(model_dir, sample_csv, output)
    assert result.exit_code == ExitCode.USER_ERROR  # type: ignore[attr-defined]
    assert result.stderr == (  # type: ignore[attr-defined]
        f"error: --output {output} is the input CSV {sample_csv}: the forecast would replace the data. Choose another --output.\n"
    )
    assert sample_csv.read_bytes() == before


@pytest.mark.parametrize(
    ("kind", "name"),
    [
        ("same", "seqcast.json"),
        ("same", "new.csv"),
        ("symlink", "model.keras"),
        ("hardlink", "model.keras"),
    ],
)
def test_output_inside_the_model_directory_is_refused(
    kind: str, name: str, sample_csv: Path, model_dir: Path, tmp_path: Path
) -> None:
    inside = model_dir / name
    output = inside if kind == "same" else _link(kind, inside, tmp_path / "o.csv")
    result = _forecast(model_dir, sample_csv, output)
    assert result.exit_code == ExitCode.USER_ERROR  # type: ignore[attr-defined]
    assert result.stderr == (  # type: ignore[attr-defined]
        f"error: --output {output} is inside the model directory {model_dir}: writing it would damage the model. Choose a path outside {model_dir}.\n"
    )
    assert (model_dir / "model.keras").read_bytes() == b"weights"
    assert not (model_dir / "new.csv").exists()


def test_plot_inside_the_model_directory_is_refused(
    sample_csv: Path, model_dir: Path, tmp_path: Path
) -> None:
    plot = model_dir / "seqcast.json"
    args = ["forecast", str(model_dir), str(sample_csv), "--plot", str(plot)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == ExitCode.USER_ERROR
    assert "--plot" in result.stderr
    assert "inside the model directory" in result.stderr
    assert plot.read_text() == "{}"
