"""SIGTERM at any moment of start-up ends with one line and exit 130, never a traceback."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ENV = {
    **os.environ,
    "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
    "TF_CPP_MIN_LOG_LEVEL": "3",
}
DELAYS = [0.02 * i for i in range(1, 31)]  # 20 ms to 600 ms after launch


@pytest.mark.parametrize("entry", ["module", "console"])
def test_sigterm_during_start_up_never_shows_a_traceback(
    entry: str, tmp_path: Path
) -> None:
    code = (
        ["-m", "seqcast"]
        if entry == "module"
        else [
            "-c",
            "import sys; from seqcast.cli import main; sys.argv[0] = 'seqcast'; main()",
        ]
    )
    cmd = [sys.executable, *code, "info", str(tmp_path / "missing")]
    interrupted = 0
    for delay in DELAYS:
        proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV
        )
        time.sleep(delay)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
        text = err.decode()
        assert "Traceback" not in text, (delay, text)
        assert out == b""
        assert len(text.splitlines()) <= 1, (delay, text)
        if proc.returncode == 130:
            interrupted += 1
            # The line, or (rarely, a kill racing the interpreter's own exit on a
            # loaded machine) nothing at all; never a traceback.
            assert text in ("error: Interrupted; nothing was written.\n", ""), text
        else:  # finished first (or killed before Python ran a line): the usual answer
            assert proc.returncode in (1, -signal.SIGTERM), (
                delay,
                proc.returncode,
                text,
            )
            assert text in (
                "",
                f"error: No model at {tmp_path / 'missing'}. Run `seqcast train` first.\n",
            )
    assert interrupted >= 5  # most kills land during start-up


@pytest.mark.parametrize("already_said", [False, True])
def test_an_interrupt_that_escapes_the_command_still_exits_130_with_one_line(
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    already_said: bool,
) -> None:
    """Never Python's own ending (killed by SIGINT, -2 to a parent), never two lines."""
    import importlib

    from seqcast.cli import startup

    app_module = importlib.import_module("seqcast.cli.app")  # the module, not the app

    def interrupted() -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(app_module, "app", interrupted)
    monkeypatch.setitem(startup.reported, "interrupt", already_said)
    with pytest.raises(SystemExit) as exit_info:
        app_module.run()
    assert exit_info.value.code == 130
    expected = "" if already_said else "error: Interrupted; nothing was written.\n"
    assert capfd.readouterr().err == expected


def test_an_interrupted_run_ends_with_os_exit_130(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """sys.exit could end by SIGINT instead (see startup.exit_interrupted); os._exit cannot."""
    import importlib

    from seqcast.cli import startup

    app_module = importlib.import_module("seqcast.cli.app")
    codes: list[int] = []

    class Exited(Exception):
        pass

    def fake_exit(code: int) -> None:
        codes.append(code)
        raise Exited

    def interrupted() -> None:
        raise SystemExit(130)

    monkeypatch.setattr(app_module, "run", interrupted)
    monkeypatch.setattr(startup.os, "_exit", fake_exit)
    monkeypatch.setattr(startup, "install", lambda: None)
    with pytest.raises(Exited):
        startup.main()
    assert codes == [130]
    monkeypatch.setattr(app_module, "run", lambda: (_ for _ in ()).throw(SystemExit(1)))
    with pytest.raises(SystemExit) as other:
        startup.main()
    assert other.value.code == 1  # other codes leave as usual
