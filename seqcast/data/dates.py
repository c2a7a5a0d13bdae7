"""Read date columns into tz-naive timestamps, and validate or infer their frequency."""

from __future__ import annotations

import re
import warnings
from collections import Counter
from collections.abc import Sequence

import numpy as np
import pandas as pd
from pandas.api.types import is_datetime64_any_dtype
from pandas.tseries.offsets import BaseOffset, Day, Tick

from seqcast.choices import DateFormat
from seqcast.data.calendar import MONTHS, WEEKDAYS
from seqcast.data.pandas_compat import (
    PANDAS_2_DATES,
    beyond_pandas_2,
    infer_freq,
    refuse_mixed_offsets,
    to_offset,
)
from seqcast.errors import ConfigError, DataError

MISSING_TOKENS = frozenset({"", "na", "n/a", "nan", "null", "none", "#n/a", "nat"})
_ROWS = "(header is row 1)"
_RENAMED_ALIASES = {
    "M": "ME or MS",
    "H": "h",
    "A": "YE or YS",
    "Y": "YE or YS",
    "Q": "QE or QS",
    "T": "min",
    "S": "s",
    "L": "ms",
    "U": "us",
    "N": "ns",
    "BM": "BME",
    "BA": "BYE",
    "BY": "BYE",
    "BQ": "BQE",
    "BH": "bh",
    "CBM": "CBME",
    "SM": "SME",
}
_INT_RE = re.compile(r"^[+-]?\d+$")
_NUMBER_RE = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_OFFSET_RE = re.compile(r"(Z|[+-]\d\d(:?\d\d)?)$")
_QUARTER_RE = re.compile(r"^(\d{4})[-\s]?[Qq]([1-4])$")
_DATE_FORMATS = (
    "%Y/%m/%d",
    "%m/%d/%Y",
    "%d/%m/%Y",
    "%d.%m.%Y",
    "%d-%m-%Y",
    "%m-%d-%Y",
    "%Y%m%d",
)
_SWAPPED_LAYOUTS = {"%m/%d/%Y": "%d/%m/%Y", "%d-%m-%Y": "%m-%d-%Y"}
_TIME_SUFFIXES = ("", " %H:%M", " %H:%M:%S")
_MAX_FILL_ROWS = 10_000_000


# --- parsing -----------------------------------------------------------------------


def _parse_dates(
    values: pd.Series, column: str, rows: np.ndarray, notes: list[str]
) -> tuple[pd.DatetimeIndex, DateFormat]:
    """Parse a date column to a tz-naive DatetimeIndex, naming the first bad row.

    Returns:
        The dates, and how the column wrote them: plain years (``1749``) and quarters
        (``1959Q1``) are read as the first day of the year or quarter, and reported
        as ``DateFormat.YEAR`` or ``DateFormat.QUARTER`` so output can write future
        dates the same way; every other layout is ``DateFormat.ISO``.
    """
    how = ""
    if is_datetime64_any_dtype(values.dtype):
        dates = pd.DatetimeIndex(values)
        text = values.astype(str).to_numpy(dtype=object)
    else:
        stripped = values.astype(str).str.strip()
        text = stripped.to_numpy(dtype=object)
        empty = np.flatnonzero(stripped.str.lower().isin(MISSING_TOKENS).to_numpy())
        if empty.size:
            i = int(empty[0])
            raise DataError(
                f"Column {_q(column)} has no date at row {rows[i]} {_ROWS}. Fill in the date or remove the row."
            )
        _refuse_mixed_layouts(stripped, column, rows)
        unique = pd.Index(pd.unique(text))
        parsed, how = _parse_date_text(pd.Series(unique, dtype=object))
        dates = pd.DatetimeIndex(parsed.take(unique.get_indexer(text)))
    bad = np.flatnonzero(np.asarray(dates.isna()))
    if bad.size:
        i = int(bad[0])
        value = str(text[i])
        if beyond_pandas_2(value):
            raise DataError(
                f"Column {_q(column)} has date {_q(value)} at row {rows[i]} {_ROWS}, which pandas 2 cannot hold: it reads dates from {PANDAS_2_DATES}. Install pandas 3 to read it (pip install 'pandas>=3')."
            )
        hint = (
            "Use --date-col to name the date column, or write"
            if _NUMBER_RE.fullmatch(value)
            else "Write"
        )
        raise DataError(
            f"Column {_q(column)} has value {_q(value)} at row {rows[i]} {_ROWS} that is not a date. {hint} dates like 2024-01-31 or 2024-01-31 13:00 (integer years like 1749 also work)."
        )
    if how == "local dates":
        notes.append(
            f"dates in {_q(column)} carry differing UTC offsets (daylight saving?); kept their local dates and dropped the offsets"
        )
    elif how.startswith("Unix"):
        notes.append(f"read {_q(column)} as {how}")
    elif how in ("month first", "day first"):
        notes.append(
            f"dates in {_q(column)} fit both day-first and month-first order; read them {how} (write YYYY-MM-DD dates to be sure)"
        )
    if dates.tz is not None:
        if how == "UTC":
            dates = dates.tz_convert("UTC").tz_localize(None)
            notes.append(
                f"converted dates in {_q(column)} with mixed UTC offsets to UTC and dropped the time zone"
            )
        else:
            notes.append(
                f"dropped the time zone ({dates.tz}) from {_q(column)}, keeping local times"
            )
            dates = dates.tz_localize(None)
    layout = {"years": DateFormat.YEAR, "quarters": DateFormat.QUARTER}.get(
        how, DateFormat.ISO
    )
    return pd.DatetimeIndex(dates.as_unit("us"), name="date"), layout


