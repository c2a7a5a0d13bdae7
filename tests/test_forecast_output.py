"""`forecast` output through the CLI: plain years stay years, one precision for numbers."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from seqcast.cli import app
from seqcast.errors import ExitCode

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings(
        "ignore:.*__array__ implementation doesn't accept a copy keyword:DeprecationWarning"
    ),
]


def _train(csv_path: Path, out: Path, *extra: str) -> None:
    args = [
        *("train", str(csv_path), "--window", "6", "--horizon", "2"),
        *("--units", "2", "--epochs", "1", "--seed", "0", "-q", "--out", str(out)),
        *extra,
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output


@pytest.fixture(scope="module")
def yearly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model trained on plain integer years 1700..1779."""
    root = tmp_path_factory.mktemp("yearly")
    data = root / "sunspots.csv"
    values = [(i * 37) % 101 + 0.5 for i in range(80)]
    data.write_text(
        "year,sunspots\n" + "".join(f"{1700 + i},{v}\n" for i, v in enumerate(values)),
        encoding="utf-8",
    )
    _train(data, root / "m")
    return root / "m"


def _forecast(model: Path, *args: str) -> str:
    result = CliRunner().invoke(app, ["forecast", str(model), *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_plain_years_forecast_plain_years_in_csv_json_and_table(yearly: Path) -> None:
    rows = list(csv.reader(io.StringIO(_forecast(yearly, "--format", "csv"))))
    assert [r[0] for r in rows] == ["date", "1780", "1781"]
    doc = json.loads(_forecast(yearly, "--format", "json", "--steps", "3"))
    assert [r["date"] for r in doc] == ["1780", "1781", "1782"]
    table = _forecast(yearly, "--format", "table").splitlines()
    assert [line.split()[0] for line in table[2:]] == ["1780", "1781"]


def test_forecast_numbers_share_one_precision(yearly: Path) -> None:
    text = _forecast(yearly, "--format", "csv", "--level", "0.8")
    cells = [c for row in list(csv.reader(io.StringIO(text)))[1:] for c in row[1:]]
    assert len(cells) == 6
    assert len({len(c.partition(".")[2]) for c in cells}) == 1, cells
    text = _forecast(yearly, "--format", "csv", "--level", "0.8", "--precision", "1")
    cells = [c for row in list(csv.reader(io.StringIO(text)))[1:] for c in row[1:]]
    assert {len(c.partition(".")[2]) for c in cells} == {1}, cells


def test_info_shows_the_training_years_as_years(yearly: Path) -> None:
    result = CliRunner().invoke(app, ["info", str(yearly)])
    assert result.exit_code == 0, result.output
    assert " 1700 to 1779" in result.stdout
    assert "1700-01-01" not in result.stdout


def test_precision_is_a_forecast_option_of_zero_or_more(yearly: Path) -> None:
    result = CliRunner().invoke(app, ["forecast", "--help"])
    assert result.exit_code == 0
    assert "--precision" in result.stdout
    result = CliRunner().invoke(app, ["forecast", str(yearly), "--precision", "-1"])
    assert result.exit_code == ExitCode.USAGE
    assert "No such option" not in result.stderr
    assert "--precision" in result.stderr
