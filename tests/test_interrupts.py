"""Interrupts held while Keras' native code runs (seqcast.interrupts) and raised after it.

A KeyboardInterrupt raised inside TensorFlow's C++ callbacks crashed ``seqcast train``
with SIGSEGV; these tests pin the mechanism that keeps it out of there: a signal in a
held region is recorded, and raised before the next batch or at the region's end.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator

import keras
import numpy as np
import pytest

from seqcast import interrupts
from seqcast.cli import startup
from seqcast.config import ModelConfig, ModelKind, TrainConfig
from seqcast.model.build import build_model
from seqcast.model.training import fit, set_seed

pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning"
)


@pytest.fixture(autouse=True)
def _clean_state() -> Iterator[None]:
    """Python's default SIGINT handler and no held interrupt, before and after."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    interrupts._state.update(depth=0, pending=False)
    yield
    interrupts._state.update(depth=0, pending=False)
    signal.signal(signal.SIGINT, previous)


def _interrupted_region(trail: list[str]) -> None:
    with interrupts.held():
        signal.raise_signal(signal.SIGINT)
        trail.append("after the signal")  # still running: the signal was held


def test_a_signal_inside_the_region_is_raised_at_its_end_not_where_it_lands() -> None:
    reached: list[str] = []
    with pytest.raises(KeyboardInterrupt):
        _interrupted_region(reached)
    assert reached == ["after the signal"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert not interrupts.holding()
    with interrupts.held():  # nothing left over from the first signal
        pass


def test_without_a_signal_the_region_ends_quietly_and_restores_the_handler() -> None:
    with interrupts.held():
        assert interrupts.holding()
        assert signal.getsignal(signal.SIGINT) is not signal.default_int_handler
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    with pytest.raises(KeyboardInterrupt):  # outside a region Python raises at once
        signal.raise_signal(signal.SIGINT)


def _nested_regions(trail: list[str]) -> None:
    with interrupts.held():
        with interrupts.held():
            signal.raise_signal(signal.SIGINT)
        trail.append("inner ended")
        trail.append(str(signal.getsignal(signal.SIGINT) is signal.default_int_handler))


def test_nested_regions_raise_only_when_the_outermost_ends() -> None:
    trail: list[str] = []
    with pytest.raises(KeyboardInterrupt):
        _nested_regions(trail)
    assert trail == ["inner ended", "False"]  # the holding handler is still in place


def test_check_raises_a_held_interrupt_once() -> None:
    trail = []
    with interrupts.held():
        signal.raise_signal(signal.SIGINT)
        with pytest.raises(KeyboardInterrupt):
            interrupts.check()
        trail.append("checked")
        interrupts.check()  # already raised: nothing more
    assert trail == ["checked"]


def _failing_region() -> None:
    with interrupts.held():
        signal.raise_signal(signal.SIGINT)
        raise ValueError("the block failed too")


def test_a_held_interrupt_replaces_the_error_the_block_raised() -> None:
    with pytest.raises(KeyboardInterrupt) as caught:
        _failing_region()
    assert isinstance(caught.value.__context__, ValueError)


def test_a_program_s_own_handler_is_left_alone() -> None:
    calls = []
    signal.signal(signal.SIGINT, lambda signum, frame: calls.append(signum))
    with interrupts.held():
        signal.raise_signal(signal.SIGINT)
    assert calls == [signal.SIGINT]
    assert not interrupts._state["pending"]


def test_other_threads_neither_hold_nor_raise() -> None:
    seen: dict[str, object] = {}

    def worker() -> None:
        with interrupts.held():
            seen["holding"] = interrupts.holding()
            seen["handler"] = signal.getsignal(signal.SIGINT)
        interrupts.hold()
        interrupts.check()  # only the main thread takes a held interrupt
        seen["done"] = True

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    assert seen == {
        "holding": False,
        "handler": signal.default_int_handler,
        "done": True,
    }
    with pytest.raises(KeyboardInterrupt):
        interrupts.check()  # the main thread takes it


def test_the_cli_handler_holds_inside_a_region_and_raises_outside() -> None:
    pending = []

    def region() -> None:
        with interrupts.held():
            startup._handle(signal.SIGTERM, None)  # held: returns
            pending.append(interrupts._state["pending"])

    startup.phase["now"] = "command"
    try:
        with pytest.raises(KeyboardInterrupt):
            region()
        assert pending == [True]
        with pytest.raises(KeyboardInterrupt):
            startup._handle(signal.SIGTERM, None)
    finally:
        startup.phase["now"] = "start"


@pytest.mark.slow
def test_an_interrupt_during_fit_stops_it_before_the_next_batch() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 6, 1)).astype(np.float32)
    y = x[:, -2:, 0].copy()
    set_seed(0)
    model = build_model(
        ModelConfig(model=ModelKind.GRU, units=(4,)), window=6, n_features=1, horizon=2
    )
    config = TrainConfig(window=6, horizon=2, epochs=5, batch_size=16, patience=0)
    batches: list[int] = []
    lines: list[str] = []

    class Count(keras.callbacks.Callback):  # type: ignore[misc]
        def on_train_batch_begin(self, batch: int, logs: object = None) -> None:
            batches.append(batch)

    def progress(line: str) -> None:
        lines.append(str(line))
        signal.raise_signal(signal.SIGINT)  # Ctrl-C at the end of epoch 1
        lines.append("held")

    original = model.fit

    def fit_counting(*args: object, **kwargs: object) -> object:
        kwargs["callbacks"] = [*kwargs["callbacks"], Count()]  # type: ignore[list-item]
        return original(*args, **kwargs)

    model.fit = fit_counting
    with pytest.raises(KeyboardInterrupt):
        fit(model, (x, y), None, config, progress=progress)
    assert lines[0].startswith("epoch 1/5")
    assert lines[1:] == ["held"]
    assert len(batches) == 4  # epoch 1's four batches; epoch 2 never started one
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert not interrupts.holding()


