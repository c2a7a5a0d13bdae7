"""Model directories: the verified ``Artifact``, read through one directory handle.

A model directory holds two files:

- ``model.keras``: the Keras 3 model (zip of ``config.json`` + ``model.weights.h5``),
  loaded with Keras' ``safe_mode=True`` so no code can run on load (``model-1.keras``...
  beside it for an ensemble; ``series-0.keras``, ``series-1.keras``... in its place for a
  model of local models, one network per series);
- ``seqcast.json``: schema version, configuration, scaler parameters, columns, frequency,
  the last window, training history, metrics, versions and the SHA-256 of every other file.

:func:`load_artifact` reads each file once and checks it against its recorded size and
SHA-256 before anything is used; nothing is unpickled. Saving
(:mod:`seqcast.store.saving`) builds the directory under a temporary sibling name and
swaps it into place with one ``renameat2(RENAME_EXCHANGE)`` call, so a reader (or a run
killed at any moment) sees either the complete previous directory or the complete new
one. Files the user keeps in the directory (notes, plots) are moved into the new one
before the swap, never deleted.
"""

from __future__ import annotations

import dataclasses
import errno
import hashlib
import json
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from seqcast.config import RunConfig
from seqcast.errors import ArtifactError
from seqcast.model.archive import Limits
from seqcast.store.layout import META_FILE, MODEL_FILE, is_owned, member_file
from seqcast.store.output import output_lock
from seqcast.store.saving import check_replaceable, save_artifact
from seqcast.store.schema import ModelMeta

__all__ = [
    "META_FILE",
    "MODEL_FILE",
    "Artifact",
    "check_replaceable",
    "is_owned",
    "load_artifact",
    "member_file",
    "output_lock",
    "save_artifact",
]

if TYPE_CHECKING:
    from seqcast.model.predict import NumpyModel


@dataclass(frozen=True, slots=True)
class Artifact:
    """A verified model directory; the Keras model itself is loaded only on demand.

    Attributes:
        path: The model directory.
        meta: The validated ``seqcast.json``.
        files: Each recorded file's bytes, as read once and checked against its
            SHA-256; the engines build from these, never from the path.
        limits: The size limits the model files were read under.
        names: The members' file names, member 0 first; empty for ``model.keras``,
            ``model-1.keras``... (see :meth:`local` for the others).
    """

    path: Path
    meta: ModelMeta
    files: Mapping[str, bytes] = field(default_factory=dict, repr=False)
    limits: Limits = field(default_factory=Limits, repr=False)
    names: tuple[str, ...] = ()

    def local(self, series: str | None) -> Artifact:
        """Series ``series``'s own model, of a model of local models, as a one-series model.

        The view shares this artifact's verified bytes; its members are the series'
        own files (see :meth:`ModelMeta.local_meta`).

        Raises:
            ValueError: If the model is not per series or has no such series (bugs:
                callers check the id first).
        """
        ids = [r.id for r in self.meta.series]
        k = ids.index(series) if series in ids else -1
        local = self.meta.series[k].local if k >= 0 else None
        if local is None:
            raise ValueError(f"no local model of series {series!r}")
        return dataclasses.replace(
            self, meta=self.meta.local_meta(k), names=local.files
        )

    def one_series(self, series: str) -> Artifact:
        """Series ``series`` as a one-series model: its own networks, or the shared ones.

        A model of local models gives :meth:`local`; one global model gives a view
        on the same networks (:meth:`ModelMeta.shared_meta`).

        Raises:
            ValueError: If the model has no such series (a bug: callers check the id).
        """
        if self.meta.per_series:
            return self.local(series)
        ids = [r.id for r in self.meta.series]
        if series not in ids:
            raise ValueError(f"no series {series!r}")
        return dataclasses.replace(self, meta=self.meta.shared_meta(ids.index(series)))

    @property
    def member_names(self) -> tuple[str, ...]:
        """File names of every member, member 0 first."""
        return self.names or tuple(member_file(i) for i in range(self.ensemble))

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
        return tuple(self.path / name for name in self.member_names)

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
        return self.config.train.sizes[0]

    @property
    def horizon(self) -> int:
        """Steps the model predicts at once."""
        return self.config.train.sizes[1]

    def member_bytes(self, member: int = 0) -> bytes:
        """Return a member's verified bytes.

        Raises:
            ArtifactError: If the artifact was built without them.
        """
        name = self.member_names[member]
        if name not in self.files:
            raise ArtifactError(
                f"{self.path / name} was not read and verified with {META_FILE}. Load the model with `seqcast.load`."
            )
        return self.files[name]

    def keras_model(self, member: int = 0) -> Any:
        """Load a member's Keras model in safe mode from its verified bytes.

        Raises:
            UnsafeModelError: If the file is malformed or unsafe (see ``numpy_model``).
            ArtifactError: If Keras refuses the file.
        """
        from seqcast.model.predict import load_keras_bytes

        source = str(self.path / self.member_names[member])
        return load_keras_bytes(self.member_bytes(member), source, self.limits)

    def numpy_model(self, member: int = 0) -> NumpyModel:
        """Load a member's weights for the NumPy forward pass from its verified bytes.

        Raises:
            UnsupportedModelError: If the architecture has a layer the NumPy engine lacks.
            UnsafeModelError: If the file is malformed, over a limit or reaches
                outside its own bytes; no engine may load it.
        """
        from seqcast.model.predict import NumpyModel

        source = str(self.path / self.member_names[member])
        return NumpyModel.from_keras_bytes(
            self.member_bytes(member), source, self.limits
        )


