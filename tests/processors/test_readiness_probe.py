"""A faust worker's ``/live`` and ``/ready`` answer the one probe body (``bus.readiness``), whatever its state
(tester8 #13: processors answered ``{"live": true}`` and ``{"ready": true, "partitions": 19, "max_lag": 0}``,
adapters ``{"status": "ok"}``). The broker test ``tests/processors/test_readiness.py`` polls them live."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any, NamedTuple

import jsonschema

from bus.readiness import PROBE_SCHEMA
from processors.readiness import Readiness

TOPIC = "omnibus.contact.events.v1"


class TP(NamedTuple):  # faust's TP: hashable
    topic: str
    partition: int


def worker(*, recovered: bool = True, committed: dict[int, int] | None = None, highwater: int = 10) -> Any:
    """A faust app stand-in: recovered (or not), owning ``committed``'s partitions of TOPIC and a changelog one."""
    done = asyncio.Event()
    if recovered:
        done.set()
    committed = committed or {}
    assigned = {TP(TOPIC, p) for p in committed}
    assigned.add(TP("omnibus-kpis-changelog", 0))
    assigned.add(TP("omnibus.kpis-__assignor-__leader", 0))  # faust's own: no group commits on it
    consumer = SimpleNamespace(assignment=lambda: assigned, highwater=lambda tp: highwater,
                               _committed_offset={tp: committed[tp.partition] for tp in assigned if tp.topic == TOPIC})
    return SimpleNamespace(should_stop=False, started=True, rebalancing=False, in_recovery=False,
                           tables=SimpleNamespace(recovery=SimpleNamespace(completed=done)), consumer=consumer)


def test_every_state_answers_the_one_body() -> None:
    starting = Readiness(worker(recovered=False), "kpis-test")
    caught_up = Readiness(worker(committed={0: 10, 1: 9}), "kpis-test")
    behind = Readiness(worker(committed={0: 4500, 1: 0}, highwater=5000), "kpis-test", max_lag=1000)
    bodies = {name: readiness.state() for name, readiness in
              (("starting", starting), ("caught_up", caught_up), ("behind", behind))}
    for ready, body in bodies.values():
        jsonschema.validate(body, PROBE_SCHEMA)
        assert body["ready"] is ready and body["component"] == "kpis-test"
    assert bodies["starting"][1]["reason"] == "the worker has not joined its consumer group yet"
    assert bodies["starting"][1]["partitions"] is None
    assert bodies["caught_up"][1] == {"component": "kpis-test", "status": "ok", "live": True, "ready": True,
                                      "reason": None, "partitions": 2, "max_lag": 1, "lag_age_s": None,
                                      "behind": {}, "stalled": {}}
    assert bodies["behind"][1]["behind"] == {f"{TOPIC}[1]": 5000}
    assert bodies["behind"][1]["reason"] == "consumer lag above 1000 records"


def test_a_partition_the_lag_watchdog_knows_stalled_makes_ready_503_naming_it_until_it_moves() -> None:
    """tester16 F5: after a broker pause identity's /ready said 200 with ``max_lag`` 138 (under the 1000 limit) while
    the lag watchdog had four partitions stalled with 123-138 records waiting; half the screen pops answered 404."""
    stalled: dict[str, int] = {f"{TOPIC}[1]": 138, "omnibus.identity.observed.v1[2]": 123}
    readiness = Readiness(worker(committed={0: 10, 1: 0}, highwater=138), "identity-test", max_lag=1000,
                          stalled=lambda: stalled)
    ready, body = readiness.state()
    jsonschema.validate(body, PROBE_SCHEMA)
    assert (ready, body["ready"], body["status"]) == (False, False, "unavailable")
    assert body["stalled"] == stalled and body["behind"] == {} and body["max_lag"] == 138
    assert f"{TOPIC}[1] (138 waiting)" in body["reason"] and "omnibus.identity.observed.v1[2] (123 waiting)" in body[
        "reason"]
    assert "lag watchdog" in body["reason"]
    stalled.clear()  # its committed offset moved: the watchdog forgets it
    ready, body = readiness.state()
    assert (ready, body["reason"], body["stalled"]) == (True, None, {})


def test_faust_internal_topics_have_no_consumer_lag() -> None:
    """tester11 #6: faust's ``<prefix>.<app>-__assignor-__leader`` topic was exported in ``omnibus_consumer_lag``."""
    from processors.readiness import CONSUMER_LAG

    readiness = Readiness(worker(committed={0: 10}), "kpis-internal")
    assert set(readiness.lags()) == {(TOPIC, 0)}
    readiness.state()
    exported = {s.labels["topic"] for metric in CONSUMER_LAG.collect() for s in metric.samples
                if s.labels["component"] == "kpis-internal"}
    assert exported == {TOPIC}


