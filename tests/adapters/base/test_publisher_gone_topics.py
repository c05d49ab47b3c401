"""Tester32 F10: one deleted topic (the offer answers') stopped every HTTP adapter, so the card-dispute intake of all
three channels was refused while only marketing was broken.

An HTTP adapter now keeps serving: ``bus.topic_watch.watch`` reports the topics gone (``report``) and
``AdapterPublisher.refuse_topics`` answers 503 (``Misconfigured``, naming the topic and ``omnibus topics apply``) for
a record with an event bound for one, publishing none of its events and remembering nothing (the sender's retry
publishes it once the topic is back), while records bound for other topics are published. The watch's report mode
never stops the process. Broker-level proof: ``tests/adapters/branch/test_deleted_topic.py``."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from adapters.base.dedupe import DedupeStore
from adapters.base.errors import Misconfigured
from adapters.base.mapper import MappedRecord
from adapters.base.publisher import AdapterPublisher
from bus import topic_watch
from bus.config import OmnibusSettings
from bus.errors import MissingTopicError
from bus.producer import Outgoing
from bus.serde import Event

CONTACTS, RESPONSES = "omnibus.contact.events.v1", "omnibus.marketing.responses.v1"


class Kafka:
    def __init__(self) -> None:
        self.published: list[str] = []

    async def publish_many(self, items: list[Outgoing]) -> list[object]:
        self.published.extend(item.topic for item in items)
        return [object() for _ in items]


def record(dedupe_id: str, *topics: str) -> MappedRecord:
    return MappedRecord(dedupe_id, tuple(Outgoing(topic, "k", Event("s", {})) for topic in topics))


@pytest.fixture
def dedupe() -> Iterator[DedupeStore]:
    store = DedupeStore(None, 3600)
    yield store
    store.close()


async def test_a_record_bound_for_a_deleted_topic_is_refused_whole_and_the_rest_published(dedupe: DedupeStore) -> None:
    kafka = Kafka()
    adapter = AdapterPublisher("branch", kafka, dedupe, None, retry_after_s=5)  # type: ignore[arg-type]
    adapter.refuse_topics(frozenset({RESPONSES}))
    with pytest.raises(Misconfigured) as caught:
        await adapter.submit([record("T:visit-with-offer", CONTACTS, RESPONSES)])  # the counter pitch
    assert RESPONSES in caught.value.reason and "omnibus topics apply" in caught.value.reason
    assert caught.value.retry_after_s == 5
    assert kafka.published == []  # nothing of it: not its contact either
    assert (await adapter.submit([record("T:dispute", CONTACTS)])).published_events == 1  # the dispute goes on
    assert kafka.published == [CONTACTS]
    adapter.refuse_topics(frozenset())  # `omnibus topics apply`: the watch lists it again
    result = await adapter.submit([record("T:visit-with-offer", CONTACTS, RESPONSES)])  # the sender's retry
    assert (result.published_events, result.duplicate_records) == (2, 0)  # not remembered when refused
    assert kafka.published == [CONTACTS, CONTACTS, RESPONSES]


def test_the_watchs_report_mode_tells_each_change_and_never_stops(monkeypatch: pytest.MonkeyPatch) -> None:
    answers: list[list[str]] = [[RESPONSES]] * 5 + [[]] * 2 + [[RESPONSES]] * 4

    async def missing_now(_settings: object, names: list[str]) -> list[str] | None:
        return answers.pop(0) if answers else []

    monkeypatch.setattr(topic_watch, "missing_now", missing_now)
    reports: list[frozenset[str]] = []
    stops: list[MissingTopicError] = []
    clock = iter(range(0, 200, 10))

    async def watch() -> None:
        await asyncio.wait_for(topic_watch.watch(OmnibusSettings(), [CONTACTS, RESPONSES], "branch", interval_s=0,
                                                 stop=stops.append, report=reports.append,
                                                 clock=lambda: float(next(clock))), timeout=2)

    with pytest.raises((TimeoutError, StopIteration, RuntimeError)):
        asyncio.run(watch())
    assert stops == []
    # gone after 30 s of answers without it, back when listed, gone again 30 s later, back again
    assert reports == [frozenset({RESPONSES}), frozenset(), frozenset({RESPONSES}), frozenset()]
