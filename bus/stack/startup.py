"""How long a server's start is waited for: while its process lives and makes progress, up to a ceiling.

A fixed limit failed on a starved 2-core machine (load 13-33): a broker stopped at 90 s had reached metadata
loading, a registry needed more than 120 s. So a start is waited for

* until the server answers (ready),
* not at all once its process has exited (the caller checks it each round and fails with the log's tail),
* ``stall_s`` seconds at most while its process is alive but silent: none of its logs grew and its probe's answer
  did not change (a JVM that hangs),
* ``ceiling_s`` seconds at most in all, however busy it looks.

Both limits come from the environment (``OMNIBUS_STACK_START_S``, ``OMNIBUS_STACK_STALL_S``: tooling variables
declared in ``bus.config``); a wait longer than ``REPORT_EVERY_S`` logs one warning a minute
("still starting: 60 s, log at ...") so a user sees that it goes on. Used by ``KafkaBroker``,
``SchemaRegistryServer`` and the test fixtures' PostgreSQL and Prometheus.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from bus.config import STACK_STALL_VARIABLE, STACK_START_VARIABLE
from bus.errors import ConfigError
from bus.logging import get_logger

# Suited to a starved 2-core machine: a broker's first log line came ~100 s after its launch at load 30, the
# registry needed more than 120 s after the broker; a JVM silent for 5 minutes is hung, not slow.
DEFAULT_START_S = 1200.0
DEFAULT_STALL_S = 300.0
REPORT_EVERY_S = 60.0

log = get_logger(__name__)


@dataclass(frozen=True)
class StartLimits:
    """``ceiling_s``: the longest a start is waited for in all; ``stall_s``: the longest without progress (s)."""

    ceiling_s: float = DEFAULT_START_S
    stall_s: float = DEFAULT_STALL_S

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> StartLimits:
        """The limits set by ``OMNIBUS_STACK_START_S`` / ``OMNIBUS_STACK_STALL_S`` (seconds, > 0), else the defaults.
        Raises ``ConfigError`` for a value that is not a positive number."""
        environ = os.environ if environ is None else environ
        return cls(_seconds(environ, STACK_START_VARIABLE, DEFAULT_START_S),
                   _seconds(environ, STACK_STALL_VARIABLE, DEFAULT_STALL_S))


def _seconds(environ: Mapping[str, str], name: str, default: float) -> float:
    text = environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise ConfigError(f"{name}={text!r}: give a number of seconds above 0")
    return value


class StartWatch:
    """The progress of one server's start: its logs' sizes and its probe's last answer, against ``limits``.

    ``clock`` (monotonic seconds) and ``size`` (bytes of a path, 0 if absent) are given by tests."""

    def __init__(
        self,
        what: str,
        logs: Sequence[Path],
        limits: StartLimits | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        size: Callable[[Path], int] | None = None,
    ) -> None:
        self.what = what
        self.logs = tuple(logs)
        self.limits = limits or StartLimits.from_environment()
        self._clock = clock
        self._size = size or _size
        self.started = self._last_progress = self._reported = clock()
        self._seen: tuple[object, ...] = self._progress(None)

    def _progress(self, answer: object) -> tuple[object, ...]:
        return (answer, *(self._size(path) for path in self.logs))

    def overdue(self, answer: object = None) -> str | None:
        """None while the start may go on; else why it must end ("was not ready within 1200s", "made no progress
        for 300s"). ``answer``: the readiness probe's latest answer; a new one counts as progress, as a log that
        grew does. Logs "still starting" at most once per ``REPORT_EVERY_S``."""
        now = self._clock()
        seen = self._progress(answer)
        if seen != self._seen:
            self._seen, self._last_progress = seen, now
        if now - self.started >= self.limits.ceiling_s:
            return f"was not ready within {self.limits.ceiling_s:.0f}s (${STACK_START_VARIABLE})"
        if now - self._last_progress >= self.limits.stall_s:
            return (f"made no progress for {self.limits.stall_s:.0f}s while running (no log line, no new probe "
                    f"answer; ${STACK_STALL_VARIABLE})")
        if now - self._reported >= REPORT_EVERY_S:
            self._reported = now
            log.warning("still starting", server=self.what, waited_s=round(now - self.started),
                        log=", ".join(map(str, self.logs)))
        return None


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def await_start(
    process: subprocess.Popen[bytes],
    probe: Callable[[], str | None],
    watch: StartWatch,
    failure: Callable[[str], Exception],
    *,
    poll_s: float = 0.1,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Return once ``probe()`` answers None (ready); until then it answers what it last saw ("port never opened").
    Raises ``failure(why)`` at once when ``process`` exited, and when ``watch`` finds the start overdue."""
    while True:
        code = process.poll()
        if code is not None:
            raise failure(f"exited with code {code} during start-up")
        answer = probe()
        if answer is None:
            return
        why = watch.overdue(answer)
        if why is not None:
            raise failure(f"{why} (last probe: {answer})")
        sleep(poll_s)
