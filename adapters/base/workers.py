"""Several worker processes of one HTTP adapter on one port (``--workers N``), so ingest scales with cores.

Each worker is a whole adapter (its own event loop, producer and HTTP server) bound to the same port
with ``SO_REUSEPORT``: the kernel spreads incoming connections over them (Linux ``socket(7)``). They
share the dedupe store, an SQLite file in WAL mode, so a redelivery that reaches another worker is
still recognised as already published. Two deliveries of one source id arriving at two workers at the
same instant can both publish: ``DedupeStore.claim`` serialises them only within a process. Their events
then carry the same deterministic event ids (``bus.envelope``), which processors dedupe on. (Closing that
window would take a claims table in the shared file, taken in its own write transaction before
publishing, released on failure and taken over when stale: one more SQLite transaction per request.)

On port 0 (``--port 0``) the parent picks the port before forking (``hold_port``): it binds a socket to a port the
system picks, with ``SO_REUSEPORT`` and not listening, and keeps it until it exits. Every worker serves on that one
port and logs it (``adapters.base.http.LISTENING_EVENT``), and so does the parent (``PORT_CHOSEN_EVENT``). While the
parent holds it, no socket without ``SO_REUSEPORT`` can bind the port (Linux ``socket(7)``), so nothing takes it
between the pick and the workers' binds; the held socket never listens, so the kernel hands it no connection. (Each
worker on its own port 0 would give N ports for one service.)

The parent only supervises: SIGTERM/SIGINT is passed on to every worker (each drains and flushes
Kafka, as a single adapter does); if a worker dies, the others are stopped and the parent exits with
its code, so the orchestrator restarts the whole set.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import signal
import socket
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from adapters.base.config import AdapterSettings, dedupe_file
from bus import early_stop
from bus.bootstrap import startup_failure_exit
from bus.config import OmnibusSettings
from bus.logging import get_logger, ports_logger
from bus.shutdown import exit_at_once_once_stopping

log = get_logger(__name__)

PORT_CHOSEN_EVENT = "adapter workers port chosen"  # the parent's log line naming the port its workers share on port 0

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)  # what the parent passes on to every worker
WorkerMain = Callable[[OmnibusSettings, bool], None]  # (settings, reuse_port) -> serves until signalled
SettingsT = TypeVar("SettingsT", bound=AdapterSettings)


def worker_settings(settings: OmnibusSettings, index: int) -> OmnibusSettings:
    """Worker ``index``'s settings: its metrics endpoint on ``metrics.port + index`` (each process keeps
    its own counters; with port 0 each picks a free one)."""
    if not settings.metrics.enabled or settings.metrics.port == 0 or index == 0:
        return settings
    metrics = settings.metrics.model_copy(update={"port": settings.metrics.port + index})
    return settings.model_copy(update={"metrics": metrics})


def metrics_ports(settings: OmnibusSettings, workers: int) -> list[int] | None:
    """The metrics port of each worker (``worker_settings``); None when metrics are off, 0s when each picks one."""
    if not settings.metrics.enabled:
        return None
    return [worker_settings(settings, index).metrics.port for index in range(workers)]


def hold_port(host: str) -> socket.socket:
    """A TCP socket bound to ``host`` (an IPv4 or IPv6 address) on a port the system picks, with ``SO_REUSEPORT``,
    not listening: the port ``--workers N`` share on port 0. Keep it open until the workers have stopped. Raises
    ``OSError`` when ``host`` cannot be bound (not an address of this machine)."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, 0))
    except OSError:
        sock.close()
        raise
    ports_logger().info(PORT_CHOSEN_EVENT, host=host, port=sock.getsockname()[1])
    return sock


def refusal(workers: int, dedupe_path: Any) -> str | None:
    """Why ``workers`` processes cannot serve with these settings, or ``None``."""
    if workers < 1:
        return "--workers must be at least 1"
    if workers > 1 and dedupe_path is None:
        return ("--workers above 1 needs a dedupe file shared by the workers (not dedupe_in_memory); an in-memory "
                "store would let a redelivery reaching another worker publish again")
    return None


SHARED_DEDUPE_EVENT = "adapter workers share a dedupe file"  # the parent's line naming the workers' dedupe file
RUN_ONLY_PREFIX = "omnibus-dedupe-"  # the temporary folder of the file the workers of one run on port 0 share


