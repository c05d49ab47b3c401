"""An adapter answering 503 writes its own warning, one per outage and window (tester12: none at all before)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from adapters.base.dedupe import DedupeStore
from adapters.base.errors import Unavailable
from adapters.base.mapper import MappedRecord
from adapters.base.outage_log import IMPORT_ENDED_MESSAGE, IMPORT_MESSAGE, KAFKA, MESSAGE, REGISTRY, OutageLog
from adapters.base.publisher import AdapterPublisher
from bus.errors import PublishError, SchemaRegistryError
from bus.producer import Outgoing
from bus.serde import Event

PHONE = "+33612345678"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Lines:
    def __init__(self) -> None:
        self.lines: list[dict[str, Any]] = []

    def __call__(self, message: str, **fields: Any) -> None:
        self.lines.append({"message": message, **fields})


class DownKafka:
    def __init__(self, error: Exception) -> None:
        self.error = error

    async def publish_many(self, items: list[Outgoing], *args: Any, **kwargs: Any) -> list[object]:
        raise self.error


def test_the_first_503_is_logged_at_once_then_one_line_per_window_with_the_count() -> None:
    clock, lines = Clock(), Lines()
    outage = OutageLog("web", lines, window_s=30, clock=clock)
    for second in range(0, 70, 5):  # 14 answers over 65 s
        clock.now = second
        outage.note("events not acknowledged by Kafka: KafkaConnectionError")
    assert [(line["answered"], line["adapter"]) for line in lines.lines] == [(1, "web"), (6, "web"), (6, "web")]
    assert all(line["message"] == MESSAGE and "Kafka" in line["reason"] for line in lines.lines)


@pytest.mark.parametrize("error", [PublishError("KafkaConnectionError: no broker", retriable=True),
                                   SchemaRegistryError("schema registry unreachable: connection refused")])
async def test_a_publisher_answering_503_logs_the_reason_and_never_the_input(error: Exception) -> None:
    """Kafka down and the registry down (the tester saw nothing at all for the registry) both go through
    ``AdapterPublisher.unavailable``; the line carries the infrastructure's reason, not the event's identifiers."""
    publisher = AdapterPublisher("web", DownKafka(error), DedupeStore(None, 60), None,  # type: ignore[arg-type]
                                 retry_after_s=5)
    lines = Lines()
    publisher.outage_log = OutageLog("web", lines, clock=Clock())
    event = Outgoing("t", PHONE, Event("s", {"identifiers": [{"type": "PHONE", "value": PHONE}]}))
    for n in range(3):
        with pytest.raises(Unavailable):
            await publisher.submit([MappedRecord(f"id-{n}", (event,))])
    (line,) = lines.lines
    assert line["answered"] == 1 and str(error)[:40] in line["reason"]
    assert PHONE not in repr(lines.lines)


class SlowKafka:
    """Acknowledges after ``delay_s`` (a broker paused, then back)."""

    def __init__(self, delay_s: float) -> None:
        self.delay_s = delay_s

    async def publish_many(self, items: list[Outgoing], *args: Any, **kwargs: Any) -> list[object]:
        await asyncio.sleep(self.delay_s)
        return [object() for _ in items]


def _waiting_publisher(kafka: Any, lines: Lines, timeout_s: float) -> AdapterPublisher:
    publisher = AdapterPublisher("legacy", kafka, DedupeStore(None, 60), None,  # type: ignore[arg-type]
                                 retry_after_s=5, publish_timeout_s=timeout_s)
    publisher.outage_log = OutageLog("legacy", lines, window_s=0.1, message=IMPORT_MESSAGE,
                                     ended_message=IMPORT_ENDED_MESSAGE)
    return publisher


async def test_an_import_waiting_for_kafka_says_so_each_window_and_when_it_goes_on() -> None:
    """tester17 N1: an import waits up to give_up_after_s (600 s) for Kafka and wrote nothing meanwhile; it now
    writes the outage warning after one window of waiting (30 s in production), and one line once Kafka acknowledges."""
    lines, kafka = Lines(), SlowKafka(0.25)
    publisher = _waiting_publisher(kafka, lines, timeout_s=5)
    event = Outgoing("t", PHONE, Event("s", {"identifiers": [{"type": "PHONE", "value": PHONE}]}))
    result = await publisher.submit([MappedRecord("id-1", (event,))])
    assert result.published_events == 1
    messages = [line["message"] for line in lines.lines]
    ended = IMPORT_ENDED_MESSAGE.format(again="Kafka acknowledged")
    assert messages[0] == IMPORT_MESSAGE and messages[-1] == ended and 2 <= len(messages) <= 3
    assert "has not acknowledged for 0.1 s" in lines.lines[0]["reason"] and lines.lines[-1]["outage_s"] >= 0
    kafka.delay_s = 0
    await publisher.submit([MappedRecord("id-2", (event,))])  # no outage now: no line
    assert len(lines.lines) == len(messages) and PHONE not in repr(lines.lines)


async def test_a_sender_answered_within_its_timeout_gets_no_waiting_line() -> None:
    """An HTTP sender's publish_timeout_s (10 s) is shorter than the window: one wait, the 503's line only."""
    lines = Lines()
    publisher = _waiting_publisher(SlowKafka(5), lines, timeout_s=0.05)
    event = Outgoing("t", PHONE, Event("s", {}))
    with pytest.raises(Unavailable):
        await publisher.submit([MappedRecord("id-1", (event,))])
    (line,) = lines.lines
    assert "did not acknowledge within 0.05 s" in line["reason"]


@pytest.mark.parametrize(("down", "again"), [
    ([KAFKA], "Kafka acknowledged"),
    ([REGISTRY], "the schema registry answers"),
    ([REGISTRY, KAFKA, REGISTRY], "the schema registry answers and Kafka acknowledged"),
])
def test_the_line_that_ends_an_outage_names_what_was_down(down: list[str], again: str) -> None:
    """After a schema registry outage an import's last line said "Kafka acknowledged": it names what did not answer
    during the outage; the next outage starts afresh."""
    lines = Lines()
    outage = OutageLog("legacy", lines, clock=Clock(), message=IMPORT_MESSAGE, ended_message=IMPORT_ENDED_MESSAGE)
    for what in down:
        outage.note("x", down=what)
    outage.ended()
    assert lines.lines[0]["down"] == down[0]
    assert lines.lines[-1]["message"] == f"infrastructure available again: {again}, the import goes on"
    outage.note("y")  # Kafka alone this time
    outage.ended()
    assert lines.lines[-1]["message"] == "infrastructure available again: Kafka acknowledged, the import goes on"


async def test_a_registry_that_does_not_answer_at_publish_is_said_so_and_its_end_names_it() -> None:
    """An event's schema is registered at its first publish: a registry outage there was answered "events not
    acknowledged by Kafka", and its end "Kafka acknowledged"."""
    lines = Lines()
    down = DownKafka(SchemaRegistryError("schema registry unreachable: connection refused", retriable=True))
    publisher = AdapterPublisher("legacy", down, DedupeStore(None, 60), None, retry_after_s=5)  # type: ignore[arg-type]
    publisher.outage_log = OutageLog("legacy", lines, clock=Clock(), message=IMPORT_MESSAGE,
                                     ended_message=IMPORT_ENDED_MESSAGE)
    with pytest.raises(Unavailable, match="schema registry unavailable") as refused:
        await publisher.submit([MappedRecord("id-1", (Outgoing("t", "k", Event("s", {})),))])
    assert isinstance(refused.value.__cause__, SchemaRegistryError)
    assert lines.lines[0]["down"] == REGISTRY and "Kafka" not in lines.lines[0]["reason"]
    publisher.outage_log.ended()
    assert lines.lines[-1]["message"] == (
        "infrastructure available again: the schema registry answers, the import goes on")


