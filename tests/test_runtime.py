"""Tests for seqcast.runtime: device description and version report."""

from __future__ import annotations

import platform
import re

import keras
import numpy as np
import pytest

import seqcast
from seqcast import runtime


def test_versions_report_every_component() -> None:
    report = runtime.versions()
    assert set(report) == {
        "seqcast",
        "python",
        "numpy",
        "keras",
        "backend",
        "backend_version",
    }
    assert all(isinstance(v, str) and v for v in report.values())
    assert report["seqcast"] == seqcast.__version__
    assert report["python"] == platform.python_version()
    assert report["numpy"] == np.__version__
    assert report["keras"] == keras.__version__
    assert report["backend"] == keras.backend.backend()
    assert report["backend_version"] != "unknown"


def test_backend_version_falls_back_to_metadata_then_unknown() -> None:
    assert runtime._backend_version("numpy") == np.__version__
    assert runtime._backend_version("no_such_backend") == "unknown"


def test_device_description_on_this_machine() -> None:
    text = runtime.device_description()
    assert re.fullmatch(r"GPU: .+|CPU \(\S+, \d+ cores?\)", text), text


def test_device_description_names_accelerators(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        runtime,
        "_accelerator_names",
        lambda backend: ["NVIDIA H100 80GB HBM3", "NVIDIA H100 80GB HBM3"],
    )
    assert (
        runtime.device_description()
        == "GPU: NVIDIA H100 80GB HBM3, NVIDIA H100 80GB HBM3"
    )


def test_device_description_falls_back_to_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(backend: str) -> list[str]:
        raise RuntimeError("driver exploded")

    monkeypatch.setattr(runtime, "_accelerator_names", broken)
    monkeypatch.setattr(runtime.os, "sched_getaffinity", lambda pid: {0}, raising=False)
    monkeypatch.setattr(runtime.platform, "machine", lambda: "arm64")
    assert runtime.device_description() == "CPU (arm64, 1 core)"


@pytest.mark.slow
def test_keras_import_silences_tensorflow_retracing_warnings() -> None:
    import logging

    from seqcast import runtime

    runtime.import_keras_quietly()
    if runtime.versions()["backend"] == "tensorflow":
        assert logging.getLogger("tensorflow").getEffectiveLevel() >= logging.ERROR