def test_live_answers_the_body_even_when_reading_the_state_fails() -> None:
    broken = worker(committed={0: 1})
    broken.consumer.assignment = lambda: 1 / 0
    body = Readiness(broken, "kpis-test").live()
    jsonschema.validate(body, PROBE_SCHEMA)
    assert body["live"] is True and body["ready"] is False and "ZeroDivisionError" in (body["reason"] or "")
    assert Readiness(worker(committed={0: 10}), "kpis-test").live()["ready"] is True


def test_a_view_that_cannot_answer_yet_uses_the_adapters_error_shape() -> None:
    """polish2 left it: the processors' 503 said ``{"error"}`` alone, the adapters' ``{"error", "code"}``."""
    from processors.readiness import RETRY_AFTER_S, unavailable

    answered: list[tuple[Any, dict[str, Any]]] = []
    view = SimpleNamespace(json=lambda body, **options: answered.append((body, options)))
    unavailable(view, "the worker is starting or stopping")  # type: ignore[arg-type]
    assert answered == [({"error": "the worker is starting or stopping", "code": "unavailable"},
                         {"status": 503, "headers": {"Retry-After": str(RETRY_AFTER_S)}})]


def test_an_assignment_changed_by_the_consumer_thread_meanwhile_answers_not_ready_never_an_error() -> None:
    """CI, once: a 5xx other than 503 in ``test_readiness.py``. aiokafka's consumer runs in a thread of its own
    and a new subscription unassigns its partitions at once, before faust hears of a rebalance: ``highwater(tp)``
    of a partition ``assignment()`` listed a moment before asserts "Partition is not assigned" (a 500)."""
    from aiokafka.errors import IllegalStateError
    from faust.exceptions import ConsumerNotStarted

    from processors.readiness import REBALANCING

    def unassigned(tp: Any) -> int:
        raise AssertionError("Partition is not assigned")

    def gone(tp: Any) -> int:
        return None.highwater  # type: ignore[attr-defined, no-any-return]  # state_value(tp) of a new assignment

    def stopped(tp: Any) -> int:
        raise ConsumerNotStarted("Consumer thread not yet started")

    def illegal(tp: Any) -> int:
        raise IllegalStateError("No current assignment for partition")

    for highwater in (unassigned, gone, stopped, illegal):
        changing = worker(committed={0: 10})
        changing.consumer.highwater = highwater
        ready, body = Readiness(changing, "kpis-test").state()
        jsonschema.validate(body, PROBE_SCHEMA)
        assert (ready, body["ready"], body["reason"]) == (False, False, REBALANCING)
    assert Readiness(worker(committed={0: 10}), "kpis-test").state()[0] is True


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Brokers:
    """The metadata probe's answer: a broker answers, or none can (aiokafka's KafkaError)."""

    def __init__(self) -> None:
        self.up = True

    async def __call__(self) -> object:
        from aiokafka.errors import KafkaError

        if not self.up:
            raise KafkaError("Unable to get cluster metadata over all known brokers")
        return object()


def test_a_worker_no_broker_answers_for_longer_than_the_bound_is_not_ready_and_still_live() -> None:
    """tester10 #8: identity's /ready said 200 40 s after the broker was killed."""
    from bus.config import ReadinessSettings
    from processors.readiness import LAG_AGE, BrokerContact

    clock, brokers = Clock(), Brokers()
    contact = BrokerContact(brokers, ReadinessSettings(broker_timeout_s=15, broker_probe_s=5), clock)
    readiness = Readiness(worker(committed={0: 10}), "identity-test", broker=contact)
    assert asyncio.run(contact.check()) and readiness.state()[0]
    brokers.up = False
    for _ in range(3):  # three failed probes within the bound: still ready
        clock.now += 5
        assert not asyncio.run(contact.check())
        assert readiness.state()[0]
    clock.now += 1
    assert not asyncio.run(contact.check())
    ready, body = readiness.state()
    jsonschema.validate(body, PROBE_SCHEMA)
    assert not ready and body["reason"] == "no broker answered for 16 s (limit 15 s)" and body["partitions"] == 1
    # tester11 #5: the lag figure froze at its last value and looked current; its age says it is not
    assert body["max_lag"] == 0 and body["lag_age_s"] == 16.0
    assert LAG_AGE.labels("identity-test")._value.get() == 16.0  # noqa: SLF001
    live = readiness.live()
    assert live["live"] is True  # /live answers 200 whatever the body says
    brokers.up = True
    clock.now += 5
    assert asyncio.run(contact.check()) and readiness.state()[0]
    assert readiness.state()[1]["lag_age_s"] == 0.0


