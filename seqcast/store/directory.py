"""Model directories: written atomically under a lock, verified by checksum on load, never unpickled.

A model directory holds two files:

- ``model.keras``: the Keras 3 model (zip of ``config.json`` + ``model.weights.h5``),
  loaded with Keras' ``safe_mode=True`` so no code can run on load;
- ``seqcast.json``: schema version, configuration, scaler parameters, columns, frequency,
  the last window, training history, metrics, versions and the SHA-256 of every other file.

Saving builds the directory under a temporary sibling name and swaps it into place with one
``renameat2(RENAME_EXCHANGE)`` call, so a reader (or a run killed at any moment) sees either
the complete previous directory or the complete new one.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import hashlib
import json
import math
import os
import shutil
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from seqcast import atomic
from seqcast.atomic import DEFAULT_LOCK_TIMEOUT
from seqcast.config import RunConfig
from seqcast.errors import ArtifactError, SeqcastError
from seqcast.store.schema import SCHEMA_VERSION, ModelMeta

if TYPE_CHECKING:
    from seqcast.model.predict import NumpyModel

MODEL_FILE = "model.keras"
META_FILE = "seqcast.json"


def member_file(member: int) -> str:
    """Return the file name of ensemble member ``member`` (0-based).

    Member 0 is ``model.keras``, so readers that know one model still find it; the
    others are ``model-1.keras``, ``model-2.keras``, ... Example: an ensemble of 3 is
    ``model.keras``, ``model-1.keras``, ``model-2.keras``.
    """
    return MODEL_FILE if member == 0 else f"model-{member}.keras"


@dataclass(frozen=True, slots=True)
class Artifact:
    """A verified model directory; the Keras model itself is loaded only on demand.

    Attributes:
        path: The model directory.
        meta: The validated ``seqcast.json``.
    """

    path: Path
    meta: ModelMeta

    @property
    def config(self) -> RunConfig:
        """The run configuration that trained the model."""
        return self.meta.config

    @property
    def model_file(self) -> Path:
        """Path of the Keras model file."""
        return self.path / MODEL_FILE

    @property
    def ensemble(self) -> int:
        """Number of ensemble members (1 for a single model)."""
        return self.config.train.ensemble

    @property
    def member_files(self) -> tuple[Path, ...]:
        """Paths of every member's Keras file, member 0 (``model.keras``) first."""
        return tuple(self.path / member_file(i) for i in range(self.ensemble))

    @property
    def target(self) -> str:
        """Name of the forecast column."""
        return self.meta.columns.target

    @property
    def features(self) -> tuple[str, ...]:
        """Covariate columns the model reads besides the target."""
        return self.meta.columns.features

    @property
    def freq(self) -> str:
        """Pandas frequency alias of the training series."""
        return self.meta.columns.freq

    @property
    def window(self) -> int:
        """Steps the model reads per forecast."""
        return self.config.train.window

    @property
    def horizon(self) -> int:
        """Steps the model predicts at once."""
        return self.config.train.horizon

    def keras_model(self, member: int = 0) -> Any:
        """Load a member's Keras model in safe mode (no Lambda layers, no pickled code).

        Raises:
            ArtifactError: If Keras refuses the file.
        """
        from seqcast.runtime import import_keras_quietly

        keras = import_keras_quietly()
        file = self.path / member_file(member)
        try:
            return keras.saving.load_model(file, compile=False, safe_mode=True)
        except Exception as exc:  # Keras raises ValueError/TypeError/OSError variants
            first_line = (
                str(exc).strip().splitlines()[0]
                if str(exc).strip()
                else type(exc).__name__
            )
            raise ArtifactError(
                f"Keras cannot load {file} safely: {first_line[:200]}. Retrain with `seqcast train`; seqcast never loads models that carry code."
            ) from None

    def numpy_model(self, member: int = 0) -> NumpyModel:
        """Load a member's weights for the NumPy forward pass (no TensorFlow, no Keras).

        Raises:
            UnsupportedModelError: If the architecture has a layer the NumPy engine lacks.
        """
        from seqcast.model.predict import NumpyModel

        return NumpyModel.from_keras_file(self.path / member_file(member))