def load_artifact(path: Path, *, limits: Limits | None = None) -> Artifact:
    """Read and verify a model directory, keeping every file's verified bytes in memory.

    Checks, in order: the directory exists, ``seqcast.json`` parses, its schema version is
    supported, every recorded file is a regular file (not a link, FIFO or device) with
    the recorded size and SHA-256. Each file is read once, through one handle on the
    directory, so ``seqcast.json`` and the model files come from the same directory
    even while a retrain swaps a new one in; both engines later build from those same
    bytes, never from the path. If the directory was swapped while it was read, it is
    read again (up to 3 times).

    Args:
        path: The model directory.
        limits: Size limits (default: :meth:`seqcast.model.archive.Limits.from_env`).

    Raises:
        ArtifactError: Naming the file and what to do, on any failed check.
        ConfigError: If ``SEQCAST_MAX_MODEL_MB`` is not a positive integer.
    """
    path = Path(path)
    limits = limits or Limits.from_env()
    for attempt in range(_READ_ATTEMPTS):
        again = attempt + 1 < _READ_ATTEMPTS
        opened: list[tuple[int, int]] = []
        try:
            artifact = _read_directory(path, limits, opened)
        except ArtifactError:
            if again and opened and _identity(path) not in (None, opened[0]):
                continue  # a retrain swapped the directory mid-read: read the new one
            raise
        if again and _identity(path) != opened[0]:
            continue  # consistent, but already replaced: read the newer model
        return artifact
    raise AssertionError("unreachable")  # pragma: no cover


_READ_ATTEMPTS = 3
_META_BYTES = 64 << 20  # seqcast.json: schema, scaler, last window, history


