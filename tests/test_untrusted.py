"""Model directories someone else copied in: crafted from a real tiny model, then loaded.

Every crafted directory carries matching checksums in seqcast.json (as a copied-in
directory would), so what stops it is the check under test, not the checksum.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from seqcast import api
from seqcast.cli import app
from seqcast.config import Engine, RunConfig
from seqcast.errors import ConfigError, ExitCode, NonFiniteError
from seqcast.model.predict import UnsafeModelError

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings(
        "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning"
    ),
]

N_ROWS = 120


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.conftest import make_sine_frame

    root = tmp_path_factory.mktemp("untrusted")
    frame = make_sine_frame(N_ROWS)[["date", "y"]]
    config = RunConfig().with_overrides(
        {
            "target": "y",
            "window": 8,
            "horizon": 2,
            "units": (4,),
            "epochs": 1,
            "batch_size": 16,
            "seed": 0,
            # No log transform: inputs near 1e308 must overflow the forward pass.
            "transform": "none",
            "deseasonalize": "none",
        }
    )
    result = api.train(frame, out=root / "model", config=config)
    assert result.path is not None
    return result.path


def read_members(model_dir: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(model_dir / "model.keras") as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def write_model(
    model_dir: Path, members: dict[str, bytes], *, compression: int = zipfile.ZIP_STORED
) -> None:
    """Write ``model.keras`` from ``members`` and record its checksum in seqcast.json."""
    path = model_dir / "model.keras"
    with zipfile.ZipFile(path, "w", compression=compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    rerecord(model_dir)


def rerecord(model_dir: Path) -> None:
    """Make seqcast.json's checksums match the files as they are now."""
    meta_path = model_dir / "seqcast.json"
    meta = json.loads(meta_path.read_text())
    for name in meta["files"]:
        data = (model_dir / name).read_bytes()
        meta["files"][name] = {
            "sha256": hashlib.sha256(data).hexdigest(),
            "bytes": len(data),
        }
    meta_path.write_text(json.dumps(meta))


def edit_weights(model_dir: Path, edit: Callable[[Any], None]) -> None:
    """Rewrite ``model.weights.h5`` after ``edit(h5py.File)`` has changed it."""
    import h5py

    members = read_members(model_dir)
    buffer = io.BytesIO(members["model.weights.h5"])
    with h5py.File(buffer, "r+") as h5:
        edit(h5)
    members["model.weights.h5"] = buffer.getvalue()
    write_model(model_dir, members)


def craft(tiny_model: Path, tmp_path: Path, edit: Callable[[Any], None]) -> Path:
    """Copy the tiny model and edit its weights file with ``edit(h5py.File)``."""
    out = tmp_path / "crafted"
    shutil.copytree(tiny_model, out)
    edit_weights(out, edit)
    return out


def first_kernel(h5: Any) -> Any:
    """The first recurrent layer's kernel dataset (``layers/<lstm>/cell/vars/0``)."""
    for name, group in h5["layers"].items():
        if "cell" in group:
            return h5[f"layers/{name}/cell/vars/0"]
    raise AssertionError("no recurrent layer")


def test_nan_weights_are_an_error_with_exit_code_5(
    tiny_model: Path, tmp_path: Path
) -> None:
    def poison(h5: Any) -> None:
        kernel = first_kernel(h5)
        kernel[...] = np.full(kernel.shape, np.nan, dtype=np.float32)

    model = craft(tiny_model, tmp_path, poison)
    with pytest.raises(NonFiniteError, match=r"has 2 non-finite values \(nan or inf\)"):
        api.load(model).forecast()
    output = tmp_path / "out.csv"
    result = CliRunner().invoke(
        app, ["forecast", str(model), "--format", "csv", "--output", str(output)]
    )
    assert result.exit_code == ExitCode.NON_FINITE == 5
    assert result.stderr.startswith(f"error: The forecast of {model} has 2 non-finite")
    assert "Traceback" not in result.output
    assert not output.exists()


