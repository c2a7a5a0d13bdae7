"""Atomic files and locks: every file seqcast writes goes to a temporary sibling first.

One mechanism serves the model directory (``store``), the ticker cache (``data``),
``--output`` files and plots: write into ``.NAME.tmp-PID-XXXXXXXX`` beside the target,
flush and fsync it, ``os.replace`` it over the target and fsync the folder, all under an
exclusive lock on the target. A reader, or a run killed at any moment, sees the complete
old file or the complete new one; the next writer removes what a killed run left behind.

The lock is an OS lock (``flock``) on ``.NAME.lock`` beside the target, which its holder
deletes before letting go, so no lock file stays behind (see :func:`locked`).
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from seqcast.errors import LockError

DEFAULT_LOCK_TIMEOUT = 60.0
"""Seconds a writer waits for another process holding the same lock (``--lock-timeout``)."""

_POLL_S = 0.05
"""Seconds between two tries at a lock another process holds."""

_NO_FLOCK = frozenset({errno.ENOLCK, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP})
"""``flock`` errors meaning the file system does not lock: ``filelock`` takes over."""


class _Busy(Exception):
    """Another process held the lock for the whole timeout."""


BUSY_MESSAGE = "Another seqcast process is writing {target} (lock {lock} still held after {timeout:g} s). Wait for it to finish, or raise --lock-timeout."


def lock_path(target: Path) -> Path:
    """Return the lock file that guards ``target``: ``.NAME.lock`` beside it."""
    return target.parent / f".{target.name}.lock"


_held: dict[tuple[str, int], int] = {}
"""Locks this process holds: (lock file, thread id) -> depth, so nesting re-enters."""


@contextlib.contextmanager
def locked(
    target: Path,
    timeout: float = DEFAULT_LOCK_TIMEOUT,
    *,
    lock: Path | None = None,
    busy: str = BUSY_MESSAGE,
) -> Iterator[None]:
    """Hold an exclusive lock on ``target`` while the block runs.

    Re-entrant within one thread: a block nested in another holding the same lock (a
    command that locks its output before the work, then saves under the same lock)
    enters at once and leaves the lock held for the outer block. Another thread or
    process waits, as before.

    The lock file exists only while a lock is held. On POSIX the holder deletes it
    before releasing its ``flock``, and every process that wins the ``flock`` checks
    that the file it locked is still the one at the lock's path, else it tries again on
    the one there now. So a waiter that had opened the deleted file never runs beside
    the process that created the next one. A killed holder's lock is released by the
    kernel; its file stays until the next writer of ``target`` deletes it. Where
    ``flock`` is missing (Windows, some network file systems) ``filelock`` takes over.

    Args:
        target: The file or directory being written.
        timeout: Seconds to wait for another holder; 0 tries once.
        lock: The lock file (default :func:`lock_path`).
        busy: Message of the :class:`LockError`, formatted with ``target``, ``lock``
            and ``timeout``.

    Raises:
        LockError: If the lock is not acquired within ``timeout`` seconds.
        OSError: If the lock file cannot be created.
    """
    path = lock or lock_path(target)
    key = (os.path.abspath(path), threading.get_ident())
    if key in _held:
        _held[key] += 1
        try:
            yield
        finally:
            _held[key] -= 1
        return
    try:
        release = _acquire_flock(path, max(timeout, 0.0)) or _acquire_filelock(
            path, max(timeout, 0.0)
        )
    except _Busy:
        raise LockError(
            busy.format(target=target, lock=path, timeout=timeout)
        ) from None
    _held[key] = 1
    try:
        yield
    finally:
        del _held[key]
        release()


def _acquire_flock(path: Path, timeout: float) -> Callable[[], None] | None:
    """Take ``flock`` on the lock file at ``path``, waiting up to ``timeout`` seconds.

    Returns:
        The function that deletes the lock file and releases the lock, or None where
        ``flock`` is unavailable.

    Raises:
        _Busy: If another process held the lock for the whole ``timeout``.
        OSError: If the lock file cannot be created.
    """
    try:
        import fcntl
    except ImportError:  # Windows
        return None
    deadline = time.monotonic() + timeout
    while True:
        fd, created = _open_lock_file(path)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            left = deadline - time.monotonic()
            if left <= 0:
                raise _Busy from None
            time.sleep(min(_POLL_S, left))
            continue
        except OSError as exc:
            os.close(fd)
            if exc.errno in _NO_FLOCK:
                if created:  # leave no file that filelock would take for a marker
                    with contextlib.suppress(OSError):
                        os.unlink(path)
                return None
            raise
        except BaseException:
            os.close(fd)
            raise
        if _is_linked_at(fd, path):
            return _release_flock(fd, path)
        os.close(fd)  # the previous holder deleted this file: lock the one there now


def _open_lock_file(path: Path) -> tuple[int, bool]:
    """Open the lock file at ``path``, creating it if needed; say whether it was created."""
    flags = os.O_RDWR | getattr(os, "O_CLOEXEC", 0)
    while True:
        try:
            return os.open(path, flags | os.O_CREAT | os.O_EXCL, 0o644), True
        except FileExistsError:
            pass
        try:
            return os.open(path, flags), False
        except FileNotFoundError:  # its holder deleted it in between: create it
            continue


def _is_linked_at(fd: int, path: Path) -> bool:
    """Return whether the open file ``fd`` is still the file at ``path``."""
    opened = os.fstat(fd)
    try:
        current = os.stat(path)
    except FileNotFoundError:
        return False
    return (opened.st_dev, opened.st_ino) == (current.st_dev, current.st_ino)


def _release_flock(fd: int, path: Path) -> Callable[[], None]:
    """Return the release of a held ``flock``: delete the lock file first, then unlock."""
    import fcntl

    def release() -> None:
        try:
            with contextlib.suppress(OSError):  # a read-only folder keeps the file
                os.unlink(path)
            fcntl.flock(fd, fcntl.LOCK_UN)  # also for children forked meanwhile
        finally:
            os.close(fd)

    return release


def _acquire_filelock(path: Path, timeout: float) -> Callable[[], None]:
    """Take the lock through ``filelock`` where ``flock`` is unavailable.

    Returns:
        The function that releases the lock.

    Raises:
        _Busy: If another process held the lock for the whole ``timeout``.
    """
    import filelock

    handle = filelock.FileLock(str(path), timeout=timeout)
    try:
        handle.acquire()
    except filelock.Timeout:
        raise _Busy from None
    return lambda: handle.release()


_FULL = frozenset({errno.ENOSPC, errno.EDQUOT})
_READ_ONLY = frozenset({errno.EROFS})
_DENIED = frozenset({errno.EACCES, errno.EPERM})


def fault_advice(exc: OSError, folder: Path, option: str) -> str:
    """Say what to do about a write into ``folder`` that failed with ``exc``.

    Args:
        exc: The error of the failed write, lock or rename.
        folder: The folder written into.
        option: The flag that chose the path, such as ``--output``.

    Returns:
        One sentence, by the kind of fault: for ENOSPC in ``out`` with ``--output``,
        ``Free some space in out or give another --output.``
    """
    if exc.errno in _FULL:
        return f"Free some space in {folder} or give another {option}."
    if exc.errno in _READ_ONLY:
        return f"Give another {option} on a writable file system."
    if exc.errno in _DENIED:
        return f"Make {folder} writable or give another {option}."
    return (
        f"Check the free space and permissions of {folder}, or give another {option}."
    )


def temporary_sibling(target: Path) -> Path:
    """Return a fresh temporary name beside ``target`` (``.NAME.tmp-PID-XXXXXXXX``)."""
    return target.parent / f".{target.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def remove_stale_temporaries(target: Path) -> None:
    """Delete the temporaries that killed runs left beside ``target`` (hold its lock)."""
    for stale in target.parent.glob(f".{target.name}.tmp-*"):
        if stale.is_dir() and not stale.is_symlink():
            shutil.rmtree(stale, ignore_errors=True)
        else:
            stale.unlink(missing_ok=True)


def replace_file(target: Path, write: Callable[[Path], None]) -> None:
    """Write a file through a temporary sibling and move it over ``target`` atomically.

    Args:
        target: The file to create or replace.
        write: Called with the temporary path; must create the file there.

    Raises:
        OSError: If writing or renaming fails; ``target`` is then left as it was and
            the temporary is removed.
    """
    tmp = temporary_sibling(target)
    try:
        write(tmp)
        fsync_file(tmp)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    fsync_dir(target.parent)


def replace_text(target: Path, text: str) -> None:
    """Write ``text`` (UTF-8, newlines as given) to ``target`` atomically; see :func:`replace_file`.

    Raises:
        OSError: As :func:`replace_file`.
    """

    def write(tmp: Path) -> None:
        with open(tmp, "x", encoding="utf-8", newline="") as handle:
            handle.write(text)

    replace_file(target, write)


def fsync_file(path: Path) -> None:
    """Flush a written file's bytes to the disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(directory: Path) -> None:
    """Persist a rename inside ``directory`` (POSIX); a no-op where folders cannot be opened."""
    flags: Any = getattr(os, "O_DIRECTORY", 0) | os.O_RDONLY
    try:
        fd = os.open(directory, flags)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)
