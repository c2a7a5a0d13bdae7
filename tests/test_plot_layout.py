from __future__ import annotations

import numpy as np
import pytest

from seqcast.evaluation.plot_layout import count, month_step, tick_months


def _stamps(*dates: str) -> np.ndarray:
    return np.array(dates, dtype="datetime64[s]")


@pytest.mark.parametrize(
    ("dates", "expected"),
    [
        (("1949-01-01", "1949-02-01", "1949-03-01"), 1),
        (("1973-01-01", "1973-04-01", "1973-07-01"), 3),
        (("1973-03-31", "1973-06-30", "1973-09-30"), 3),  # quarter ends
        (("1973-01-01", "1973-04-01", "1973-10-01"), 3),  # a quarter missing
        (("1700-01-01", "1701-01-01", "1702-01-01"), 12),
        (("2020-01-01", "2020-01-02", "2020-01-03"), None),
        (("2020-01-04", "2020-01-11", "2020-01-18", "2020-02-01"), None),  # weekly
        (("2020-01-01",), None),
    ],
)
def test_month_step(dates: tuple[str, ...], expected: int | None) -> None:
    assert month_step(_stamps(*dates)) == expected


@pytest.mark.parametrize(
    ("first", "last", "step", "expected"),
    [
        # 1973-01 .. 1975-04: ten quarter starts, the most allowed (MAX_TICKS).
        ("1973-01-01", "1975-06-01", 3, 3),
        # Two more quarter starts are too many; six half-year starts are not.
        ("1973-01-01", "1975-12-01", 3, 6),
        # An axis starting after 1973-01-01 does not show that tick: 1973-04 .. 1975-07.
        ("1973-01-15", "1975-07-01", 3, 3),
        # 50 years of quarters: 5-year ticks, 1960 .. 2005 (ten of them).
        ("1959-01-01", "2009-07-01", 3, 60),
        # Monthly data over 10 months: every month; over 3 years: every 6 months.
        ("1960-01-01", "1960-10-01", 1, 1),
        ("1958-01-01", "1960-12-01", 1, 6),
        # Yearly data is never ticked more finely than yearly.
        ("2000-01-01", "2003-01-01", 12, 12),
        # 309 years: 50-year ticks, 1700 .. 2000 (seven of them).
        ("1700-01-01", "2008-01-01", 12, 600),
    ],
)
def test_tick_months(first: str, last: str, step: int, expected: int) -> None:
    assert tick_months(np.datetime64(first), np.datetime64(last), step) == expected


def test_count() -> None:
    assert [count(n, "origin") for n in (0, 1, 55)] == [
        "0 origins",
        "1 origin",
        "55 origins",
    ]