def test_inputs_near_the_float_limit_are_an_error_not_nan(
    tiny_model: Path, tmp_path: Path
) -> None:
    from tests.conftest import make_sine_frame

    frame = make_sine_frame(N_ROWS + 10)[["date", "y"]]
    frame.loc[N_ROWS:, "y"] = 1e308
    csv = tmp_path / "huge.csv"
    frame.to_csv(csv, index=False, date_format="%Y-%m-%d")
    with pytest.raises(NonFiniteError, match=r"largest \|input\| 1e\+308"):
        api.load(tiny_model).forecast(data=csv)
    result = CliRunner().invoke(app, ["evaluate", str(tiny_model), str(csv)])
    assert result.exit_code == ExitCode.NON_FINITE
    assert "non-finite values (nan or inf)" in result.stderr
    assert "nan" not in result.stdout


def test_evaluate_with_nan_weights_is_an_error(
    tiny_model: Path, tmp_path: Path
) -> None:
    from tests.conftest import make_sine_frame

    def poison(h5: Any) -> None:
        kernel = first_kernel(h5)
        kernel[0, 0] = np.inf

    model = craft(tiny_model, tmp_path, poison)
    frame = make_sine_frame(N_ROWS + 20)[["date", "y"]]
    with pytest.raises(NonFiniteError, match="The predictions of"):
        api.load(model).evaluate(frame)
    with pytest.raises(NonFiniteError, match="The predictions of"):
        api.load(model).evaluate_folds(frame, folds=2)


def test_finite_forecast_still_works(tiny_model: Path) -> None:
    forecast = api.load(tiny_model).forecast(4)
    assert np.isfinite(forecast.values).all()
    assert isinstance(forecast.to_frame(), pd.DataFrame)


# --- 1. Bounded memory: declared shapes and zip sizes are checked before reading ---


def kernel_path(h5: Any) -> str:
    return str(first_kernel(h5).name)


def declare(shape: tuple[int, ...]) -> Callable[[Any], None]:
    """Replace the first kernel by a dataset declaring ``shape`` (storage never written)."""

    def edit(h5: Any) -> None:
        path = kernel_path(h5)
        del h5[path]
        h5.create_dataset(path, shape=shape, dtype="float32")

    return edit


@pytest.mark.parametrize("engine", [Engine.AUTO, Engine.NUMPY, Engine.KERAS])
@pytest.mark.parametrize("side", [100_000, 30_000])
def test_a_huge_declared_dataset_is_refused_before_reading(
    tiny_model: Path, tmp_path: Path, side: int, engine: Engine
) -> None:
    model = craft(tiny_model, tmp_path, declare((side, side)))
    assert (model / "model.keras").stat().st_size < 64_000
    with pytest.raises(UnsafeModelError) as info:
        api.load(model, engine=engine).forecast()
    assert "declares more than 1073741824 bytes of weights" in str(info.value)
    assert f"has shape ({side}, {side})" in str(info.value)


def test_a_small_misshapen_dataset_is_unsafe_and_keras_is_not_tried(
    tiny_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from seqcast.model import predict

    model = craft(tiny_model, tmp_path, declare((300, 300)))

    def no_keras(*args: object) -> None:
        raise AssertionError("the Keras fallback was tried on an unsafe file")

    monkeypatch.setattr(predict.KerasModel, "__init__", no_keras)
    with pytest.raises(UnsafeModelError, match=r"have shapes \[\(300, 300\)"):
        api.load(model).forecast()
    result = CliRunner().invoke(app, ["forecast", str(model)])
    assert result.exit_code == ExitCode.USER_ERROR
    assert result.stderr.startswith(f"error: Model '{model / 'model.keras'}' is unsafe")
    assert "Traceback" not in result.output


def test_a_weights_member_over_the_limit_is_refused_before_inflating(
    tiny_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = tmp_path / "bomb"
    shutil.copytree(tiny_model, model)
    members = read_members(model)
    members["model.weights.h5"] += bytes(3 << 20)  # 3 MiB of zeros: ~3 kB deflated
    write_model(model, members, compression=zipfile.ZIP_DEFLATED)
    assert (model / "model.keras").stat().st_size < 100_000
    monkeypatch.setenv("SEQCAST_MAX_MODEL_MB", "2")
    for engine in Engine:
        with pytest.raises(UnsafeModelError, match="over the limit of 2097152"):
            api.load(model, engine=engine).forecast()


def test_the_model_size_limit_is_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tiny_model: Path
) -> None:
    monkeypatch.setenv("SEQCAST_MAX_MODEL_MB", "lots")
    with pytest.raises(ConfigError) as info:
        api.load(tiny_model)
    assert str(info.value) == (
        "SEQCAST_MAX_MODEL_MB='lots' is not a positive whole number of MiB. Set it to, e.g., 1024, or unset it."
    )


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"assets/vocab.txt": b"x"}, "members"),
        ({"../evil": b"x"}, "members"),
    ],
)
def test_archives_with_other_members_are_refused(
    tiny_model: Path, tmp_path: Path, extra: dict[str, bytes], message: str
) -> None:
    model = tmp_path / "extra"
    shutil.copytree(tiny_model, model)
    write_model(model, {**read_members(model), **extra})
    for engine in Engine:
        with pytest.raises(UnsafeModelError, match=message):
            api.load(model, engine=engine).forecast()


