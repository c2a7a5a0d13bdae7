"""Model directories someone else copied in: crafted from a real tiny model, then loaded.

Every crafted directory carries matching checksums in seqcast.json (as a copied-in
directory would), so what stops it is the check under test, not the checksum.
"""

from __future__ import annotations

import hashlib
import io
import json
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
from seqcast.config import RunConfig
from seqcast.errors import ExitCode, NonFiniteError

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
