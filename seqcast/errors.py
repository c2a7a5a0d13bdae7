"""Exception types that users can act on, and the exit codes the CLI maps them to."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes; the README documents each one."""

    OK = 0
    USER_ERROR = 1  # bad data or config, missing or incompatible artifact
    USAGE = 2  # set by Typer: unknown flag, value out of range
    SOURCE_UNAVAILABLE = 3  # ticker download failed; a retry may help
    LOCKED = 4  # another seqcast process holds the lock on the same output
    NON_FINITE = 5  # the model produced nan or inf; nothing was written
    CLUSTER_UNAVAILABLE = 6  # the Dask cluster could not be reached or lost its workers
    INTERRUPTED = 130  # Ctrl-C / SIGINT; nothing was written


class SeqcastError(Exception):
    """A problem the user can fix; the CLI prints it as one line, no traceback."""

    exit_code: ExitCode = ExitCode.USER_ERROR


class DataError(SeqcastError):
    """The input data cannot be used as asked: unreadable, malformed or too short."""


class ConfigError(SeqcastError):
    """Options contradict each other or the data."""


class ArtifactError(SeqcastError):
    """A model directory is missing, incomplete, tampered with or incompatible."""


class SourceError(SeqcastError):
    """A remote data source failed; retrying later may help."""

    exit_code = ExitCode.SOURCE_UNAVAILABLE


class LockError(SeqcastError):
    """Another process holds the lock on the same output for longer than allowed."""

    exit_code = ExitCode.LOCKED


class NonFiniteError(SeqcastError):
    """A forecast or score came out nan or inf (overflowing weights or input values)."""

    exit_code = ExitCode.NON_FINITE


class ClusterError(SeqcastError):
    """The Dask cluster could not be reached, or lost the workers of a run; retrying may help."""

    exit_code = ExitCode.CLUSTER_UNAVAILABLE
