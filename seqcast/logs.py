"""Logging for unattended runs: the ``seqcast`` logger, text or JSON-lines log files.

Library code logs warnings through ``logging.getLogger("seqcast")`` (or :func:`warn`);
the CLI decides where they go with :func:`configure`: warnings are rendered on stderr as
``warning: ...`` (never on stdout), and every record, including the command's start, its
notes, its final error line and its exit code, is appended to ``--log-file`` when given.

A JSON line looks like::

    {"ts": "2026-01-31T06:00:01.123+00:00", "level": "warning", "event": "cudnn",
     "message": "dropout forfeits the cuDNN kernels", "command": "train", "pid": 4242}
"""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from seqcast.errors import ConfigError
from seqcast.printable import printable
from seqcast.progress import finish as finish_progress

LOGGER_NAME = "seqcast"
logger = logging.getLogger(LOGGER_NAME)
# A library's logger gets a NullHandler, so that a warning logged before configure()
# is not printed a second time by logging's last-resort handler (warn() writes it).
_NULL = logging.NullHandler()
logger.addHandler(_NULL)

_RESERVED = {"ts", "level", "event", "message"}
_context: dict[str, Any] = {}


class LogFormat(StrEnum):
    """Formats of ``--log-file``."""

    TEXT = "text"
    JSON = "json"


def _stamp(record: logging.LogRecord) -> str:
    return datetime.fromtimestamp(record.created, UTC).isoformat(
        timespec="milliseconds"
    )


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    fields = getattr(record, "fields", None)
    return dict(fields) if isinstance(fields, dict) else {}


class JsonFormatter(logging.Formatter):
    """Format a record as one JSON object: ts, level, event, message, then fields."""

    def format(self, record: logging.LogRecord) -> str:
        """Return the record as a single JSON line (no newline)."""
        payload: dict[str, Any] = {
            "ts": _stamp(record),
            "level": record.levelname.lower(),
            "event": getattr(record, "event", "message"),
            "message": record.getMessage(),
        }
        for key, value in {**_context, **_fields(record)}.items():
            payload[key if key not in _RESERVED else f"field_{key}"] = value
        return json.dumps(payload, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """Format a record as ``ts LEVEL [event] message [key=value ...]`` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        """Return the record as a single text line (no newline)."""
        extra = " ".join(
            f"{key}={value}" for key, value in {**_context, **_fields(record)}.items()
        )
        message = printable(record.getMessage())
        line = f"{_stamp(record)} {record.levelname} [{getattr(record, 'event', 'message')}] {message}"
        return f"{line} [{extra}]" if extra else line


class _StderrWarnings(logging.Handler):
    """Render warnings as ``warning: ...`` on the current ``sys.stderr``."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.addFilter(lambda record: record.levelno == logging.WARNING)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            finish_progress()  # a warning never lands in the middle of a progress bar
            stream = sys.stderr
            stream.write(f"warning: {printable(record.getMessage())}\n")
            stream.flush()
        except Exception:  # logging must never break a run
            self.handleError(record)


def configure(
    log_file: Path | None = None,
    log_format: LogFormat = LogFormat.TEXT,
    **context: Any,
) -> None:
    """Route the ``seqcast`` logger: warnings to stderr, everything to ``log_file``.

    Calling it again replaces the handlers installed by the previous call.

    Args:
        log_file: File to append log lines to; None logs nothing to a file.
        log_format: ``text`` or ``json`` (one JSON object per line).
        **context: Fields added to every record, such as ``command="train"``.

    Raises:
        ConfigError: If ``log_file`` cannot be opened for appending.
    """
    reset()
    _context.update({"pid": os.getpid(), **context})
    logger.setLevel(logging.INFO)
    logger.propagate = False
    logger.addHandler(_StderrWarnings())
    if log_file is not None:
        try:
            handler: logging.Handler = logging.FileHandler(
                log_file, mode="a", encoding="utf-8"
            )
        except OSError as exc:
            raise ConfigError(
                f"Cannot open --log-file {log_file}: {exc.strerror or exc}. Give a file in a writable directory."
            ) from None
        handler.setFormatter(
            JsonFormatter() if log_format is LogFormat.JSON else TextFormatter()
        )
        logger.addHandler(handler)


def reset() -> None:
    """Remove and close the handlers :func:`configure` installed."""
    for handler in list(logger.handlers):
        if handler is _NULL:
            continue
        logger.removeHandler(handler)
        handler.close()
    _context.clear()
    logger.propagate = True


def set_context(**context: Any) -> None:
    """Add fields to every later record (e.g. the subcommand once it is known)."""
    _context.update(context)


def event(name: str, message: str, *, level: int = logging.INFO, **fields: Any) -> None:
    """Log one structured event, e.g. ``event("saved", "saved model", path="m")``."""
    logger.log(level, message, extra={"event": name, "fields": fields})


def warn(message: str, *, name: str = "warning", **fields: Any) -> None:
    """Log a warning: stderr shows ``warning: message``; the log file records it too.

    Before :func:`configure` has run (a library caller, or a sub-app used on its own) the
    warning is still written to stderr, so it is never lost.
    """
    if not any(isinstance(h, _StderrWarnings) for h in logger.handlers):
        finish_progress()
        sys.stderr.write(f"warning: {printable(message)}\n")
        sys.stderr.flush()
    event(name, message, level=logging.WARNING, **fields)