def _identity(path: Path) -> tuple[int, int] | None:
    """The (device, inode) of ``path``, or None if it is gone."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def _read_directory(
    path: Path, limits: Limits, opened: list[tuple[int, int]]
) -> Artifact:
    """Read one consistent set of files through one directory handle.

    Appends the (device, inode) of the directory opened to ``opened``.
    """
    meta_path = path / META_FILE
    if not path.exists():
        raise ArtifactError(f"No model at {path}. Run `seqcast train` first.")
    if not path.is_dir():
        raise ArtifactError(
            f"{path} is a file, not a model directory. Give the directory that `seqcast train --out` wrote."
        )
    try:
        dfd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError as exc:
        raise ArtifactError(
            f"Cannot open the model directory {path}: {exc.strerror}. Check its permissions."
        ) from None
    try:
        st = os.fstat(dfd)
        opened.append((st.st_dev, st.st_ino))
        raw = _read_entry(dfd, path, META_FILE, _META_BYTES)
        if raw is None:
            raise ArtifactError(
                f"{meta_path} is missing, so {path} is not a complete model. Run `seqcast train` first."
            )
        try:
            meta = json.loads(raw.decode("utf-8"))
        # ValueError: malformed JSON or UTF-8, or an integer of over 4,300 digits
        except (ValueError, RecursionError) as exc:
            raise ArtifactError(
                f"{meta_path} is unreadable or corrupted ({type(exc).__name__}). Retrain with `seqcast train`."
            ) from None
        if not isinstance(meta, dict):
            raise ArtifactError(
                f"{meta_path} is not a seqcast metadata file. Retrain with `seqcast train`."
            )
        files = meta.get("files")
        if not isinstance(files, dict):
            raise ArtifactError(
                f"{meta_path} records no checksum for {MODEL_FILE}. Retrain with `seqcast train`."
            )
        parsed = ModelMeta.from_json(meta, str(meta_path))
        needed = parsed.model_files()  # every network the document names
        for name in needed:
            if name not in files:
                raise ArtifactError(
                    f"{meta_path} records no checksum for {name}. Retrain with `seqcast train`."
                )
        # Only the model's own networks are read: an entry it does not use (a crafted
        # name, or many links to one large file) is refused before anything is opened.
        wanted = set(needed)
        extra = [name for name in files if name not in wanted]
        if extra:
            raise ArtifactError(
                f"{meta_path} lists {len(extra)} file(s) that are not this model's networks, such as {repr(extra[0])[:80]}. Retrain with `seqcast train`."
            )
        blobs = {
            name: _verified_bytes(dfd, path, name, record, limits)
            for name, record in files.items()
        }
    finally:
        os.close(dfd)
    return Artifact(path=path, meta=parsed, files=blobs, limits=limits)


def _read_entry(dfd: int, directory: Path, name: str, limit: int) -> bytes | None:
    """Read the regular file ``name`` of the open directory ``dfd``; None if absent.

    Never follows a symbolic link, never blocks on a FIFO, and reads at most
    ``limit`` bytes.

    Raises:
        ArtifactError: If the entry is not a regular file, is over ``limit`` bytes,
            or cannot be read.
    """
    file = directory / name
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(name, flags, dir_fd=dfd)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise ArtifactError(
                f"{file} is a symbolic link; a model directory holds its own files only. Replace the link with the file, or retrain with `seqcast train`."
            ) from None
        raise ArtifactError(
            f"Cannot read {file}: {exc.strerror}. Check its permissions."
        ) from None
    with os.fdopen(fd, "rb") as handle:
        st = os.fstat(handle.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise ArtifactError(
                f"{file} is not a regular file (a FIFO, device or folder). Retrain with `seqcast train`."
            )
        if st.st_size > limit:
            raise ArtifactError(
                f"{file} has {st.st_size} bytes, over the limit of {limit}. Set SEQCAST_MAX_MODEL_MB higher if you trust this model, or retrain with `seqcast train`."
            )
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise ArtifactError(
            f"{file} grew past the limit of {limit} bytes while being read. Retrain with `seqcast train`."
        )
    return data


def _verified_bytes(
    dfd: int, directory: Path, name: Any, record: Any, limits: Limits
) -> bytes:
    """Read a recorded file once and check its size and SHA-256 on those very bytes."""
    if (
        not isinstance(name, str)
        or name == META_FILE
        or not is_owned(name)  # model.keras, series-3-1.keras...: no NUL, no path
        or not isinstance(record, dict)
    ):
        raise ArtifactError(
            f"{directory / META_FILE} lists an invalid file entry {repr(name)[:80]}. Retrain with `seqcast train`."
        )
    file = directory / name
    data = _read_entry(dfd, directory, name, limits.max_model_bytes)
    if data is None:
        raise ArtifactError(
            f"{file} is missing, so {directory} is not a complete model. Run `seqcast train` first."
        )
    if len(data) != record.get("bytes") or hashlib.sha256(
        data
    ).hexdigest() != record.get("sha256"):
        raise ArtifactError(
            f"{file} does not match the checksum in {META_FILE}: it was truncated, edited or comes from another model. Retrain with `seqcast train`."
        )
    return data
