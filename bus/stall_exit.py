"""The watchdogs' last step: a worker stuck in a way only a restart mends stops itself, to be started again.

``bus.lag_watchdog`` (a partition still stalled after a seek), ``bus.recovery_watchdog`` (a table restore still
stalled after its restart) and ``bus.startup_watchdog`` (a start-up that makes no progress) end with
``exit_when_stuck``: in a worker process (``enable_exit``, called by ``bus.app.run_worker``) SIGTERM, the worker's
own graceful stop (state flushed, offsets committed as far as acknowledged), then exit status
``WORKER_STALLED_EXIT`` with one line naming the cause (``bus.worker_exit``), so the orchestrator starts it afresh: a
new consumer, a rebalance, a restore from the committed offsets. Elsewhere (an app inside a test, the demo or a
tool) nothing stops; the watchdog's log line says which (``stop_outcome``).
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable

WORKER_STALLED_EXIT = 75  # EX_TEMPFAIL of BSD's sysexits.h: start again; nothing is wrong with the deployment
STOPPING = "stopping the worker to be started again"
NOT_STOPPED = "not stopped: this process runs no worker of its own (a demo, a test or a tool); the watch goes on"

_stuck: list[str] = []  # why this process stopped itself (read by bus.worker_exit)
_worker_process: list[bool] = []  # set by bus.app.run_worker: this process is one worker and may stop itself


def enable_exit() -> None:
    """Called by ``bus.app.run_worker``: this process runs one worker, which may stop itself when stuck."""
    _worker_process.append(True)


def exit_when_stuck(reason: str) -> None:
    """The default last step: in a worker process (``enable_exit``) stop gracefully (SIGTERM), then exit
    ``WORKER_STALLED_EXIT`` (``bus.worker_exit``); elsewhere (apps inside tests or tools) only the log line."""
    if _worker_process and not _stuck:
        _stuck.append(reason)
        os.kill(os.getpid(), signal.SIGTERM)


def stop_outcome(stop: Callable[[str], None] | None = None) -> str:
    """What calling ``stop`` (None: ``exit_when_stuck``) does in this process, for the watchdogs' log lines:
    ``STOPPING`` in a worker process (``enable_exit``) or with a ``stop`` of the caller's, else ``NOT_STOPPED``
    (the demo logged a restart at ERROR that never came)."""
    return STOPPING if _worker_process or stop not in (None, exit_when_stuck) else NOT_STOPPED


def stuck_reason() -> str | None:
    """Why a watchdog stopped this process (``exit_when_stuck``; None: none did)."""
    return _stuck[0] if _stuck else None