def test_a_probe_that_hangs_counts_as_no_answer() -> None:
    """A broker behind a dropped route does not refuse the connection: the request just never returns."""
    from bus.config import ReadinessSettings
    from processors.readiness import BrokerContact

    async def hang() -> object:
        await asyncio.Event().wait()
        return None

    clock = Clock()
    contact = BrokerContact(hang, ReadinessSettings(broker_timeout_s=0.01), clock)
    assert not asyncio.run(contact.check())
    clock.now += 1
    assert contact.lost() == "no broker answered for 1 s (limit 0.01 s)"


class WatchedApp(SimpleNamespace):
    """A stand-in a start-up watch can be installed on (``bus.startup_watchdog`` keeps weak references)."""

    def __hash__(self) -> int:
        return id(self)

    async def on_first_start(self) -> None:
        return None


def test_live_is_false_with_the_reason_once_a_stalled_start_up_gives_up() -> None:
    from bus import startup_watchdog

    app = WatchedApp(**vars(worker(recovered=False)))
    watch = startup_watchdog.install(app, "kpis-test", stall_after_s=10.0, stop=lambda reason: None,
                                     clock=lambda: 0.0)
    body = Readiness(app, "kpis-test").live()
    assert body["live"] is True and body["ready"] is False
    watch.gave_up = "the worker did not become ready: a rebalance of its consumer group did not end for 10 s"
    body = Readiness(app, "kpis-test").live()
    jsonschema.validate(body, PROBE_SCHEMA)
    assert (body["live"], body["ready"], body["status"]) == (False, False, "unavailable")
    assert body["reason"] == watch.gave_up


def test_a_record_waiting_for_the_schema_registry_makes_ready_503_with_the_reason_and_live_stays_200(
        monkeypatch) -> None:
    """A registry restarted after the broker crashed identity, handoffs and offers; now the record waits (the agent
    retries the look-up, ``bus.registry_outage``) and ``/ready`` says why, until the registry answers."""
    from bus import registry_outage
    from bus.errors import SchemaRegistryError

    now = [50.0]
    outage = registry_outage.RegistryOutage(clock=lambda: now[0])
    monkeypatch.setattr(registry_outage, "OUTAGE", outage)
    readiness = Readiness(worker(committed={0: 10}), "handoffs-test")
    outage.failed(SchemaRegistryError("schema registry at http://r unreachable: [Errno 111] Connection refused",
                                      retriable=True))
    now[0] += 12
    ready, body = readiness.state()
    jsonschema.validate(body, PROBE_SCHEMA)
    assert not ready and body["reason"].startswith("the schema registry has not answered for 12 s")
    assert readiness.live()["live"] is True  # a restart would not bring the registry back
    outage.answered()
    assert readiness.state()[0] is True


def test_live_turns_false_once_a_stop_has_lasted_longer_than_the_hung_bound(monkeypatch) -> None:
    """A crashed worker hung in faust's stop (waiting on a commit) answered /live 200 for minutes: Kubernetes never
    restarted it."""
    from bus import shutdown

    exits: list[int] = []
    deadline = shutdown.StopDeadline(40.0, exit=exits.append)
    now = [0.0]
    deadline._clock = lambda: now[0]  # noqa: SLF001
    monkeypatch.setattr(shutdown, "_process_deadline", deadline)
    readiness = Readiness(worker(committed={0: 10}), "offers-test")
    assert readiness.live()["live"] is True
    deadline.arm(1)
    try:
        now[0] = shutdown.HUNG_STOP_S - 1
        assert readiness.live()["live"] is True  # a stop in progress is not hung yet
        now[0] = shutdown.HUNG_STOP_S + 1
        body = readiness.live()
        jsonschema.validate(body, PROBE_SCHEMA)
        assert body["live"] is False and "stop has not finished for 21 s" in body["reason"]
    finally:
        deadline.disarm()
    assert exits == []


