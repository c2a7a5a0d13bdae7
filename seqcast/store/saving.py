"""Writing a model directory: built under a temporary sibling, checksummed, swapped in.

:func:`save_artifact` writes every file and ``seqcast.json`` (with the SHA-256 of each
other file) into a temporary sibling under the output lock, carries the user's own
entries across, and puts the directory in place with one ``renameat2(RENAME_EXCHANGE)``
(:mod:`seqcast.store.swap`). :func:`check_replaceable` refuses an ``--out`` that is not
a model directory before any work starts.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from seqcast import atomic
from seqcast.atomic import DEFAULT_LOCK_TIMEOUT
from seqcast.errors import ArtifactError, SeqcastError
from seqcast.store import swap
from seqcast.store.layout import META_FILE, MODEL_FILE
from seqcast.store.output import json_ready, output_lock
from seqcast.store.schema import SCHEMA_VERSION, ModelMeta

__all__ = ["check_replaceable", "save_artifact"]


def save_artifact(
    out: Path,
    write_model: Callable[[Path], None] | None,
    meta: ModelMeta,
    *,
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
    extra_files: Sequence[tuple[str, Callable[[Path], None]]] = (),
) -> Path:
    """Write a model directory atomically, replacing the previous model as a whole.

    Entries of a previous directory that seqcast does not own (anything but
    ``model.keras``, ``model-N.keras``, ``series-K.keras``, ``series-K-N.keras`` and
    ``seqcast.json``, such as a ``NOTES.txt``
    or a ``plots/`` folder) are moved into the new directory before the swap, so
    retraining never deletes them; a run killed in between leaves them in its
    temporary sibling, from which the next save moves them back.

    Args:
        out: Destination directory. If it exists it must be a seqcast model directory.
        write_model: Called with the path where ``model.keras`` must be written;
            None for a directory without one (a model of local models, whose
            networks are all ``extra_files``).
        meta: The metadata; ``schema_version`` and ``files`` are added here.
        lock_timeout: Seconds to wait for another process writing the same ``out``.
        extra_files: (name, writer) pairs for further files, such as ensemble members
            (``model-1.keras``); each writer is called with its file's path, and each
            file is checksummed in ``files`` like ``model.keras``.

    Returns:
        The destination path.

    Raises:
        ArtifactError: If ``out`` is something other than a model directory, or cannot be written.
        LockError: If another process holds the lock for longer than ``lock_timeout``.
    """
    out = Path(out)
    first = [MODEL_FILE] if write_model is not None else []
    names = [*first, *(name for name, _ in extra_files)]
    if len(set(names)) != len(names) or any(
        not name or "/" in name or name.startswith(".") or name == META_FILE
        for name in names
    ):
        raise ValueError(f"extra_files names must be distinct plain names: {names}")
    parent = out.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ArtifactError(
            f"Cannot create the directory {parent}: {exc.strerror}. Choose an --out in a writable place."
        ) from None
    _check_replaceable(out)
    with output_lock(out, lock_timeout, option="--out"):
        swap.rescue_user_entries(out)
        atomic.remove_stale_temporaries(out)
        tmp = atomic.temporary_sibling(out)
        try:
            tmp.mkdir()
            if write_model is not None:
                write_model(tmp / MODEL_FILE)
            for name, write in extra_files:
                write(tmp / name)
            files = {name: _file_record(tmp / name) for name in names}
            full_meta = {
                "schema_version": SCHEMA_VERSION,
                **meta.to_json(),
                "files": files,
            }
            _write_json(tmp / META_FILE, full_meta)
            carried = swap.carry_user_entries(out, tmp)
            try:
                atomic.fsync_dir(tmp)
                swap.swap_into_place(tmp, out)
            except BaseException:
                swap.move_entries(tmp, out, carried)  # the swap failed: give them back
                raise
        except SeqcastError:
            raise
        except OSError as exc:
            raise ArtifactError(
                f"Cannot write the model to {out}: {exc.strerror or exc}. {atomic.fault_advice(exc, parent, '--out')}"
            ) from None
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return out


def check_replaceable(out: Path) -> None:
    """Refuse an ``out`` that exists and is not a model directory (before any work).

    Raises:
        ArtifactError: Naming ``out`` and what to do.
    """
    _check_replaceable(out)


def _check_replaceable(out: Path) -> None:
    if not out.exists() and not out.is_symlink():
        return
    if not out.is_dir() or out.is_symlink():
        raise ArtifactError(
            f"--out {out} exists and is not a seqcast model directory. Choose another --out or remove it."
        )
    if (out / META_FILE).is_file():
        return
    if any(out.iterdir()):
        raise ArtifactError(
            f"--out {out} exists and is not a seqcast model directory (no {META_FILE}). Choose another --out or remove it."
        )


def _file_record(path: Path) -> dict[str, Any]:
    return {"sha256": _sha256(path), "bytes": path.stat().st_size}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_json(path: Path, payload: dict[str, Any]) -> None:
    text = json.dumps(json_ready(payload), indent=2, allow_nan=False) + "\n"
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
