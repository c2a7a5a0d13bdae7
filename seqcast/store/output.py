"""Writing outputs safely: the lock on an output path, atomic text files, JSON-ready values.

:func:`output_lock` guards a model directory or an ``--output`` file against a second
seqcast process writing it; :func:`atomic_write_text` writes ``--output`` through a
temporary sibling; :func:`json_ready` makes NumPy and non-finite values fit for JSON.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from seqcast import atomic
from seqcast.atomic import DEFAULT_LOCK_TIMEOUT
from seqcast.errors import ArtifactError

__all__ = ["atomic_write_text", "json_ready", "output_lock"]


@contextlib.contextmanager
def output_lock(
    target: Path, timeout: float, *, option: str = "--output"
) -> Iterator[None]:
    """Hold the exclusive lock on ``target`` (see :func:`seqcast.atomic.locked`).

    Args:
        target: The file or model directory to be written.
        timeout: Seconds to wait for another holder.
        option: The flag that chose ``target``, named in the error's advice.

    Raises:
        LockError: If the lock is not acquired within ``timeout`` seconds.
        ArtifactError: If the lock file cannot be created (a read-only folder).
    """
    try:
        with atomic.locked(target, timeout):
            yield
    except OSError as exc:
        raise ArtifactError(
            f"Cannot create the lock file {atomic.lock_path(target)} for {target}: {exc.strerror or exc}. {atomic.fault_advice(exc, target.parent, option)}"
        ) from None


def atomic_write_text(
    path: Path, text: str, *, lock_timeout: float = DEFAULT_LOCK_TIMEOUT
) -> None:
    """Write ``text`` to ``path`` through a temporary sibling and ``os.replace``, under a lock.

    Raises:
        ArtifactError: If the file cannot be written; the previous file is left untouched.
        LockError: If another process holds the lock for longer than ``lock_timeout``.
    """
    path = Path(path)
    if path.is_dir():
        raise ArtifactError(f"--output {path} is a directory. Give a file path.")
    if not path.parent.is_dir():
        raise ArtifactError(
            f"Cannot write {path}: {path.parent} is not an existing directory. Create it first or choose another --output."
        )
    with output_lock(path, lock_timeout):
        atomic.remove_stale_temporaries(path)
        try:
            atomic.replace_text(path, text)
        except OSError as exc:
            raise ArtifactError(
                f"Cannot write {path}: {exc.strerror or exc}. {atomic.fault_advice(exc, path.parent, '--output')}"
            ) from None


def json_ready(value: Any) -> Any:
    """Return ``value`` with NaN/inf floats as None and NumPy scalars as Python numbers."""
    if isinstance(value, dict):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(v) for v in value]
    if (
        hasattr(value, "item")
        and callable(value.item)
        and getattr(value, "ndim", 1) == 0
    ):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