_YEAR_FIRST_RE = re.compile(r"^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}")
_YEAR_LAST_RE = re.compile(r"^\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}\b")


def _refuse_mixed_layouts(text: pd.Series, column: str, rows: np.ndarray) -> None:
    """Refuse a column mixing year-first (2020-01-31) and year-last (31/01/2020) dates.

    Reading such a column with one rule silently swaps days and months in some rows.
    """
    year_first = text.str.match(_YEAR_FIRST_RE).to_numpy(dtype=bool)
    year_last = text.str.match(_YEAR_LAST_RE).to_numpy(dtype=bool)
    if year_first.any() and year_last.any():
        i, j = int(np.flatnonzero(year_first)[0]), int(np.flatnonzero(year_last)[0])
        raise DataError(
            f"Column {_q(column)} mixes date formats: {_q(str(text.iloc[i]))} at row {rows[i]} and {_q(str(text.iloc[j]))} at row {rows[j]} {_ROWS}. Write every date in one format, preferably YYYY-MM-DD."
        )


def _parse_date_text(text: pd.Series) -> tuple[pd.DatetimeIndex, str]:
    """Parse unique date strings; return NaT for unreadable ones and how they were read.

    Tries, in order: integers (4-digit years, YYYYMMDD, Unix seconds/milliseconds),
    quarters (``1959Q1``), ISO 8601, common day/month layouts, then dateutil. How
    they were read is ``"years"`` or ``"quarters"`` for those two layouts.
    """
    strings = text.astype(str)
    if strings.str.fullmatch(_INT_RE).all():
        width = strings.str.lstrip("+-").str.len()
        for size, layout, how in ((4, "%Y", "years"), (8, "%Y%m%d", "")):
            if (width == size).all():
                return pd.DatetimeIndex(
                    pd.to_datetime(strings, format=layout, errors="coerce")
                ), how
        if (width == 10).all():
            stamps = pd.to_datetime(strings.astype(np.int64).to_numpy(), unit="s")
            return pd.DatetimeIndex(stamps), "Unix time in seconds"
        if (width == 13).all():
            stamps = pd.to_datetime(strings.astype(np.int64).to_numpy(), unit="ms")
            return pd.DatetimeIndex(stamps), "Unix time in milliseconds"
        return pd.DatetimeIndex([pd.NaT] * len(strings)), ""
    quarters = strings.str.extract(_QUARTER_RE)
    if quarters.notna().all().all() and (quarters[0] > "0000").all():
        try:
            return pd.PeriodIndex(
                quarters[0] + "Q" + quarters[1], freq="Q"
            ).to_timestamp(), "quarters"
        except (ValueError, OverflowError):  # pandas 2.2: outside its nanosecond range
            return pd.DatetimeIndex([pd.NaT] * len(strings)), ""
    try:
        with refuse_mixed_offsets():
            return pd.DatetimeIndex(pd.to_datetime(strings, format="ISO8601")), ""
    except (ValueError, OverflowError) as exc:
        if "Mixed timezones" in str(exc):
            return _mixed_offsets(strings)
    for layout in _DATE_FORMATS:
        for suffix in _TIME_SUFFIXES:
            try:
                parsed = pd.DatetimeIndex(
                    pd.to_datetime(strings, format=layout + suffix)
                )
            except (ValueError, OverflowError):
                continue
            return parsed, _ambiguity(strings, layout, suffix)
    loose = strings.where(~strings.str.fullmatch(_NUMBER_RE), "")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for utc, how in ((False, ""), (True, "UTC")):
            try:
                with refuse_mixed_offsets():
                    guessed = pd.to_datetime(
                        loose, format="mixed", errors="coerce", utc=utc
                    )
                return pd.DatetimeIndex(guessed), how
            except (ValueError, OverflowError, TypeError):
                continue
    return pd.DatetimeIndex(
        [pd.NaT] * len(strings)
    ), ""  # pragma: no cover - coerce never raises twice


