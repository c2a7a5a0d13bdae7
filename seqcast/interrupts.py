"""Ctrl-C and SIGTERM while the backend's native code runs: held until stopping is safe.

A Python signal handler runs at whatever bytecode the main thread reaches next. Inside
TensorFlow that can be Python code which TensorFlow's C++ layer called back into (a
tensor conversion, a tracing step); a ``KeyboardInterrupt`` raised there unwinds
through C++ that does not expect it. ``seqcast train`` sent SIGINT just after an epoch
crashed that way with SIGSEGV in 4 runs of 70, instead of exiting with 130.

Code that drives Keras runs inside :func:`held`. A signal that arrives in such a region
is recorded rather than raised, and ``KeyboardInterrupt`` is raised from plain Python
instead: by :func:`check`, which training calls before every batch (so Ctrl-C still
stops a fit within one batch), or when the outermost region ends, however it ends.

Two kinds of handler take part:

- the CLI's own (``seqcast.cli.startup``), which asks :func:`holding` and calls
  :func:`hold` instead of raising while a region is open;
- Python's default SIGINT handler, for scripts that import seqcast: the outermost region
  on the main thread puts a holding handler in its place and restores it on leaving.
  Any other handler a program installed is left alone.

A second signal while one is held does not wait: the CLI exits with 130 at once (its
model directory and outputs are written atomically, so nothing partial is left; the
next run removes the temporaries), and in a script Python's ``KeyboardInterrupt`` is
raised where the signal lands, as without seqcast.

Signal handlers run on the main thread only, so regions entered on other threads (a
Dask worker's) hold nothing and :func:`check` there does nothing.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from typing import Any

__all__ = ["check", "held", "hold", "holding", "pending"]

_state: dict[str, Any] = {"depth": 0, "pending": False}
"""``depth``: regions open on the main thread; ``pending``: a signal arrived in one."""


def _on_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def holding() -> bool:
    """Whether the main thread is inside a :func:`held` region now."""
    return bool(_state["depth"])


def pending() -> bool:
    """Whether an interrupt is held, waiting to be raised."""
    return bool(_state["pending"])


def hold() -> None:
    """Record an interrupt, to be raised at the next :func:`check` or region end."""
    _state["pending"] = True


def _hold_signal(signum: int, frame: Any) -> None:
    """The holding handler for scripts: a second Ctrl-C stops at once, as Python would."""
    if _state["pending"]:
        _state["pending"] = False
        raise KeyboardInterrupt
    hold()


def check() -> None:
    """Raise ``KeyboardInterrupt`` if a held interrupt is waiting (main thread only)."""
    if _state["pending"] and _on_main_thread():
        _state["pending"] = False
        raise KeyboardInterrupt


@contextlib.contextmanager
def held() -> Iterator[None]:
    """Hold SIGINT and SIGTERM interrupts while the block runs; raise one at its end.

    Nested regions raise at the end of the outermost one. An interrupt held while the
    block raised some other exception replaces that exception: the run was asked to
    stop, and stopping is what it reports.
    """
    if not _on_main_thread():
        yield
        return
    outer = _state["depth"] == 0
    if outer:
        _state["pending"] = False  # one that landed as an earlier region was ending
    swapped = outer and signal.getsignal(signal.SIGINT) is signal.default_int_handler
    if swapped:
        signal.signal(signal.SIGINT, _hold_signal)
    _state["depth"] += 1
    try:
        yield
    finally:
        _state["depth"] -= 1
        stop = outer and _state["pending"]
        if outer:
            _state["pending"] = False
        # A handler the block installed itself stays.
        if swapped and signal.getsignal(signal.SIGINT) is _hold_signal:
            signal.signal(signal.SIGINT, signal.default_int_handler)
        if stop:
            raise KeyboardInterrupt
