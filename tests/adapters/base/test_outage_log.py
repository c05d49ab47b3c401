"""An adapter answering 503 writes its own warning, one per outage and window (tester12: none at all before)."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.base.dedupe import DedupeStore
from adapters.base.errors import Unavailable
from adapters.base.mapper import MappedRecord
from adapters.base.outage_log import MESSAGE, OutageLog
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