# --- 2. Nothing from outside the verified bytes ---


def outside_storage(kind: str, tmp_path: Path) -> Callable[[Any], None]:
    """An edit that makes the first kernel's values come from outside the file."""
    import h5py

    outside = tmp_path / "outside"

    def edit(h5: Any) -> None:
        path = kernel_path(h5)
        values = h5[path][()]
        del h5[path]
        if kind == "external_storage":
            outside.write_bytes(np.ones(values.shape, np.float32).tobytes())
            h5.create_dataset(
                path,
                shape=values.shape,
                dtype="float32",
                external=[(str(outside), 0, values.nbytes)],
            )
        elif kind == "fifo":
            os.mkfifo(outside)
            h5.create_dataset(
                path,
                shape=values.shape,
                dtype="float32",
                external=[(str(outside), 0, values.nbytes)],
            )
        elif kind == "soft_link":
            h5.create_dataset("/elsewhere", data=values)
            h5[path] = h5py.SoftLink("/elsewhere")
        elif kind == "external_link":
            with h5py.File(outside, "w") as other:
                other.create_dataset("kernel", data=values)
            h5[path] = h5py.ExternalLink(str(outside), "/kernel")
        elif kind == "virtual":
            with h5py.File(outside, "w") as other:
                other.create_dataset("kernel", data=values)
            layout = h5py.VirtualLayout(shape=values.shape, dtype="float32")
            layout[...] = h5py.VirtualSource(str(outside), "kernel", values.shape)
            h5.create_virtual_dataset(path, layout)

    return edit


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("external_storage", "keeps its values in external files"),
        ("fifo", "keeps its values in external files"),
        ("soft_link", "is a SoftLink, which points outside the file"),
        ("external_link", "is a ExternalLink, which points outside the file"),
        ("virtual", "is a virtual dataset"),
    ],
)
def test_weights_from_outside_the_verified_bytes_are_refused(
    tiny_model: Path, tmp_path: Path, kind: str, message: str
) -> None:
    model = craft(tiny_model, tmp_path, outside_storage(kind, tmp_path))
    for engine in Engine:
        with pytest.raises(UnsafeModelError, match=message):
            api.load(model, engine=engine).forecast()


# --- 3. One consistent set of bytes, even while a retrain swaps the directory ---


def test_a_directory_swapped_after_loading_does_not_mix_models(
    tiny_model: Path, tmp_path: Path
) -> None:
    model = tmp_path / "model"
    shutil.copytree(tiny_model, model)
    expected = api.load(model).forecast().values
    loaded = api.load(model)  # verified, not yet used
    other = craft(tiny_model, tmp_path, negate_kernels)
    os.rename(model, tmp_path / "old")  # what a retrain's swap does
    os.rename(other, model)
    got = loaded.forecast().values
    np.testing.assert_array_equal(got, expected)
    assert not np.array_equal(api.load(model).forecast().values, expected)


def negate_kernels(h5: Any) -> None:
    kernel = first_kernel(h5)
    kernel[...] = -kernel[()] - 0.5
