"""A worker asked to stop while it starts stops cleanly: one log line and status 0, as a stop once running.

faust handles SIGTERM only once its worker runs (``mode.Worker.install_signal_handlers``, on its first start). Before
that (imports, settings, the cluster probe: the first 2-3 s of ``omnibus identity run``) SIGTERM's default action
ended the process at once: status 143 and an empty log, which a supervisor reads as a death by signal. And a SIGTERM
that came while faust's services were starting stopped the producer under a table declaring its changelog topic,
whose ``NotReady`` ended the worker with status 1 and "the worker crashed" (a CI run, once).

``install()`` (``omnibus.cli.main``, for a worker command: ``starts_worker``): from then until faust's own handler
replaces it, SIGTERM raises ``SystemExit`` with status 0 wherever the start is (not an ``Exception``: no ``except
Exception`` of faust's start turns it into a crash), and ``stopped_cleanly()`` around the command adds the line
``STOPPED_WHILE_STARTING``. ``note_signal(app)`` (faust's signalled stop, ``bus.app.arm_stop_deadline``) remembers
whether the worker was still starting (its first table recovery not completed: ``bus.startup_watchdog``);
``bus.worker_exit`` then ends a start the stop cut short (a service failing because another was stopped under it)
with the same line and status 0.
A worker that was ready when the signal came is not concerned: its stop and its status are faust's.
"""

from __future__ import annotations

import signal
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from types import FrameType
from typing import Any, NoReturn

STOPPED_WHILE_STARTING = "stopped while starting: SIGTERM came before the worker was ready; it consumed nothing"
STOPPED_WHILE_STARTING_EXIT = 0  # a stop asked for and done: the status of a worker stopped once running
_signalled_while_starting: list[bool] = []  # set by ``note_signal``: the worker had not become ready yet
_said: list[bool] = []  # ``say_stopped`` wrote its line
_signalled_early: list[bool] = []  # SIGTERM came while ``install``'s handler was the process's


def starts_worker(argv: Sequence[str], workers: Collection[str]) -> bool:
    """Whether the command line ``argv`` (without the program name) runs a worker: ``<group> run`` for a group in
    ``workers`` (``omnibus identity run --web-port 0``); options are skipped, not read."""
    words = [word for word in argv if not word.startswith("-")]
    return len(words) >= 2 and words[0] in workers and words[1] == "run"


def _raise(signum: int, frame: FrameType | None) -> NoReturn:
    _signalled_early.append(True)
    raise SystemExit(STOPPED_WHILE_STARTING_EXIT)


def install() -> None:
    """SIGTERM raises ``SystemExit`` (``STOPPED_WHILE_STARTING_EXIT``) until another handler replaces this one
    (faust's, once it runs); ``stopped_early`` says it came."""
    signal.signal(signal.SIGTERM, _raise)


def stopped_early() -> bool:
    """Whether SIGTERM came while ``install``'s handler was the process's."""
    return bool(_signalled_early)


def note_signal(app: Any) -> None:
    """A signalled stop of faust ``app`` began: remember whether the worker was still starting."""
    from bus.startup_watchdog import READY, startup_progress

    try:
        starting = startup_progress(app).phase != READY
    except Exception:  # noqa: BLE001 - faust's state changing under the read: the stop is judged as faust judges it
        starting = False
    _signalled_while_starting[:] = [starting]


def signalled_while_starting() -> bool:
    """Whether this process's worker was asked to stop (a signal) before it became ready (``note_signal``)."""
    return bool(_signalled_while_starting and _signalled_while_starting[0])


def say_stopped(*, cut_short: str | None = None) -> None:
    """Log ``STOPPED_WHILE_STARTING`` once per process (configuring the logs first when the command had not yet: an
    early signal); ``cut_short``: the type of what a starting service raised as the stop came (``bus.worker_exit``)."""
    if _said:
        return
    _said.append(True)
    import structlog

    from bus.logging import configure_logging, get_logger

    if not structlog.is_configured():
        configure_logging(library_level="WARNING")
    context = {"cut_short": cut_short} if cut_short else {}
    get_logger(__name__).info(STOPPED_WHILE_STARTING, **context)


@contextmanager
def stopped_cleanly() -> Iterator[None]:
    """Around a command: the ``SystemExit`` of an early SIGTERM (``stopped_early``) ends the process with the line
    ``STOPPED_WHILE_STARTING`` and status 0; any other exit passes."""
    try:
        yield
    except SystemExit:
        if not stopped_early():
            raise
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second SIGTERM while the line is written: already stopping
        say_stopped()
        raise SystemExit(STOPPED_WHILE_STARTING_EXIT) from None
