"""Describe the machine and software a run uses: device, backend and versions.

Keras and its backend are imported inside the functions. The backend module
(``tensorflow``, ``jax`` or ``torch``) is only queried here, for its device list
and version, and only when Keras already runs on it.
"""

from __future__ import annotations

import importlib
import logging
import os
import platform
import sys
from importlib import metadata
from typing import Any

import numpy as np

from seqcast._version import __version__

_BACKEND_DISTRIBUTIONS = {
    "tensorflow": ("tensorflow", "tensorflow-cpu", "tf-nightly", "tensorflow-macos"),
    "jax": ("jax",),
    "torch": ("torch",),
    "numpy": ("numpy",),
    "openvino": ("openvino",),
}


def device_description() -> str:
    """Describe where the active Keras backend computes.

    Returns:
        ``"GPU: <name>"`` (names joined by ", " when there are several), or
        ``"CPU (<machine>, <n> cores)"`` when the backend sees no accelerator, e.g.
        ``"GPU: NVIDIA H100 80GB HBM3"`` or ``"CPU (x86_64, 2 cores)"``.
    """
    import keras

    try:
        names = _accelerator_names(keras.backend.backend())
    except Exception:  # a failed device query only means "describe the CPU"
        names = []
    if names:
        return "GPU: " + ", ".join(names)
    return _cpu_description()


def versions() -> dict[str, str]:
    """Return the versions that decide whether a run reproduces.

    Returns:
        Keys ``seqcast``, ``python``, ``numpy``, ``keras``, ``backend`` (the Keras
        backend's name, e.g. ``"tensorflow"``) and ``backend_version``.
    """
    import keras

    backend = str(keras.backend.backend())
    return {
        "seqcast": __version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "keras": str(keras.__version__),
        "backend": backend,
        "backend_version": _backend_version(backend),
    }


def _cpu_description() -> str:
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    machine = platform.machine() or "unknown machine"
    return f"CPU ({machine}, {cores} {'core' if cores == 1 else 'cores'})"


def _accelerator_names(backend: str) -> list[str]:
    """Name the accelerators the backend can use; [] for CPU only."""
    if backend == "tensorflow":
        tf: Any = importlib.import_module("tensorflow")
        names = []
        for device in tf.config.list_physical_devices("GPU"):
            details = tf.config.experimental.get_device_details(device)
            names.append(str(details.get("device_name", device.name)))
        return names
    if backend == "jax":
        jax: Any = importlib.import_module("jax")
        return [
            str(getattr(d, "device_kind", d))
            for d in jax.devices()
            if d.platform in ("gpu", "cuda", "rocm", "tpu")
        ]
    if backend == "torch":
        torch: Any = importlib.import_module("torch")
        if torch.cuda.is_available():
            return [
                str(torch.cuda.get_device_name(i))
                for i in range(torch.cuda.device_count())
            ]
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return ["Apple MPS"]
    return []


def _backend_version(backend: str) -> str:
    module = sys.modules.get(backend)
    version = getattr(module, "__version__", None)
    if version:
        return str(version)
    for distribution in _BACKEND_DISTRIBUTIONS.get(backend, (backend,)):
        try:
            return metadata.version(distribution)
        except metadata.PackageNotFoundError:
            continue
    return "unknown"


def import_keras_quietly() -> Any:
    """Import Keras (and so its backend) with the backend's native start-up logs silenced.

    TensorFlow's C++ code logs (oneDNN, CUDA probing) to file descriptor 2 before its
    logging can be configured, so ``TF_CPP_MIN_LOG_LEVEL`` does not stop them. This points
    descriptor 2 at /dev/null for the duration of the import only; Python exceptions from
    the import still propagate normally.
    """
    _quiet_tensorflow_logger()
    if "keras" in sys.modules:
        return sys.modules["keras"]
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, 2)
        finally:
            os.close(devnull)
        keras = importlib.import_module("keras")
        backend = keras.backend.backend()
        importlib.import_module(
            backend
        )  # load the backend's native libraries while silenced
        if backend == "tensorflow":
            # The first op placement probes CUDA and logs again; do it while silenced too.
            keras.ops.convert_to_tensor(0.0)
            _quiet_tensorflow_logger()
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
    return keras


def _quiet_tensorflow_logger() -> None:
    """Silence TensorFlow's Python logger below errors.

    It warns about ``tf.function`` retracing whenever several small models predict in
    a row (backtests, ensembles): noise for a user, whose stderr carries seqcast's
    own lines only.
    """
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