def _ambiguity(strings: pd.Series, layout: str, suffix: str) -> str:
    """Return "month first"/"day first" if the swapped day/month layout also fits, else ""."""
    swapped = _SWAPPED_LAYOUTS.get(layout)
    if swapped is None:
        return ""
    try:
        pd.to_datetime(strings, format=swapped + suffix)
    except (ValueError, OverflowError):
        return ""
    return "month first" if layout.startswith("%m") else "day first"


def _mixed_offsets(strings: pd.Series) -> tuple[pd.DatetimeIndex, str]:
    """Read ISO dates with differing UTC offsets: local dates if all are midnight, else UTC."""
    local = pd.to_datetime(
        strings.str.replace(_OFFSET_RE, "", regex=True),
        format="ISO8601",
        errors="coerce",
    )
    if local.notna().all() and (local == local.dt.normalize()).all():
        return pd.DatetimeIndex(local), "local dates"
    return pd.DatetimeIndex(
        pd.to_datetime(strings, format="ISO8601", utc=True, errors="coerce")
    ), "UTC"


# --- frequency ---------------------------------------------------------------------


def _resolve_freq(freq: str) -> BaseOffset:
    """Validate a pandas frequency alias."""
    try:
        offset = to_offset(freq)
    except (ValueError, TypeError):
        base = re.sub(r"^\d+", "", str(freq).strip()).split("-")[0]
        if base in _RENAMED_ALIASES:
            raise ConfigError(
                f"freq={freq!r} is no longer a pandas frequency alias. Use {_RENAMED_ALIASES[base]} instead."
            ) from None
        raise ConfigError(
            f"freq={freq!r} is not a pandas frequency alias. Use one such as D, B, W-SUN, MS, ME, QS, YS, h or min."
        ) from None
    if offset is None or offset.n < 1:
        raise ConfigError(
            f"freq={freq!r} must step forward in time. Use a positive alias such as D or 2h."
        )
    return offset


def _infer_freq(
    indexes: Sequence[pd.DatetimeIndex], date_col: str, notes: list[str]
) -> BaseOffset:
    """Infer the frequency of the longest series.

    ``pd.infer_freq`` decides for regular dates. For irregular ones, the candidates are
    pandas' aliases for triples of consecutive dates (by vote), then the aliases of the most
    common and of the smallest step; the first whose grid holds every date and is at least
    half filled wins.
    """
    longest = max(indexes, key=len)
    exact = _pandas_alias(longest)
    if exact is not None:
        notes.append(f"inferred freq={exact} from {_q(date_col)}")
        return _resolve_freq(exact)
    n_triples = max(len(longest) - 2, 0)
    starts = np.linspace(0, n_triples - 1, num=min(n_triples, 300)).astype(np.int64)
    votes = Counter(_pandas_alias(longest[s : s + 3]) for s in np.unique(starts))
    steps = pd.Series(longest).diff().dropna()
    step = steps.mode().iloc[0]
    candidates = [a for a, _ in votes.most_common() if a is not None]
    candidates += _step_aliases(step, longest[0]) + _step_aliases(
        steps.min(), longest[0]
    )
    span = (longest[-1].normalize() - longest[0].normalize()).days
    weekend = span >= 6 or any(
        (longest[0].day_of_week + k) % 7 >= 5 for k in range(span + 1)
    )
    if weekend and not (longest.day_of_week >= 5).any():
        candidates = ["B" if a == "D" else a for a in candidates]
    for alias in dict.fromkeys(candidates):
        offset = _resolve_freq(alias)
        coverage = _coverage(longest, offset)
        if coverage is not None and coverage >= 0.5:
            how = (
                "the step between the two dates"
                if len(longest) == 2
                else "the most common step"
            )
            irregular = "" if len(longest) == 2 else " (the dates are irregular)"
            notes.append(
                f"inferred freq={offset.freqstr} from {how} in {_q(date_col)}{irregular}"
            )
            return offset
    raise DataError(
        f"Cannot infer a regular frequency from {_q(date_col)}: the most common step is {_span(step)}, but the dates do not fit one. Use --freq to set one, such as D, W-SUN, MS or h."
    )


