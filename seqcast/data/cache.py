"""On-disk price cache: one CSV per ticker and interval, replaced atomically under a file lock.

Layout under the cache directory (``--cache-dir``, else ``$SEQCAST_CACHE_DIR``, else
``platformdirs.user_cache_dir("seqcast")``)::

    tickers/AAPL_1d.csv        # the prices; readable with any CSV tool after line 1
    tickers/AAPL_1d.csv.lock   # only while a process updates it (see seqcast.atomic.locked)
    yfinance/                  # yfinance's own timezone/cookie SQLite caches

A cache file starts with one metadata line, then a plain CSV with the raw (unadjusted)
prices, one row per bar, oldest first::

    # seqcast-ticker-cache {"version": 1, "ticker": "AAPL", "interval": "1d", ...}
    date,Open,High,Low,Close,Adj Close,Volume
    2024-03-01,181.76,181.81,179.28,180.07,179.23,62756572

Metadata and prices live in one file so that a single ``os.replace`` updates both.
"""

from __future__ import annotations

import contextlib
import errno
import io
import json
import math
import os
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pandas as pd
import platformdirs

from seqcast import atomic
from seqcast.data.pandas_compat import FLOAT_PRECISION
from seqcast.errors import ConfigError, DataError

CACHE_ENV = "SEQCAST_CACHE_DIR"
PRICE_COLUMNS: tuple[str, ...] = ("Open", "High", "Low", "Close", "Adj Close", "Volume")
INTRADAY_INTERVALS = frozenset({"1m", "2m", "5m", "15m", "30m", "60m", "90m", "1h"})
LOCK_TIMEOUT_S = atomic.DEFAULT_LOCK_TIMEOUT

_MAGIC = "# seqcast-ticker-cache "
_VERSION = 1
_AGE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$", re.IGNORECASE)
_AGE_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}


@dataclass(frozen=True, slots=True)
class CacheMeta:
    """What a cache file holds and when it was last refreshed from the network.

    Attributes:
        ticker: Upper-case Yahoo Finance symbol.
        interval: yfinance bar interval (``1d``, ``1h``...).
        fetched_at: UTC time of the last successful download merged into the file.
        covered_start: Earliest start date ever requested (None = from the first
            trading day); a later query starting on or after it needs no backfill.
    """

    ticker: str
    interval: str
    fetched_at: datetime
    covered_start: date | None

    def to_line(self) -> str:
        """Return the metadata as the file's first line (with its newline)."""
        payload = {
            "version": _VERSION,
            "ticker": self.ticker,
            "interval": self.interval,
            "fetched_at": self.fetched_at.astimezone(UTC).isoformat(timespec="seconds"),
            "covered_start": None
            if self.covered_start is None
            else self.covered_start.isoformat(),
            "prices": "raw",
        }
        return _MAGIC + json.dumps(payload) + "\n"

    @classmethod
    def from_line(cls, line: str, path: Path) -> CacheMeta:
        """Parse a metadata line written by :meth:`to_line`.

        Raises:
            DataError: If the line is not a seqcast cache header.
        """
        if not line.startswith(_MAGIC):
            raise _damaged(path, "its first line is not a seqcast cache header")
        try:
            payload = json.loads(line[len(_MAGIC) :])
            if payload.get("version") != _VERSION:
                raise _damaged(
                    path,
                    f"cache format version {payload.get('version')!r}, expected {_VERSION}",
                )
            fetched_at = datetime.fromisoformat(payload["fetched_at"])
            covered = payload.get("covered_start")
            return cls(
                ticker=str(payload["ticker"]),
                interval=str(payload["interval"]),
                fetched_at=fetched_at
                if fetched_at.tzinfo
                else fetched_at.replace(tzinfo=UTC),
                covered_start=None if covered is None else date.fromisoformat(covered),
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise _damaged(path, f"unreadable header ({type(exc).__name__})") from None


@dataclass(frozen=True, slots=True)
class CachedPrices:
    """The content of one cache file.

    Attributes:
        path: The cache file.
        meta: Its metadata line.
        frame: Columns ``date`` (tz-naive datetime64, sorted, unique) and
            :data:`PRICE_COLUMNS` (float64, raw prices).
    """

    path: Path
    meta: CacheMeta
    frame: pd.DataFrame

    @property
    def first(self) -> pd.Timestamp | None:
        """Timestamp of the oldest bar, or None when the file holds no rows."""
        return None if self.frame.empty else pd.Timestamp(self.frame["date"].iloc[0])

    @property
    def last(self) -> pd.Timestamp | None:
        """Timestamp of the newest bar, or None when the file holds no rows."""
        return None if self.frame.empty else pd.Timestamp(self.frame["date"].iloc[-1])


def resolve_cache_dir(override: Path | None = None) -> Path:
    """Return the cache directory: the flag, else ``$SEQCAST_CACHE_DIR``, else the user cache dir.

    Args:
        override: Value of ``--cache-dir``, if given.

    Returns:
        The directory (not created here), e.g. ``~/.cache/seqcast`` on Linux.
    """
    if override is not None:
        return Path(override).expanduser()
    env = os.environ.get(CACHE_ENV, "").strip()
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_cache_dir("seqcast"))


