"""What every adapter's command line shares: settings or a clear exit, and a drain on SIGTERM."""

from __future__ import annotations

import asyncio
import errno
import gc
import signal
from contextlib import AbstractAsyncContextManager
from typing import Any, NoReturn, Protocol, TypeVar

import typer
from pydantic import BaseModel

from adapters.base.errors import Misconfigured, Unavailable
from adapters.base.http import RunningServer
from adapters.base.runtime import adapter_component
from bus import early_stop, shutdown, topic_watch
from bus.bootstrap import BAD_SETTINGS_EXIT, KAFKA_UNAVAILABLE_EXIT, exit_with_message, registry_hint, start_process
from bus.config import OmnibusSettings, load_component_settings
from bus.errors import SchemaRegistryError
from bus.logging import get_logger
from bus.settings_defaults import EXTEND, replaced_defaults

SettingsT = TypeVar("SettingsT", bound=BaseModel)
log = get_logger(__name__)
# Collect the youngest generation every 20,000 net allocations, not Python's 700: one batch request
# holds thousands of short-lived containers at once (events, records, bytes), and every young
# collection walks all of them; the older generations as often as before, relative to it.
GC_THRESHOLDS = (20_000, 10, 10)
# bind() errors that a setting fixes: the port is taken, the address is not this host's, or the port is privileged
UNBINDABLE = frozenset({errno.EADDRINUSE, errno.EADDRNOTAVAIL, errno.EACCES})
# A command importing files (import-batch, import-cdr) imported them, but lines were rejected (dead-lettered):
# a scheduler must see it; the codes are documented in docs/legacy-batch.md.
EXIT_REJECTED_LINES = 3
REJECTED_OK_HELP = f"Exit 0 when lines were rejected (dead-lettered) instead of {EXIT_REJECTED_LINES}."


def rejected_exit_code(rejected: bool, *, rejected_ok: bool = False) -> int:
    """``EXIT_REJECTED_LINES`` when a line was ``rejected`` in this run of an import, unless ``rejected_ok``; else 0."""
    return EXIT_REJECTED_LINES if rejected and not rejected_ok else 0


def exit_when_rejected(rejected: bool, *, rejected_ok: bool = False) -> None:
    """End an import whose lines were ``rejected``: one ``error:`` line on stderr and ``EXIT_REJECTED_LINES``
    (``rejected_exit_code``); return when nothing was rejected or ``rejected_ok``."""
    code = rejected_exit_code(rejected, rejected_ok=rejected_ok)
    if code:
        typer.echo(f"error: lines were rejected (dead-lettered on deadletter.v1 with their file and line number): "
                   f"exit {code} (--rejected-ok: exit 0)", err=True)
        raise typer.Exit(code)


class FileReport(Protocol):
    """What an import reports of one file (``BatchReport``, ``ImportReport``)."""

    def summary(self, name: str) -> str:
        """The line the import prints for the file ``name``."""
        ...


def exit_interrupted(name: str, report: FileReport | None, error: Unavailable, waited_s: float) -> NoReturn:
    """End an import (import-batch, import-cdr) Kafka stopped acknowledging for ``waited_s`` seconds
    (``OMNIBUS_PRODUCER__GIVE_UP_AFTER_S``): print what the file ``name``'s run published (``report``, marked
    ``(interrupted)``), then one ``error:`` line (no traceback) and exit ``KAFKA_UNAVAILABLE_EXIT`` (69,
    docs/legacy-batch.md). What Kafka acknowledged is checkpointed, so the same command resumes after
    it. The stop that follows (a flush to a broker that does not answer) is bounded by the stop deadline
    (``bus.shutdown``), still 69. The same for a schema registry that did not answer (the error's cause a
    ``SchemaRegistryError``): the line then says how to bring it back (``bus.bootstrap.registry_hint``).

    ``Misconfigured`` (a topic does not exist, found at once: nothing waited) ends it the same way with status 2
    (``BAD_SETTINGS_EXIT``) and the error's reason, which names the topics and ``omnibus topics apply`` (it
    waited 600 s, then said Kafka cannot be reached)."""
    if report is not None:
        typer.echo(f"{report.summary(name)} (interrupted)")
    if isinstance(error, Misconfigured):
        shutdown.arm(BAD_SETTINGS_EXIT)
        exit_with_message(f"{error.reason}; the lines before were published: run the same command again to resume "
                          f"{name}", BAD_SETTINGS_EXIT)
    shutdown.arm(KAFKA_UNAVAILABLE_EXIT)
    hint = f"; {registry_hint()}" if isinstance(error.__cause__, SchemaRegistryError) else ""
    exit_with_message(f"{error.reason} (tried again for {waited_s:g} s, OMNIBUS_PRODUCER__GIVE_UP_AFTER_S){hint}; the "
                      f"lines before were published: run the same command again to resume {name}",
                      KAFKA_UNAVAILABLE_EXIT)


