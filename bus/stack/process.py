"""Start and stop the stack's Java servers with a strict ownership discipline.

* Every server runs in its own session / process group (``start_new_session``), so a stop signal
  reaches the JVM and anything it spawned, and a Ctrl-C in the terminal does not half-kill it.
* A server started for a test run or a demo is *tied* to the Python thread that started it
  (Linux ``PR_SET_PDEATHSIG``): if that process dies without cleaning up (SIGKILL, crash,
  pytest-timeout), the kernel sends the JVM SIGTERM, so it never outlives the run by accident.
  ``omnibus stack up`` starts *untied* servers on purpose: they must outlive the CLI process.
* Each JVM carries a unique ``-Domnibus.stack.marker=<token>`` argument. A process is only ever
  signalled after its ``/proc/<pid>/cmdline`` shows that marker, so a recycled pid or somebody
  else's broker is never touched.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Self

from bus.errors import LocalStackError

MARKER_PROPERTY = "omnibus.stack.marker"
_PR_SET_PDEATHSIG = 1


class StackError(LocalStackError):
    """A local-stack server could not be started or stopped; the message says where its log is."""


def new_marker() -> str:
    """A fresh token identifying one server process."""
    return uuid.uuid4().hex


def marker_arg(marker: str) -> str:
    """The JVM argument that tags a process with ``marker``."""
    return f"-D{MARKER_PROPERTY}={marker}"


def _die_with_parent() -> None:  # pragma: no cover - runs in the forked child
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def spawn(
    command: Sequence[str], *, cwd: Path, output: Path, tie_to_parent: bool, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """Start ``command`` in a new process group, stdout+stderr appended to ``output``."""
    output.parent.mkdir(parents=True, exist_ok=True)
    with open(output, "ab") as sink:
        return subprocess.Popen(
            list(command),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
            preexec_fn=_die_with_parent if tie_to_parent and _linux() else None,
        )


def _linux() -> bool:
    return os.uname().sysname == "Linux"


def cmdline(pid: int) -> list[str] | None:
    """The argv of a live process, or None if it is gone (or a zombie)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            if stat.read().rsplit(b")", 1)[1].split()[0] == b"Z":
                return None
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, IndexError):
        return None
    return [part.decode("utf-8", "replace") for part in raw.split(b"\0") if part]


def owns(pid: int, marker: str) -> bool:
    """True if ``pid`` is alive, is a ``java`` process, and carries our ``marker``."""
    argv = cmdline(pid)
    return argv is not None and bool(argv) and Path(argv[0]).name == "java" and marker_arg(marker) in argv


def is_alive(pid: int) -> bool:
    """True if ``pid`` exists and is not a zombie."""
    return cmdline(pid) is not None


def terminate(
    pid: int, marker: str, *, popen: subprocess.Popen[bytes] | None = None, timeout: float = 30.0
) -> bool:
    """SIGTERM the process group of ``pid`` if it is ours, SIGKILL it after ``timeout``.

    Returns True if a process was stopped, False if there was nothing of ours to stop.
    """
    if not owns(pid, marker):
        if popen is not None:
            popen.poll()  # reap a child that already exited
        return False
    _signal_group(pid, signal.SIGTERM)
    if _wait_gone(pid, popen, timeout):
        return True
    if owns(pid, marker):
        _signal_group(pid, signal.SIGKILL)
    if not _wait_gone(pid, popen, 10.0):
        raise StackError(f"process {pid} survived SIGKILL; check it with: ps -o pid,stat,args -p {pid}")
    return True


def _signal_group(pid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pid, sig)  # the server is its own group leader (start_new_session)
    except ProcessLookupError:
        pass
    except PermissionError:
        os.kill(pid, sig)


def _wait_gone(pid: int, popen: subprocess.Popen[bytes] | None, timeout: float) -> bool:
    if popen is not None:
        try:
            popen.wait(timeout=timeout)
            return True
        except subprocess.TimeoutExpired:
            return False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not is_alive(pid):
            return True
        time.sleep(0.1)
    return not is_alive(pid)


class OwnedServer:
    """A server process started by this object: its pid, whether it still runs, and a clean stop.

    Subclasses set ``marker`` and ``_popen`` and implement ``start``.
    """

    marker: str
    _popen: subprocess.Popen[bytes] | None
    # Called right after each launch, before the wait for readiness: ``LocalStack`` records the process there, so a
    # ``stack up`` killed while it waits leaves nothing ``stack down`` does not know of.
    on_launch: Callable[[], None] | None = None

    def start(self) -> Self:
        raise NotImplementedError

    def _launched(self) -> None:
        if self.on_launch is not None:
            try:
                self.on_launch()
            except BaseException:
                self.stop()  # not recorded: not left running either
                raise

    def _await_ready(self) -> None:
        raise NotImplementedError

    def _await_ready_or_stop(self) -> None:
        """Wait until the launched process is ready; a wait cut short by anything (a start error, Ctrl-C, a test's
        timeout raised into it) stops that process first, so it never runs on unowned."""
        try:
            self._await_ready()
        except BaseException:
            self.stop()
            raise

    @property
    def pid(self) -> int | None:
        return self._popen.pid if self._popen is not None else None

    def is_running(self) -> bool:
        return self.pid is not None and owns(self.pid, self.marker)

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM (a clean shutdown), SIGKILL after ``timeout``; a no-op if not running."""
        if self._popen is None:
            return
        terminate(self._popen.pid, self.marker, popen=self._popen, timeout=timeout)
        self._popen = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
