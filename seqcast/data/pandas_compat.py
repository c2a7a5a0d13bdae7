"""Read dates, frequencies and numbers the same way on pandas 2.2 and pandas 3.

seqcast supports both, so that it installs beside tools that still pin pandas < 3
(statsforecast, for one). Where the two differ in something a user can see, the rest of
``seqcast.data`` goes through this module, which gives pandas 3's answer on either:

- ``to_offset`` refuses the aliases pandas 3 removed (``M``, ``H``, ``Q``, ``A``, ``T``,
  ...), which pandas 2.2 still reads with a FutureWarning;
- ``infer_freq`` anchors quarter starts on January-March (``QS-JAN``) where pandas 2.2
  says ``QS-OCT`` for the same dates;
- ``refuse_mixed_offsets`` makes ``pd.to_datetime`` raise on mixed UTC offsets, where
  pandas 2.2 warns and returns objects;
- ``to_numbers`` and ``FLOAT_PRECISION`` read decimal text to the nearest float64, as
  pandas 3 does (pandas 2.2's parser can be one unit in the last place off), and a
  number beyond float64's range (``1e999``) as infinite rather than not a number.

One difference stays: pandas 2.2 holds dates in nanoseconds, from 1677-09-22 to
2262-04-11, and pandas 3 in microseconds. ``beyond_pandas_2`` tells the callers when a
date is outside that range, so that they say so instead of "not a date".
"""

from __future__ import annotations

import contextlib
import re
import warnings
from collections.abc import Iterator
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from pandas.tseries.frequencies import to_offset as _pandas_to_offset
from pandas.tseries.offsets import BaseOffset

from seqcast._types import FloatArray
from seqcast.data.calendar import MONTHS

PANDAS_3 = int(pd.__version__.split(".")[0]) >= 3

FLOAT_PRECISION: Literal["round_trip"] | None = None if PANDAS_3 else "round_trip"
"""``float_precision`` for ``pd.read_csv``: exact parsing (pandas 3 deprecates the option)."""

_MIXED_OFFSETS = "Mixed timezones detected. Pass utc=True in to_datetime or tz='UTC' in DatetimeIndex to convert to a common timezone."
PANDAS_2_DATES = "1677-09-22 to 2262-04-11"
_NUMBER_RE = re.compile(r"^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$")
_PANDAS_2_FIRST = np.datetime64("1677-09-21T00:12:43.145225", "us")  # Timestamp.min
_PANDAS_2_LAST = np.datetime64("2262-04-11T23:47:16.854775", "us")  # Timestamp.max
_ISO_TEXT_RE = re.compile(r"\d{4}(-\d\d(-\d\d([T ]\d\d(:\d\d(:\d\d(\.\d+)?)?)?)?)?)?")
_QUARTER_TEXT_RE = re.compile(r"(\d{4})[-\s]?[Qq][1-4]")
_QUARTER_START_RE = re.compile(r"(\d*)(B?QS)-([A-Z]{3})")
_OFFSET_OPTION = "future.infer_freq_returns_offset"  # pandas 3 warns without it


def _option_known(name: str) -> bool:
    try:
        pd.get_option(name)
    except KeyError:  # pandas' OptionError
        return False
    return True


_OFFSET_OPTION_KNOWN = _option_known(_OFFSET_OPTION)


def beyond_pandas_2(text: str) -> bool:
    """Whether a date that pandas 3 reads lies outside the range pandas 2.2 can hold.

    pandas 2.2 keeps dates in nanoseconds, from 1677-09-22 to 2262-04-11
    (``PANDAS_2_DATES``); pandas 3 keeps microseconds. Always False on pandas 3. Only
    ISO dates (``1500-01-31``, ``2300-01-01 12:00``), years and quarters count.
    """
    if PANDAS_3:
        return False
    text = text.strip()
    quarter = _QUARTER_TEXT_RE.fullmatch(text)
    if quarter:
        text = quarter.group(1)
    elif not _ISO_TEXT_RE.fullmatch(text):
        return False
    try:
        stamp = np.datetime64(text.replace(" ", "T"), "us")
    except ValueError:
        return False
    return bool(stamp < _PANDAS_2_FIRST or stamp > _PANDAS_2_LAST)


def to_offset(freq: str | pd.Timedelta) -> BaseOffset:
    """Return the offset for a pandas frequency alias, as pandas 3 reads it.

    Raises:
        ValueError: If ``freq`` is not an alias pandas 3 knows, including the ones it
            removed and pandas 2.2 still reads with a FutureWarning (``M`` for ``ME``).
    """
    if PANDAS_3:
        return _pandas_to_offset(freq)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", category=FutureWarning)
        try:
            return _pandas_to_offset(freq)
        except FutureWarning as exc:  # only pandas 2.2 gets here
            raise ValueError(str(exc)) from None


def infer_freq(index: pd.DatetimeIndex) -> BaseOffset | None:
    """Return ``pd.infer_freq``'s frequency for 3 or more dates as an offset, or None.

    Quarter starts are anchored on the quarter's month in January-March, as pandas 3
    spells them: dates on Jan/Apr/Jul/Oct 1 are ``QS-JAN`` on either version.
    """
    with contextlib.ExitStack() as stack:
        if _OFFSET_OPTION_KNOWN:
            stack.enter_context(pd.option_context(_OFFSET_OPTION, True))
        found: object = pd.infer_freq(index)
    if isinstance(found, str):  # pandas 2.2 answers with the alias
        found = _pandas_to_offset(found)
    if not isinstance(found, BaseOffset):
        return None
    quarterly = _QUARTER_START_RE.fullmatch(found.freqstr)
    if quarterly:  # pandas 2.2 says QS-OCT for Jan/Apr/Jul/Oct, pandas 3 QS-JAN
        n, base, month = quarterly.groups()
        found = _pandas_to_offset(f"{n}{base}-{MONTHS[MONTHS.index(month) % 3]}")
    return found


@contextlib.contextmanager
def refuse_mixed_offsets() -> Iterator[None]:
    """Make ``pd.to_datetime`` raise ValueError on differing UTC offsets, as pandas 3 does.

    pandas 2.2 warns instead and returns the dates as objects. The message is pandas 3's,
    which starts "Mixed timezones".
    """
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "error", message=".*mixed time zones", category=FutureWarning
        )
        try:
            yield
        except FutureWarning:  # only pandas 2.2 gets here
            raise ValueError(_MIXED_OFFSETS) from None


def to_numbers(values: npt.NDArray[Any]) -> FloatArray:
    """Parse values to float64 as pandas 3 does; what is not a number becomes NaN.

    Decimal text gives the nearest float64 (``"0.1"`` is ``0.1``), and text beyond
    float64's range gives infinity (``"1e999"`` is ``inf``), as ``float`` does; pandas
    2.2 is sometimes a unit in the last place off and reads ``"1e999"`` as NaN.
    """
    numbers = np.array(pd.to_numeric(values, errors="coerce"), dtype=np.float64)
    if PANDAS_3:
        return numbers
    raw = np.asarray(values, dtype=object).ravel()
    redo = [
        i
        for i, value in enumerate(raw)
        if isinstance(value, str)
        and (not np.isnan(numbers[i]) or _NUMBER_RE.fullmatch(value))
    ]
    if redo:
        try:
            numbers[redo] = np.array(raw[redo], dtype=str).astype(np.float64)
        except ValueError:  # text pandas reads and float does not: keep pandas' value
            for i in redo:
                try:
                    numbers[i] = float(raw[i])
                except ValueError:
                    continue
    return numbers
