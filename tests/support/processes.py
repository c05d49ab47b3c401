"""Running an ``omnibus`` command as a real process, the way operators start it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TypeVar

from tests.support.ports import logged_port, logged_ports

T = TypeVar("T")
ALARM_LEVELS = ("warning", "error", "critical")  # bus.logging's JSON "level" values a failure report lists first
ALARMS, LINE_CHARS = 10, 400


def tail_report(returncode: int | None, logged: list[str], lines: int = 30) -> str:
    """A process's failure report from its output lines ``logged``: its exit status (``returncode`` None: ``running``),
    its last line, its warning and error lines (the last ``ALARMS``, each cut to ``LINE_CHARS``), then its last
    ``lines`` lines: a report cut short keeps the cause (a crash's line is last, the log's first lines are start-up)."""
    status = "running" if returncode is None else f"exit status {returncode}"
    alarms = [line[:LINE_CHARS] for line in logged if any(f'"level": "{level}"' in line for level in ALARM_LEVELS)]
    return "\n".join([status, "last line: " + (logged[-1][:LINE_CHARS] if logged else "(empty log)"),
                      *(["warnings and errors:", *alarms[-ALARMS:]] if alarms else []),
                      f"last {lines} lines:", *logged[-lines:]])


@dataclass
class Command:
    process: subprocess.Popen[bytes]
    output: str = ""
    lines: list[str] = field(default_factory=list)
    sink: IO[bytes] | None = None  # where the process writes (stdout and stderr), read while it runs by ``port``

    def logged(self, event: str) -> int | None:
        """The port the process logged with ``event`` so far (started on port 0: ``tests.support.ports.logged_port``);
        None before that line is written."""
        return logged_port(self.written(), event)

    def logged_all(self, event: str) -> list[int]:
        """Every port the process logged with ``event`` so far (``tests.support.ports.logged_ports``)."""
        return logged_ports(self.written(), event)

    def written(self) -> str:
        """What the process wrote so far (stdout and stderr)."""
        assert self.sink is not None
        return os.pread(self.sink.fileno(), 1 << 24, 0).decode(errors="replace")

    def port(self, event: str, timeout_s: float = 240.0) -> int:
        """The port the process logged with ``event``, waited for (``logged``): a start-up's first lines, which came
        90 s after the launch at load 20+ (tests/processors/test_readiness.py)."""
        return self.wait_for(lambda: self.logged(event), f"its {event!r} line", timeout_s)

    def tail(self, lines: int = 30) -> str:
        """``tail_report`` of what the process wrote so far."""
        return tail_report(self.process.poll(), self.written().splitlines(), lines)

    def wait_for(self, predicate: Callable[[], T | None], what: str, timeout_s: float = 90.0) -> T:
        """``predicate()``'s first true value, asked every 0.2 s; AssertionError with the process's ``tail`` when it
        exits first (CI's readiness test said only that it had exited), or after ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"the process exited while waiting for {what}:\n{self.tail()}"
            try:
                found = predicate()
            except OSError:
                found = None
            if found:
                return found
            time.sleep(0.2)
        raise AssertionError(f"timed out waiting for {what}")


STOP_TIMEOUT_S = 60.0  # SIGTERM to exit; a process still running then is killed, and the test fails


@contextmanager
def omnibus_command(args: list[str], env: dict[str, str], cwd: Path) -> Iterator[Command]:
    """Start ``omnibus <args>``; on exit send SIGTERM and collect its output (stdout and stderr).

    The output goes to an unnamed temporary file, not a pipe: nothing reads a pipe while the test runs, and a
    process that logs more than the pipe's 64 KiB (warnings on a loaded machine) would block on its next line.
    A process that does not exit within ``STOP_TIMEOUT_S`` of SIGTERM is killed (never left running)."""
    with tempfile.TemporaryFile() as out:
        process = subprocess.Popen(
            [sys.executable, "-c", "from omnibus.cli import app; app()", *args],
            env={**os.environ, **env}, cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
        )
        command = Command(process, sink=out)
        stopped = True
        try:
            yield command
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                stopped = False
                process.kill()
                process.wait()
            out.seek(0)
            command.output = out.read().decode(errors="replace")
            command.lines = [line for line in command.output.splitlines() if line.strip()]
        assert stopped, f"omnibus {' '.join(args)} did not exit within {STOP_TIMEOUT_S:.0f} s of SIGTERM (killed):\n" + (
            command.output[-3000:])


def assert_clean_exit(command: Command, *secrets: str) -> None:
    """Exit 0, every line structured JSON, no identifier in plain text, nothing left in the cwd."""
    assert command.process.returncode == 0, command.output[-3000:]
    assert command.lines and all(line.startswith("{") for line in command.lines), [
        line for line in command.lines if not line.startswith("{")][:5]
    for secret in secrets:
        assert secret not in command.output