class UpKafka:
    """Kafka acknowledges; the events' schemas are cached (no registry round trip) unless ``registry`` registers."""

    def __init__(self, registry: Any = None) -> None:
        self.registry = registry

    async def publish_many(self, items: list[Outgoing], *args: Any, **kwargs: Any) -> list[object]:
        if self.registry is not None:
            self.registry.register("t-value", {"type": "string"})  # a new schema: one round trip
        return [object() for _ in items]


async def test_tester50_f13_a_cached_publish_does_not_end_a_registry_outage_a_registry_answer_does() -> None:
    """tester50 F13: 12 ms after a 503 for a schema registry that was down, a publish of a cached schema logged
    "infrastructure available again: the schema registry answers" (outage_s 0.0) while it was still down. A Kafka
    acknowledgement ends what it proves (Kafka); the registry's part ends once the registry answered a request."""
    from bus.config import RegistrySettings
    from bus.serde.registry import SchemaRegistryClient

    lines = Lines()
    registry = SchemaRegistryClient(RegistrySettings(url="http://registry.invalid:8081"))
    registry._client = type("Answering", (), {"register_schema": lambda self, subject, schema: 7})()  # type: ignore
    down = DownKafka(SchemaRegistryError("schema registry unreachable: connection refused", retriable=True))
    publisher = AdapterPublisher("web", down, DedupeStore(None, 60), None, retry_after_s=5)  # type: ignore[arg-type]
    publisher.outage_log = OutageLog("web", lines, clock=Clock())
    with pytest.raises(Unavailable):
        await publisher.submit([MappedRecord("id-1", (Outgoing("t", "k", Event("s", {})),))])
    assert [line["down"] for line in lines.lines] == [REGISTRY]
    publisher._producer = UpKafka()  # type: ignore[assignment]
    await publisher.submit([MappedRecord("id-2", (Outgoing("t", "k", Event("s", {})),))])
    assert len(lines.lines) == 1, lines.lines  # the registry was not asked: its outage is not over
    publisher._producer = UpKafka(registry)  # type: ignore[assignment]
    await publisher.submit([MappedRecord("id-3", (Outgoing("t", "k", Event("s", {})),))])
    assert lines.lines[-1]["message"] == "infrastructure available again: the schema registry answers"
    await publisher.submit([MappedRecord("id-4", (Outgoing("t", "k", Event("s", {})),))])
    assert len(lines.lines) == 2  # over: no second end line