def test_a_view_answering_while_ready_is_503_says_the_answer_is_held_back_and_why(monkeypatch) -> None:
    """A user, during a registry outage: ``/kpis`` and the screen pop answered 200 with counts lacking the records
    waiting while ``/ready`` was 503; nothing in the answer said so. ``held_back`` is ``/ready``'s reason whenever the
    worker serves but is not ready (registry, broker, a partition behind or stalled), null when it is ready; the view's
    answer carries it, with the header ``Omnibus-Held-Back: true``."""
    from bus import registry_outage
    from bus.errors import SchemaRegistryError
    from bus.readiness import HELD_BACK_HEADER
    from processors.readiness import held_back_answer

    now = [50.0]
    outage = registry_outage.RegistryOutage(clock=lambda: now[0])
    monkeypatch.setattr(registry_outage, "OUTAGE", outage)
    stalled: dict[str, int] = {}
    readiness = Readiness(worker(committed={0: 10}), "kpis-test", stalled=lambda: stalled)
    assert readiness.held_back() is None
    outage.failed(SchemaRegistryError("schema registry at http://r timed out", retriable=True))
    now[0] += 20
    assert readiness.held_back() == readiness.state()[1]["reason"]
    assert readiness.held_back().startswith("the schema registry has not answered for 20 s")
    outage.answered()
    stalled[f"{TOPIC}[0]"] = 3
    assert "lag watchdog" in readiness.held_back()
    stalled.clear()
    behind = Readiness(worker(committed={0: 4500}, highwater=5000), "kpis-test", max_lag=100)
    assert behind.held_back() == "consumer lag above 100 records"

    answers: list[tuple[dict, dict | None]] = []
    view = SimpleNamespace(json=lambda body, status=200, headers=None: answers.append((body, headers)) or status)
    assert held_back_answer(view, {"aggregates": []}, "consumer lag above 100 records") == 200
    assert held_back_answer(view, {"aggregates": []}, None) == 200
    assert answers == [({"aggregates": [], "held_back": "consumer lag above 100 records"}, {HELD_BACK_HEADER: "true"}),
                       ({"aggregates": [], "held_back": None}, None)]


def test_a_not_found_while_records_wait_says_it_may_be_too_early() -> None:
    """A new user, during a registry outage: a caller whose first contact the adapter had accepted got the screen
    pop's plain 404 "no customer has this identifier", while the same worker's 200s said ``held_back``; the agent's
    screen said "unknown caller" exactly when the caller's contact was the one waiting. The 404 carries ``held_back``
    (and the header) too; null, without the header, when the worker is ready."""
    from bus.readiness import HELD_BACK_HEADER
    from processors.readiness import held_back_miss

    answers: list[tuple[int, dict, dict | None]] = []
    view = SimpleNamespace(json=lambda body, status=200, headers=None: answers.append((status, body, headers)))
    held_back_miss(view, "no customer has this identifier", "the schema registry has not answered for 18 s")
    held_back_miss(view, "unknown customer id", None)
    assert answers == [
        (404, {"error": "no customer has this identifier",
               "held_back": "the schema registry has not answered for 18 s"}, {HELD_BACK_HEADER: "true"}),
        (404, {"error": "unknown customer id", "held_back": None}, None)]


def test_a_probe_timer_that_ran_late_is_not_a_broker_that_did_not_answer() -> None:
    """A new user, on a loaded machine: ``/ready`` said "no broker answered for 16 s" while the broker answered all
    along; the worker's probe timer had run 15 s late ("Timer kpis.broker-contact ran longer than its interval").
    Silence counts while the worker asks: from one probe interval before a late first probe, never from the last
    answer alone; a probe asked on time and unanswered still makes the worker lost past the bound."""
    from bus.config import ReadinessSettings
    from processors.readiness import BrokerContact

    clock, brokers = Clock(), Brokers()
    contact = BrokerContact(brokers, ReadinessSettings(broker_timeout_s=15, broker_probe_s=5), clock)
    assert asyncio.run(contact.check())
    clock.now += 16  # the timer's next run, 11 s late: nothing was asked meanwhile
    assert contact.lost() is None
    brokers.up = False
    assert not asyncio.run(contact.check())  # asked at 16, unanswered: silent since 11
    assert contact.lost() is None
    clock.now += 10
    assert not asyncio.run(contact.check())
    assert contact.lost() is None  # 15 s unanswered: at the bound, not past it
    clock.now += 1
    assert contact.lost() == "no broker answered for 16 s (limit 15 s)"
    assert contact.silent_s() == 27  # the lag figure's age counts from the last answer whatever the timer did
