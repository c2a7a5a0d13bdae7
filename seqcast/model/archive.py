"""Open a ``.keras`` archive from verified bytes within limits, refusing unsafe content.

A ``.keras`` file is a zip of ``metadata.json``, ``config.json`` and
``model.weights.h5``. Before either engine uses one, :func:`open_archive` checks the zip
(member count and names, declared and real uncompressed sizes, no encryption) and
:func:`audit_weights` walks the HDF5 file's metadata without reading any data: only
hard links to groups and numeric datasets, no external raw storage, no virtual
datasets, no soft or external links, and a total declared size under the limit. Both
raise :class:`Unsafe`; no engine may load such a file. Only numpy and, on demand,
h5py are imported.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from dataclasses import dataclass
from typing import Any

from seqcast.errors import ConfigError

MAX_MODEL_MB_ENV = "SEQCAST_MAX_MODEL_MB"
DEFAULT_MAX_MODEL_MB = 1024
MEMBERS = ("metadata.json", "config.json", "model.weights.h5")
"""The only members a model file may hold (what ``keras.Model.save`` writes)."""
WEIGHTS = "model.weights.h5"
_JSON_BYTES = 4 << 20  # config.json / metadata.json: a few kB in practice
_MAX_OBJECTS = 10_000  # HDF5 groups and datasets; a seqcast model has ~30
_MAX_DEPTH = 16


class Unsafe(Exception):
    """A model file that is malformed or reaches outside its bytes; no engine loads it."""


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds on what loading a model may read or allocate.

    Attributes:
        max_model_bytes: Largest model file, uncompressed weights member and total
            declared size of the HDF5 datasets (default 1 GiB; set
            ``SEQCAST_MAX_MODEL_MB``).
    """

    max_model_bytes: int = DEFAULT_MAX_MODEL_MB << 20

    @classmethod
    def from_env(cls) -> Limits:
        """Read ``SEQCAST_MAX_MODEL_MB`` (a positive whole number of MiB), else the default.

        Raises:
            ConfigError: If the variable is set to anything but a positive integer.
        """
        raw = os.environ.get(MAX_MODEL_MB_ENV, "").strip()
        if not raw:
            return cls()
        if not raw.isdigit() or int(raw) < 1:
            raise ConfigError(
                f"{MAX_MODEL_MB_ENV}={raw!r} is not a positive whole number of MiB. Set it to, e.g., {DEFAULT_MAX_MODEL_MB}, or unset it."
            )
        return cls(max_model_bytes=int(raw) << 20)


@dataclass(frozen=True, slots=True)
class Archive:
    """The checked members of a model file.

    Attributes:
        config: ``config.json``, parsed.
        weights: The raw bytes of ``model.weights.h5``.
    """

    config: dict[str, Any]
    weights: bytes


