"""Putting a new model directory in place of the old one, atomically, keeping the user's files.

The new directory is built under a temporary sibling; entries the user put in the old one
(a ``NOTES.txt``, a ``plots/`` folder: anything seqcast does not own) are moved into it,
then one ``renameat2(RENAME_EXCHANGE)`` swaps the two, so a reader or a killed run sees the
complete old directory or the complete new one. A failed swap gives the entries back;
a killed run's entries are rescued from its temporary by the next save.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import glob
import os
import shutil
import uuid
from collections.abc import Sequence
from pathlib import Path

from seqcast import atomic
from seqcast.store.layout import is_owned


def user_entries(directory: Path) -> list[str]:
    """Names in ``directory`` that seqcast does not own, sorted."""
    try:
        return sorted(e.name for e in os.scandir(directory) if not is_owned(e.name))
    except (FileNotFoundError, NotADirectoryError):
        return []


def move_entries(src: Path, dst: Path, names: Sequence[str]) -> None:
    """Rename each of ``names`` from ``src`` to ``dst`` (same file system: no copy)."""
    for name in names:
        os.rename(src / name, dst / name)


def carry_user_entries(out: Path, tmp: Path) -> list[str]:
    """Move the user's entries of ``out`` into the new directory ``tmp``; return their names."""
    if not out.is_dir() or out.is_symlink():
        return []
    names = [n for n in user_entries(out) if not (tmp / n).exists()]
    moved: list[str] = []
    try:
        for name in names:
            os.rename(out / name, tmp / name)
            moved.append(name)
    except BaseException:
        move_entries(tmp, out, moved)
        raise
    return moved


def rescue_user_entries(out: Path) -> None:
    """Move user entries left in killed runs' temporaries back into ``out`` (hold the lock)."""
    if not out.is_dir() or out.is_symlink():
        return
    for stale in sorted(out.parent.glob(f".{glob.escape(out.name)}.tmp-*")):
        if not stale.is_dir() or stale.is_symlink():
            continue
        for name in user_entries(stale):
            if not (out / name).exists():
                with contextlib.suppress(OSError):
                    os.rename(stale / name, out / name)


def swap_into_place(tmp: Path, out: Path) -> None:
    """Put ``tmp`` at ``out``; afterwards ``tmp`` holds the previous directory, if any."""
    if not out.exists():
        os.rename(tmp, out)
        atomic.fsync_dir(out.parent)
        return
    if rename_exchange(tmp, out):
        atomic.fsync_dir(out.parent)
        return
    # No atomic exchange on this system: a two-step swap keeps the old copy until the new one is in.
    old = out.parent / f".{out.name}.tmp-old-{uuid.uuid4().hex[:8]}"
    os.rename(out, old)
    os.rename(tmp, out)
    atomic.fsync_dir(out.parent)
    shutil.rmtree(old, ignore_errors=True)


def rename_exchange(a: Path, b: Path) -> bool:
    """Atomically exchange two paths with Linux ``renameat2``; False where unsupported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    renameat2.argtypes = [
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_uint,
    ]
    if (
        renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
        == 0
    ):
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err))
