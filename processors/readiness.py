"""Is this faust worker ready to serve, and how far behind is it: ``/live``, ``/ready`` and consumer lag.

A worker is **serving** once it owns its partitions: it joined the consumer group, the rebalance is over
and its tables are recovered from their changelogs. Before that, and while a rebalance runs, any view
that reads tables answers 503 with ``Retry-After`` (a known transient state, never a 500). It is
**ready** (``GET /ready`` 200, the Kubernetes readiness probe) when it is serving, the views it serves can
answer (each condition a component adds with ``install(checks=...)``, e.g. the screen pop knowing which worker
owns every graph partition: a new user saw ``/ready`` 200 while every screen pop answered 503) and *caught up*: on
every input partition it owns, the consumer lag (high watermark minus committed offset, in records) is
at most ``max_lag``, and *in touch with a broker*: some broker answered a metadata request within
``broker_timeout_s`` (``BrokerContact``; identity's ``/ready`` said 200 40 s after the broker was
killed, so Kubernetes kept sending screen pops to a worker that could not see a single new event), and *decoding*:
no record waits for a schema registry that does not answer (``bus.registry_outage``), and *moving*:
no input partition it owns is known stalled by the lag watchdog (``bus.lag_watchdog.stalled_on``: records wait and
neither its position nor its committed offset moved for the watchdog's ``stall_after_s``, until its committed offset
moves again; ``/ready`` said 200 with ``max_lag`` 138 for two minutes while four partitions stood still
and half the new users' screen pops answered 404). The views keep answering from the tables meanwhile (as they do
when behind), and say so: their answer's ``held_back`` is ``/ready``'s reason, with the header ``Omnibus-Held-Back``
(``Readiness.held_back``, ``held_back_answer``; ``/kpis`` and the screen pop answered 200 through a registry outage
with nothing saying the counts lacked the records waiting).
``GET /live`` answers 200 while the event loop runs (the liveness probe), broker or not: a restart would not bring
the broker back, and the worker reconnects by itself; it answers 503 only once a worker that never became ready
gives up and stops itself (``bus.startup_watchdog``: its start-up made no progress for
``OMNIBUS_STARTUP__STALL_AFTER_S``), or once its stop has lasted ``bus.shutdown.HUNG_STOP_S`` (a stop hung on a
commit; the stop deadline then ends the process). Both answer the
body every probe answers, adapters' too (``bus.readiness.probe_body``: component, status, live, ready, reason,
partitions, max_lag, lag_age_s, behind, stalled); ``/ready`` answers it with 503 and ``Retry-After`` when not ready.

Every ``refresh_s`` seconds the worker exports, per owned input partition,
``omnibus_consumer_lag`` and ``omnibus_consumer_committed_offset`` (labels ``component``, ``topic``,
``partition``: bounded by the topic registry and partition counts), ``omnibus_processor_ready`` and
``omnibus_consumer_lag_age_seconds`` (how old the lag figures may be: they freeze while no broker answers);
the alert rules in ``deploy/monitoring`` read them (lag growing, not committing, stalled partition).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

import faust
from aiokafka.errors import IllegalStateError
from faust.exceptions import ConsumerNotStarted
from faust.web import Request, Response, View
from prometheus_client import Gauge

from bus import lag_watchdog, registry_outage, shutdown, startup_watchdog
from bus.config import ReadinessSettings
from bus.logging import get_logger
from bus.readiness import HELD_BACK_HEADER, HELD_BACK_KEY, LIVE_PATH, READY_PATH, ProbeBody, probe_body
from bus.topics import is_faust_internal

log = get_logger(__name__)

CONSUMER_LAG = Gauge(
    "omnibus_consumer_lag",
    "Records on an owned input partition not yet committed (high watermark - committed offset).",
    ["component", "topic", "partition"],
)
COMMITTED_OFFSET = Gauge(
    "omnibus_consumer_committed_offset", "Offset this consumer group last committed on an owned input partition.",
    ["component", "topic", "partition"],
)
READY = Gauge(
    "omnibus_processor_ready", "1 when the worker owns its partitions and is caught up, else 0.", ["component"]
)
LAG_AGE = Gauge(
    "omnibus_consumer_lag_age_seconds",
    "Seconds since a broker last answered this worker: how old its omnibus_consumer_lag figures may be "
    "(they freeze during a broker outage; processors/readiness.py).", ["component"],
)

RETRY_AFTER_S = 2
DEFAULT_MAX_LAG = 1000
REBALANCING = "partitions are being rebalanced or recovered"
# What aiokafka's consumer raises when its thread changed the assignment (a new subscription unassigns at once,
# before faust hears of a rebalance) between ``assignment()`` and ``highwater(tp)``: its ``assert ... "Partition is
# not assigned"``, a partition state gone (AttributeError on None), or faust's consumer already stopped.
ASSIGNMENT_CHANGING = (AssertionError, AttributeError, IllegalStateError, ConsumerNotStarted)


# Why a view of the worker cannot answer yet (e.g. "owners of graph partitions [2] not known yet"), None when it can.
ViewCheck = Callable[[], str | None]
# ``{"topic[partition]": lag in records}`` of the owned partitions the lag watchdog knows stalled (empty: none).
StalledView = Callable[[], Mapping[str, int]]
# One metadata request to the brokers; returns when one answered, raises (any exception) when none could.
MetadataProbe = Callable[[], Awaitable[object]]
BROKER_SETTINGS = ReadinessSettings()


def producer_metadata(app: faust.App) -> MetadataProbe:
    """Asks for cluster metadata over the worker's own producer connections (faust's aiokafka producer, in the
    worker's event loop): the brokers the worker writes to, through its network path, TLS and credentials.
    Raises ``RuntimeError`` while the producer is not started."""

    async def probe() -> object:
        # faust's aiokafka Producer keeps its AIOKafkaProducer in ``_producer``; ProducerT does not declare it.
        producer = getattr(app.producer, "_producer", None)
        if producer is None:
            raise RuntimeError("the producer is not started")
        # A fresh ClusterMetadata from any known broker (AIOKafkaClient.fetch_all_metadata): the client's own
        # metadata is left alone; KafkaError when no broker answered.
        return await producer.client.fetch_all_metadata()

    return probe


@dataclass
class BrokerContact:
    """When a broker last answered this worker: ``probe`` (a metadata request) every ``settings.broker_probe_s``,
    each bounded by ``broker_timeout_s`` too. ``lost()`` says why the worker is out of touch, or None: no answer for
    more than ``broker_timeout_s`` seconds (counted from creation until the first answer). ``clock``: seconds,
    monotonic.

    Silence counts only while the worker asks: a probe timer that ran late on a busy machine (faust's "Timer ...
    ran longer than its interval") is not a broker that did not answer. From the last answer, or from one probe
    interval before the first unanswered probe when that probe came later than its interval."""

    probe: MetadataProbe
    settings: ReadinessSettings = BROKER_SETTINGS
    clock: Callable[[], float] = time.monotonic
    last_answer: float = field(init=False)
    first_unanswered: float | None = field(default=None, init=False)  # start of the first probe since last_answer
    _reported: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        self.last_answer = self.clock()

    async def check(self) -> bool:
        """One probe; True when a broker answered (then ``last_answer`` is now)."""
        if self.first_unanswered is None:
            self.first_unanswered = self.clock()
        try:
            await asyncio.wait_for(self.probe(), timeout=self.settings.broker_timeout_s)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # KafkaError, a timeout, a producer not started: no answer is all it means
            if self.lost() is not None and not self._reported:
                self._reported = True
                log.warning("no broker answered the readiness probe: /ready is 503 until one does",
                            seconds=round(self._unanswered_s()), error=type(error).__name__)
            return False
        if self._reported:
            log.info("a broker answers again: /ready follows the partitions and the lag again")
            self._reported = False
        self.last_answer, self.first_unanswered = self.clock(), None
        return True

    def silent_s(self) -> float:
        """Seconds since a broker last answered (since creation before the first answer)."""
        return max(0.0, self.clock() - self.last_answer)

    def _unanswered_s(self) -> float:
        if self.first_unanswered is None:
            return 0.0
        asked_from = max(self.last_answer, self.first_unanswered - self.settings.broker_probe_s)
        return max(0.0, self.clock() - asked_from)

    def lost(self) -> str | None:
        silent = self._unanswered_s()
        if silent <= self.settings.broker_timeout_s:
            return None
        return f"no broker answered for {silent:.0f} s (limit {self.settings.broker_timeout_s:g} s)"


@dataclass
class Readiness:
    """The readiness of one faust ``app`` named ``component`` in metrics (e.g. ``identity``); ``checks``: what
    the views it serves need besides owning its partitions (``cannot_serve``)."""

    app: faust.App
    component: str
    max_lag: int = DEFAULT_MAX_LAG
    checks: Sequence[ViewCheck] = ()
    broker: BrokerContact | None = None  # None: the broker is not watched (unit tests of the other conditions)
    stalled: StalledView | None = None  # None: no lag watchdog is asked (unit tests of the other conditions)
    _exported: set[tuple[str, int]] = field(default_factory=set)

    def cannot_serve(self) -> str | None:
        """Why the views this worker serves cannot answer now (``waiting_for``, then each of ``checks``), or
        None: a view answers 503 with this reason exactly when ``/ready`` is not ready for it."""
        if (reason := self.waiting_for()) is not None:
            return reason
        return next((reason for check in self.checks if (reason := check()) is not None), None)

    def waiting_for(self) -> str | None:
        """Why the worker does not own its partitions yet, or None when it does."""
        app = self.app
        if app.should_stop or not app.started:
            return "the worker is starting or stopping"
        # faust's TableManagerT interface omits ``recovery``, which its only implementation (TableManager) has.
        if not app.tables.recovery.completed.is_set():  # type: ignore[attr-defined]
            return "the worker has not joined its consumer group yet"
        if app.rebalancing or app.in_recovery:
            return REBALANCING
        return None

    def lags(self) -> dict[tuple[str, int], tuple[int, int | None]]:
        """``{(topic, partition): (lag in records, committed offset or None)}`` for owned input partitions. Raises
        one of ``ASSIGNMENT_CHANGING`` when the consumer's thread changes the assignment meanwhile."""
        consumer = self.app.consumer
        found: dict[tuple[str, int], tuple[int, int | None]] = {}
        for tp in consumer.assignment():
            if is_faust_internal(tp.topic):
                # table changelogs are read by recovery, the assignor's leader topic by no one: never committed by
                # this group, so no lag (the leader topic was exported as consumer lag)
                continue
            highwater = consumer.highwater(tp)
            # faust keeps the last commit per partition on its Consumer; the ConsumerT interface does not declare it.
            committed = consumer._committed_offset.get(tp)  # type: ignore[attr-defined]
            lag = max(0, (highwater or 0) - (committed or 0)) if highwater is not None else 0
            found[(tp.topic, tp.partition)] = (lag, committed)
        return found

    def state(self) -> tuple[bool, ProbeBody]:
        """(ready, the probe body) and the gauges updated; the body is what ``/ready`` and ``/live`` answer."""
        reason = self.cannot_serve()
        lags = None
        if reason is None:
            try:
                lags = self.lags()
            except ASSIGNMENT_CHANGING:  # a rebalance faust has not heard of yet: 503, never a 500 (CI, once)
                reason = REBALANCING
        if lags is None:
            READY.labels(self.component).set(0)
            return False, probe_body(self.component, ready=False, reason=reason)
        self._export(lags)
        behind = {f"{topic}[{partition}]": lag for (topic, partition), (lag, _) in lags.items() if lag > self.max_lag}
        lost = self.broker.lost() if self.broker is not None else None
        age = self.broker.silent_s() if self.broker is not None else None
        stalled = dict(self.stalled()) if self.stalled is not None else {}
        registry = registry_outage.OUTAGE.reason()
        ready = not behind and not stalled and lost is None and registry is None
        READY.labels(self.component).set(1 if ready else 0)
        if age is not None:
            LAG_AGE.labels(self.component).set(age)
        return ready, probe_body(self.component, ready=ready, reason=lost or registry or stall_reason(stalled)
                                 or f"consumer lag above {self.max_lag} records",
                                 partitions=len(lags), max_lag=max((lag for lag, _ in lags.values()), default=0),
                                 lag_age_s=age, behind=behind, stalled=stalled)

    def held_back(self) -> str | None:
        """Why this worker's answers may lack records that wait (the reason ``/ready`` gives while it is not ready),
        None when it is ready. A view asks once it knows it can serve (``cannot_serve`` None)."""
        ready, body = self.state()
        return None if ready else body["reason"] or "not ready"

    def live(self) -> ProbeBody:
        """What ``/live`` answers: the probe body, whatever reading the state meets (liveness never fails on it);
        ``live`` false only when the worker's start-up stalled and it is stopping (``bus.startup_watchdog``), or
        when its stop is hung (``bus.shutdown.hung_stop``)."""
        if (stalled := startup_watchdog.gave_up(self.app)) is not None:
            return probe_body(self.component, live=False, reason=stalled)
        if (hung := shutdown.hung_stop()) is not None:
            return probe_body(self.component, live=False, reason=hung)
        try:
            return self.state()[1]
        except Exception as error:  # a liveness answer must not depend on the consumer's internals
            return probe_body(self.component, ready=False, reason=f"readiness unknown: {type(error).__name__}")

    def _export(self, lags: dict[tuple[str, int], tuple[int, int | None]]) -> None:
        for topic, partition in self._exported - set(lags):  # revoked: drop its series
            for gauge in (CONSUMER_LAG, COMMITTED_OFFSET):
                with suppress(KeyError):
                    gauge.remove(self.component, topic, str(partition))
        for (topic, partition), (lag, committed) in lags.items():
            CONSUMER_LAG.labels(self.component, topic, str(partition)).set(lag)
            if committed is not None:
                COMMITTED_OFFSET.labels(self.component, topic, str(partition)).set(committed)
        self._exported = set(lags)


def stall_reason(stalled: Mapping[str, int]) -> str | None:
    """The ``/ready`` reason for ``stalled`` (``{"topic[partition]": lag}``), None when it is empty."""
    if not stalled:
        return None
    named = ", ".join(f"{partition} ({lag} waiting)" for partition, lag in stalled.items())
    return (f"consuming nothing with records waiting on {named}: the lag watchdog seeks them back "
            "(bus/lag_watchdog.py)")


UNAVAILABLE_CODE = "unavailable"


def unavailable(view: View, reason: str) -> Response:
    """503 with ``Retry-After``: the answer to every request during a known transient state, in the adapters' error
    shape ``{"error": reason, "code": "unavailable"}`` (the processors' views answered ``{"error"}`` alone)."""
    return view.json({"error": reason, "code": UNAVAILABLE_CODE}, status=503,
                     headers={"Retry-After": str(RETRY_AFTER_S)})


def held_back_answer(view: View, body: dict[str, Any], held_back: str | None, *, status: int = 200) -> Response:
    """``status`` (200) with ``body`` and its ``held_back`` (``Readiness.held_back``: null when ready), and the header
    ``HELD_BACK_HEADER`` when it is not null (``bus.readiness``)."""
    return view.json({**body, HELD_BACK_KEY: held_back}, status=status,
                     headers={HELD_BACK_HEADER: "true"} if held_back is not None else None)


def held_back_miss(view: View, error: str, held_back: str | None) -> Response:
    """404 ``{"error": error, "held_back": ...}`` (with the header when not null): a customer or identifier not found
    while records wait may be in them (a new caller's first contact during a registry outage): the screen pop's
    "unknown caller" then says it may be too early, not that nobody has it."""
    return held_back_answer(view, {"error": error}, held_back, status=404)


def install(app: faust.App, component: str, *, max_lag: int = DEFAULT_MAX_LAG, refresh_s: float = 5.0,
            checks: Sequence[ViewCheck] = (), broker: ReadinessSettings = BROKER_SETTINGS) -> Readiness:
    """Add ``/live`` and ``/ready`` to ``app``'s web server, the lag gauges' refresh timer and the broker probe
    (``BrokerContact`` over the worker's producer, every ``broker.broker_probe_s``); ``checks``: what the
    component's views need to answer (``Readiness.cannot_serve``); ``broker``: ``OmnibusSettings.readiness``."""
    contact = BrokerContact(producer_metadata(app), broker)
    readiness = Readiness(app, component, max_lag, checks, contact, lambda: lag_watchdog.stalled_on(app))

    async def live_view(self: View, request: Request) -> Response:
        body = readiness.live()
        return self.json(body) if body["live"] else self.json(body, status=503)

    async def ready_view(self: View, request: Request) -> Response:
        ready, details = readiness.state()
        if ready:
            return self.json(details)
        return self.json(details, status=503, headers={"Retry-After": str(RETRY_AFTER_S)})

    app.page(LIVE_PATH, name=f"{component}-live")(live_view)
    app.page(READY_PATH, name=f"{component}-ready")(ready_view)

    @app.timer(refresh_s, name=f"{component}.readiness")
    async def refresh() -> None:
        readiness.state()

    @app.timer(broker.broker_probe_s, name=f"{component}.broker-contact")
    async def probe_broker() -> None:
        await contact.check()

    return readiness