def open_archive(data: bytes, limits: Limits) -> Archive:
    """Check a ``.keras`` zip held in memory and return its config and weights bytes.

    Args:
        data: The whole model file, already verified against its checksum.
        limits: Size limits.

    Returns:
        The parsed config and the weights member's bytes (a copy).

    Raises:
        Unsafe: If the zip is unreadable, holds other or duplicate members, is
            encrypted, or any member declares or inflates to more than its limit.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise Unsafe(
            f"it is not a readable .keras file ({type(exc).__name__}: {exc})"
        ) from None
    with archive:
        infos = archive.infolist()
        names = [info.filename for info in infos]
        if len(infos) > len(MEMBERS) or len(set(names)) != len(names):
            raise Unsafe(
                f"the archive holds {len(infos)} members {names[:5]}, but a model holds at most {list(MEMBERS)} once each"
            )
        other = sorted(set(names) - set(MEMBERS))
        if other:
            raise Unsafe(
                f"the archive holds {other[:3]}, which a model file never holds (allowed: {list(MEMBERS)})"
            )
        for name in ("config.json", WEIGHTS):
            if name not in names:
                raise Unsafe(f"the archive has no '{name}'")
        members = {
            info.filename: _read_member(archive, info, _cap(info.filename, limits))
            for info in infos
        }
    try:
        config = json.loads(members["config.json"])
    # ValueError: malformed JSON or UTF-8, or an integer of over 4,300 digits
    except (ValueError, RecursionError) as exc:
        raise Unsafe(f"its config.json is not JSON ({type(exc).__name__})") from None
    if not isinstance(config, dict):
        raise Unsafe("its config.json is not a JSON object")
    return Archive(config=config, weights=members[WEIGHTS])


def _cap(name: str, limits: Limits) -> int:
    return limits.max_model_bytes if name == WEIGHTS else _JSON_BYTES


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int) -> bytes:
    """Read one member, refusing a declared or real uncompressed size over ``cap``."""
    if info.flag_bits & 0x1:
        raise Unsafe(f"'{info.filename}' is encrypted")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise Unsafe(
            f"'{info.filename}' uses zip compression method {info.compress_type} (allowed: stored, deflated)"
        )
    if info.file_size > cap:
        raise Unsafe(
            f"'{info.filename}' declares {info.file_size} bytes uncompressed, over the limit of {cap} (set {MAX_MODEL_MB_ENV} to raise it)"
        )
    try:
        with archive.open(info) as member:
            out = member.read(cap + 1)  # never more than the cap, whatever it claims
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as exc:
        raise Unsafe(
            f"'{info.filename}' cannot be decompressed ({type(exc).__name__}: {exc})"
        ) from None
    if len(out) != info.file_size:
        raise Unsafe(
            f"'{info.filename}' inflates to more than the {info.file_size} bytes it declares"
        )
    return out


def audit_weights(h5: Any, limits: Limits) -> None:
    """Walk an open HDF5 file's metadata and refuse anything outside its own bytes.

    Reads no dataset: only link types, object kinds, shapes, dtypes and storage
    properties. Datasets are checked against the model's layers later, by shape,
    before they are read.

    Args:
        h5: An ``h5py.File`` opened on the verified bytes.
        limits: Size limits.

    Raises:
        Unsafe: On a soft or external link, a virtual dataset, external raw storage,
            a non-numeric dataset, a named datatype, more than 10,000 objects or
            16 levels, or datasets declaring more than ``max_model_bytes`` in total.
    """
    import h5py

    declared, count = 0, 0
    stack: list[tuple[Any, str, int]] = [(h5, "", 0)]
    while stack:
        group, path, depth = stack.pop()
        for name in group:
            where = f"{path}/{name}"
            count += 1
            if count > _MAX_OBJECTS or depth >= _MAX_DEPTH:
                raise Unsafe(
                    f"the weights file has more than {_MAX_OBJECTS} objects or {_MAX_DEPTH} levels (at '{where}')"
                )
            link = group.get(name, getlink=True)
            if not isinstance(link, h5py.HardLink):
                raise Unsafe(
                    f"the weights file's '{where}' is a {type(link).__name__}, which points outside the file"
                )
            obj = group.get(name)
            if isinstance(obj, h5py.Group):
                stack.append((obj, where, depth + 1))
                continue
            if not isinstance(obj, h5py.Dataset):
                raise Unsafe(
                    f"the weights file's '{where}' is a {type(obj).__name__}, not a group or dataset"
                )
            if obj.is_virtual:
                raise Unsafe(
                    f"the weights file's '{where}' is a virtual dataset, whose bytes live in other files"
                )
            if obj.external:
                raise Unsafe(
                    f"the weights file's '{where}' keeps its values in external files {[str(e[0]) for e in obj.external][:2]}"
                )
            if obj.dtype.kind not in "fiub" or obj.dtype.itemsize > 8:
                raise Unsafe(
                    f"the weights file's '{where}' holds {obj.dtype}, not numbers"
                )
            declared += int(obj.size or 0) * obj.dtype.itemsize
            if declared > limits.max_model_bytes:
                raise Unsafe(
                    f"the weights file declares more than {limits.max_model_bytes} bytes of weights (dataset '{where}' has shape {obj.shape}; set {MAX_MODEL_MB_ENV} to raise the limit)"
                )
