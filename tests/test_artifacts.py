from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import make_meta, tag_of

from seqcast.errors import ArtifactError, ExitCode, LockError
from seqcast.store.directory import META_FILE, MODEL_FILE, load_artifact
from seqcast.store.output import atomic_write_text, output_lock
from seqcast.store.saving import save_artifact
from seqcast.store.schema import SCHEMA_VERSION


def _meta(tag: str = "a") -> Any:
    return make_meta(tag)


def _files(out: Path) -> dict[str, Any]:
    return dict(json.loads((out / META_FILE).read_text())["files"])


def _writer(payload: bytes) -> Any:
    return lambda path: Path(path).write_bytes(payload)


def _save(out: Path, payload: bytes = b"model-a", tag: str = "a") -> Path:
    return save_artifact(out, _writer(payload), _meta(tag), lock_timeout=1)


def _leftovers(parent: Path, name: str) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith(f".{name}.tmp"))


def test_save_then_load_round_trips(tmp_path: Path) -> None:
    out = _save(tmp_path / "m")
    artifact = load_artifact(out)
    assert json.loads((out / META_FILE).read_text())["schema_version"] == SCHEMA_VERSION
    assert tag_of(artifact) == "a"
    assert _files(out)[MODEL_FILE]["bytes"] == len(b"model-a")
    assert artifact.config == make_meta().config
    assert artifact.target == "y"
    assert _leftovers(tmp_path, "m") == []


def test_saving_again_replaces_the_model_and_keeps_the_users_files(
    tmp_path: Path,
) -> None:
    out = _save(tmp_path / "m", b"old", "old")
    (out / "NOTES.txt").write_text("left by hand")
    (out / "plots").mkdir()
    (out / "plots" / "fit.png").write_bytes(b"png")
    (out / "model-1.keras").write_bytes(b"an old ensemble member")
    inode = (out / "NOTES.txt").stat().st_ino
    _save(out, b"new-model", "new")
    assert (out / MODEL_FILE).read_bytes() == b"new-model"
    assert tag_of(load_artifact(out)) == "new"
    assert (out / "NOTES.txt").read_text() == "left by hand"
    assert (out / "NOTES.txt").stat().st_ino == inode  # moved, not copied
    assert (out / "plots" / "fit.png").read_bytes() == b"png"
    assert not (out / "model-1.keras").exists()  # seqcast's own file: replaced
    assert _leftovers(tmp_path, "m") == []


def test_a_failed_swap_gives_the_users_files_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from seqcast.store import swap

    out = _save(tmp_path / "m", b"old", "old")
    (out / "NOTES.txt").write_text("mine")

    def broken_swap(tmp: Path, out: Path) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(swap, "swap_into_place", broken_swap)
    with pytest.raises(ArtifactError, match="No space left on device"):
        _save(out, b"new", "new")
    assert (out / "NOTES.txt").read_text() == "mine"
    assert tag_of(load_artifact(out)) == "old"


def test_users_files_stranded_by_a_killed_save_are_moved_back(tmp_path: Path) -> None:
    out = _save(tmp_path / "m", b"old", "old")
    stranded = tmp_path / ".m.tmp-999999-deadbeef"  # killed after carrying them over
    (stranded / "plots").mkdir(parents=True)
    (stranded / "plots" / "a.png").write_bytes(b"png")
    (stranded / MODEL_FILE).write_bytes(b"half-written")
    _save(out, b"new", "new")
    assert (out / "plots" / "a.png").read_bytes() == b"png"
    assert (out / MODEL_FILE).read_bytes() == b"new"
    assert _leftovers(tmp_path, "m") == []


def test_a_failing_writer_keeps_the_previous_model(tmp_path: Path) -> None:
    out = _save(tmp_path / "m", b"old", "old")

    def explode(path: Path) -> None:
        Path(path).write_bytes(b"half")
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError, match="disk on fire"):
        save_artifact(out, explode, _meta("new"), lock_timeout=1)
    assert tag_of(load_artifact(out)) == "old"
    assert (out / MODEL_FILE).read_bytes() == b"old"
    assert _leftovers(tmp_path, "m") == []


def test_refuses_to_replace_a_directory_that_is_not_a_model(tmp_path: Path) -> None:
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "thesis.tex").write_text("years of work")
    with pytest.raises(ArtifactError) as info:
        _save(precious)
    assert (
        str(info.value)
        == f"--out {precious} exists and is not a seqcast model directory (no {META_FILE}). Choose another --out or remove it."
    )
    assert (precious / "thesis.tex").read_text() == "years of work"


def test_missing_model_directory_says_to_train_first(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError) as info:
        load_artifact(tmp_path / "nothing")
    assert (
        str(info.value)
        == f"No model at {tmp_path / 'nothing'}. Run `seqcast train` first."
    )
    assert info.value.exit_code == ExitCode.USER_ERROR