def _step_aliases(step: pd.Timedelta, first: pd.Timestamp) -> list[str]:
    """Aliases that a step of this length suggests, anchored as ``pd.infer_freq`` would.

    Quarter starts anchor on January-March (``QS-JAN`` covers Jan/Apr/Jul/Oct) and
    quarter ends on October-December, as pandas spells them.
    """
    days = step / pd.Timedelta(days=1)
    phase = (first.month - 1) % 3
    if days == 7:
        return [f"W-{WEEKDAYS[first.day_of_week]}"]
    if 28 <= days <= 31:
        return ["MS", "ME"]
    if 89 <= days <= 92:
        return [f"QS-{MONTHS[phase]}", f"QE-{MONTHS[phase + 9]}"]
    if 365 <= days <= 366:
        return [f"YS-{MONTHS[first.month - 1]}", f"YE-{MONTHS[first.month - 1]}"]
    if days == int(days):
        return [f"{int(days)}D" if days != 1 else "D"]
    return [to_offset(step).freqstr]


def _pandas_alias(index: pd.DatetimeIndex) -> str | None:
    """Return ``pd.infer_freq``'s alias for 3 or more dates (pandas 3's spelling), or None."""
    if len(index) < 3:
        return None
    found = infer_freq(index)
    return None if found is None else found.freqstr


def _coverage(index: pd.DatetimeIndex, offset: BaseOffset) -> float | None:
    """Share of the regular range that ``index`` fills, or None if a date is off the grid."""
    if _range_size(index[0], index[-1], offset) > 2 * len(index) + 10:
        return 0.0
    full = pd.date_range(index[0], index[-1], freq=offset)
    if not index.isin(full).all():
        return None
    return len(index) / len(full)


def _range_size(first: pd.Timestamp, last: pd.Timestamp, offset: BaseOffset) -> int:
    """Length of the regular range from first to last: exact for fixed steps, else estimated."""
    try:
        if isinstance(offset, Day):
            step = pd.Timedelta(days=offset.n)
        elif isinstance(offset, Tick):
            step = pd.Timedelta(offset)
        else:
            step = ((first + 7 * offset) - first) / 7
        return int((last - first) // step) + 1
    except (ValueError, OverflowError, ZeroDivisionError):
        return _MAX_FILL_ROWS + 1


# --- message helpers (shared with frame) ------------------------------------------


def _q(text: object, limit: int = 40) -> str:
    """Quote user text for a one-line message: control characters escaped, long text cut."""
    shown = re.sub(r"[\x00-\x1f\x7f]", lambda m: repr(m.group())[1:-1], str(text))
    return "'" + (shown if len(shown) <= limit else shown[: limit - 1] + "…") + "'"


def _span(step: pd.Timedelta) -> str:
    days = step / pd.Timedelta(days=1)
    return _count(int(days), "day") if days == int(days) else str(step)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def periods_between(
    start: str | pd.Timestamp, end: str | pd.Timestamp, freq: str
) -> int:
    """Return how many ``freq`` steps lead from ``start`` to ``end`` (negative if earlier).

    Both timestamps must lie on the same ``freq`` grid, as a model's training data and
    newer data at the model's frequency do. Example: from 2020-01-01 to 2020-04-01 at
    ``MS`` is 3; from 2020-04-01 back to 2020-01-01 is -3.
    """
    a, b = pd.Timestamp(start), pd.Timestamp(end)
    if b >= a:
        return len(pd.date_range(a, b, freq=freq)) - 1
    return -(len(pd.date_range(b, a, freq=freq)) - 1)
