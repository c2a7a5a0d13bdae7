"""Locks: exclusive across processes, and no lock file left beside what they guard."""

from __future__ import annotations

import fcntl
import multiprocessing
import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from seqcast import atomic
from seqcast.errors import LockError


def _increment(target: str, times: int, barrier: Any) -> None:
    """Child process: read, pause, write back a counter under the lock, ``times`` times."""
    path = Path(target)
    barrier.wait()
    for _ in range(times):
        with atomic.locked(path, timeout=60):
            value = int(path.read_text(encoding="utf-8"))
            time.sleep(0.002)  # widen the window a second holder would fall into
            path.write_text(str(value + 1), encoding="utf-8")


def test_writers_in_several_processes_never_overlap(tmp_path: Path) -> None:
    # Each release deletes the lock file, so a waiter may win the flock of a file no
    # longer at the path while another process creates and locks a new one. Lost
    # increments would show that both ran at once.
    counter = tmp_path / "counter"
    counter.write_text("0", encoding="utf-8")
    ctx = multiprocessing.get_context("spawn")
    n, times = 4, 40
    barrier = ctx.Barrier(n)
    children = [
        ctx.Process(target=_increment, args=(str(counter), times, barrier))
        for _ in range(n)
    ]
    for child in children:
        child.start()
    for child in children:
        child.join(120)
        assert child.exitcode == 0
    assert counter.read_text(encoding="utf-8") == str(n * times)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["counter"]


@pytest.mark.parametrize("kind", ["file", "directory"])
def test_no_lock_file_stays_after_the_block(tmp_path: Path, kind: str) -> None:
    target = tmp_path / "out"
    if kind == "directory":
        target.mkdir()
    with atomic.locked(target, timeout=0):
        assert atomic.lock_path(target).exists()  # held: the file is there
    assert sorted(p.name for p in tmp_path.iterdir()) == (
        ["out"] if kind == "directory" else []
    )


def test_no_lock_file_stays_after_an_error_in_the_block(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    with pytest.raises(RuntimeError, match="boom"), atomic.locked(target, timeout=0):
        raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


def test_a_killed_holders_lock_file_is_taken_at_once_and_removed(
    tmp_path: Path,
) -> None:
    # A killed process leaves its lock file, but the kernel released its lock.
    target = tmp_path / "out.csv"
    atomic.lock_path(target).write_text("", encoding="utf-8")
    began = time.monotonic()
    with atomic.locked(target, timeout=0):
        pass
    assert time.monotonic() - began < 1
    assert list(tmp_path.iterdir()) == []


def test_a_held_lock_stays_exclusive_and_its_file_stays_while_held(
    tmp_path: Path,
) -> None:
    target = tmp_path / "out.csv"
    taken, release = threading.Event(), threading.Event()

    def hold() -> None:  # another thread is another holder (re-entry is per thread)
        with atomic.locked(target, timeout=0):
            taken.set()
            release.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    assert taken.wait(10)
    try:
        with pytest.raises(LockError), atomic.locked(target, timeout=0.2):
            pass
        assert atomic.lock_path(target).exists()  # the waiter did not delete it
    finally:
        release.set()
        holder.join()
    assert list(tmp_path.iterdir()) == []


def test_a_waiter_takes_the_lock_once_the_holder_lets_go(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    taken, order = threading.Event(), []

    def hold() -> None:
        with atomic.locked(target, timeout=0):
            taken.set()
            time.sleep(0.3)
            order.append("holder done")

    holder = threading.Thread(target=hold)
    holder.start()
    assert taken.wait(10)
    with atomic.locked(target, timeout=10):
        order.append("waiter in")
    holder.join()
    assert order == ["holder done", "waiter in"]
    assert list(tmp_path.iterdir()) == []


def test_a_lock_won_on_a_deleted_file_is_retaken_on_the_file_now_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The race that deleting lock files opens: this process opens the lock file, the
    # holder deletes it and lets go, and this process wins the flock of a file no
    # longer at the path, while a third one may create and lock a new file there.
    target = tmp_path / "out.csv"
    lock = atomic.lock_path(target)
    real_open = atomic._open_lock_file
    calls = []

    def open_then_holder_deletes(path: Path) -> tuple[int, bool]:
        opened = real_open(path)
        calls.append(path)
        if len(calls) == 1:
            os.unlink(path)  # the holder's release, between our open and our flock
        return opened

    monkeypatch.setattr(atomic, "_open_lock_file", open_then_holder_deletes)
    with atomic.locked(target, timeout=0):
        fd = os.open(lock, os.O_RDWR)  # a newcomer opens the file at the path
        try:
            with pytest.raises(BlockingIOError):  # ... and finds it locked by us
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        finally:
            os.close(fd)
    assert len(calls) == 2
    assert list(tmp_path.iterdir()) == []
