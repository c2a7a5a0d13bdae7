"""Tests for seqcast.progress: counted lines, the terminal bar, plain lines, -q, a real pty."""

from __future__ import annotations

import io
import os
import re
import select
import subprocess
import sys
from pathlib import Path

import pytest

from seqcast import logs, progress
from seqcast.progress import Display, Step, clock_text

ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "KERAS_BACKEND": "tensorflow"}


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _epoch(done: int, total: int) -> Step:
    return Step(
        f"epoch {done}/{total}  loss 0.5000", kind="epoch", done=done, total=total
    )


def test_a_step_is_still_the_string_it_prints() -> None:
    step = Step("fold 2/4: training", kind="fold", done=1, total=4)
    assert step == "fold 2/4: training"
    assert step.startswith("fold ")
    assert (step.kind, step.done, step.total) == ("fold", 1, 4)


@pytest.mark.parametrize(
    ("seconds", "text"), [(0, "0:00"), (7.2, "0:08"), (750, "12:30"), (3723, "1:02:03")]
)
def test_clock_text(seconds: float, text: str) -> None:
    assert clock_text(seconds) == text


def test_plain_mode_writes_each_line_as_given_and_nothing_else() -> None:
    out = io.StringIO()
    display = Display(out, terminal=False)
    lines = ["training lstm on 60 windows", _epoch(1, 3), _epoch(2, 3)]
    for line in lines:
        display(line)
    display.close()
    assert out.getvalue() == "".join(f"{line}\n" for line in lines)
    assert "\r" not in out.getvalue()
    assert "\x1b" not in out.getvalue()


def test_plain_mode_filter_keeps_only_the_lines_it_accepts() -> None:
    out = io.StringIO()
    display = Display(
        out,
        terminal=False,
        plain=lambda line: isinstance(line, Step) and line.kind == "fold",
    )
    display("training lstm on 60 windows")
    display(Step("fold 1/2: training", kind="fold", done=0, total=2))
    display(_epoch(1, 3))
    assert out.getvalue() == "fold 1/2: training\n"


def test_terminal_bar_redraws_in_place_with_the_time_left() -> None:
    out, clock = io.StringIO(), Clock()
    display = Display(out, terminal=True, clock=clock, width=200)
    display("training lstm on 60 windows")  # the fit's clock starts here
    clock.now += 5.0  # epoch 1: 5 s, compilation included
    display(_epoch(1, 10))
    first = out.getvalue().split("\n", 1)[1]
    assert first.startswith("\r\x1b[K[##------------------] epoch 1/10  0:05")
    assert "left" not in first  # no estimate from the first epoch alone
    for done in (2, 3, 4):
        clock.now += 2.0  # later epochs: 2 s each
        display(_epoch(done, 10))
    last = out.getvalue().rsplit("\r\x1b[K", 1)[1]
    # 6 epochs left at the 2 s pace measured since epoch 1 ended: 12 s.
    assert (
        last
        == "[########------------] epoch 4/10  0:11, at most 0:12 left  loss 0.5000"
    )
    assert out.getvalue().count("\n") == 1  # redraws add no lines
    display.close()
    assert out.getvalue().endswith("loss 0.5000\n")


def test_terminal_outer_lines_end_the_bar_and_carry_an_estimate() -> None:
    out, clock = io.StringIO(), Clock()
    display = Display(out, terminal=True, clock=clock, width=200)
    display(Step("fold 1/4: training", kind="fold", done=0, total=4))
    clock.now += 3.0
    display(_epoch(1, 2))
    clock.now += 7.0
    display(Step("fold 2/4: training", kind="fold", done=1, total=4))
    text = out.getvalue()
    # The bar's line is ended before the fold line; 10 s a fold, 3 folds to go.
    assert text.endswith("loss 0.5000\nfold 2/4: training  (about 0:30 left)\n")
    assert text.startswith(
        "fold 1/4: training\n"
    )  # no estimate before a fold has ended


