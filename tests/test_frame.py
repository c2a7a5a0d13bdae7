"""Tests for seqcast.data.frame: column detection, parsing, order, frequency, gaps and series."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from seqcast.config import DataConfig, DateFormat, DuplicatePolicy, FillPolicy
from seqcast.data.csv import read_csv
from seqcast.data.frame import Series, SeriesSet, future_index, prepare
from seqcast.errors import ConfigError, DataError
from tests.conftest import make_sine_frame

SAMPLE_DATA = Path(__file__).resolve().parent.parent / "sample_data"
Load = Callable[..., SeriesSet]


@pytest.fixture
def load(tmp_path: Path) -> Load:
    """Write CSV text to a file, read it and prepare it with DataConfig(**options)."""

    def run(text: str, **options: object) -> SeriesSet:
        path = tmp_path / "data.csv"
        path.write_text(text, encoding="utf-8")
        result = prepare(read_csv(path), DataConfig(**options))  # type: ignore[arg-type]
        assert_valid(result)
        return result

    return run


def assert_valid(result: SeriesSet) -> None:
    """Every series meets the contract: regular, sorted, unique, finite float64."""
    for item in result.series:
        data = item.data
        assert isinstance(data.index, pd.DatetimeIndex)
        assert data.index.name == "date"
        assert data.index.tz is None
        assert data.index.is_monotonic_increasing
        assert data.index.is_unique
        assert len(data) >= 2
        assert list(data.columns) == [result.target, *result.features]
        assert all(dtype == np.float64 for dtype in data.dtypes)
        assert np.isfinite(data.to_numpy()).all()
        expected = pd.date_range(data.index[0], data.index[-1], freq=result.freq)
        assert data.index.equals(expected)


def lines(*rows: str) -> str:
    return "\n".join(rows) + "\n"


def daily(values: list[str], start: str = "2020-01-01", header: str = "date,y") -> str:
    dates = pd.date_range(start, periods=len(values), freq="D").strftime("%Y-%m-%d")
    return lines(header, *(f"{d},{v}" for d, v in zip(dates, values, strict=True)))


# --- end to end and detection ------------------------------------------------------


def test_sample_csv_with_target_and_feature(
    sample_csv: Path, sine_frame: pd.DataFrame
) -> None:
    result = prepare(read_csv(sample_csv), DataConfig(target="y", features=("temp",)))
    assert_valid(result)
    assert (result.freq, result.target, result.features, result.date_col) == (
        "D",
        "y",
        ("temp",),
        "date",
    )
    data = result.single().data
    assert len(data) == 200
    np.testing.assert_allclose(data["y"].to_numpy(), sine_frame["y"].to_numpy())
    assert result.notes == ("inferred freq=D from 'date'",)


def test_typed_frame_with_datetime_column(sine_frame: pd.DataFrame) -> None:
    result = prepare(sine_frame, DataConfig(target="y"))
    assert_valid(result)
    assert result.single().data.index[0] == pd.Timestamp("2020-01-01")


def test_frame_with_datetime_index() -> None:
    frame = make_sine_frame(30, freq="h").set_index("date")
    result = prepare(frame, DataConfig(target="y", features=("temp",)))
    assert_valid(result)
    assert result.freq == "h"
    assert result.date_col == "date"


def test_detects_date_and_single_numeric_target(load: Load) -> None:
    result = load(
        lines(
            "Month,Label,Sales", "2020-01-01,a,10", "2020-02-01,b,11", "2020-03-01,c,12"
        )
    )
    assert (result.date_col, result.target, result.freq) == ("Month", "Sales", "MS")
    assert result.single().id == "Sales"


def test_detects_date_by_values_when_name_says_nothing(load: Load) -> None:
    result = load(lines("when,y", "2020-01-01,1", "2020-01-02,2"))
    assert result.date_col == "when"


def test_text_dates_beat_a_year_column(load: Load) -> None:
    result = load(
        lines("date,year,y", "2020-01-01,2020,1", "2020-01-02,2020,2"), target="y"
    )
    assert result.date_col == "date"


def test_no_date_column(load: Load) -> None:
    with pytest.raises(DataError) as info:
        load(lines("a,b", "x,1", "y,2"))
    assert (
        str(info.value)
        == "No date column found. Columns: a, b. Use --date-col to name the column that holds the dates."
    )


def test_date_named_column_of_bad_values_reports_the_first_one(load: Load) -> None:
    with pytest.raises(DataError) as info:
        load(lines("Date,y", "soon,1", "later,2"))
    assert (
        str(info.value)
        == "Column 'Date' has value 'soon' at row 2 (header is row 1) that is not a date. Write dates like 2024-01-31 or 2024-01-31 13:00 (integer years like 1749 also work)."
    )


def test_ambiguous_date_columns(load: Load) -> None:
    with pytest.raises(DataError) as info:
        load(lines("start,end,y", "2020-01-01,2020-01-02,1", "2020-01-02,2020-01-03,2"))
    assert (
        str(info.value)
        == "Several columns could hold the dates: start, end. Use --date-col to pick one."
    )


def test_explicit_date_col_resolves_ambiguity(load: Load) -> None:
    result = load(
        lines("start,end,y", "2020-01-01,2020-01-02,1", "2020-01-02,2020-01-03,2"),
        date_col="end",
    )
    assert result.single().data.index[0] == pd.Timestamp("2020-01-02")


def test_ambiguous_target(load: Load) -> None:
    with pytest.raises(DataError) as info:
        load(lines("Date,Open,Close", "2020-01-01,1,2", "2020-01-02,2,3"))
    assert (
        str(info.value)
        == "Several numeric columns could be the target: Open, Close. Use --target to pick one (and --features to feed others to the model)."
    )


def test_no_numeric_target(load: Load) -> None:
    with pytest.raises(DataError) as info:
        load(lines("date,name", "2020-01-01,a", "2020-01-02,b"))
    assert (
        str(info.value)
        == "No numeric column to forecast. Columns: name. Use --target to name the column to forecast."
    )


def test_mostly_numeric_column_is_detected_then_its_bad_cell_reported(
    load: Load,
) -> None:
    with pytest.raises(DataError) as info:
        load(daily(["1", "2", "oops", "4"]))
    assert (
        str(info.value)
        == "Column 'y' has non-numeric value 'oops' at row 4 (header is row 1). Fix the value or remove the row."
    )


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"target": "Clsoe"},
            "Column 'Clsoe' not found. Columns: Date, Open, Close. Did you mean 'Close'? Use --target with one of those.",
        ),
        (
            {"target": "close"},
            "Column 'close' not found. Columns: Date, Open, Close. Did you mean 'Close'? Use --target with one of those.",
        ),
        (
            {"date_col": "Dtae", "target": "Close"},
            "Column 'Dtae' not found. Columns: Date, Open, Close. Did you mean 'Date'? Use --date-col with one of those.",
        ),
        (
            {"target": "Close", "features": ("Opne",)},
            "Column 'Opne' not found. Columns: Date, Open, Close. Did you mean 'Open'? Use --features with one of those.",
        ),
        (
            {"target": "Close", "id_col": "ticker"},
            "Column 'ticker' not found. Columns: Date, Open, Close. Use --id-col with one of those.",
        ),
    ],
)
def test_unknown_column_suggests_a_close_match(
    load: Load, options: dict[str, object], message: str
) -> None:
    with pytest.raises(DataError) as info:
        load(lines("Date,Open,Close", "2020-01-01,1,2", "2020-01-02,2,3"), **options)
    assert str(info.value) == message


def test_date_column_cannot_be_the_target(load: Load) -> None:
    with pytest.raises(ConfigError) as info:
        load(daily(["1", "2"]), date_col="date", target="date")
    assert (
        str(info.value)
        == "Column 'date' holds the dates, so it cannot also be given to --target. Pick another column."
    )


# --- numbers -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "hint"),
    [
        ("abc", "Fix the value or remove the row."),
        ("1,5", "Use a dot as the decimal separator, or fix the value."),
        ("1,234.5", "Remove the thousands separators, or fix the value."),
    ],
)
def test_non_numeric_value_names_column_row_and_value(
    load: Load, value: str, hint: str
) -> None:
    with pytest.raises(DataError) as info:
        load(
            lines("date,y", "2020-01-01,1", "2020-01-02,2", f'2020-01-03,"{value}"'),
            target="y",
        )
    assert (
        str(info.value)
        == f"Column 'y' has non-numeric value '{value}' at row 4 (header is row 1). {hint}"
    )


def test_non_numeric_feature(load: Load) -> None:
    with pytest.raises(DataError) as info:
        load(
            lines("date,y,temp", "2020-01-01,1,2", "2020-01-02,2,warm"),
            target="y",
            features=("temp",),
        )
    assert (
        str(info.value)
        == "Column 'temp' has non-numeric value 'warm' at row 3 (header is row 1). Fix the value or remove the row."
    )


@pytest.mark.parametrize("value", ["inf", "-Infinity", "1e999"])
def test_infinite_value(load: Load, value: str) -> None:
    with pytest.raises(DataError) as info:
        load(daily(["1", value, "3"]), target="y")
    assert (
        str(info.value)
        == f"Column 'y' has infinite value '{value}' at row 3 (header is row 1). Replace it with a number, or empty the cell to mark it missing."
    )


def test_missing_markers_are_missing_values(load: Load) -> None:
    result = load(
        daily(["1", "NA", "", "null", "NaN", " n/a ", "7"]), fill=FillPolicy.FFILL
    )
    assert result.single().data["y"].tolist() == [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 7.0]
    assert "filled 5 missing values with ffill (5 in 'y')" in result.notes


def test_column_without_values(load: Load) -> None:
    with pytest.raises(DataError) as info:
        load(
            lines("date,y,temp", "2020-01-01,1,", "2020-01-02,2,NA"),
            target="y",
            features=("temp",),
        )
    assert (
        str(info.value)
        == "Column 'temp' has no values: every cell is empty or NA. Pick a column that holds numbers."
    )


def test_whitespace_around_numbers_is_ignored(load: Load) -> None:
    result = load(daily([" 1.5", "2 ", " -3e1 "]))
    assert result.single().data["y"].tolist() == [1.5, 2.0, -30.0]


def test_constant_target_is_allowed_with_a_note(load: Load) -> None:
    result = load(daily(["5", "5", "5"]))
    assert "target 'y' is constant (5)" in result.notes


# --- dates -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dates", "freq", "first"),
    [
        (
            ["2020-01-01 00:00", "2020-01-01 01:00", "2020-01-01 02:00"],
            "h",
            "2020-01-01 00:00",
        ),
        (
            ["2020-01-01T00:00:00", "2020-01-01T00:15:00", "2020-01-01T00:30:00"],
            "15min",
            "2020-01-01",
        ),
        (["2020-01", "2020-02", "2020-03"], "MS", "2020-01-01"),
        (["1749", "1750", "1751"], "YS-JAN", "1749-01-01"),
        (["1959Q1", "1959Q2", "1959Q3"], "QS-JAN", "1959-01-01"),
        (["01/31/2020", "02/01/2020", "02/02/2020"], "D", "2020-01-31"),
        (["31.01.2020", "01.02.2020", "02.02.2020"], "D", "2020-01-31"),
        (["20200131", "20200201", "20200202"], "D", "2020-01-31"),
        (["2020-01-31", "2020-02-29", "2020-03-31"], "ME", "2020-01-31"),
        (["2020-01-05", "2020-01-12", "2020-01-19"], "W-SUN", "2020-01-05"),
        (["Jan 2020", "Feb 2020", "Mar 2020"], "MS", "2020-01-01"),
    ],
)
def test_date_layouts(load: Load, dates: list[str], freq: str, first: str) -> None:
    result = load(lines("period,y", *(f"{d},{i}" for i, d in enumerate(dates))))
    assert result.freq == freq
    assert result.single().data.index[0] == pd.Timestamp(first)


def test_ambiguous_day_month_order_is_read_month_first_with_a_note(load: Load) -> None:
    result = load(lines("date,y", "03/04/2020,1", "03/05/2020,2", "03/06/2020,3"))
    assert result.single().data.index[0] == pd.Timestamp("2020-03-04")
    assert result.freq == "D"
    assert (
        "dates in 'date' fit both day-first and month-first order; read them month first (write YYYY-MM-DD dates to be sure)"
        in result.notes
    )


def test_day_first_when_month_first_cannot_fit(load: Load) -> None:
    result = load(lines("date,y", "12/01/2020,1", "13/01/2020,2", "14/01/2020,3"))
    assert result.single().data.index[0] == pd.Timestamp("2020-01-12")
    assert not any("day-first" in note for note in result.notes)


def test_integer_years_in_a_year_column(load: Load) -> None:
    result = load(lines("year,sunspots", "1749,80.9", "1750,83.4", "1751,47.7"))
    assert result.date_col == "year"
    assert result.single().data.index[0] == pd.Timestamp("1749-01-01")
    assert result.date_format is DateFormat.YEAR


@pytest.mark.parametrize(
    ("dates", "options", "layout"),
    [
        (["1749", "1750", "1751"], {}, DateFormat.YEAR),
        (["1750", "1752", "1754"], {}, DateFormat.YEAR),  # every second year
        (["1959Q1", "1959Q2", "1959Q3"], {}, DateFormat.QUARTER),
        (["1959-q3", "1959-q4", "1960-q1"], {}, DateFormat.QUARTER),
        (["1959Q1", "1959Q3", "1960Q1"], {}, DateFormat.QUARTER),  # half years
        (["1749-01-01", "1750-01-01", "1751-01-01"], {}, DateFormat.ISO),
        (["20200131", "20200201", "20200202"], {}, DateFormat.ISO),
        # Years on a monthly grid: the future months cannot be written as years.
        (
            ["2000", "2001", "2002"],
            {"freq": "MS", "fill": FillPolicy.FFILL},
            DateFormat.ISO,
        ),
        (
            ["1959Q1", "1959Q2"],
            {"freq": "MS", "fill": FillPolicy.FFILL},
            DateFormat.ISO,
        ),
    ],
)
def test_the_input_date_layout_is_kept_for_output(
    load: Load, dates: list[str], options: dict[str, object], layout: DateFormat
) -> None:
    text = lines("period,y", *(f"{d},{i}" for i, d in enumerate(dates)))
    assert load(text, **options).date_format is layout


def test_unix_seconds(load: Load) -> None:
    result = load(lines("timestamp,y", "1577836800,1", "1577840400,2", "1577844000,3"))
    assert result.freq == "h"
    assert result.single().data.index[0] == pd.Timestamp("2020-01-01")
    assert "read 'timestamp' as Unix time in seconds" in result.notes


def test_unparseable_date_names_row_and_value(load: Load) -> None:
    with pytest.raises(DataError) as info:
        load(
            lines(
                "date,y", "2020-01-01,1", "2020-01-02,2", "2020-01-03,3", "yesterday,4"
            )
        )
    assert (
        str(info.value)
        == "Column 'date' has value 'yesterday' at row 5 (header is row 1) that is not a date. Write dates like 2024-01-31 or 2024-01-31 13:00 (integer years like 1749 also work)."
    )


def test_invalid_calendar_date(load: Load) -> None:
    with pytest.raises(
        DataError,
        match=r"^Column 'date' has value '2020-02-30' at row 3 \(header is row 1\) that is not a date\.",
    ):
        load(lines("date,y", "2020-02-28,1", "2020-02-30,2", "2020-03-01,3"))


def test_numbers_as_dates(load: Load) -> None:
    with pytest.raises(DataError) as info:
        load(lines("t,y", "1,5", "2,6"), date_col="t")
    assert (
        str(info.value)
        == "Column 't' has value '1' at row 2 (header is row 1) that is not a date. Use --date-col to name the date column, or write dates like 2024-01-31 or 2024-01-31 13:00 (integer years like 1749 also work)."
    )


def test_empty_date(load: Load) -> None:
    with pytest.raises(DataError) as info:
        load(lines("date,y", "2020-01-01,1", ",2", "2020-01-03,3"))
    assert (
        str(info.value)
        == "Column 'date' has no date at row 3 (header is row 1). Fill in the date or remove the row."
    )


def test_tz_aware_dates_keep_local_time(load: Load) -> None:
    result = load(
        lines(
            "date,y",
            "2020-01-01T09:00+01:00,1",
            "2020-01-01T10:00+01:00,2",
            "2020-01-01T11:00+01:00,3",
        )
    )
    index = result.single().data.index
    assert index.tz is None
    assert index[0] == pd.Timestamp("2020-01-01 09:00")
    assert (
        "dropped the time zone (UTC+01:00) from 'date', keeping local times"
        in result.notes
    )


def test_mixed_offsets_are_converted_to_utc(load: Load) -> None:
    result = load(
        lines(
            "date,y",
            "2020-03-29T00:30+01:00,1",
            "2020-03-29T02:30+02:00,2",
            "2020-03-29T01:30Z,3",
        )
    )
    index = result.single().data.index
    assert index.tz is None
    assert index.tolist() == [
        pd.Timestamp("2020-03-28 23:30"),
        pd.Timestamp("2020-03-29 00:30"),
        pd.Timestamp("2020-03-29 01:30"),
    ]
    assert result.freq == "h"
    assert (
        "converted dates in 'date' with mixed UTC offsets to UTC and dropped the time zone"
        in result.notes
    )


def test_mixed_offsets_on_midnight_dates_keep_the_local_dates(load: Load) -> None:
    result = load(
        lines(
            "date,y",
            "2020-03-28T00:00+01:00,1",
            "2020-03-29T00:00+01:00,2",
            "2020-03-30T00:00+02:00,3",
        )
    )
    assert result.freq == "D"
    assert result.single().data.index[-1] == pd.Timestamp("2020-03-30")


# --- order and duplicates ----------------------------------------------------------


def test_unsorted_rows_are_sorted_with_a_note(load: Load) -> None:
    result = load(lines("date,y", "2020-01-03,3", "2020-01-01,1", "2020-01-02,2"))
    assert result.single().data["y"].tolist() == [1.0, 2.0, 3.0]
    assert "sorted the rows by date (the input was not in date order)" in result.notes


DUPLICATED = lines(
    "date,y", "2020-01-01,1", "2020-01-02,2", "2020-01-02,4", "2020-01-03,3"
)


def test_duplicate_timestamps_are_an_error_by_default(load: Load) -> None:
    with pytest.raises(DataError) as info:
        load(DUPLICATED)
    assert (
        str(info.value)
        == "Column 'date' repeats 1 timestamp; the first is 2020-01-02 at rows 3 and 4 (header is row 1). Use --duplicates first, last or mean to combine them, or remove the repeats."
    )


@pytest.mark.parametrize(
    ("policy", "value"),
    [
        (DuplicatePolicy.FIRST, 2.0),
        (DuplicatePolicy.LAST, 4.0),
        (DuplicatePolicy.MEAN, 3.0),
    ],
)
def test_duplicate_policies(load: Load, policy: DuplicatePolicy, value: float) -> None:
    result = load(DUPLICATED, duplicates=policy)
    assert result.single().data["y"].tolist() == [1.0, value, 3.0]
    assert (
        f"combined 1 extra row with repeated timestamps in 'date' (duplicates={policy.value})"
        in result.notes
    )


def test_duplicates_after_sorting_keep_file_order(load: Load) -> None:
    text = lines("date,y", "2020-01-02,7", "2020-01-01,1", "2020-01-02,9")
    assert load(text, duplicates=DuplicatePolicy.FIRST).single().data["y"].tolist() == [
        1.0,
        7.0,
    ]
    assert load(text, duplicates=DuplicatePolicy.LAST).single().data["y"].tolist() == [
        1.0,
        9.0,
    ]


# --- frequency ---------------------------------------------------------------------


def test_explicit_freq(load: Load) -> None:
    result = load(daily(["1", "2", "3"], start="2020-01-06"), freq="B")
    assert result.freq == "B"
    assert not any(n.startswith("inferred") for n in result.notes)


@pytest.mark.parametrize(
    ("freq", "message"),
    [
        (
            "fortnightly",
            "freq='fortnightly' is not a pandas frequency alias. Use one such as D, B, W-SUN, MS, ME, QS, YS, h or min.",
        ),
        ("M", "freq='M' is no longer a pandas frequency alias. Use ME or MS instead."),
        ("H", "freq='H' is no longer a pandas frequency alias. Use h instead."),
        (
            "-1D",
            "freq='-1D' must step forward in time. Use a positive alias such as D or 2h.",
        ),
    ],
)
def test_invalid_freq(load: Load, freq: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        load(daily(["1", "2"]), freq=freq)
    assert str(info.value) == message


def test_dates_off_the_given_freq(load: Load) -> None:
    with pytest.raises(DataError) as info:
        load(lines("date,y", "2020-01-01,1", "2020-02-01,2", "2020-03-15,3"), freq="MS")
    assert (
        str(info.value)
        == "Dates in 'date' do not fall on freq=MS: 2020-03-15 at row 4 (header is row 1) is off that grid. Use a --freq that matches the dates, or leave --freq out to infer it."
    )


def test_irregular_dates_without_a_frequency(load: Load) -> None:
    with pytest.raises(DataError) as info:
        load(
            lines(
                "date,y",
                "2020-01-01,1",
                "2020-01-04,2",
                "2020-01-05,3",
                "2020-01-11,4",
                "2020-01-30,5",
            )
        )
    assert (
        str(info.value)
        == "Cannot infer a regular frequency from 'date': the most common step is 1 day, but the dates do not fit one. Use --freq to set one, such as D, W-SUN, MS or h."
    )


def test_business_days_with_a_holiday(load: Load) -> None:
    dates = pd.bdate_range("2020-01-01", periods=15).delete(5)
    text = lines("date,close", *(f"{d:%Y-%m-%d},{i}" for i, d in enumerate(dates)))
    result = load(text, fill=FillPolicy.FFILL)
    assert result.freq == "B"
    assert len(result.single().data) == 15
    assert "added 1 row for missing timestamps at freq=B" in result.notes


def test_two_rows_use_the_step_between_them(load: Load) -> None:
    result = load(lines("date,y", "2020-01-01,1", "2020-01-08,2"))
    assert result.freq == "W-WED"
    assert (
        "inferred freq=W-WED from the step between the two dates in 'date'"
        in result.notes
    )


def test_huge_range_is_refused(load: Load) -> None:
    with pytest.raises(DataError) as info:
        load(lines("date,y", "1900-01-01,1", "2020-01-01,2"), freq="s")
    assert (
        str(info.value)
        == "The dates in 'date' run from 1900-01-01 to 2020-01-01, which at freq=s needs 3786825601 rows for 2 dates. Check the dates, or use a coarser --freq."
    )


# --- gaps and missing values -------------------------------------------------------

GAPPY = lines(
    "date,y,temp",
    "2020-01-01,,5",
    "2020-01-02,2,6",
    "2020-01-04,4,",
    "2020-01-05,5,9",
    "2020-01-06,,10",
)


def test_missing_values_without_fill_policy(load: Load) -> None:
    with pytest.raises(DataError) as info:
        load(GAPPY, target="y", features=("temp",))
    assert (
        str(info.value)
        == "Found missing values: 3 in 'y', 2 in 'temp' (first at 2020-01-01; 1 row added for missing timestamps at freq=D). Use --fill ffill, bfill, interpolate, zero or drop to fill or drop them."
    )


def test_missing_values_without_gaps(load: Load) -> None:
    with pytest.raises(DataError) as info:
        load(daily(["1", "", "3"]))
    assert (
        str(info.value)
        == "Found missing values: 1 in 'y' (first at 2020-01-02). Use --fill ffill, bfill, interpolate, zero or drop to fill or drop them."
    )


@pytest.mark.parametrize(
    ("fill", "y", "temp", "start"),
    [
        (FillPolicy.FFILL, [2, 2, 4, 5, 5], [6, 6, 6, 9, 10], "2020-01-02"),
        (FillPolicy.BFILL, [2, 2, 4, 4, 5], [5, 6, 9, 9, 9], "2020-01-01"),
        (FillPolicy.INTERPOLATE, [2, 3, 4, 5], [6, 7, 8, 9], "2020-01-02"),
        (FillPolicy.ZERO, [0, 2, 0, 4, 5, 0], [5, 6, 0, 0, 9, 10], "2020-01-01"),
    ],
)
def test_fill_policies(
    load: Load, fill: FillPolicy, y: list[float], temp: list[float], start: str
) -> None:
    data = load(GAPPY, target="y", features=("temp",), fill=fill).single().data
    assert data["y"].tolist() == [float(v) for v in y]
    assert data["temp"].tolist() == [float(v) for v in temp]
    assert data.index[0] == pd.Timestamp(start)


def test_ffill_notes_the_gap_rows_fills_and_trim(load: Load) -> None:
    result = load(GAPPY, target="y", features=("temp",), fill=FillPolicy.FFILL)
    assert result.notes == (
        "inferred freq=D from the most common step in 'date' (the dates are irregular)",
        "added 1 row for missing timestamps at freq=D",
        "filled 4 missing values with ffill (2 in 'y', 2 in 'temp')",
        "dropped 1 leading row that ffill cannot fill",
    )


def test_drop_trims_leading_and_trailing_rows(load: Load) -> None:
    result = load(daily(["", "2", "3", "4", ""]), fill=FillPolicy.DROP)
    data = result.single().data
    assert data["y"].tolist() == [2.0, 3.0, 4.0]
    assert "dropped 1 leading and 1 trailing rows with missing values" in result.notes


def test_drop_refuses_holes_inside_the_series(load: Load) -> None:
    with pytest.raises(DataError) as info:
        load(GAPPY, target="y", features=("temp",), fill=FillPolicy.DROP)
    assert (
        str(info.value)
        == "--fill drop only drops leading or trailing rows, but missing values remain in 2 rows inside the series (first 2020-01-03); dropping them would break the regular dates. Use --fill ffill or interpolate."
    )


def test_fewer_than_two_rows(load: Load) -> None:
    with pytest.raises(DataError) as info:
        load(daily(["1"]))
    assert (
        str(info.value)
        == "The series has 1 row; at least 2 are needed. Load more history."
    )


def test_fewer_than_two_rows_after_filling(load: Load) -> None:
    with pytest.raises(DataError) as info:
        load(daily(["", "", "3"]), fill=FillPolicy.FFILL)
    assert (
        str(info.value)
        == "The series has 1 row after filling; at least 2 are needed. Load more history or use another --fill."
    )


# --- several series ----------------------------------------------------------------

LONG = lines(
    "date,store,sales",
    "2020-01-01,north,1",
    "2020-01-01,south,10",
    "2020-01-02,north,2",
    "2020-01-02,south,20",
    "2020-01-03,north,3",
    "2020-01-03,south,30",
)


def test_long_format_gives_one_series_per_id(load: Load) -> None:
    result = load(LONG, id_col="store")
    assert [s.id for s in result.series] == ["north", "south"]
    assert result.target == "sales"
    assert result.single("south").data["sales"].tolist() == [10.0, 20.0, 30.0]


def test_series_option_selects_one(load: Load) -> None:
    result = load(LONG, id_col="store", series="south")
    assert [s.id for s in result.series] == ["south"]
    assert result.single().data["sales"].tolist() == [10.0, 20.0, 30.0]


def test_unknown_series_suggests_a_close_id(load: Load) -> None:
    with pytest.raises(DataError) as info:
        load(LONG, id_col="store", series="sout")
    assert (
        str(info.value)
        == "Series 'sout' not found in column 'store'. Series: north, south. Did you mean 'south'? Use --series with one of those."
    )


def test_single_needs_an_id_when_there_are_several(load: Load) -> None:
    result = load(LONG, id_col="store")
    with pytest.raises(ConfigError) as info:
        result.single()
    assert (
        str(info.value)
        == "The data holds 2 series: north, south. Use --series to pick one."
    )
    with pytest.raises(DataError) as missing:
        result.single("east")
    assert (
        str(missing.value)
        == "Series 'east' not found. Series: north, south. Use --series with one of those."
    )


def test_series_without_id_col(load: Load) -> None:
    with pytest.raises(ConfigError) as info:
        load(LONG, target="sales", series="north")
    assert (
        str(info.value)
        == "--series north needs --id-col naming the column that holds the series ids. Add --id-col."
    )


def test_errors_in_one_series_name_it(load: Load) -> None:
    text = LONG + "2020-01-03,south,31\n"
    with pytest.raises(DataError) as info:
        load(text, id_col="store")
    assert (
        str(info.value)
        == "Column 'date' repeats 1 timestamp in series 'south'; the first is 2020-01-03 at rows 7 and 8 (header is row 1). Use --duplicates first, last or mean to combine them, or remove the repeats."
    )


def test_series_gaps_are_filled_per_series(load: Load) -> None:
    text = lines(
        "date,store,sales",
        "2020-01-01,a,1",
        "2020-01-02,a,2",
        "2020-01-03,a,3",
        "2020-01-01,b,10",
        "2020-01-03,b,30",
    )
    result = load(text, id_col="store", fill=FillPolicy.INTERPOLATE)
    assert result.single("b").data["sales"].tolist() == [10.0, 20.0, 30.0]
    assert "series 'b': added 1 row for missing timestamps at freq=D" in result.notes


def test_empty_id(load: Load) -> None:
    with pytest.raises(DataError) as info:
        load(
            lines("date,store,sales", "2020-01-01,a,1", "2020-01-02,,2"), id_col="store"
        )
    assert (
        str(info.value)
        == "Column 'store' has an empty id at row 3 (header is row 1). Fill in the id or remove the row."
    )


def test_series_is_a_frozen_dataclass(sine_frame: pd.DataFrame) -> None:
    item = prepare(sine_frame, DataConfig(target="y")).single()
    assert isinstance(item, Series)
    with pytest.raises(AttributeError):
        item.id = "other"  # type: ignore[misc]


# --- future_index ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("last", "freq", "expected"),
    [
        ("2024-03-01", "MS", ["2024-04-01", "2024-05-01"]),
        ("2024-03-15", "MS", ["2024-04-01", "2024-05-01"]),
        ("2024-01-31", "ME", ["2024-02-29", "2024-03-31"]),
        ("2024-03-08", "B", ["2024-03-11", "2024-03-12"]),
        ("2024-03-08 23:00", "h", ["2024-03-09 00:00", "2024-03-09 01:00"]),
        ("2024-03-03", "W-SUN", ["2024-03-10", "2024-03-17"]),
        ("2009-07-01", "QS-JAN", ["2009-10-01", "2010-01-01"]),
    ],
)
def test_future_index(last: str, freq: str, expected: list[str]) -> None:
    index = future_index(pd.Timestamp(last), freq, 2)
    assert index.tolist() == [pd.Timestamp(e) for e in expected]
    assert index.name == "date"


def test_future_index_edge_cases() -> None:
    assert len(future_index(pd.Timestamp("2024-01-01"), "D", 0)) == 0
    with pytest.raises(ConfigError, match=r"^steps=-1 must be 0 or more\."):
        future_index(pd.Timestamp("2024-01-01"), "D", -1)
    with pytest.raises(
        ConfigError, match=r"^freq='Q' is no longer a pandas frequency alias\."
    ):
        future_index(pd.Timestamp("2024-01-01"), "Q", 1)


def test_future_index_continues_a_prepared_series(sample_csv: Path) -> None:
    result = prepare(read_csv(sample_csv), DataConfig(target="y"))
    data = result.single().data
    index = future_index(data.index[-1], result.freq, 3)
    assert index[0] == data.index[-1] + pd.Timedelta(days=1)
    assert index.equals(pd.date_range(data.index[-1], periods=4, freq=result.freq)[1:])


# --- the shipped sample data -------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "options", "freq", "n_rows"),
    [
        ("air_passengers.csv", {}, "MS", 144),
        ("us_real_gdp_quarterly.csv", {}, "QS-JAN", 203),
        ("pr_deaths_daily.csv", {}, "D", 1201),
        (
            "vic_electricity_daily.csv",
            {"target": "demand", "features": ("temperature", "workday")},
            "D",
            365,
        ),
        ("co2_weekly.csv", {"fill": FillPolicy.INTERPOLATE}, "W-SAT", 2284),
        ("sunspots_yearly.csv", {}, "YS-JAN", 309),
    ],
)
def test_sample_data(
    name: str, options: dict[str, object], freq: str, n_rows: int
) -> None:
    path = SAMPLE_DATA / name
    assert path.stat().st_size < 200_000
    result = prepare(read_csv(path), DataConfig(**options))  # type: ignore[arg-type]
    assert_valid(result)
    assert result.freq == freq
    assert len(result.single().data) == n_rows


def test_sample_co2_needs_a_fill_policy() -> None:
    with pytest.raises(DataError, match=r"^Found missing values: 59 in 'co2' "):
        prepare(read_csv(SAMPLE_DATA / "co2_weekly.csv"), DataConfig())