def test_the_default_handler_comes_back_when_the_block_raises() -> None:
    with pytest.raises(ValueError, match="no signal"):
        _raising_region()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert not interrupts.holding()


def _raising_region() -> None:
    with interrupts.held():
        raise ValueError("no signal")


def test_a_stale_held_interrupt_does_not_stop_the_next_region() -> None:
    interrupts.hold()  # as if one landed while an earlier region was ending
    trail = []
    with interrupts.held():
        interrupts.check()
        trail.append("ran")
    assert trail == ["ran"]


def test_a_handler_the_block_installs_stays_after_it() -> None:
    def mine(signum: int, frame: object) -> None:
        pass

    with interrupts.held():
        signal.signal(signal.SIGINT, mine)
    assert signal.getsignal(signal.SIGINT) is mine


def test_a_second_ctrl_c_in_a_script_raises_where_it_lands() -> None:
    trail = []

    def region() -> None:
        with interrupts.held():
            signal.raise_signal(signal.SIGINT)  # held
            trail.append("held once")
            signal.raise_signal(signal.SIGINT)  # raised here
            trail.append("never")

    with pytest.raises(KeyboardInterrupt):
        region()
    assert trail == ["held once"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_second_signal_to_the_cli_while_keras_runs_exits_130_at_once() -> None:
    import subprocess
    import sys

    code = (
        "import signal, time\n"
        "from seqcast import interrupts\n"
        "from seqcast.cli import startup\n"
        "startup.install(); startup.phase['now'] = 'command'\n"
        "with interrupts.held():\n"
        "    signal.raise_signal(signal.SIGTERM)\n"
        "    print('held', flush=True)\n"
        "    signal.raise_signal(signal.SIGTERM)\n"
        "    print('never', flush=True)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 130, done.stderr
    assert done.stdout == "held\n"
    assert done.stderr == "error: Interrupted; nothing was written.\n"
