"""``omnibus verify`` after an operator's merge whose customers the recomputation minted under other ids.

A customer's id is minted from the event that made it (``saga.customer_id``: its instant and event id). The running
processor takes its input topics as records arrive, interleaved; verify reads them back topic by topic, partition by
partition (``processors.replay.read_topics``), and recomputes in that order. So a call's ``IdentifiersObserved``
(identity's own topic) and its ``InteractionRecorded`` (the contact topic), or a later counter transaction with the
caller's phone, may make the recomputed customer where another event of it made the running one: the same people,
under other ids. The reported sample: two calls, a counter transaction with the first caller's phone corrected to a
new phone (rule ``corrected-version``: the new phone's customer merged into the first caller's), events that occurred
hours before they reached Kafka, then an operator's ``omnibus identity merge`` of the two callers: verify exited 1,
"identifiers are grouped as the recomputation groups them" and "node table equals the recomputation" failing, as the
merge, which names the running processor's ids, was not replayed. The replay now finds the survivor by the
identifiers the running processor announced on it, as it found the merged customer (``processors.replay.operators``).
"""

from __future__ import annotations

import copy
from datetime import timedelta

import pytest

from adapters.call_center.mapper import Call, call_events
from bus.serde import Event
from processors.identity.agent import input_topics
from processors.replay import Replayed
from tests.adapters.branch.support import sample
from tests.adapters.branch.test_mapper import mapped
from tests.adapters.call_center.support import context
from tests.processors.identity.support import T0, matcher_settings
from tests.processors.verify.operator_runs import Run
from tests.processors.verify.support import CONTACTS_IN, HANDOFFS_IN, INPUT, SETTINGS

FIRST, CORRECTED, SECOND = "+33612012001", "+33612012002", "+33612012003"
OBSERVED_SCHEMA = "omnibus.contact.IdentifiersObserved"


def _topic(event: Event) -> str:
    if event.schema == OBSERVED_SCHEMA:
        return INPUT
    return HANDOFFS_IN if event.schema.startswith("omnibus.handoff.") else CONTACTS_IN


def call(contact: str, phone: str, minutes: int) -> list[tuple[Event, str]]:
    """A Connect call from ``phone`` that started ``minutes`` after ``T0``, as the call-center adapter maps it."""
    started = T0 + timedelta(minutes=minutes)
    mapped_call = Call(source_system="test", contact_id=contact, version_id=f"{contact}@1", site="paris",
                       initiation_method="INBOUND", initiated_at=started,
                       disconnected_at=started + timedelta(minutes=4), queue="billing",
                       enqueued_at=started + timedelta(seconds=10), connected_at=started + timedelta(seconds=30),
                       caller=({"type": "PHONE", "value": phone},))
    return [(out.event, _topic(out.event)) for out in call_events(mapped_call, context("paris")).events]


def counter(phone: str, event_id: str, minutes: int) -> list[tuple[Event, str]]:
    """A counter transaction with only ``phone`` at ``T0`` + ``minutes``; another ``event_id``, the same transaction:
    its corrected upload (the branch adapter's mapping)."""
    upload = copy.deepcopy(sample("transaction_with_identifiers"))
    event = upload["events"][0]
    event["event_id"], event["identifiers"] = event_id, [{"type": "phone", "value": phone}]
    event["occurred_at"] = (T0 + timedelta(minutes=minutes)).isoformat()
    return [(out.event, _topic(out.event)) for out in mapped(upload).events]


def as_read(inputs: list[Replayed]) -> list[Replayed]:
    """``inputs`` in the order verify reads them back: topic by topic (identity's input topics in their order), then
    partition, then offset (``processors.replay.read_topics``)."""
    names = [spec.name(SETTINGS.topics) for spec in input_topics(Run().harness.book)]
    return sorted(inputs, key=lambda record: (names.index(record.topic), record.partition, record.offset))


def journey(*, late: bool, corrected: bool) -> Run:
    """Two callers, a counter transaction with the first one's phone (``corrected``: uploaded again with a new phone,
    now), every event reaching Kafka ``late`` (hours after it occurred) or as it occurred; then an operator's merge of
    the two callers. The recomputation reads the inputs as verify does (``as_read``)."""
    run = Run(config=matcher_settings())
    if late:
        run.now_ms = int((T0 + timedelta(minutes=275)).timestamp() * 1000)
    items = [*call("c-x1", FIRST, 0), *call("c-x3", SECOND, 20),
             *counter(FIRST, "0b7e1f7c-2d1a-4c55-9e0a-7f3c2b1d4e01", 35)]
    if corrected:
        items += counter(CORRECTED, "0b7e1f7c-2d1a-4c55-9e0a-7f3c2b1d4e02", 275)
    for event, topic in items:
        run.feed(event, topic)
    run.merge(("PHONE", FIRST), ("PHONE", SECOND))
    assert run.customer("PHONE", FIRST) == run.customer("PHONE", SECOND)
    run.inputs = as_read(run.inputs)
    return run


@pytest.mark.parametrize("corrected", [True, False], ids=["corrected", "one-upload"])
@pytest.mark.parametrize("late", [True, False], ids=["hours-late", "as-it-occurred"])
def test_an_operators_merge_is_replayed_whatever_ids_the_recomputation_minted(late: bool, corrected: bool) -> None:
    run = journey(late=late, corrected=corrected)
    outputs = run.outputs()
    recomputed = run.recomputed(outputs)
    assert recomputed.not_replayed == []
    first, second = (recomputed.graph.customer_of(run.harness.key("PHONE", phone)) for phone in (FIRST, SECOND))
    assert first is not None and first == second
    report = run.check(outputs)
    assert report.ok, report.lines()