def settle_gc() -> None:
    """Once serving: freeze everything built at start-up (it lives as long as the process, and a full
    collection would walk it again and again) and collect the young generation less often."""
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def load_or_exit(model: type[SettingsT], env_prefix: str, *, name: str,
                 **overrides: Any) -> tuple[OmnibusSettings, SettingsT]:
    """Core and adapter settings, logging configured (``bus.bootstrap``; the adapter runtime serves metrics), every
    line of the process naming the adapter called ``name`` (``web``: component ``adapter.web``);
    a bad setting exits 2 with every problem named on one line."""
    given = {k: v for k, v in overrides.items() if v is not None}
    process = start_process(lambda _: load_component_settings(model, env_prefix, **given),
                            logged_as=adapter_component(name))
    log_replaced_defaults(process.component, env_prefix)
    return process.settings, process.component


def log_replaced_defaults(settings: BaseModel, env_prefix: str) -> None:
    """One warning per list or mapping setting whose value replaced its default and left part of it out (F5: one
    identifier trait set on the web adapter silently removed the e-mail and phone traits)."""
    for setting, left_out in replaced_defaults(settings, env_prefix):
        log.warning(f"{setting} replaces its default, leaving out {', '.join(left_out)}; write it with a leading "
                    f"{EXTEND!r} to add to the default instead", setting=setting, left_out=left_out)


def stop_on_signals() -> asyncio.Event:
    """An event set by SIGINT/SIGTERM, so the adapter drains and flushes instead of dying mid-request; the
    signal also starts the process's stop deadline (``bus.shutdown``: a flush to a broker gone for good). Called once
    the adapter serves: until then a SIGTERM stops its start with one line and status 0 (``bus.early_stop``)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def stopping() -> None:
        shutdown.arm()
        stop.set()

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopping)
    early_stop.handed_over()  # a SIGTERM the start's handler took but Python dropped: stops the adapter now
    return stop


async def serve_until_signalled(
    running: AbstractAsyncContextManager[RunningServer], name: str, *, port_setting: str, **details: Any
) -> None:
    """Serve until SIGTERM/SIGINT; leaving ``running`` drains in-flight requests and flushes Kafka.

    A port that cannot be bound (taken, not on this host, privileged) exits ``BAD_SETTINGS_EXIT`` with one
    ``error:`` line naming ``port_setting``, the variable that sets it (a taken port was a traceback).
    A topic it publishes to deleted while it serves does not stop it: what goes to that topic is answered 503 until
    ``omnibus topics apply`` (``bus.topic_watch``, ``AdapterPublisher.refuse_topics``)."""
    listening = False
    try:
        async with running as server:
            listening = True
            stop = stop_on_signals()  # from now on; before, SIGTERM stops the start (``bus.early_stop``)
            settle_gc()
            log.info(f"{name} ready", port=server.port, **details)
            await stop.wait()
            log.info(f"{name} stopping: draining in-flight requests")
    except OSError as exc:
        if listening or exc.errno not in UNBINDABLE:
            raise
        exit_with_message(f"{name}: cannot listen ({exc}): set {port_setting} (or --port) to a free port of this host")
    log.info(f"{name} stopped: everything accepted was flushed to Kafka")


def exit_when_topics_vanished(name: str) -> None:
    """Once a long-running adapter stopped: exit ``topic_watch.RESTART_EXIT`` (75) with the line a missing topic gets
    at start when ``bus.topic_watch`` stopped it (a topic it publishes to was deleted); else return."""
    if (vanished := topic_watch.gone()) is not None:
        exit_with_message(f"{name}: {vanished} (deleted while the adapter ran)", topic_watch.RESTART_EXIT)
