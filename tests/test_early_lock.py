"""A held lock is reported before any work: exit 4 in seconds, not after a training."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from seqcast.cli import app
from seqcast.errors import ExitCode
from seqcast.store.output import output_lock


@pytest.fixture
def held(tmp_path: Path) -> Iterator[Path]:
    """Hold the lock on ``tmp_path/target`` from another thread (as another run would)."""
    target = tmp_path / "target"
    taken, release = threading.Event(), threading.Event()

    def hold() -> None:
        with output_lock(target, 5):
            taken.set()
            release.wait(30)

    thread = threading.Thread(target=hold)
    thread.start()
    assert taken.wait(10)
    yield target
    release.set()
    thread.join()


def test_train_on_a_locked_out_fails_before_training(
    held: Path, sample_csv: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("the work started before the lock was taken")

    monkeypatch.setattr("seqcast.api.local.fit_values", never)
    args = ["train", str(sample_csv), "--target", "y", "--out", str(held)]
    result = CliRunner().invoke(app, [*args, "--lock-timeout", "0.2", "-q"])
    assert result.exit_code == ExitCode.LOCKED, result.output
    assert result.stderr == (
        f"error: Another seqcast process is writing {held} (lock {held.parent / '.target.lock'} still held after 0.2 s). Wait for it to finish, or raise --lock-timeout.\n"
    )


def test_forecast_to_a_locked_output_fails_before_loading_the_model(
    held: Path, tmp_path: Path
) -> None:
    missing = tmp_path / "no-model"  # would be "No model at ..." if loaded first
    args = ["forecast", str(missing), "--output", str(held), "--lock-timeout", "0"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == ExitCode.LOCKED, result.output
    assert "raise --lock-timeout" in result.stderr


def test_the_save_nests_inside_the_lock_taken_before_training(tmp_path: Path) -> None:
    from conftest import make_meta

    from seqcast.api.training import lock_out
    from seqcast.store.directory import load_artifact
    from seqcast.store.saving import save_artifact

    out = tmp_path / "sub" / "m"
    with lock_out(out, 0):
        save_artifact(
            out, lambda p: p.write_bytes(b"x"), make_meta("nested"), lock_timeout=0
        )
    assert load_artifact(out).meta.provenance.command[1] == "nested"