def test_a_new_fit_restarts_the_bar_and_its_clock() -> None:
    out, clock = io.StringIO(), Clock()
    display = Display(out, terminal=True, clock=clock, width=200)
    for done in (1, 2, 3):
        clock.now += 1.0
        display(_epoch(done, 3))
    display("final fit on all 70 windows")
    clock.now += 4.0
    display(_epoch(1, 3))
    assert out.getvalue().endswith(
        "\r\x1b[K[#######-------------] epoch 1/3  0:04  loss 0.5000"
    )


def test_a_narrow_terminal_cuts_the_details_not_the_estimate() -> None:
    out, clock = io.StringIO(), Clock()
    display = Display(out, terminal=True, clock=clock, width=60)
    for done in (1, 2):
        clock.now += 1.0
        display(_epoch(done, 50))
    last = out.getvalue().rsplit("\r\x1b[K", 1)[1]
    assert len(last) == 59
    assert "at most 0:48 left" in last
    assert last.endswith("…")


def test_a_warning_during_the_bar_starts_on_a_line_of_its_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out = io.StringIO()
    monkeypatch.setattr(sys, "stderr", out)
    logs.configure()
    try:
        display = Display(out, terminal=True, width=200)
        display(_epoch(1, 3))
        logs.warn("dropout forfeits the cuDNN kernels")
    finally:
        logs.reset()
    assert out.getvalue().endswith(
        "loss 0.5000\nwarning: dropout forfeits the cuDNN kernels\n"
    )


def test_finish_ends_only_a_shown_bar() -> None:
    out = io.StringIO()
    display = Display(out, terminal=True, width=200)
    progress.finish()
    assert out.getvalue() == ""
    display(_epoch(1, 3))
    progress.finish()
    progress.finish()
    assert out.getvalue().count("\n") == 1


def _train_command(tmp_path: Path, csv: Path, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "seqcast", "train", str(csv), "--target", "y",
        "--date-col", "date", "--window", "14", "--horizon", "3", "--epochs", "3",
        "--units", "4", "--batch-size", "32", "--patience", "0",
        "--out", str(tmp_path / "model"), *extra,
    ]  # fmt: skip


def _run_in_pty(cmd: list[str]) -> tuple[int, str]:
    """Run ``cmd`` with stdout and stderr on a pseudo-terminal; return its code and output."""
    master, slave = os.openpty()
    proc = subprocess.Popen(
        cmd, env=ENV, stdin=subprocess.DEVNULL, stdout=slave, stderr=slave
    )
    os.close(slave)
    chunks: list[bytes] = []
    while True:
        ready, _, _ = select.select([master], [], [], 120)
        if not ready:
            proc.kill()
            break
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    return proc.wait(60), b"".join(chunks).decode("utf-8", "replace")


def test_train_on_a_terminal_draws_a_bar_and_in_a_pipe_plain_lines(
    tmp_path: Path, sample_csv: Path
) -> None:
    code, shown = _run_in_pty(_train_command(tmp_path, sample_csv))
    assert code == 0, shown
    bars = re.findall(r"\r\x1b\[K\[[#-]{20}\] epoch (\d)/3  \d+:\d\d", shown)
    assert bars == ["1", "2", "3"]
    assert "at most" in shown  # an estimate once the second epoch has ended
    # The last bar is ended before the next line, so nothing is printed over it.
    assert re.search(r"epoch 3/3 [^\r\n]*\r?\n(?:warning|note|trained)", shown)

    piped = subprocess.run(
        _train_command(tmp_path, sample_csv), env=ENV, capture_output=True, text=True
    )
    assert piped.returncode == 0, piped.stderr
    assert "\r" not in piped.stderr
    assert "\x1b" not in piped.stderr
    epochs = [line for line in piped.stderr.splitlines() if line.startswith("epoch ")]
    assert [line.split()[1] for line in epochs] == ["1/3", "2/3", "3/3"]


def test_quiet_shows_no_progress_even_on_a_terminal(
    tmp_path: Path, sample_csv: Path
) -> None:
    code, shown = _run_in_pty(_train_command(tmp_path, sample_csv, "-q"))
    assert code == 0, shown
    assert "epoch" not in shown
    assert "\x1b" not in shown
    assert "training lstm" not in shown