def test_missing_model_file_names_the_path(tmp_path: Path) -> None:
    out = _save(tmp_path / "m")
    (out / MODEL_FILE).unlink()
    with pytest.raises(ArtifactError) as info:
        load_artifact(out)
    assert (
        str(info.value)
        == f"{out / MODEL_FILE} is missing, so {out} is not a complete model. Run `seqcast train` first."
    )


def test_extra_files_are_written_and_checksummed(tmp_path: Path) -> None:
    out = save_artifact(
        tmp_path / "m",
        _writer(b"member-0"),
        make_meta("a", ensemble=2),
        lock_timeout=1,
        extra_files=[("model-1.keras", _writer(b"member-1"))],
    )
    load_artifact(out)
    files = _files(out)
    assert list(files) == [MODEL_FILE, "model-1.keras"]
    assert files["model-1.keras"]["bytes"] == len(b"member-1")
    (out / "model-1.keras").write_bytes(b"member-X")
    with pytest.raises(
        ArtifactError,
        match=f"{out / 'model-1.keras'} does not match the checksum in seqcast.json",
    ):
        load_artifact(out)


@pytest.mark.parametrize("name", [MODEL_FILE, META_FILE, ".hidden", "a/b", ""])
def test_extra_files_need_distinct_plain_names(tmp_path: Path, name: str) -> None:
    with pytest.raises(ValueError, match="extra_files names must be distinct"):
        save_artifact(
            tmp_path / "m",
            _writer(b"x"),
            _meta(),
            lock_timeout=1,
            extra_files=[(name, _writer(b"y"))],
        )
    assert not (tmp_path / "m").exists()


@pytest.mark.parametrize("change", ["truncate", "edit", "swap"])
def test_changed_model_file_fails_the_checksum(tmp_path: Path, change: str) -> None:
    out = _save(tmp_path / "m", b"0123456789")
    model = out / MODEL_FILE
    if change == "truncate":
        model.write_bytes(b"01234")
    elif change == "edit":
        model.write_bytes(b"0123456780")
    else:
        other = _save(tmp_path / "other", b"abcdefghij")
        model.write_bytes((other / MODEL_FILE).read_bytes())
    with pytest.raises(
        ArtifactError, match=f"{model} does not match the checksum in seqcast.json"
    ):
        load_artifact(out)


def test_corrupted_or_foreign_metadata_is_refused(tmp_path: Path) -> None:
    out = _save(tmp_path / "m")
    meta_path = out / META_FILE
    meta = json.loads(meta_path.read_text())
    meta["schema_version"] = 99
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(
        ArtifactError,
        match=r"has schema_version=99, but this seqcast reads versions 1, 2, 3, 4, 5\. Retrain",
    ):
        load_artifact(out)
    meta_path.write_text('{"schema_version": 2, "files"')
    with pytest.raises(ArtifactError, match="is unreadable or corrupted"):
        load_artifact(out)
    del meta["series"][0]["scaler"]
    meta["schema_version"] = 2
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(ArtifactError) as info:
        load_artifact(out)
    assert str(info.value) == (
        f"{meta_path}: series[0].scaler is missing. Retrain with `seqcast train`."
    )


def test_meta_cannot_point_outside_the_directory(tmp_path: Path) -> None:
    out = _save(tmp_path / "m")
    meta_path = out / META_FILE
    meta = json.loads(meta_path.read_text())
    meta["files"]["../../etc/passwd"] = {"sha256": "x", "bytes": 1}
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(ArtifactError, match="that are not this model's networks"):
        load_artifact(out)


def test_a_second_member_the_metadata_does_not_count_is_refused(
    tmp_path: Path,
) -> None:
    out = save_artifact(
        tmp_path / "m",
        _writer(b"member-0"),
        _meta(),  # one member
        lock_timeout=1,
        extra_files=[("model-1.keras", _writer(b"member-1"))],
    )
    with pytest.raises(
        ArtifactError,
        match=r"lists 1 file\(s\) that are not this model's networks, such as 'model-1.keras'",
    ):
        load_artifact(out)


def test_a_held_lock_times_out_with_exit_code_4(tmp_path: Path) -> None:
    import threading

    out = _save(tmp_path / "m", b"old", "old")
    taken, release = threading.Event(), threading.Event()

    def hold() -> None:  # another writer: the lock is re-entrant within one thread
        with output_lock(out, timeout=1):
            taken.set()
            release.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    assert taken.wait(10)
    try:
        started = time.monotonic()
        with pytest.raises(LockError) as info:
            save_artifact(out, _writer(b"new"), _meta("new"), lock_timeout=0.2)
        assert time.monotonic() - started < 5
    finally:
        release.set()
        holder.join()
    assert info.value.exit_code == ExitCode.LOCKED
    assert "Another seqcast process is writing" in str(info.value)
    assert tag_of(load_artifact(out)) == "old"


