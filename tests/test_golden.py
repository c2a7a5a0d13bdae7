"""Golden outputs: a fixed-seed training on two sample series gives byte-identical results.

The files under ``tests/golden/`` were written by the code before the package was
restructured; any change to what a user sees (forecasts, scores, ``info``) fails here.
Every setting is given explicitly, so that a change of defaults does not move them.
Regenerate deliberately with ``SEQCAST_REGEN_GOLDEN=1 pytest tests/test_golden.py``.
Another TensorFlow, Keras or NumPy release moves the 7th significant digit of a trained
forecast, so numbers are compared up to that (``SEQCAST_GOLDEN_EXACT=1`` asks for bytes).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from seqcast.cli import app

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings(
        "ignore:.*__array__ implementation doesn't accept a copy keyword:DeprecationWarning"
    ),
]

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden"

# The settings in force when the golden files were written, all of them explicit.
PINNED = [
    "--model", "lstm", "--units", "8", "--scaler", "standard", "--window-norm", "last",
    "--loss", "mse", "--epochs", "4", "--batch-size", "32", "--lr", "0.001",
    "--patience", "5", "--val-fraction", "0.15", "--test-fraction", "0.15",
    "--seed", "0", "--transform", "none", "--deseasonalize", "none", "--no-skip", "-q",
]  # fmt: skip

CASES = {
    "air": ("air_passengers.csv", "passengers", "12", "6"),
    "gdp": ("us_real_gdp_quarterly.csv", "realgdp", "8", "4"),
}

# Lines of `info` that name the machine, the clock or the directory, masked on both sides.
VOLATILE = (
    (re.compile(r"^model\s+\S*/\S*$", re.M), "model <dir>"),  # info: the path
    (re.compile(r"^created\s+\S+", re.M), "created <time>"),
    (re.compile(r"seconds=[0-9.]+"), "seconds=<s>"),
    (re.compile(r" on .*$", re.M), " on <device>"),
    (re.compile(r"^versions\s+.*$", re.M), "versions <versions>"),
)


def _mask(text: str) -> str:
    for pattern, replacement in VOLATILE:
        text = pattern.sub(replacement, text)
    return text


def _outputs(name: str, tmp_path: Path) -> dict[str, str]:
    file, target, window, horizon = CASES[name]
    csv = str(ROOT / "sample_data" / file)
    model = str(tmp_path / name)
    runner = CliRunner()
    steps = ["--window", window, "--horizon", horizon]
    commands = {
        "train": ["train", csv, "--target", target, *steps, *PINNED, "--out", model],
        "forecast": ["forecast", model, "--steps", str(2 * int(horizon)), "--level", "0.8", "--format", "csv"],
        "forecast_json": ["forecast", model, "--format", "json"],
        "evaluate": ["evaluate", model, csv],
        "info": ["info", model],
    }  # fmt: skip
    out: dict[str, str] = {}
    for key, args in commands.items():
        result = runner.invoke(app, args)
        assert result.exit_code == 0, (key, result.output)
        out[key] = _mask(result.stdout)
    return out


@pytest.mark.parametrize("name", sorted(CASES))
def test_outputs_are_byte_identical(name: str, tmp_path: Path) -> None:
    got = _outputs(name, tmp_path)
    if os.environ.get("SEQCAST_REGEN_GOLDEN") == "1":
        GOLDEN.mkdir(exist_ok=True)
        for key, text in got.items():
            (GOLDEN / f"{name}_{key}.txt").write_text(text, encoding="utf-8")
    for key, text in got.items():
        expected = (GOLDEN / f"{name}_{key}.txt").read_text(encoding="utf-8")
        if os.environ.get("SEQCAST_GOLDEN_EXACT") == "1":
            assert text == expected, f"{name} {key} changed"
        else:
            _assert_same_up_to_rounding(text, expected, f"{name} {key}")


_NUMBER = re.compile(r"-?\d+(?:\.(\d+))?(?:e[-+]?\d+)?")


def _assert_same_up_to_rounding(got: str, expected: str, what: str) -> None:
    """The texts match except for decimals moved by float reordering in another release.

    A new TensorFlow, Keras or NumPy (or another CPU) changes the last bits of a
    trained weight, and so the 7th significant digit of a forecast; anything a code
    change moves, it moves further. Text between numbers must be identical, integers
    (epochs, counts, dates) exact, and each decimal within a millionth of its value or
    one unit of its last printed digit.
    """
    assert _NUMBER.sub("#", got) == _NUMBER.sub("#", expected), f"{what} changed"
    for g, w in zip(_NUMBER.finditer(got), _NUMBER.finditer(expected), strict=True):
        if w.group(1) is None and "e" not in w.group(0):
            assert g.group(0) == w.group(0), f"{what}: {g.group(0)} != {w.group(0)}"
            continue
        a, b = float(g.group(0)), float(w.group(0))
        unit = 10.0 ** -len(w.group(1) or "")
        # The slack covers the float subtraction: 435.656 - 435.655 is 0.0010000000000332.
        tolerance = max(1e-6 * abs(b), unit) * (1 + 1e-9)
        assert abs(a - b) <= tolerance, f"{what}: {a} != {b}"
