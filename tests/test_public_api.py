"""The package's public surface: ``seqcast.__all__``, ``dir(seqcast)`` and lazy imports."""

from __future__ import annotations

import subprocess
import sys

import seqcast
import seqcast.api
import seqcast.config
import seqcast.errors

PUBLIC = {
    "train": seqcast.api.train,
    "backtest": seqcast.api.backtest,
    "load": seqcast.api.load,
    "Forecaster": seqcast.api.Forecaster,
    "Forecast": seqcast.api.Forecast,
    "TrainResult": seqcast.api.TrainResult,
    "RunConfig": seqcast.config.RunConfig,
    "DataConfig": seqcast.config.DataConfig,
    "ModelConfig": seqcast.config.ModelConfig,
    "TrainConfig": seqcast.config.TrainConfig,
    "SeqcastError": seqcast.errors.SeqcastError,
    "DataError": seqcast.errors.DataError,
    "ConfigError": seqcast.errors.ConfigError,
    "ArtifactError": seqcast.errors.ArtifactError,
    "SourceError": seqcast.errors.SourceError,
    "LockError": seqcast.errors.LockError,
    "NonFiniteError": seqcast.errors.NonFiniteError,
    "ClusterError": seqcast.errors.ClusterError,
    "ExitCode": seqcast.errors.ExitCode,
}


def _python(code: str) -> str:
    """Run ``code`` in a fresh interpreter, where nothing of seqcast is loaded yet."""
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def test_all_lists_exactly_the_public_names() -> None:
    assert sorted(seqcast.__all__) == sorted([*PUBLIC, "__version__"])


def test_every_public_name_is_the_object_it_names() -> None:
    for name, obj in PUBLIC.items():
        assert getattr(seqcast, name) is obj, name
    assert seqcast.__version__ == seqcast._version.__version__


def test_dir_shows_the_public_names_before_any_is_used() -> None:
    code = "import seqcast; print(' '.join(dir(seqcast)))"  # fresh: nothing cached yet
    assert set(seqcast.__all__) <= set(_python(code).split())


def test_every_error_class_is_public() -> None:
    errors = {
        name
        for name, obj in vars(seqcast.errors).items()
        if isinstance(obj, type) and issubclass(obj, seqcast.errors.SeqcastError)
    }
    assert errors <= set(seqcast.__all__)


def test_unknown_attribute_raises_attribute_error() -> None:
    code = (
        "import seqcast\n"
        "try:\n    seqcast.nope\nexcept AttributeError as e:\n    print(e)"
    )
    assert _python(code) == "module 'seqcast' has no attribute 'nope'"


def test_import_seqcast_and_listing_it_loads_no_heavy_module() -> None:
    code = (
        "import sys, seqcast; names = dir(seqcast); "
        "print(sorted({'keras', 'tensorflow', 'pandas', 'matplotlib', 'yfinance', 'sklearn'} & set(sys.modules)))"
    )
    assert _python(code) == "[]"