def test_stale_temporaries_from_killed_runs_are_cleaned(tmp_path: Path) -> None:
    stale = tmp_path / ".m.tmp-999-deadbeef"
    stale.mkdir()
    (stale / MODEL_FILE).write_bytes(b"half")
    _save(tmp_path / "m")
    assert not stale.exists()


_KILL_SCRIPT = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    sys.path.insert(0, {root!r})
    sys.path.insert(0, {tests!r})
    from seqcast.store.saving import save_artifact
    from conftest import make_meta
    meta = make_meta("new")
    def slow(path):
        with open(path, "wb") as handle:
            for _ in range(200):
                handle.write(b"x" * 1000); handle.flush(); print("writing", flush=True); time.sleep(0.01)
    save_artifact(Path(sys.argv[1]), slow, meta, lock_timeout=5)
    """
)


@pytest.mark.parametrize("delay", [0.0, 0.05, 0.3, 1.0, 2.5])
def test_sigkill_during_save_leaves_the_previous_model(
    tmp_path: Path, delay: float
) -> None:
    out = _save(tmp_path / "m", b"old", "old")
    script = tmp_path / "killme.py"
    script.write_text(
        _KILL_SCRIPT.format(
            root=str(Path(__file__).resolve().parents[1]),
            tests=str(Path(__file__).resolve().parent),
        )
    )
    proc = subprocess.Popen(
        [sys.executable, str(script), str(out)], stdout=subprocess.PIPE
    )
    assert proc.stdout is not None
    proc.stdout.readline()  # the writer has started
    time.sleep(delay)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    artifact = load_artifact(out)  # complete and verified, whichever version it is
    assert tag_of(artifact) in {"old", "new"}
    if tag_of(artifact) == "old":
        assert (out / MODEL_FILE).read_bytes() == b"old"
    _save(out, b"next", "next")  # the next run cleans up and succeeds
    assert _leftovers(tmp_path, "m") == []


def test_atomic_write_text_replaces_whole_files(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    atomic_write_text(target, "a\n1\n")
    atomic_write_text(target, "a\n2\n")
    assert target.read_text() == "a\n2\n"
    assert [
        p.name for p in tmp_path.iterdir() if p.name.startswith(".out.csv.tmp")
    ] == []
    with pytest.raises(ArtifactError, match=r"nowhere is not an existing directory"):
        atomic_write_text(tmp_path / "nowhere" / "x.csv", "a\n")
    with pytest.raises(ArtifactError, match="is a directory"):
        atomic_write_text(tmp_path, "a\n")


def test_a_model_file_that_is_a_symlink_is_refused(tmp_path: Path) -> None:
    out = _save(tmp_path / "m", b"model-a")
    outside = tmp_path / "outside.keras"
    outside.write_bytes(
        b"model-a"
    )  # same bytes, same checksum, but not in the directory
    (out / MODEL_FILE).unlink()
    (out / MODEL_FILE).symlink_to(outside)
    with pytest.raises(ArtifactError) as info:
        load_artifact(out)
    assert str(info.value) == (
        f"{out / MODEL_FILE} is a symbolic link; a model directory holds its own files only. Replace the link with the file, or retrain with `seqcast train`."
    )


def test_a_fifo_in_place_of_a_model_file_is_refused_without_blocking(
    tmp_path: Path,
) -> None:
    out = _save(tmp_path / "m", b"model-a")
    (out / MODEL_FILE).unlink()
    os.mkfifo(out / MODEL_FILE)
    with pytest.raises(ArtifactError, match="is not a regular file"):
        load_artifact(out)


def test_loaded_bytes_are_the_verified_bytes(tmp_path: Path) -> None:
    out = _save(tmp_path / "m", b"model-a")
    artifact = load_artifact(out)
    (out / MODEL_FILE).write_bytes(b"model-b")  # changed after verification
    assert artifact.member_bytes(0) == b"model-a"


@pytest.mark.parametrize("after", [META_FILE, MODEL_FILE])
def test_a_swap_while_reading_gives_one_consistent_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, after: str
) -> None:
    from seqcast.store import directory

    out = _save(tmp_path / "m", b"model-a", "a")
    new = _save(tmp_path / "n", b"model-b", "b")
    real = directory._read_entry
    swaps: list[str] = []

    def read_then_swap(dfd: int, folder: Path, name: str, limit: int) -> Any:
        data = real(dfd, folder, name, limit)
        if name == after and not swaps:  # a retrain swaps right after this read
            swaps.append(name)
            old = tmp_path / ".m.tmp-old"
            os.rename(out, old)
            os.rename(new, out)
            shutil.rmtree(old)  # the retrain removes the previous directory
        return data

    monkeypatch.setattr(directory, "_read_entry", read_then_swap)
    artifact = load_artifact(out)
    assert swaps == [after]
    assert tag_of(artifact) == "b"  # the newer model, read whole
    assert artifact.member_bytes(0) == b"model-b"
