"""Forecast rows as text: one precision for every number, dates as the input wrote them."""

from __future__ import annotations

import csv
import io
import json
import math
from typing import Any

import pytest

from seqcast.cli.render import auto_decimals, fixed, forecast_records
from seqcast.config import DateFormat, OutputFormat

# Float32 model outputs, as the ragged CSV of issue 13 showed them.
ROWS: list[dict[str, Any]] = [
    {
        "date": "2009-01-01",
        "y": 407.9921569824219,
        "lower_80": 380.5,
        "upper_80": 435.0,
    },
    {"date": "2010-01-01", "y": 409.0694851, "lower_80": 381.25, "upper_80": 436.0},
]


def _csv_numbers(text: str) -> list[str]:
    return [cell for row in list(csv.reader(io.StringIO(text)))[1:] for cell in row[1:]]


def test_default_csv_gives_every_number_the_same_decimals() -> None:
    text = forecast_records(ROWS, OutputFormat.CSV)
    assert text == (
        "date,y,lower_80,upper_80\n"
        "2009-01-01,407.992,380.500,435.000\n"
        "2010-01-01,409.069,381.250,436.000\n"
    )


@pytest.mark.parametrize(
    ("largest", "decimals"),
    [(407.99, 3), (99999.4, 1), (100000.0, 0), (2.5e9, 0), (0.0123, 7), (1.0, 5)],
)
def test_auto_decimals_give_the_largest_number_six_significant_digits(
    largest: float, decimals: int
) -> None:
    rows = [{"date": "2020-01-01", "y": -largest}, {"date": "2020-01-02", "y": 0.001}]
    assert auto_decimals(rows) == decimals
    shown = fixed(-largest, decimals).lstrip("-").replace(".", "").lstrip("0")
    assert len(shown) == max(6, len(str(int(largest))))


def test_auto_decimals_without_numbers() -> None:
    assert auto_decimals([{"date": "2020-01-01", "y": math.nan}]) == 6
    assert auto_decimals([]) == 6


@pytest.mark.parametrize("precision", [0, 2, 7])
@pytest.mark.parametrize("fmt", [OutputFormat.CSV, OutputFormat.TABLE])
def test_precision_sets_the_decimals_of_every_number(
    precision: int, fmt: OutputFormat
) -> None:
    text = forecast_records(ROWS, fmt, precision=precision)
    if fmt is OutputFormat.CSV:
        cells = _csv_numbers(text)
    else:
        cells = [c for line in text.splitlines()[2:] for c in line.split()[1:]]
    assert len(cells) == 6
    assert {len(c.partition(".")[2]) for c in cells} == {precision}
    assert {c.count(".") for c in cells} == {1 if precision else 0}


def test_precision_rounds() -> None:
    assert "2009-01-01,407.99,380.50,435.00\n" in forecast_records(
        ROWS, OutputFormat.CSV, precision=2
    )
    assert "2009-01-01,408,380,435\n" in forecast_records(
        ROWS, OutputFormat.CSV, precision=0
    )


def test_json_numbers_are_rounded_to_the_same_precision() -> None:
    doc = json.loads(forecast_records(ROWS, OutputFormat.JSON, precision=2))
    assert doc[0] == {
        "date": "2009-01-01",
        "y": 407.99,
        "lower_80": 380.5,
        "upper_80": 435.0,
    }
    doc = json.loads(forecast_records(ROWS, OutputFormat.JSON))
    assert doc[1]["y"] == 409.069


def test_missing_values_and_negative_zero() -> None:
    rows = [{"date": "2020-01-01", "y": math.nan}, {"date": "2020-01-02", "y": -1e-9}]
    text = forecast_records(rows, OutputFormat.CSV, precision=3)
    assert text == "date,y\n2020-01-01,nan\n2020-01-02,0.000\n"
    doc = json.loads(forecast_records(rows, OutputFormat.JSON, precision=3))
    assert doc[0]["y"] is None


@pytest.mark.parametrize("fmt", list(OutputFormat))
def test_plain_years_are_written_as_years_in_every_format(fmt: OutputFormat) -> None:
    text = forecast_records(ROWS, fmt, date_format=DateFormat.YEAR)
    assert "2009-01-01" not in text
    if fmt is OutputFormat.JSON:
        assert [r["date"] for r in json.loads(text)] == ["2009", "2010"]
    elif fmt is OutputFormat.CSV:
        assert [r[0] for r in csv.reader(io.StringIO(text))] == ["date", "2009", "2010"]
    else:
        assert [line.split()[0] for line in text.splitlines()[2:]] == ["2009", "2010"]


def test_quarters_and_other_columns_are_kept() -> None:
    rows = [
        {"id": "a", "date": "1961-04-01", "y": 1.5},
        {"id": "a", "date": "1961-07-01", "y": 2.5},
    ]
    text = forecast_records(rows, OutputFormat.CSV, date_format=DateFormat.QUARTER)
    assert text == "id,date,y\na,1961Q2,1.50000\na,1961Q3,2.50000\n"
    assert rows[0]["date"] == "1961-04-01"  # the caller's rows are not changed