def cache_file(directory: Path, ticker: str, interval: str) -> Path:
    """Return the cache file of one ticker and interval, e.g. ``<dir>/tickers/AAPL_1d.csv``."""
    return directory / "tickers" / f"{ticker}_{interval}.csv"


def read_cache(path: Path) -> CachedPrices | None:
    """Read a cache file; no lock is needed because writers replace it atomically.

    Args:
        path: A file named by :func:`cache_file`.

    Returns:
        The cached prices, or None if the file does not exist.

    Raises:
        DataError: If the file exists but cannot be read or parsed.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except NotADirectoryError:
        raise _not_a_folder(path) from None
    except (OSError, UnicodeDecodeError) as exc:
        detail = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise _damaged(path, str(detail)) from None
    header, _, body = text.partition("\n")
    meta = CacheMeta.from_line(header, path)
    try:
        frame = pd.read_csv(
            io.StringIO(body),
            dtype=dict.fromkeys(PRICE_COLUMNS, "float64"),
            float_precision=FLOAT_PRECISION,
        )
    except (ValueError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        _check_rows(body, path)
        raise _damaged(path, f"unreadable prices ({type(exc).__name__})") from None
    if list(frame.columns) != ["date", *PRICE_COLUMNS]:
        raise _damaged(path, f"columns {', '.join(map(str, frame.columns))}")
    _check_rows(body, path)  # pandas reads a short row as NaN, which a fill would hide
    dates = pd.to_datetime(frame["date"], format="ISO8601", errors="coerce")
    if (
        dates.isna().any()
        or not dates.is_monotonic_increasing
        or dates.duplicated().any()
    ):
        raise _damaged(path, "its dates are missing, unordered or repeated")
    frame["date"] = dates.astype("datetime64[ns]")
    return CachedPrices(path=path, meta=meta, frame=frame)


def _check_rows(body: str, path: Path) -> None:
    """Refuse a price table whose last row was cut off or whose rows are short or long.

    seqcast writes every row with one field per column and ends the file with a line
    break, so a missing final break or a row with a different number of fields is a
    write that stopped half-way (another tool appending, a crash), not missing prices.

    Raises:
        DataError: Naming the first bad row (file line numbers, the metadata line is 1).
    """
    if body and not body.endswith("\n"):
        line = 1 + body.count("\n") + 1
        raise _damaged(path, f"its last row (line {line}) is cut off")
    fields = len(PRICE_COLUMNS)  # separators per row: date + the price columns
    for number, row in enumerate(body.split("\n")[:-1], start=2):
        if row.count(",") != fields:
            raise _damaged(
                path,
                f"line {number} has {row.count(',') + 1} fields instead of {fields + 1} (a row cut off or run together)",
            )


def merge_prices(old: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    """Merge two price tables by ``date``; where both hold a bar, the new one wins.

    Returns:
        A new frame, sorted by date, with unique dates and a fresh RangeIndex.
    """
    merged = pd.concat([old, new], ignore_index=True)
    merged = merged.drop_duplicates(subset="date", keep="last")
    return merged.sort_values("date", kind="stable").reset_index(drop=True)


def update_cache(
    path: Path,
    fresh: pd.DataFrame,
    *,
    ticker: str,
    interval: str,
    covered_start: date | None,
    replace: bool = False,
    lock_timeout: float = LOCK_TIMEOUT_S,
    now: datetime | None = None,
) -> CachedPrices:
    """Merge freshly downloaded bars into the cache file, under its lock, atomically.

    The file is re-read inside the lock, so two processes refreshing the same ticker
    at once both keep their bars (no lost update) and the file is never interleaved:
    it is written to a temporary sibling, fsynced and renamed over the old one.

    Args:
        path: The cache file (its folder is created if needed).
        fresh: Bars in the cache layout (``date`` + :data:`PRICE_COLUMNS`).
        ticker: Symbol recorded in the metadata.
        interval: Interval recorded in the metadata.
        covered_start: Start date that was requested for ``fresh`` (None = earliest).
        replace: Drop the old bars instead of merging (after a dividend or split
            changed the adjusted history, or a full backfill).
        lock_timeout: Seconds to wait for another process holding the lock.
        now: Fetch time to record; defaults to the current UTC time.

    Returns:
        What the file holds after the update.

    Raises:
        LockError: If the lock is not acquired within ``lock_timeout`` seconds.
        ConfigError: If the cache folder cannot be created or written.
    """
    ensure_dir(path.parent)
    if not os.access(
        path.parent, os.W_OK
    ):  # read-only: fail now, not at the lock's timeout
        raise unwritable(path, _why_not_writable(path.parent))
    lock_path = Path(f"{path}.lock")
    busy = "Another seqcast process has held the cache lock {lock} for over {timeout:g} s. Wait for it to finish and retry."
    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(
                atomic.locked(path, lock_timeout, lock=lock_path, busy=busy)
            )
        except OSError as exc:  # the lock file cannot be created: a read-only folder
            raise unwritable(path, str(exc.strerror or exc)) from None
        current = None
        if not replace:
            with contextlib.suppress(DataError):
                current = read_cache(path)
        if current is None:
            frame = fresh.reset_index(drop=True)
            covered = covered_start
        else:
            frame = merge_prices(current.frame, fresh)
            covered = _earlier(current.meta.covered_start, covered_start)
        meta = CacheMeta(
            ticker=ticker,
            interval=interval,
            fetched_at=now or datetime.now(UTC),
            covered_start=covered,
        )
        _write_atomic(path, meta.to_line() + _prices_csv(frame, interval))
    return CachedPrices(path=path, meta=meta, frame=frame)


def parse_age(text: str) -> timedelta:
    """Parse an age such as ``90m``, ``12h``, ``3d`` or ``2w`` (a bare number means days).

    Raises:
        ConfigError: If the text is not a non-negative number with an optional unit.
    """
    match = _AGE_RE.match(text)
    if match is None:
        raise ConfigError(
            f"max_stale={text!r} is not an age. Use a number with a unit, such as 12h, 3d or 2w."
        )
    value, unit = float(match.group(1)), (match.group(2) or "d").lower()
    return timedelta(seconds=value * _AGE_UNITS[unit])


def format_age(age: timedelta) -> str:
    """Describe an age in words: ``"45 minutes"``, ``"5 hours"``, ``"3 days"``."""
    seconds = max(age.total_seconds(), 0.0)
    if seconds < 90 * 60:
        count, unit = max(1, round(seconds / 60)), "minute"
    elif seconds < 86400:
        count, unit = round(seconds / 3600), "hour"
    else:
        count, unit = max(1, round(seconds / 86400)), "day"
    return f"{count} {unit}{'' if count == 1 else 's'}"


def age_option(age: timedelta) -> str:
    """Return the smallest whole ``--max-stale`` value that allows ``age``: ``4d``, ``6h``."""
    seconds = max(age.total_seconds(), 0.0)
    if seconds >= 86400:
        return f"{math.floor(seconds / 86400) + 1}d"
    return f"{math.floor(seconds / 3600) + 1}h"


def _earlier(a: date | None, b: date | None) -> date | None:
    if a is None or b is None:
        return None
    return min(a, b)


def _damaged(path: Path, detail: str) -> DataError:
    return DataError(
        f"Cache file {path} is damaged: {detail}. Delete it and run `seqcast data fetch` again."
    )


def _not_a_folder(path: Path) -> ConfigError:
    """Name the file that stands where a folder of the cache should be."""
    blocker = next(
        (p for p in reversed(path.parents) if p.exists() and not p.is_dir()),
        path.parent,
    )
    return ConfigError(
        f"The cache directory {blocker} is a file, not a folder. Pass --cache-dir or set {CACHE_ENV} to a folder (seqcast creates it if needed)."
    )


def ensure_dir(directory: Path) -> None:
    """Create a cache folder (and its parents) if needed.

    Raises:
        ConfigError: If it cannot be created.
    """
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise _not_a_folder(directory / "x") from None
    except OSError as exc:
        raise CacheUnwritable(
            f"Cannot create the cache directory {directory}: {exc.strerror}. Pass --cache-dir or set {CACHE_ENV} to a writable folder.",
            directory,
            str(exc.strerror or exc),
        ) from None


def _prices_csv(frame: pd.DataFrame, interval: str) -> str:
    out = frame.loc[:, ["date", *PRICE_COLUMNS]].copy()
    fmt = "%Y-%m-%d %H:%M:%S" if interval in INTRADAY_INTERVALS else "%Y-%m-%d"
    out["date"] = pd.to_datetime(out["date"]).dt.strftime(fmt)
    volume = out["Volume"]
    known = volume.dropna()
    if bool((known == known.round()).all()):
        out["Volume"] = volume.astype("Int64")
    return str(out.to_csv(index=False, lineterminator="\n"))


class CacheUnwritable(ConfigError):
    """The cache cannot be written (read-only folder, full disk); reading may still work.

    Attributes:
        path: The file or folder that could not be written.
        reason: Why, e.g. ``Read-only file system``.
    """

    def __init__(self, message: str, path: Path, reason: str) -> None:
        super().__init__(message)
        self.path = path
        self.reason = reason


def unwritable(path: Path, reason: str) -> CacheUnwritable:
    """Return the error for a cache file that cannot be written, naming the reason."""
    return CacheUnwritable(
        f"Cannot write the cache file {path}: {reason}. Free some disk space or make {path.parent} writable, or pass --cache-dir with another folder.",
        path,
        reason,
    )


def _why_not_writable(folder: Path) -> str:
    """Say why ``folder`` refuses writes: the OS's words on a read-only mount, else plainly."""
    try:
        if os.statvfs(folder).f_flag & os.ST_RDONLY:
            return os.strerror(errno.EROFS)  # "Read-only file system"
    except (OSError, AttributeError):  # AttributeError: no statvfs (Windows)
        pass
    return f"{folder} is not writable"


def _write_atomic(path: Path, text: str) -> None:
    """Replace the cache file with ``text`` atomically (see :mod:`seqcast.atomic`)."""
    try:
        atomic.replace_text(path, text)
    except OSError as exc:
        raise unwritable(path, str(exc.strerror or exc)) from None
