"""Start-up of the console entry point: signals handled before anything heavy is imported.

SIGTERM (cron, ``timeout``) and SIGINT (Ctrl-C) are caught from the first line of
:func:`main`. While a command runs they raise ``KeyboardInterrupt`` (held back while
Keras' native code runs; see ``seqcast.interrupts``), so the command
removes its temporaries and ``cli.edge`` prints ``error: Interrupted; nothing was
written.`` with exit code 130. Before a command starts (imports, option parsing) there
is nothing to clean up, so the process says so and exits with 130 at once, never with a
traceback. Once the command has finished, a signal is ignored, so that the command's
own line and exit code stand alone.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
from typing import Any

from seqcast import interrupts

INTERRUPTED = (
    130  # ExitCode.INTERRUPTED; errors.py is not imported this early on purpose
)
_BEFORE = "error: Interrupted; nothing was written.\n"

phase: dict[str, str] = {"now": "start"}
"""Where the process is: ``start``, ``command`` (a command is running) or ``done``."""

reported: dict[str, bool] = {"interrupt": False}
"""Whether the interrupt line has been printed (it is printed once)."""


def report_interrupt() -> None:
    """Print ``error: Interrupted; nothing was written.`` once, straight to stderr."""
    reported["interrupt"] = True
    with contextlib.suppress(OSError):
        os.write(2, _BEFORE.encode())


def _handle(signum: int, frame: Any) -> None:
    """Raise KeyboardInterrupt inside a command; otherwise report and exit 130 at once.

    While the command drives Keras (``seqcast.interrupts.held``) the interrupt is only
    recorded, and raised once no native code is on the stack; a second one there
    exits with 130 at once.
    """
    if phase["now"] == "command":
        if not interrupts.holding():
            raise KeyboardInterrupt
        if not interrupts.pending():
            interrupts.hold()
            return
        # A second signal while Keras runs: stop now (the writes are atomic).
        report_interrupt()
        exit_interrupted()
    if phase["now"] == "done":
        return  # the command has finished and said so: let it exit with its own code
    message = _BEFORE
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):  # a closed pipe must not stop the exit
            stream.flush()
    with contextlib.suppress(OSError):
        os.write(2, message.encode())
    os._exit(INTERRUPTED)


def install() -> None:
    """Catch SIGTERM and SIGINT (see the module docstring); call first thing in ``main``."""
    signal.signal(signal.SIGTERM, _handle)
    signal.signal(signal.SIGINT, _handle)


def main() -> None:
    """Console-script entry point: install the signal handling, then import and run the app."""
    install()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import seqcast.cli
    from seqcast.cli.app import app, run

    setattr(seqcast.cli, "app", app)  # noqa: B010 - the name means the app, not the module
    try:
        run()
    except SystemExit as exc:
        if exc.code == INTERRUPTED:
            exit_interrupted()
        raise


def exit_interrupted() -> None:
    """End an interrupted run with 130 now that the command has cleaned up after itself.

    ``os._exit``, not ``sys.exit``: CPython remembers a ``KeyboardInterrupt`` that
    escaped code run by ``exec`` (the signal landing while a dataclass was being
    defined, which ``exec``s its methods), even once seqcast has caught it, and then
    ends the process by killing itself with SIGINT (-2 to a parent, not 130).
    """
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):  # a closed pipe must not stop the exit
            stream.flush()
    logging.shutdown()  # the --log-file lines, as at a normal exit
    _close_worker_pool()
    os._exit(INTERRUPTED)


def _close_worker_pool() -> None:
    """Stop the worker processes of ``--per-series --jobs N`` and free their semaphores.

    A normal exit does this in its exit handlers, which ``os._exit`` skips; left, loky's
    resource tracker warns of leaked semaphores on stderr after seqcast's own line.
    """
    reusable = sys.modules.get("joblib.externals.loky.reusable_executor")
    executor = getattr(reusable, "_executor", None)
    if executor is not None:
        with contextlib.suppress(Exception):
            executor.shutdown(wait=True, kill_workers=True)
    finalizers = sys.modules.get("multiprocessing.util")
    if finalizers is not None:
        with contextlib.suppress(Exception):
            finalizers._run_finalizers(0)
