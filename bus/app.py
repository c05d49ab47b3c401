"""The faust app factory every processor uses.

Faust consumes, keeps tables (changelog-backed, so state survives restarts and rebalances) and serves
the processors' HTTP views. Events leave through ``bus.producer.EventProducer`` instead of faust's own
producer, which enables idempotence only inside transactions; the exactly-once (transactional) mode
has open duplicate and loss bugs, so processors run at-least-once and dedupe on event ids.
"""

from __future__ import annotations

import asyncio
import atexit
import shutil
import socket
import tempfile
from collections.abc import Iterable
from typing import Any

import faust

from bus import (
    changelog_first,
    client_start,
    commit_assigned,
    commit_gap,
    commit_watchdog,
    declared_topics,
    early_stop,
    fetch_active,
    fetch_wait,
    lag_watchdog,
    partition_check,
    record_headers,
    recovery_timeout,
    recovery_watchdog,
    seek_before_resume,
    seek_uncommitted,
    shutdown,
    stall_exit,
    stampede,
    startup_watchdog,
    table_manager,
    takeover,
    topic_watch,
    web_socket,
)
from bus.admin_client import admin_client
from bus.config import OmnibusSettings
from bus.kafka_client import faust_broker_options
from bus.logging import get_logger, ports_logger
from bus.topic_check import require_topics
from bus.topics import ALL_TOPICS

DEFAULT_WEB_PORT = 6066  # faust's own default
PORT_CHOSEN_EVENT = "web server port chosen"  # the log line that names the free port a worker bound for port 0
log = get_logger(__name__)


def create_app(
    name: str,
    settings: OmnibusSettings,
    *,
    web_port: int | None = None,  # None: no web server; 0: a free port, bound here and logged (bus.web_socket)
    commit_stall_after_s: float = commit_watchdog.STALL_AFTER_S,
    commit_watch_interval_s: float = commit_watchdog.INTERVAL_S,
    lag_stall_after_s: float = lag_watchdog.STALL_AFTER_S,
    lag_watch_interval_s: float = lag_watchdog.INTERVAL_S,
    **overrides: Any,
) -> faust.App:
    """A faust app named ``<prefix>.<name>`` configured for at-least-once processing of raw bytes.

    Records arrive as bytes (``value_serializer="raw"``) and are decoded by ``bus.serde`` so that a
    poison record becomes a dead letter instead of faust's silent decode-error path.
    """
    app_id = group_id(name, settings)
    record_headers.install()  # a header key that is not UTF-8 is dead-lettered, not a crash loop (#13)
    strict = frozenset(spec.name(settings.topics) for spec in ALL_TOPICS if not spec.compacted)
    commit_gap.install(strict.__contains__)  # never commit past a record held back (faust-streaming #606)
    seek_uncommitted.install()  # records fetched mid-rebalance are read again on a never-committed partition
    seek_before_resume.install()  # a worker starts at the committed offsets: no record handled twice at start
    fetch_wait.install()  # a fetch waits at most 500 ms (faust: 1.5 s, twice at every rebalance's end)
    fetch_active.install()  # a fetch returns only partitions faust hands on: no record skipped at a start (fetch47)
    changelog_first.install()  # never commit an offset before the state changes it caused are in the changelog
    commit_assigned.install()  # a commit whose partitions all moved in a rebalance is dropped, not a crash
    # a changelog faust creates is in the broker's metadata before its consumer subscribes; a broker lost meanwhile
    # is waited for (producer.give_up_after_s)
    declared_topics.install(settings.producer.give_up_after_s)
    client_start.install(settings.producer.give_up_after_s)  # faust's producer and consumer start through an outage
    partition_check.install()  # a changelog the metadata does not know yet is no "0 partitions" mismatch
    recovery_timeout.install()  # a restore step that times out restarts the restore, not ends it (mode's wait_first)
    stampede.install()  # a cancelled waiter of a shared declaration no longer crashes the worker doing it (mode)
    web_socket.install()  # a web server on port 0 serves on the socket bound below, never on a number read and freed
    web_bind = overrides.pop("web_bind", settings.web.bind)
    bound = web_socket.bind(web_bind) if web_port == 0 else None
    options: dict[str, Any] = {
        "datadir": overrides.pop("datadir", None) or private_datadir(app_id),
        **faust_broker_options(settings.kafka, client_suffix=name),
        "processing_guarantee": "at_least_once",
        "broker_session_timeout": takeover.SESSION_TIMEOUT_S,  # a dead worker's partitions move after 10 s
        "producer_acks": -1,
        "store": "memory://",
        "topic_partitions": settings.topics.partitions,
        "topic_replication_factor": settings.topics.replication_factor,
        "key_serializer": "raw",
        "value_serializer": "raw",
        "consumer_auto_offset_reset": "earliest",
        "autodiscover": False,
        "web_enabled": web_port is not None,
        "web_port": DEFAULT_WEB_PORT if web_port is None else _web_port(web_port, bound, web_bind, app_id),
        "web_bind": web_bind,
        "web_host": settings.web.host,
        "TableManager": table_manager.TableManager,  # tables registered at start without faust's 1 s wait
        # faust lets ~80 environment variables (WEB_PORT, WEB_HOST, BROKER_*, DATADIR...) override the options given
        # here: an exported WEB_PORT moved every processor's web server off its OMNIBUS_ setting. The
        # settings above are the one translation; faust reads no variable of the environment.
        "env": {},
    }
    options.update(overrides)
    app = faust.App(app_id, **options)
    if bound is not None:
        web_socket.hold(app, bound)
    # A partition whose commits stall (faust-streaming #596) is reported and sought back (bus.commit_watchdog).
    commit_watchdog.install(app, name, stall_after_s=commit_stall_after_s, interval_s=commit_watch_interval_s)
    # A partition that consumes nothing while records wait is sought back, then the worker restarts (bus.lag_watchdog).
    lag_watchdog.install(app, name, stall_after_s=lag_stall_after_s, interval_s=lag_watch_interval_s)
    takeover.install(app, name)  # restore and catch-up time of every rebalance, logged and exported (#13 build 3)
    recovery_watchdog.install(app, name)  # a table restore that reads nothing for a minute stops the worker (#13)
    # a worker that never becomes ready (its watchdogs above start only then) stops to be started again
    startup_watchdog.install(app, name, stall_after_s=settings.startup.stall_after_s)
    return app


