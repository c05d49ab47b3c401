"""A faust worker that cannot go on ends its process: one line on stderr and a non-zero status.

faust restarts an agent whose coroutine raised, so an error that comes back on every record (a table's
changelog with another partition count than its source topic, faust's ``PartitionsMismatch``) used to make
a crash loop inside a process that stayed up and looked healthy to its supervisor. Here such an error stops
the worker like SIGTERM would (state flushed, offsets committed as far as acknowledged) and the process then
exits with ``WORKER_MISCONFIGURED_EXIT``; Kubernetes (or an operator) sees the cause in the pod's last line.
A worker whose start-up stalled (``bus.startup_watchdog``) ends the same way with ``WORKER_STALLED_EXIT`` and a
line saying why it never became ready, and one whose topics were deleted (``bus.topic_watch``) likewise, naming
them. Any other crash of the worker (faust's own services) ends in one line and
status 1 instead of faust's shutdown log and a re-raised traceback.

A ``PartitionsMismatch`` is always a real one: a topic the metadata does not list yet (counted as 0 partitions
by aiokafka) is no mismatch (``bus.partition_check``).

Errors a handler meets per record are not fatal: the processors dead-letter them (#13). An error that
escapes an agent and is not listed in ``FATAL_ERRORS`` keeps faust's behaviour (the agent restarts), which is
how a worker rides out a broker that is away for a while.
"""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import faust
from faust.exceptions import ImproperlyConfigured, PartitionsMismatch

from bus import early_stop, shutdown, stall_exit, startup_watchdog, topic_watch
from bus.bootstrap import exit_with_message
from bus.errors import ConfigError
from bus.log_repeats import flush_repeats
from bus.logging import get_logger

FATAL_ERRORS: tuple[type[BaseException], ...] = (PartitionsMismatch, ImproperlyConfigured, ConfigError)
WORKER_MISCONFIGURED_EXIT = 78  # EX_CONFIG of BSD's sysexits.h: the deployment (topics, settings) is wrong
WORKER_CRASHED_EXIT = 1
log = get_logger(__name__)


class FatalWatch:
    """The first fatal error any agent of the app raised (``None`` while there was none)."""

    def __init__(self) -> None:
        self.error: BaseException | None = None

    async def on_agent_error(self, agent: Any, exc: BaseException) -> None:
        if not isinstance(exc, FATAL_ERRORS) or self.error is not None:
            return
        self.error = exc
        log.error("worker stopping on a fatal error", agent=getattr(agent, "name", "?"), error=type(exc).__name__)
        os.kill(os.getpid(), signal.SIGTERM)  # the worker's own graceful stop path


@contextmanager
def fatal_errors_exit(app: faust.App, worker: Any) -> Iterator[FatalWatch]:
    """Watch every agent of ``app`` while the block runs ``worker``; then exit as the module says.

    Raises ``SystemExit``: ``WORKER_MISCONFIGURED_EXIT`` after a fatal error, ``WORKER_CRASHED_EXIT`` after a
    crash of the worker, faust's own status otherwise.
    """
    watch = FatalWatch()
    for agent in app.agents.values():
        previous = agent._on_error

        async def on_error(agent: Any, exc: BaseException, previous: Any = previous) -> None:
            if previous is not None:
                await previous(agent, exc)
            await watch.on_agent_error(agent, exc)

        agent._on_error = on_error
    try:
        yield watch
    except SystemExit as exit_:
        if early_stop.stopped_early():  # before faust's handler: said by omnibus.cli.main (bus.early_stop)
            raise
        crash = getattr(worker, "crash_reason", None)
        if watch.error is not None:
            _last_line(f"{type(watch.error).__name__}: {watch.error}", WORKER_MISCONFIGURED_EXIT)
        if (never_ready := startup_watchdog.gave_up(app)) is not None:
            _last_line(never_ready, stall_exit.WORKER_STALLED_EXIT)
        if (vanished := topic_watch.gone()) is not None:
            _last_line(f"{vanished} (deleted while the worker ran)", topic_watch.RESTART_EXIT)
        if stall_exit.stuck_reason() is not None:
            _last_line(f"a partition stalled: {stall_exit.stuck_reason()}", stall_exit.WORKER_STALLED_EXIT)
        if early_stop.signalled_while_starting():  # a start the stop cut short, whatever it raised
            _stopped_while_starting(crash)
        if exit_.code not in (0, None) and crash is not None:
            _last_line(f"the worker crashed: {type(crash).__name__}: {crash}", WORKER_CRASHED_EXIT)
        if exit_.code in (0, None):
            say_stopped(app)
        raise
    except Exception as exc:  # faust re-raises a crash reason from its shutdown
        if early_stop.signalled_while_starting():
            _stopped_while_starting(exc)
        _last_line(f"the worker crashed: {type(exc).__name__}: {exc}", WORKER_CRASHED_EXIT)


STOPPED = "worker stopped"  # a clean stop's line (SIGTERM/SIGINT once running: status 0), as an adapter's "stopped"


def say_stopped(app: Any) -> None:
    """Log ``STOPPED`` at info, with ``uncommitted_records``: the input records it read past its committed offsets
    (``bus.shutdown.faust_uncommitted``; 0: everything read was processed and committed; more: read again at its next
    start), left out when the consumer cannot tell (it never started). The process's last line: the log lines held
    back (``bus.log_repeats.flush_repeats``) are written before it."""
    try:
        uncommitted: dict[str, int] = {"uncommitted_records": shutdown.faust_uncommitted(app.consumer)}
    except Exception:  # noqa: BLE001 - what the stop left is told when known; the line is said whatever
        uncommitted = {}
    said = ("every record read was processed and committed" if uncommitted.get("uncommitted_records") == 0 else
            "records read but not committed are read again at the next start" if uncommitted else "")
    flush_repeats()  # held-back repeats of faust's stop ("Stopping...") first: this line stays the last
    log.info(f"{STOPPED}: {said}" if said else STOPPED, **uncommitted)


def _stopped_while_starting(error: BaseException | None) -> NoReturn:
    """A worker asked to stop before it was ready: ``bus.early_stop``'s line (``cut_short``: what a service raised as
    the stop came, its type only) and status 0, whatever its start raised meanwhile."""
    flush_repeats()  # pending log lines first: this one stays the last
    early_stop.say_stopped(cut_short=type(error).__name__ if error is not None else None)
    logging.shutdown()
    raise SystemExit(early_stop.STOPPED_WHILE_STARTING_EXIT)


def _last_line(message: str, status: int) -> None:
    logging.shutdown()  # pending log lines (held-back repeats) first: the error stays the last line
    exit_with_message(message, status)
