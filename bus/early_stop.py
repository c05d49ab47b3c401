"""A process asked to stop while it starts stops cleanly: one log line and status 0, as a stop once running.

faust handles SIGTERM only once its worker runs (``mode.Worker.install_signal_handlers``, on its first start), an
adapter once it serves (``adapters.base.cli.stop_on_signals``), the counter agent once its loop runs. Before that
(imports, settings, the cluster probe: the first 2-3 s of ``omnibus identity run`` or ``omnibus adapter web run``)
SIGTERM's default action ended the process at once: status 143 and an empty log, which a supervisor reads as a death
by signal. And a SIGTERM that came while faust's services were starting stopped the producer under a table declaring
its changelog topic, whose ``NotReady`` ended the worker with status 1 and "the worker crashed" (a CI run, once).

``while_starting(argv, commands)`` around a command line (``omnibus.entry.main`` with ``RUNS_UNTIL_STOPPED``: the
processors' workers, the channel adapters, the legacy relay and pollers, ``import-cdr --follow``, the counter agent;
the counter agent's own entry point), entered before the command's modules are imported (this module imports only
the standard library): for one of those commands, from then until the command's own handler replaces it, SIGTERM
raises ``SystemExit`` with status 0 wherever the start is (not an ``Exception``: no ``except Exception`` of a start
turns it into a crash), and ``stopped_cleanly()`` adds the line ``STOPPED_WHILE_STARTING``, naming the command's
component (``running``: from its words, the name its later lines take from the settings). ``note_signal(app)`` (faust's
signalled stop, ``bus.app.arm_stop_deadline``) remembers whether the worker was still starting (its first table
recovery not completed: ``bus.startup_watchdog``); ``bus.worker_exit`` then ends a start the stop cut short (a
service failing because another was stopped under it) with the same line and status 0.
A process that was ready when the signal came is not concerned: its stop and its status are its own handler's.
What the process knows of it is one ``StopState`` per process (``PROCESS``).

The signal is never lost, whatever code it interrupts. Python runs a signal's handler between two bytecodes of
whatever runs, and an exception raised inside a weakref callback, a ``__del__`` or a GC callback is printed
("Exception ignored in ...") and dropped: the start went on and the worker ran for good, its SIGTERM lost. So
``install`` also hooks ``sys.unraisablehook``: an ``EarlyStop`` dropped there is not printed and SIGTERM is sent
again (from a thread, so that it lands in the code that runs next, until it is not dropped); and
``handed_over()``, called where the command sets its own handler (``bus.app.arm_stop_deadline``,
``adapters.base.cli.stop_on_signals``), sends a SIGTERM that was taken but never reached ``stopped_cleanly``
(dropped where no hook hears of it) again, to that handler.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

TYPE_CHECKING = False  # ``typing`` not imported: this module loads before the command's, from the first line
if TYPE_CHECKING:
    from types import FrameType
    from typing import Any

STOPPED_WHILE_STARTING = "stopped while starting: SIGTERM came before it was ready; it took in nothing"
STOPPED_WHILE_STARTING_EXIT = 0  # a stop asked for and done: the status of a process stopped once running

Command = tuple[str, ...]  # a command's words: ("identity", "run"), ("adapter", "legacy", "relay"); and options it
# must be given with to run until stopped: ("adapter", "call-center", "import-cdr", "--follow")
Commands = Mapping[Command, str]  # the commands that run until stopped -> the component their log lines name


class StopState:
    """What this process knows of a stop asked while it started: one instance per process (``PROCESS``; a forked
    adapter worker has its parent's copy, taken before any signal). A plain class, not a dataclass: this module
    loads before the command's (``omnibus.entry``), and ``dataclasses`` alone (``inspect``) took 0.15 s of it."""

    def __init__(self, *, signalled_early: bool = False, signalled_while_starting: bool = False) -> None:
        self.signalled_early = signalled_early  # SIGTERM came while ``install``'s handler was the process's
        self.signalled_while_starting = signalled_while_starting  # ``note_signal``: the worker was not yet ready
        self.said = False  # ``say_stopped`` wrote its line
        self.stopping = False  # ``stopped_cleanly`` took the early stop: the process is exiting
        self.dropped = False  # Python dropped the handler's ``EarlyStop`` (raised in a callback): to be sent again
        self.component: str | None = None  # the component the command runs (``while_starting``): the line names it


PROCESS = StopState()


def running(argv: Sequence[str], commands: Commands) -> str | None:
    """The component of the command line ``argv`` (without the program name) when it is one of ``commands``
    (``omnibus.entry.RUNS_UNTIL_STOPPED``: ``omnibus identity run --web-port 0`` -> ``identity``, ``omnibus adapter
    legacy relay`` -> ``adapter.legacy``), else None. A command's words are matched in order, other options skipped;
    an option it names (``--follow``) must be given."""
    words = tuple(word for word in argv if not word.startswith("-"))
    for command, component in commands.items():
        named = tuple(word for word in command if not word.startswith("-"))
        if words[:len(named)] == named and all(option in argv for option in command if option.startswith("-")):
            return component
    return None


def runs_until_stopped(argv: Sequence[str], commands: Commands) -> bool:
    """Whether the command line ``argv`` is one of ``commands`` (``running``)."""
    return running(argv, commands) is not None


class EarlyStop(SystemExit):
    """The ``SystemExit`` (status ``STOPPED_WHILE_STARTING_EXIT``) a SIGTERM raises while the process starts."""


def _raise(signum: int, frame: FrameType | None) -> None:
    PROCESS.signalled_early = True
    if PROCESS.stopping:  # a second SIGTERM while the first one's line is written: already stopping
        return
    raise EarlyStop(STOPPED_WHILE_STARTING_EXIT)


RESEND_EVERY_S = 0.02  # how often a dropped SIGTERM is looked for and sent again (``_send_dropped_again``)


def _send_dropped_again() -> None:
    """In a thread, while the start's handler is the process's: SIGTERM once more each time Python dropped its
    exception (``StopState.dropped``); from a thread, so that the handler runs in the code the main thread runs next,
    not in the callback that dropped it (or it is dropped again, and sent again)."""
    while not PROCESS.stopping and signal.getsignal(signal.SIGTERM) is _raise:
        if PROCESS.dropped:
            PROCESS.dropped = False
            os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(RESEND_EVERY_S)


def _unless_dropped(previous: Any) -> Any:
    """A ``sys.unraisablehook``: an ``EarlyStop`` dropped (a weakref callback, a ``__del__`` it interrupted) is sent
    again, unprinted; anything else goes to ``previous``."""
    sender: list[Any] = []

    def hook(unraisable: Any) -> None:
        if not isinstance(unraisable.exc_value, EarlyStop):
            previous(unraisable)
            return
        if not sender:
            import threading

            sender.append(threading.Thread(target=_send_dropped_again, name="omnibus-early-stop", daemon=True))
            sender[0].start()
        PROCESS.dropped = True  # last: no bytecode after it where the handler could run again, inside this hook

    hook.early_stop = True  # type: ignore[attr-defined]  # ``install`` hooks once
    return hook


def install() -> None:
    """SIGTERM raises ``EarlyStop`` (a ``SystemExit``, ``STOPPED_WHILE_STARTING_EXIT``) until another handler
    replaces this one (faust's, once it runs; an adapter's ``adapters.base.cli.stop_on_signals``, once it serves);
    ``stopped_early`` says it came. One dropped by Python (raised in a callback) is sent again."""
    if not getattr(sys.unraisablehook, "early_stop", False):
        sys.unraisablehook = _unless_dropped(sys.unraisablehook)
    signal.signal(signal.SIGTERM, _raise)


def handed_over() -> None:
    """The command's own SIGTERM handler is now set: a SIGTERM ``install``'s handler took but that never reached
    ``stopped_cleanly`` (dropped by Python where no hook hears of it) is sent again, to the new handler."""
    if PROCESS.signalled_early and not PROCESS.stopping:
        os.kill(os.getpid(), signal.SIGTERM)


def stopped_early() -> bool:
    """Whether SIGTERM came while ``install``'s handler was the process's."""
    return PROCESS.signalled_early


def note_signal(app: Any) -> None:
    """A signalled stop of faust ``app`` began: remember whether the worker was still starting."""
    from bus.startup_watchdog import READY, startup_progress

    try:
        starting = startup_progress(app).phase != READY
    except Exception:  # noqa: BLE001 - faust's state changing under the read: the stop is judged as faust judges it
        starting = False
    PROCESS.signalled_while_starting = starting


def signalled_while_starting() -> bool:
    """Whether this process's worker was asked to stop (a signal) before it became ready (``note_signal``)."""
    return PROCESS.signalled_while_starting


COMPONENT_KEY = "component"  # ``bus.logging.COMPONENT_KEY``: this module loads before it (a test keeps them equal)


def say_stopped(*, cut_short: str | None = None) -> None:
    """Log ``STOPPED_WHILE_STARTING`` once per process, naming the command's component (``while_starting``);
    ``cut_short``: the type of what a starting service raised as the stop came (``bus.worker_exit``).

    Through the command's logging once it configured it; before that, the line the default configuration writes
    (JSON on stderr), written here: an early SIGTERM can cut an import short (``asyncio``'s, half done), and importing
    the logging then failed in turn (``NameError`` in ``asyncio/__init__``: status 1 and a traceback, 1 run in 10 at
    5 s)."""
    if PROCESS.said:
        return
    PROCESS.said = True
    fields = {"cut_short": cut_short} if cut_short else {}
    if PROCESS.component is not None:  # before the settings bound it (``bus.logging.bind_component``): the same name
        fields[COMPONENT_KEY] = PROCESS.component
    structlog = sys.modules.get("structlog")
    if structlog is not None and getattr(structlog, "is_configured", lambda: False)():
        from bus.logging import get_logger

        get_logger(__name__).info(STOPPED_WHILE_STARTING, **fields)
        return
    _write_line({**fields, "event": STOPPED_WHILE_STARTING, "level": "info", "logger": __name__})


def _write_line(fields: dict[str, str]) -> None:
    """One JSON line of ``fields`` (names and plain text) and the time, on stderr, as ``bus.logging`` writes one."""
    now = time.time()
    stamp = f"{time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime(now))}.{int(now % 1 * 1e6):06d}Z"  # ISO 8601, UTC
    fields = {**fields, "timestamp": stamp}
    quoted = {name: value.replace("\\", "\\\\").replace('"', '\\"') for name, value in fields.items()}
    sys.stderr.write("{" + ", ".join(f'"{name}": "{value}"' for name, value in sorted(quoted.items())) + "}\n")
    sys.stderr.flush()


@contextmanager
def stopped_cleanly() -> Iterator[None]:
    """Around a command: the ``SystemExit`` of an early SIGTERM (``stopped_early``) ends the process with the line
    ``STOPPED_WHILE_STARTING`` and status 0; any other exit passes."""
    try:
        yield
    except SystemExit:
        if not stopped_early():
            raise
        PROCESS.stopping = True
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second SIGTERM while the line is written: already stopping
        say_stopped()
        raise SystemExit(STOPPED_WHILE_STARTING_EXIT) from None


@contextmanager
def while_starting(argv: Sequence[str], commands: Commands) -> Iterator[None]:
    """Around a command line ``argv``: when it is one of ``commands`` (``running``), SIGTERM before the command's own
    handler stops it with the line, naming the command's component, and status 0 (``install``, ``stopped_cleanly``);
    the ``omnibus`` script (``omnibus.entry``) and the counter agent's own entry point, before their commands'
    modules load (seconds: faust, aiokafka, pydantic)."""
    with stopped_cleanly():  # first: a SIGTERM right after ``install`` is said too
        component = running(argv, commands)
        if component is not None:
            PROCESS.component = component
            install()
        yield
