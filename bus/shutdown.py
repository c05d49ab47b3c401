"""A stop deadline: once a process is asked to stop, it is gone within ``OMNIBUS_STOP__DEADLINE_S`` seconds.

A graceful stop flushes to Kafka (an adapter's producer) or commits to it (a processor's consumer). With the
broker gone for good that waits for minutes (aiokafka retries a flush until its batches expire, faust
retries its commits), and the process ignores SIGTERM until Kubernetes sends SIGKILL at
``terminationGracePeriodSeconds``, without a word on what it left. Here the first SIGTERM or SIGINT arms a
timer; when it fires before the process has ended, the process logs what it abandons (counts only, never
an identifier) and writes one ``error:`` line, then exits ``STOP_DEADLINE_EXIT``.

Nothing is lost by that: an adapter answers 2xx only after Kafka acknowledged (``adapters.base.publisher``),
so every event still unacknowledged belongs to a request that got a 503 or no answer, which its sender
sends again; a processor commits an input offset only after the outputs and state changes it caused were
acknowledged (``bus.changelog_first``, ``bus.commit_gap``), so its uncommitted records are read again by
whichever worker takes the partition next.

The timer is a thread, not an asyncio task: it has to fire even when the event loop is stuck in a flush.

A worker's stop that begins without a signal (a crash: ``bus.app.run_worker`` arms the deadline when the app
crashes, with the crash's status) is bounded the same way: a crashed worker hung in faust's stop (waiting on a
commit, "Wait for streams...") stayed up for minutes with ``/live`` 200 and ignored SIGTERM, so neither Kubernetes
nor a restart loop started it again. And once a stop has lasted ``hung_after_s()`` (``HUNG_STOP_S``, at most the
deadline), ``hung_stop()`` says so and a processor's ``/live`` answers 503 (``processors.readiness``).

Usage: ``bus.bootstrap.start_process`` installs the deadline from the settings; a command's signal handler
calls ``arm()``; a component names what it would abandon with ``track(what, count)``; ``exit_at_once_once_stopping``
around the command (``omnibus.cli.main``) ends a stopped process right after its last line, since the timer cannot
fire during Python's own exit.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from bus.log_repeats import flush_repeats
from bus.logging import get_logger
from bus.registry_outage import OUTAGE, RegistryOutage
from bus.topics import FAUST_CHANGELOG_SUFFIX

STOP_DEADLINE_EXIT = 124  # what GNU timeout(1) exits with when the command timed out
HUNG_STOP_S = 20.0  # a stop unfinished after this many seconds is hung: /live 503 (processors stop within ~15 s)
UNKNOWN = -1  # a count that could not be taken (the structure changed under the reading thread)
log = get_logger(__name__)

Counter = Callable[[], int]


class StopDeadline:
    """Exit ``exit_status`` via ``exit`` when ``deadline_s`` seconds have passed since ``arm()``.

    ``exit`` is ``os._exit`` in a process (no cleanup: the cleanup is what hangs); tests pass their own.
    """

    def __init__(self, deadline_s: float, *, exit: Callable[[int], Any] = os._exit,  # noqa: A002 - its name
                 exit_status: int = STOP_DEADLINE_EXIT, registry: RegistryOutage = OUTAGE) -> None:
        self.deadline_s = deadline_s
        self._registry = registry
        self._registry_down_at_stop = False  # the schema registry was not answering when the stop began
        self._exit = exit
        self._exit_status = exit_status
        self._counters: dict[str, Counter] = {}
        self._timer: threading.Timer | None = None
        self._lock = threading.Lock()
        self._clock = time.monotonic
        self.armed_at: float | None = None  # when the stop began (``time.monotonic``), None before

    def track(self, what: str, count: Counter) -> None:
        """Report ``count()`` under ``what`` (e.g. ``unacknowledged_events``) if the deadline passes."""
        self._counters[what] = count

    @property
    def armed(self) -> bool:
        return self._timer is not None

    def arm(self, exit_status: int | None = None) -> None:
        """Start the clock (idempotent: a second signal does not push the deadline back). ``exit_status``: the
        status to exit with instead (a command that already failed for its own reason: its status, not 124)."""
        with self._lock:
            if self._timer is not None:
                return
            if exit_status is not None:
                self._exit_status = exit_status
            self._timer = threading.Timer(self.deadline_s, self.expire)
            self._timer.daemon = True  # a process that stopped in time exits without waiting for it
            self._timer.name = "omnibus-stop-deadline"
            self._timer.start()
            self.armed_at = self._clock()
            self._registry_down_at_stop = self._registry.ongoing()

    def stopping_for(self) -> float | None:
        """Seconds since the stop began (``arm``), None while no stop began."""
        return None if self.armed_at is None else self._clock() - self.armed_at

    def disarm(self) -> None:
        """Cancel the clock (a stop that finished in time; tests)."""
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = None
            self.armed_at = None

    def abandoned(self) -> dict[str, int]:
        """Every tracked count now; ``UNKNOWN`` for one that could not be taken."""
        counts = {}
        for what, count in self._counters.items():
            try:
                counts[what] = int(count())
            except Exception:  # read from another thread than the loop that owns it: may change mid-read
                counts[what] = UNKNOWN
        return counts

    def likely_cause(self) -> str:
        """What the ``error:`` line asks the operator to look at: the schema registry when it was not answering as
        the stop began or is not now (a stop waits on its look-ups: ``bus.registry_outage``), else Kafka."""
        if self._registry_down_at_stop or self._registry.ongoing():
            return "the schema registry was not answering: is it reachable?"
        return "is Kafka reachable?"

    def expire(self) -> None:
        """Log what is abandoned, write the ``error:`` line, exit."""
        counts = self.abandoned()
        log.error("stop deadline passed: exiting without finishing the stop", deadline_s=self.deadline_s, **counts)
        summary = ", ".join(f"{what.replace('_', ' ')}: {n if n != UNKNOWN else 'unknown'}"
                            for what, n in counts.items())
        flush_repeats()  # every log line before the error line, all before the exit
        sys.stderr.write(f"error: the stop did not finish within {self.deadline_s:g} s ({self.likely_cause()}); "
                         f"abandoned{' ' + summary if summary else ' nothing tracked'} (nothing is lost: no event "
                         "Kafka did not acknowledge was answered 2xx, and records not committed are read again)\n")
        sys.stderr.flush()
        self._exit(self._exit_status)


_process_deadline: StopDeadline | None = None


def install(deadline_s: float) -> StopDeadline:
    """The process's deadline (one per process; a second call replaces an unarmed one)."""
    global _process_deadline
    if _process_deadline is not None:
        _process_deadline.disarm()
    _process_deadline = StopDeadline(deadline_s)
    return _process_deadline


