"""One process bootstrap for every ``omnibus`` command: settings or exit 2, then logging, then metrics.

A bad setting (unknown variable, invalid value, unreadable policy or TLS file: any ``ConfigError``) ends
the process with exit status 2 and ONE line on stderr, ``error: <what is wrong>`` — never a traceback, so
an operator (or a Kubernetes event) sees the cause at a glance. Then logging is configured (JSON, redacted)
and the metrics endpoint started, its port logged.

Usage (a processor's ``run`` command)::

    process = start_process(lambda core: load_handoffs_settings(), metrics_of="handoffs")
    worker = build_worker(process.settings, process.component, ...)
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Generic, NoReturn, TypeVar

from aiokafka.errors import KafkaConnectionError, NodeNotReadyError

from bus import shutdown
from bus.config import (
    BOOTSTRAP_SERVERS_VARIABLE,
    REGISTRY_URL_VARIABLE,
    MetricsSettings,
    OmnibusSettings,
    load_settings,
)
from bus.errors import ConfigError, LocalStackError, SchemaRegistryError
from bus.heartbeat import Heartbeat
from bus.kafka_client import kafka_connection
from bus.log_repeats import flush_repeats
from bus.logging import bind_component, configure_logging
from bus.metrics import MetricsServer, serve_metrics

T = TypeVar("T")
BAD_SETTINGS_EXIT = 2  # the usage-error status of Unix tools (and of click)
COMMAND_FAILED_EXIT = 1
KAFKA_UNAVAILABLE_EXIT = 69  # EX_UNAVAILABLE of BSD's sysexits.h: a service the command needs cannot be reached
# aiokafka's "Kafka cannot be reached": no bootstrap server answered, or a node it named did not take a connection
# within the request timeout (``bus.admin_client``: a broker started a moment ago).
UNREACHABLE_ERRORS = (KafkaConnectionError, NodeNotReadyError)


@dataclass(frozen=True)
class Process(Generic[T]):
    """A started process: the core settings, the component's own settings, the metrics endpoint."""

    settings: OmnibusSettings
    component: T
    metrics: MetricsServer | None


def core_settings(bootstrap_servers: str | None = None) -> OmnibusSettings:
    """The core settings; a command's ``--bootstrap-servers`` (when given) wins over the environment's.

    Raises ``ConfigError`` like ``load_settings``.
    """
    settings = load_settings()
    if bootstrap_servers:
        settings = settings.model_copy(
            update={"kafka": settings.kafka.model_copy(update={"bootstrap_servers": bootstrap_servers})})
    return settings


def exit_with_message(error: BaseException | str, status: int = BAD_SETTINGS_EXIT) -> NoReturn:
    """Write ``error: <message>`` on one line to stderr (``write_error``) and exit with ``status``."""
    write_error(error)
    raise SystemExit(status)


def write_error(error: BaseException | str) -> None:
    """Write ``error: <message>`` on one line to stderr; log lines still held back (repeat counts) are written
    first, so the error is the last line."""
    _write_line("error", error)


def write_warning(warning: str) -> None:
    """Write ``warning: <message>`` on one line to stderr, after the log lines still held back (``write_error``)."""
    _write_line("warning", warning)


def _write_line(label: str, text: BaseException | str) -> None:
    flush_repeats()
    message = " ".join(str(text).split())
    sys.stderr.write(f"{label}: {message}\n")
    sys.stderr.flush()


@contextmanager
def bad_settings_exit() -> Iterator[None]:
    """Turn a ``ConfigError`` raised inside the block into ``exit_with_message`` (status 2)."""
    try:
        yield
    except ConfigError as exc:
        exit_with_message(exc)


@contextmanager
def startup_failure_exit() -> Iterator[None]:
    """One line and an exit status instead of a traceback when a command cannot start: a ``ConfigError``
    (status 2), a Kafka cluster or schema registry that cannot be reached at all (``UNREACHABLE_ERRORS``, a retriable
    ``SchemaRegistryError``: status 69), a registry that refused a request or a local stack that did not start (the
    demo's broker, ``LocalStackError``: what failed and where its logs are, without their tails; status 1).
    Errors once running are not caught here: a worker that loses the broker later retries or dies loudly."""
    try:
        with bad_settings_exit():
            yield
    except UNREACHABLE_ERRORS as exc:
        exit_with_message(f"cannot reach Kafka ({exc}); {_where_kafka_was_looked_for()}", KAFKA_UNAVAILABLE_EXIT)
    except SchemaRegistryError as exc:  # topics read, review list, replay printed a 390-line traceback
        if exc.retriable:
            exit_with_message(f"{exc}; {registry_hint()}", KAFKA_UNAVAILABLE_EXIT)
        exit_with_message(exc, COMMAND_FAILED_EXIT)
    except LocalStackError as exc:  # the demo printed a 170-line traceback
        exit_with_message(exc.headline(), COMMAND_FAILED_EXIT)