def save_artifact(
    out: Path,
    write_model: Callable[[Path], None],
    meta: ModelMeta,
    *,
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
    extra_files: Sequence[tuple[str, Callable[[Path], None]]] = (),
) -> Path:
    """Write a model directory atomically, replacing any previous one as a whole.

    Args:
        out: Destination directory. If it exists it must be a seqcast model directory.
        write_model: Called with the path where ``model.keras`` must be written.
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
    names = [MODEL_FILE, *(name for name, _ in extra_files)]
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
    with output_lock(out, lock_timeout):
        atomic.remove_stale_temporaries(out)
        tmp = atomic.temporary_sibling(out)
        try:
            tmp.mkdir()
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
            atomic.fsync_dir(tmp)
            _swap_into_place(tmp, out)
        except SeqcastError:
            raise
        except OSError as exc:
            raise ArtifactError(
                f"Cannot write the model to {out}: {exc.strerror or exc}. Check the disk space and permissions of {parent}."
            ) from None
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return out


def load_artifact(path: Path) -> Artifact:
    """Read and verify a model directory without loading the model itself.

    Checks, in order: the directory exists, ``seqcast.json`` parses, its schema version is
    supported, every recorded file is present with the recorded size and SHA-256.

    Raises:
        ArtifactError: Naming the file and what to do, on any failed check.
    """
    path = Path(path)
    meta_path = path / META_FILE
    if not path.exists():
        raise ArtifactError(f"No model at {path}. Run `seqcast train` first.")
    if not path.is_dir():
        raise ArtifactError(
            f"{path} is a file, not a model directory. Give the directory that `seqcast train --out` wrote."
        )
    if not meta_path.is_file():
        raise ArtifactError(
            f"{meta_path} is missing, so {path} is not a complete model. Run `seqcast train` first."
        )
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ArtifactError(
            f"{meta_path} is unreadable or corrupted ({type(exc).__name__}). Retrain with `seqcast train`."
        ) from None
    if not isinstance(meta, dict):
        raise ArtifactError(
            f"{meta_path} is not a seqcast metadata file. Retrain with `seqcast train`."
        )
    files = meta.get("files")
    if not isinstance(files, dict) or MODEL_FILE not in files:
        raise ArtifactError(
            f"{meta_path} records no checksum for {MODEL_FILE}. Retrain with `seqcast train`."
        )
    parsed = ModelMeta.from_json(meta, str(meta_path))
    for member in range(parsed.config.train.ensemble):
        if member_file(member) not in files:
            raise ArtifactError(
                f"{meta_path} records no checksum for {member_file(member)}. Retrain with `seqcast train`."
            )
    for name, record in files.items():
        _verify_file(path, name, record)
    return Artifact(path=path, meta=parsed)


@contextlib.contextmanager
def output_lock(target: Path, timeout: float) -> Iterator[None]:
    """Hold the exclusive lock on ``target`` (see :func:`seqcast.atomic.locked`).

    Raises:
        LockError: If the lock is not acquired within ``timeout`` seconds.
        ArtifactError: If the lock file cannot be created.
    """
    try:
        with atomic.locked(target, timeout):
            yield
    except OSError as exc:
        raise ArtifactError(
            f"Cannot create the lock file {atomic.lock_path(target)}: {exc.strerror}. Choose an output in a writable directory."
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
                f"Cannot write {path}: {exc.strerror or exc}. Check the permissions and free space of {path.parent}."
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


def _swap_into_place(tmp: Path, out: Path) -> None:
    """Put ``tmp`` at ``out``; afterwards ``tmp`` holds the previous directory, if any."""
    if not out.exists():
        os.rename(tmp, out)
        atomic.fsync_dir(out.parent)
        return
    if _rename_exchange(tmp, out):
        atomic.fsync_dir(out.parent)
        return
    # No atomic exchange on this system: a two-step swap keeps the old copy until the new one is in.
    old = out.parent / f".{out.name}.tmp-old-{uuid.uuid4().hex[:8]}"
    os.rename(out, old)
    os.rename(tmp, out)
    atomic.fsync_dir(out.parent)
    shutil.rmtree(old, ignore_errors=True)


def _rename_exchange(a: Path, b: Path) -> bool:
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


def _file_record(path: Path) -> dict[str, Any]:
    return {"sha256": _sha256(path), "bytes": path.stat().st_size}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _verify_file(directory: Path, name: Any, record: Any) -> None:
    if (
        not isinstance(name, str)
        or "/" in name
        or name.startswith(".")
        or not isinstance(record, dict)
    ):
        raise ArtifactError(
            f"{directory / META_FILE} lists an invalid file entry {name!r}. Retrain with `seqcast train`."
        )
    file = directory / name
    if not file.is_file():
        raise ArtifactError(
            f"{file} is missing, so {directory} is not a complete model. Run `seqcast train` first."
        )
    if file.stat().st_size != record.get("bytes") or _sha256(file) != record.get(
        "sha256"
    ):
        raise ArtifactError(
            f"{file} does not match the checksum in {META_FILE}: it was truncated, edited or comes from another model. Retrain with `seqcast train`."
        )


def _write_json(path: Path, payload: dict[str, Any]) -> None:
    text = json.dumps(json_ready(payload), indent=2, allow_nan=False) + "\n"
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