def current() -> StopDeadline | None:
    return _process_deadline


def stop_began() -> bool:
    """Whether this process's stop began (a signal or a crash armed its deadline); False when none was installed."""
    return _process_deadline is not None and _process_deadline.armed


def arm(exit_status: int | None = None) -> None:
    """Start the process's stop clock; nothing when none was installed (a library use, a test). ``exit_status``: see
    ``StopDeadline.arm``."""
    if _process_deadline is not None:
        _process_deadline.arm(exit_status)


def hung_after_s(deadline: StopDeadline) -> float:
    """How long a stop may last before it is hung: ``HUNG_STOP_S``, at most ``deadline``'s own seconds."""
    return min(HUNG_STOP_S, deadline.deadline_s)


def hung_stop() -> str | None:
    """Why this process's stop is hung (it began more than ``hung_after_s`` seconds ago and has not ended), or
    None: no stop began, or it is young."""
    deadline = _process_deadline
    if deadline is None or (stopping := deadline.stopping_for()) is None or stopping <= hung_after_s(deadline):
        return None
    return (f"the worker's stop has not finished for {stopping:.0f} s (hung after {hung_after_s(deadline):g} s); "
            f"the process exits {deadline.deadline_s:g} s after the stop began")


@contextmanager
def exit_at_once_once_stopping() -> Iterator[None]:
    """Around a command: once its stop began (``stop_began``: a signal or a crash armed the deadline), its end ends
    the process at once, after flushing the logs and stdio (``os._exit``), with the command's status.

    Python's own exit (the interpreter's finalization: objects' ``__del__``, modules torn down) comes after the
    deadline's timer thread can run: a worker whose last line was written lingered there 72 s, past the 40 s
    deadline, and exited 0. Nothing is left to do there once the stop finished: what the stop had to flush or
    commit is done, and what it left is read again (the module's docstring)."""
    try:
        yield
    except SystemExit as exit_:
        if stop_began():
            _exit_now(exit_.code)
        raise
    if stop_began():
        _exit_now(0)


def _exit_now(code: Any) -> None:
    """``os._exit`` with the status ``sys.exit(code)`` would give (a message ``code``: printed, status 1)."""
    import logging

    if code is not None and not isinstance(code, int):
        sys.stderr.write(f"{code}\n")
    logging.shutdown()  # held-back repeats and buffered lines first
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe or stream: nothing more can be written to it
            pass
    os._exit(0 if code is None else code if isinstance(code, int) else 1)


def track(what: str, count: Counter) -> None:
    """Name a count of what the process would abandon (see ``StopDeadline.track``)."""
    if _process_deadline is not None:
        _process_deadline.track(what, count)


def aiokafka_unacknowledged(producer: Any) -> int:
    """Records an ``AIOKafkaProducer`` holds that Kafka has not acknowledged: in its accumulator's queues and
    in produce requests in flight (aiokafka 0.14's ``MessageAccumulator._batches`` and ``_pending_batches``)."""
    accumulator = getattr(producer, "_message_accumulator", None)
    if accumulator is None:
        return 0
    queued: Iterable[Any] = [batch for batches in list(accumulator._batches.values()) for batch in list(batches)]
    return sum(batch.record_count for batch in [*queued, *list(accumulator._pending_batches)])


def faust_uncommitted(consumer: Any) -> int:
    """Input records a faust consumer has read past its committed offsets, summed over its partitions
    (``_read_offset``: the last offset read; ``_committed_offset``: the next offset to read after a restart;
    a partition never committed counts from offset 0, an upper bound). Table changelogs are not committed
    (recovery reads them), so they are left out."""
    read: Mapping[Any, int | None] = consumer._read_offset
    committed: Mapping[Any, int | None] = consumer._committed_offset
    total = 0
    for tp, last in list(read.items()):
        if last is not None and not tp.topic.endswith(FAUST_CHANGELOG_SUFFIX):
            total += max(0, last + 1 - (committed.get(tp) or 0))
    return total