@contextmanager
def shared_dedupe(adapter: str, settings: SettingsT, workers: int, *, setting: str) -> Iterator[SettingsT]:
    """``settings`` of ``adapter`` (``web``) whose dedupe file its ``workers`` processes share; unchanged for one
    process, or when memory was chosen (``refusal`` says why that cannot be shared). Call it with the configured
    port, before port 0 is replaced by the one held (``hold_port``): the file is ``dedupe_file``'s, named after the
    configured port, the adapter's identity on its host; the port picked for a run names nothing a later run reads.
    On port 0, where one process remembers in memory, for this run only, the workers share a file for this run only,
    in a temporary folder removed when the block ends. Logs the file (``SHARED_DEDUPE_EVENT``; ``setting``: the
    variable that names one)."""
    if workers < 2 or settings.dedupe_in_memory:
        yield settings
        return
    configured = dedupe_file(adapter, settings)
    run_only = None if configured is not None else Path(tempfile.mkdtemp(prefix=RUN_ONLY_PREFIX))
    path = configured if configured is not None else run_only / "dedupe.sqlite"  # type: ignore[operator]
    log.info(SHARED_DEDUPE_EVENT, workers=workers, path=str(path), setting=setting,
             kept="across restarts" if run_only is None else "for this run only (port 0): removed at its end",
             per_target="under targets/ beside it, one per Kafka cluster and topic prefix")
    try:
        yield settings.model_copy(update={"dedupe_path": path})
    finally:
        if run_only is not None:
            shutil.rmtree(run_only, ignore_errors=True)


def run_workers(workers: int, settings: OmnibusSettings, main: WorkerMain) -> int:
    """Run ``main`` in this process (``workers == 1``) or in ``workers`` forked processes; return the exit
    code (0 after a signalled drain, else the first failed worker's)."""
    if workers == 1:
        main(settings, False)
        return 0
    context = multiprocessing.get_context("fork")  # no event loop, thread or producer exists yet
    processes = [context.Process(target=_worker, args=(main, worker_settings(settings, index)), name=f"worker-{index}")
                 for index in range(workers)]
    stopping = False

    def forward(signum: int, _: object) -> None:
        nonlocal stopping
        stopping = True
        for process in processes:
            if process.pid is not None and process.exitcode is None:
                os.kill(process.pid, signum)

    previous = {signum: signal.signal(signum, forward) for signum in STOP_SIGNALS}
    try:
        # Held while forking: a stop that comes meanwhile reaches every worker once each has a pid, and a worker only
        # once its own handler is set (``_worker``), not the parent's forwarding one it is forked with.
        signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
        try:
            for process in processes:
                process.start()
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
        log.info("adapter workers started", workers=workers, pids=[p.pid for p in processes],
                 metrics_ports=metrics_ports(settings, workers))
        code = _supervise(processes, lambda: stopping)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return code


def _worker(main: WorkerMain, settings: OmnibusSettings) -> None:
    # A forked worker inherits the parent's forwarding handlers, with the stop signals held (``run_workers``): until
    # its event loop sets its own, SIGTERM stops its start with one line and status 0, as a single adapter's
    # (``bus.early_stop``).
    # Once its stop began, it ends right after its last line, as the ``omnibus`` script does (``bus.shutdown``): a
    # worker lingering at its exit (a thread still running) kept its parent, and the whole set, waiting.
    early_stop.install()
    signal.signal(signal.SIGINT, signal.default_int_handler)
    # a forked worker's start-up failure is one line too, and its status the parent's
    with exit_at_once_once_stopping(), early_stop.stopped_cleanly(), startup_failure_exit():
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)  # inside: a stop held until now is said too
        main(settings, True)


def _supervise(processes: list[Any], stopping: Callable[[], bool]) -> int:
    """Wait for every worker; the first one to fail unasked stops the others."""
    failed = 0
    while any(process.exitcode is None for process in processes):
        for process in processes:
            process.join(0.2)
            if process.exitcode not in (None, 0) and not failed and not stopping():
                failed = process.exitcode if process.exitcode > 0 else 1
                log.error("an adapter worker died; stopping the others", worker=process.name,
                          exit_code=process.exitcode)
                for other in processes:
                    if other.exitcode is None:
                        other.terminate()
        time.sleep(0)
    if failed:
        return failed
    return next((p.exitcode for p in processes if p.exitcode not in (0, -signal.SIGTERM, -signal.SIGINT)), 0)