def group_id(name: str, settings: OmnibusSettings) -> str:
    """The id of the faust app ``name`` (``create_app``): ``<prefix>.<name>``, also its consumer group's id, under
    which its committed offsets are found (``processors.verify.lag``)."""
    return f"{settings.topics.prefix}.{name}"


def private_datadir(app_id: str) -> str:
    """A directory of this process alone for faust's few files (tables live in memory and are rebuilt from their
    changelogs, so nothing there outlives the process): never the working directory, and never a path that two
    workers or two deployments on one machine would share. Removed when the process exits."""
    path = tempfile.mkdtemp(prefix=f"omnibus-{app_id}-")
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


def _web_port(requested: int, bound: socket.socket | None, bind: str, app_id: str) -> int:
    """``requested``, or for 0 the port of ``bound`` (the socket the web server will serve on, ``bus.web_socket``),
    logged (``PORT_CHOSEN_EVENT``); faust needs the real number up front because it tells the other workers its URL
    (``canonical_url``) for routed requests."""
    if bound is None:
        return requested
    port = web_socket.port_of(bound)
    ports_logger().info(PORT_CHOSEN_EVENT, app=app_id, port=port, bind=bind)
    return port


def check_web_port(app: faust.App, setting: str | None) -> str | None:
    """Why ``app``'s web server could not listen (its port taken, e.g. by another worker or an orphaned process
    on this machine), naming ``setting``; None when it can, or when its web server is off."""
    conf = app.conf
    if not conf.web_enabled or web_socket.held(app) is not None:  # port 0: bound already, by this process
        return None
    with socket.socket(socket.AF_INET6 if ":" in conf.web_bind else socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as aiohttp binds: TIME_WAIT is no conflict
        try:
            probe.bind((conf.web_bind, conf.web_port))
        except OSError as exc:
            where = f"set {setting} to a free port, or to 0 to let the system pick one" if setting else \
                "choose another web port"
            return f"web port {conf.web_port} on {conf.web_bind} is not available ({exc.strerror or exc}): {where}"
    return None


async def probe_cluster(settings: OmnibusSettings, topics: Iterable[str] = ()) -> None:
    """Connect to the cluster once, check that it lists ``topics``, and leave. Raises ``KafkaConnectionError`` when no
    bootstrap server answers, ``MissingTopicError`` naming the topics of ``topics`` it does not list
    (``bus.topic_check``)."""
    admin = admin_client(settings.kafka)
    await admin.start()
    try:
        await require_topics(admin.list_topics, topics)
    finally:
        await admin.close()


def subscribed_topics(app: faust.App, settings: OmnibusSettings) -> list[str]:
    """The topics of ``ALL_TOPICS`` (those ``omnibus topics apply`` creates) the agents of ``app`` read, sorted; the
    ones faust creates itself (changelogs, the assignor's) are left out."""
    owned = {spec.name(settings.topics) for spec in ALL_TOPICS}
    read = {name for agent in app.agents.values() for name in getattr(agent.channel, "topics", ())}
    return sorted(read & owned)


def arm_stop_deadline(worker: faust.Worker, app: faust.App) -> None:
    """SIGTERM/SIGINT (faust's ``_schedule_shutdown``, also reached by ``bus.worker_exit``'s own SIGTERM) and a crash
    of the app (``app.crash``: exit status 1 then) start the process's stop deadline; past it, the records read but
    not committed are counted (``bus.shutdown``)."""
    schedule = worker._schedule_shutdown  # noqa: SLF001 - mode's one entry of every signalled stop

    def schedule_shutdown(signum: Any) -> None:
        shutdown.arm()
        early_stop.note_signal(app)  # a stop that cuts the start short ends with status 0 too (bus.worker_exit)
        schedule(signum)

    worker._schedule_shutdown = schedule_shutdown  # type: ignore[method-assign,assignment] # noqa: SLF001
    install_signal_handlers = worker.install_signal_handlers

    def install_then_take_over() -> None:
        install_signal_handlers()
        early_stop.handed_over()  # a SIGTERM the start's handler took but Python dropped: to faust's handler now

    worker.install_signal_handlers = install_then_take_over  # type: ignore[method-assign]
    shutdown.track("uncommitted_records", lambda: shutdown.faust_uncommitted(app.consumer))
    crash = app.crash

    async def crash_and_bound_the_stop(reason: BaseException) -> None:
        # A crash stops the worker without a signal: its stop is bounded too, and ends with the crash's status.
        from bus.worker_exit import WORKER_CRASHED_EXIT

        shutdown.arm(WORKER_CRASHED_EXIT)
        await crash(reason)

    app.crash = crash_and_bound_the_stop  # type: ignore[method-assign]


def run_worker(app: faust.App, settings: OmnibusSettings, *, web_port_setting: str | None = None) -> None:
    """Run ``app`` until SIGTERM/SIGINT, logging only through ``bus.logging`` (JSON, redacted).

    Exits 2 with one line naming ``web_port_setting`` (the variable that sets the port) when the app's web port
    is already taken, before anything starts (``check_web_port``).

    Raises aiokafka's ``KafkaConnectionError`` before starting when no broker answers at all (faust would log it
    among its shutdown lines and exit 1; ``bus.bootstrap.startup_failure_exit`` makes it one line and status 69), and
    ``MissingTopicError`` (status 2) when a topic its agents read does not exist (``subscribed_topics``;
    faust would wait for partitions until ``bus.startup_watchdog`` ended it with status 75); one deleted while it runs
    ends it with status 75 and that line (``bus.topic_watch``).
    A fatal error once running (a table whose changelog has another partition count than its source topic)
    ends the process with one line and status 78 instead of a crash loop (``bus.worker_exit``). A stop that
    has not finished ``OMNIBUS_STOP__DEADLINE_S`` after SIGTERM ends it with status 124 (``bus.shutdown``). SIGTERM
    before the worker is ready ends it with one line and status 0, whatever its start raised (``bus.early_stop``).
    """
    from bus.bootstrap import exit_with_message
    from bus.worker_exit import fatal_errors_exit

    if (taken := check_web_port(app, web_port_setting)) is not None:
        exit_with_message(taken)
    read = subscribed_topics(app, settings)
    asyncio.run(probe_cluster(settings, read))
    stall_exit.enable_exit()  # a partition still stalled after a seek-back ends this process (status 75)
    topic_watch.enable_exit()  # a topic it reads deleted while it runs ends it, to be started again (75)
    app.task(lambda: topic_watch.watch(settings, read, app.conf.id))
    worker = faust.Worker(app, loglevel=settings.log.level.lower(), override_logging=False, quiet=True)
    worker.spinner = None  # faust draws a terminal spinner even into a pipe; log lines must stay JSON
    arm_stop_deadline(worker, app)
    with fatal_errors_exit(app, worker):
        worker.execute_from_commandline()
