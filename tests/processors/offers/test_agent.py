"""The offer worker's dead letter of an event dropped from ``pending`` (``agent.expired_record``), without a broker."""

from __future__ import annotations

import asyncio
from typing import Any

from bus.dead_letter import dead_letter_event
from bus.producer import Outgoing
from bus.serde import Event
from bus.topic import KafkaRecord
from processors.offers.agent import APP_NAME, WAITED_FOR_IDENTITY, expired_record
from processors.offers.outputs import Expired

RESPONSES = "omnibus.marketing.responses.v1"


class Encoder:
    """The producer's ``encode``: the event's id as the value bytes."""

    async def encode(self, item: Outgoing) -> KafkaRecord:
        return KafkaRecord(item.topic, None, item.event.value["envelope"]["event_id"].encode())


def expired(origin: list[Any] | None) -> Expired:
    event = Event("omnibus.marketing.OfferResponded", {"envelope": {"event_id": "ev-9"}})
    return Expired(event, origin, "OfferResponded waited 31 days for identity to place the contact it was recorded in")


def test_the_dead_letter_keeps_the_records_coordinates_so_a_replay_writes_it_under_the_same_id() -> None:
    record = asyncio.run(expired_record(Encoder(), expired([RESPONSES, 2, 41, "k"]), RESPONSES))  # type: ignore[arg-type]
    assert (record.topic, record.partition, record.offset, record.key, record.value) == (
        RESPONSES, 2, 41, b"k", b"ev-9")
    ids = {dead_letter_event(record, reason="r", error_type=WAITED_FOR_IDENTITY, component=APP_NAME).value[
        "dead_letter_id"] for _ in range(2)}
    assert len(ids) == 1


def test_an_event_parked_before_origins_were_kept_is_dead_lettered_on_the_responses_topic() -> None:
    record = asyncio.run(expired_record(Encoder(), expired(None), RESPONSES))  # type: ignore[arg-type]
    assert (record.topic, record.offset, record.value) == (RESPONSES, None, b"ev-9")


def test_the_worker_guards_itself_as_a_processor_that_runs_as_one_worker() -> None:
    """processors/scaling.py declares offers one worker: its worker is built with the guard (tester49 F2), whose
    reason is also a readiness check (``/ready`` 503 while split)."""
    from bus.config import load_settings
    from processors.offers.agent import build_worker
    from processors.offers.config import OffersSettings
    from processors.scaling import runs_as_one_worker
    from processors.sole_worker import SoleWorkerGuard

    settings = load_settings(topics={"prefix": "t-guard", "partitions": 4}, metrics={"enabled": False})
    worker = build_worker(settings, OffersSettings())
    assert runs_as_one_worker(APP_NAME) and isinstance(worker.guard, SoleWorkerGuard)
    assert sum(worker.guard.partitions().values()) == 5 * 4  # five inputs of four partitions, before any metadata
