"""Identity's own registry look-ups against a real schema registry stopped mid-test and started again.

Besides the input decode (tests/bus/test_consume_registry_outage.py), identity decodes stored event references again
(``intake.RefLoader``: a customer's root applying a contact, a merge moving contacts, the announcer) and the rows of
``customer.identifiers.v1`` its fast-path view follows (``view_feed.ViewFeed``). With the registry down the first
dead-lettered the graph message (``graph handler failed``) and the second skipped the row; both now wait.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from aiokafka import ConsumerRecord

from bus import registry_outage
from bus.fencing import AssignmentFence
from bus.serde import Event, SerdeContext, build_serde
from bus.topics import CUSTOMER_IDENTIFIERS
from processors.identity.announcements import Announcer
from processors.identity.fastpath import AssignmentView
from processors.identity.graph.outputs import Assigned
from processors.identity.graph_agent import GraphAgent
from processors.identity.graph_progress import GraphProgress
from processors.identity.intake import EventRef, ref_loader
from processors.identity.state_writes import StateWrites
from processors.identity.view_feed import ViewFeed
from processors.identity.wire import encode_record, partition_of
from tests.processors.identity.support import unlimited_settings
from tests.processors.identity.test_apply_here import GRAPH, ROOT, Producer, Publisher, repeat_contact
from tests.processors.identity.test_graph_agent import Letters, RecordingStore, _crash, _started
from tests.support.registry import stoppable_registry
from tests.support.samples import identifiers_observed
from tests.support.settings import isolated_settings

pytestmark = [pytest.mark.registry]
OBSERVED = "omnibus.identity.observed.v1"


async def _until_waiting() -> None:
    for _ in range(100):
        if registry_outage.OUTAGE.ongoing():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("no registry outage was seen")


class LoadingGraph:
    """A customer root that applies a stored contact: it decodes the contact's reference again."""

    def __init__(self, load_event: Any, ref: EventRef) -> None:
        self.load_event, self.ref, self.loaded = load_event, ref, []

    def handle(self, store: Any, node: str, message: Any) -> list[Any]:
        self.loaded.append(self.load_event(self.ref))
        store.put_node(node, None)
        return []


async def test_a_stored_event_decoded_again_waits_for_the_registry_and_its_message_is_not_dead_lettered(
        tmp_path: Path) -> None:
    registry = stoppable_registry(tmp_path / "registry")
    try:
        settings = isolated_settings("127.0.0.1:9", registry={"url": registry.url})
        serializer, _ = build_serde(settings.registry)
        event = identifiers_observed("+8613800000001")
        ref = EventRef(OBSERVED, event.schema, serializer(event, SerdeContext(topic=OBSERVED)))
        _, fresh = build_serde(settings.registry)  # a worker restarted since: the stored record's id is not cached
        graph, store, letters = LoadingGraph(ref_loader(fresh), ref), RecordingStore(), Letters()
        partition = partition_of(ROOT, 4)
        agent = GraphAgent(unlimited_settings(), graph, store, Publisher(), Producer(),  # type: ignore[arg-type]
                           letters, AssignmentFence(lambda: {(GRAPH, partition)}, "test-graph-agent"),  # type: ignore[arg-type]
                           GraphProgress(), StateWrites(), lambda: 5, _started, _crash)
        send = repeat_contact()
        message = SimpleNamespace(key=ROOT.encode(), value=encode_record([(send.node, send.message)]), topic=GRAPH,
                                  partition=partition, offset=7, generation_id=5)

        registry.stop()
        handling = asyncio.create_task(agent.batch([SimpleNamespace(message=message)]))  # type: ignore[list-item]
        await _until_waiting()
        await asyncio.sleep(2.0)
        assert not handling.done() and letters.written == [] and store.puts == []

        await asyncio.to_thread(registry.start)
        await asyncio.wait_for(handling, timeout=60)
        assert graph.loaded == [event] and letters.written == [] and store.puts == [ROOT]
        assert not registry_outage.OUTAGE.ongoing()
    finally:
        registry.stop()


async def test_the_fast_path_view_waits_for_the_registry_rather_than_skip_a_row(tmp_path: Path) -> None:
    registry = stoppable_registry(tmp_path / "registry")
    try:
        settings = isolated_settings("127.0.0.1:9", registry={"url": registry.url})
        serializer, _ = build_serde(settings.registry)
        topic = CUSTOMER_IDENTIFIERS.name(settings.topics)
        (row,) = Announcer(settings.topics, lambda ref: Event("unused", {})).outgoing(
            Assigned("PHONE:+8613800000001", "cust-1", 3, "ev-1"))
        value = serializer(row.event, SerdeContext(topic=topic))  # type: ignore[union-attr]
        record = ConsumerRecord(topic, 0, 0, 0, 0, b"PHONE:+8613800000001", value, None, 20, len(value), [])
        view = AssignmentView()
        _, fresh = build_serde(settings.registry)
        feed = ViewFeed(settings, view, fresh)

        registry.stop()
        waiting = feed._deliver(record)
        assert waiting == 0 and len(view) == 0  # not skipped: the follower is told to wait
        delivering = asyncio.create_task(feed._deliver_when_registry_answers(record, waiting))
        await _until_waiting()
        await asyncio.sleep(2.0)
        assert not delivering.done() and len(view) == 0

        await asyncio.to_thread(registry.start)
        await asyncio.wait_for(delivering, timeout=60)
        assert len(view) == 1 and feed.last_row is not None and feed.last_row[1]["customer_id"] == "cust-1"
        assert not registry_outage.OUTAGE.ongoing()
    finally:
        registry.stop()
