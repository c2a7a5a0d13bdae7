"""Progress of long work: lines that know how far along they are, and how to show them.

Library code reports progress by calling a ``progress(line)`` function with plain
strings. A line that counts something (an epoch of a fit, a backtest fold) is a
:class:`Step`: still a ``str``, so callers that collect or print lines keep working, but
it also carries ``kind``, ``done`` and ``total``.

:class:`Display` is what the CLI passes as ``progress``. On a terminal it redraws one
bar in place for the epochs of a fit, with the time spent and an estimate of the time
left, and prints every other line on a line of its own (with an estimate for counted
lines such as folds). In a pipe or a log file it prints plain lines, one per call,
with no control characters, so ``seqcast train ... 2>train.log`` stays readable.
``-q`` passes no display at all.
"""

from __future__ import annotations

import math
import shutil
import time
from collections.abc import Callable
from typing import IO, Self

#: Kinds whose steps redraw the bar on a terminal (the innermost loop).
INNER = frozenset({"epoch"})

_BAR = 20
_CLEAR = "\r\x1b[K"

_active: list[Display] = []  # the display finish() ends: the latest one made


class Step(str):
    """A progress line that counts: ``done`` of ``total`` units of ``kind`` are finished.

    Examples:
        ``Step("epoch 3/50  loss 0.0123", kind="epoch", done=3, total=50)``: the third
        epoch has ended. ``Step("fold 2/4: training ...", kind="fold", done=1,
        total=4)``: the second fold starts, one is finished.
    """

    kind: str
    done: int
    total: int

    def __new__(cls, text: str, *, kind: str, done: int, total: int) -> Self:
        """Make the line ``text`` with its count."""
        step = super().__new__(cls, text)
        step.kind = kind
        step.done = int(done)
        step.total = int(total)
        return step


def clock_text(seconds: float) -> str:
    """Format a duration as ``m:ss`` or ``h:mm:ss`` (``0:07``, ``12:30``, ``1:02:03``)."""
    whole = max(0, math.ceil(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes}:{secs:02d}"


class _Run:
    """When a run of steps of one kind and total started, to estimate the time left."""

    def __init__(self, kind: str, total: int, started: float, done: int) -> None:
        self.kind = kind
        self.total = total
        self.started = started
        self.first_done = done
        self.last_done = done
        self.seen: tuple[float, int] | None = None  # time and count of its first line

    def matches(self, step: Step) -> bool:
        """Whether ``step`` continues this run (a count that goes back starts a new one)."""
        return (
            step.kind == self.kind
            and step.total == self.total
            and step.done > self.last_done
        )

    def left(self, step: Step, now: float) -> float | None:
        """Seconds left at the pace so far, or None before any unit has finished.

        The pace is taken from the run's first line on where that line already counts
        finished units (epochs), so that the first epoch's compilation does not
        inflate the estimate once a second epoch has ended.
        """
        if step.done >= step.total:
            return 0.0
        if self.seen is None:
            self.seen = (now, step.done)
        seen_at, seen_done = self.seen
        if step.done > seen_done and seen_done > self.first_done:
            return (now - seen_at) / (step.done - seen_done) * (step.total - step.done)
        if seen_done > self.first_done:
            return None  # only the first epoch so far, compilation and all
        finished = step.done - self.first_done
        if finished <= 0:
            return None
        return (now - self.started) / finished * (step.total - step.done)


class Display:
    """Show progress lines on ``stream``: a bar on a terminal, plain lines elsewhere.

    Args:
        stream: Where to write (the CLI gives stderr).
        terminal: Draw the bar; default: whether ``stream`` is a terminal.
        plain: In plain mode, which lines to print (default: all). The bar mode shows
            every line, since redrawing costs no lines.
        clock: Seconds, monotonic (for tests).
        width: Columns of the terminal (default: asked of the terminal).
    """

    def __init__(
        self,
        stream: IO[str],
        *,
        terminal: bool | None = None,
        plain: Callable[[str], bool] | None = None,
        clock: Callable[[], float] = time.monotonic,
        width: int | None = None,
    ) -> None:
        if terminal is None:
            isatty = getattr(stream, "isatty", None)
            terminal = bool(isatty and isatty())
        self.stream = stream
        self.terminal = terminal
        self.plain = plain
        self.clock = clock
        self.width = width
        self.bar_shown = False
        self._since = clock()  # when the last line that was not an inner step came
        self._runs: dict[str, _Run] = {}
        _active[:] = [self]

    def __call__(self, line: str) -> None:
        """Show one progress line."""
        now = self.clock()
        if not self.terminal:
            if self.plain is None or self.plain(line):
                self._write(f"{line}\n")
            return
        if isinstance(line, Step) and line.kind in INNER:
            self._draw(line, now)
            return
        self.finish()
        text = str(line)
        if isinstance(line, Step):
            left = self._run(line, now).left(line, now)
            if left is not None and line.done < line.total:
                text += f"  (about {clock_text(left)} left)"
        self._write(f"{text}\n")
        self._since = self.clock()

    def finish(self) -> None:
        """End the bar's line, so that the next output starts on a line of its own."""
        if self.bar_shown:
            self._write("\n")
            self.bar_shown = False

    def close(self) -> None:
        """Finish the bar and stop being the display that :func:`finish` ends."""
        self.finish()
        if self in _active:
            _active.remove(self)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _run(self, step: Step, now: float) -> _Run:
        run = self._runs.get(step.kind)
        if run is None or not run.matches(step):
            # A new run: an inner step's clock starts at the line before it (its first
            # unit is already finished); an outer step's at its own first line.
            started = self._since if step.kind in INNER else now
            done = step.done - 1 if step.kind in INNER else step.done
            run = _Run(step.kind, step.total, started, max(done, 0))
            self._runs[step.kind] = run
        run.last_done = step.done
        return run

    def _draw(self, step: Step, now: float) -> None:
        run = self._run(step, now)
        left = run.left(step, now)
        filled = 0 if step.total <= 0 else round(_BAR * step.done / step.total)
        bar = "#" * filled + "-" * (_BAR - filled)
        timing = clock_text(now - run.started)
        if left is not None and step.done < step.total:
            # Early stopping can end a fit sooner: the estimate is an upper bound.
            timing += f", at most {clock_text(left)} left"
        # The count and the time first, the details (losses) after: a narrow terminal
        # cuts the details, never the estimate.
        head, _, details = str(step).partition("  ")
        text = f"[{bar}] {head}  {timing}" + (f"  {details}" if details else "")
        columns = self.width or shutil.get_terminal_size((80, 24)).columns
        if len(text) > columns - 1:
            text = text[: max(columns - 2, 1)] + "…"
        self._write(_CLEAR + text)
        self.bar_shown = True

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (
            OSError,
            ValueError,
        ):  # a closed or broken stream must not stop the work
            pass


def finish() -> None:
    """End every active display's bar line (before an error or a warning is printed)."""
    for display in list(_active):
        display.finish()