def registry_hint() -> str:
    """The hint of a schema registry that does not answer: the variable given, else the local stack's registry
    (a command on ``omnibus stack`` uses its recorded registry also while it is down, ``bus.stack.local``; the hint
    named a variable the user never set)."""
    if os.environ.get(REGISTRY_URL_VARIABLE):
        return f"is the registry running, and is {REGISTRY_URL_VARIABLE} right?"
    from bus.stack.local import LocalStack  # tooling: loaded only to explain a failure

    stack = LocalStack()
    registry = (stack.read_state() or {}).get("registry") or {}
    if registry.get("url"):
        return (f"the schema registry of the local stack recorded in {stack.state_file} does not answer: "
                "'omnibus stack up' brings it back with its schemas (or set the variable)")
    return f"is the registry running, and is {REGISTRY_URL_VARIABLE} right?"


def _where_kafka_was_looked_for() -> str:
    """The hint of a Kafka connection failure: the variable given, else the local stack's record (a
    stack whose broker was down, or a shell outside the checkout, fell back to 127.0.0.1:9092, and the hint named a
    variable the user never set)."""
    if os.environ.get(BOOTSTRAP_SERVERS_VARIABLE):
        return f"is the broker running, and is {BOOTSTRAP_SERVERS_VARIABLE} right?"
    from bus.stack.local import LocalStack  # tooling: loaded only to explain a failure

    stack = LocalStack()
    if stack.read_state() is not None:
        return (f"{BOOTSTRAP_SERVERS_VARIABLE} is unset and the local stack recorded in {stack.state_file} is not "
                "running: start it with 'omnibus stack up' (or set the variable)")
    return (f"{BOOTSTRAP_SERVERS_VARIABLE} is unset, so the default address was tried, and no local stack is recorded "
            f"in {stack.state_file}: set the variable, run 'omnibus stack up', or set OMNIBUS_STACK_DIR to the "
            "stack's directory when working outside its checkout")


def start_process(
    component: Callable[[OmnibusSettings], T],
    *,
    settings: Callable[[], OmnibusSettings] = load_settings,
    metrics_of: str | None = None,
    logged_as: str | None = None,
) -> Process[T]:
    """Load the core settings and the component's (``component(core)``), configure logging, install the stop
    deadline (``bus.shutdown``), serve metrics when ``metrics_of`` names whose they are (``identity``: named in the
    line that gives their port; None: a command that serves none, or whose runtime serves them).

    Every line the process logs from then on carries its component (``bus.logging.bind_component``): ``logged_as``
    (an adapter, whose runtime serves its metrics: ``adapter.web``), else ``metrics_of``; neither: none.

    Exits 2 with one line on a ``ConfigError`` from either loader, or when the metrics port cannot be bound.
    """
    with bad_settings_exit():
        core = settings()
        kafka_connection(core.kafka)  # SASL and TLS settings checked (and TLS files read) before anything starts
        own = component(core)
    configure_logging(core.log.level, json_output=core.log.json_output)
    if (name := logged_as or metrics_of) is not None:
        bind_component(name)
    shutdown.install(core.stop.deadline_s)  # armed by the command's SIGTERM/SIGINT handler
    server = serve_metrics_or_exit(core.metrics, component=metrics_of) if metrics_of else None
    return Process(core, own, server)


def serve_metrics_or_exit(settings: MetricsSettings, heartbeat: Heartbeat | None = None, *,
                          component: str) -> MetricsServer | None:
    """``bus.metrics.serve_metrics``, or, when its port cannot be bound (taken: another process, a second copy of
    this one), exit 2 with one ``error:`` line naming the address and ``OMNIBUS_METRICS__PORT``, not a traceback
    and status 1. Every command that serves metrics starts them through here."""
    try:
        return serve_metrics(settings, heartbeat, component=component)
    except OSError as exc:
        exit_with_message(f"metrics endpoint {settings.host}:{settings.port}: {exc.strerror or exc}: set "
                          "OMNIBUS_METRICS__PORT to a free port, or to 0 to let the system pick one (logged)")
