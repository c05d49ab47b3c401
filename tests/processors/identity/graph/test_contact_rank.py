"""A call's events rank as one on the caller's identifiers (``graph/contact_rank.py``, tester21 F17).

Tester21's Petits: Julie's and Paul's core-banking lines on the family mobile, and Paul's call from it with his first
name and birth date on the IVR (``test_limits_untold.py``). Where the call came after Julie's line and before his, only
the call's events that ranked below every event already seen on the mobile left Julie for Paul's customer: its
``InteractionRecorded`` stayed on Julie. The kind: every event of a call (its ``CallCompleted``,
``InteractionRecorded``, IVR record and a handoff it opened) and of a counter visit (the transaction and the clerk's
record) ends on one customer, in every order of the events and the two lines, settled or interleaved on partitions
with copies.
"""

from __future__ import annotations

import itertools
import json
import random
from datetime import UTC, datetime

import pytest

from adapters.branch.mapper import CounterMapper
from adapters.call_center.mapper_ctr import map_ctr
from bus.config import TopicSettings
from processors.identity.graph.contact_rank import contact_of, ranks_with_its_contact, set_rank
from processors.identity.graph.messages.base import Saga
from processors.identity.graph.outputs import Merged, Resolved
from processors.identity.graph.state import IdentifierState
from tests.adapters.branch.support import branch_settings
from tests.adapters.call_center.test_mapper_identifiers import context, ctr
from tests.processors.identity.graph.test_limits_untold import (
    CONTACTS,
    MOBILE,
    OBSERVED,
    PEOPLE,
    Items,
    holder,
    line,
    run,
)
from tests.processors.identity.graph.test_seek import root
from tests.processors.identity.support import Harness

VISITED = datetime(2026, 12, 2, 4, 20, tzinfo=UTC)  # Paul's counter visit: after the export (04:00), as the call


def pauls_call(handoff: bool = False) -> Items:
    """Paul's Connect CTR from the family mobile with his first name and birth date on the IVR (``handoff``: the flow
    also opened a billing dispute), as the call-center mapper publishes it: one item per event."""
    attributes = {"firstName": "Paul", "dateOfBirth": "15/04/1960"}
    if handoff:
        attributes["omnibus_handoff_kind"] = "billing-dispute"
    record = ctr(ContactId="ctr-paul", CustomerEndpoint={"Address": MOBILE, "Type": "TELEPHONE_NUMBER"},
                 Attributes=attributes)
    native = json.loads(json.dumps(record).replace("2024-03-05T09:", "2026-12-02T04:"))
    return [(out.event, OBSERVED if out.event.schema.endswith("IdentifiersObserved") else CONTACTS)
            for out in map_ctr(native, context()).events]


def pauls_visit() -> Items:
    """Paul's counter transaction with the family mobile and his name and birth date, through the branch mapper."""
    native = {"event_id": "paul-visit", "kind": "transaction", "occurred_at": VISITED.isoformat(), "agent_id": "E-1",
              "identifiers": [{"type": "PHONE", "value": MOBILE}],
              "customer": {name: PEOPLE["paul"][name] for name in ("given_name", "family_name", "birth_date")},
              "transaction": {"id": "TX-paul", "type": "payment", "status": "completed", "counter_id": "C1"}}
    mapper = CounterMapper(branch_settings(), TopicSettings())
    return [(o.event, OBSERVED if o.event.schema.endswith("IdentifiersObserved") else CONTACTS)
            for o in mapper(native, terminal_id="CT-0142-01", branch_id="0142", received_at=VISITED).events]


def ended(h: Harness, items: Items) -> set[str]:
    """Where every event of ``items`` is now (its latest ``Resolved``, followed through merges), by person."""
    ids = {event.value["envelope"]["event_id"] for event, _ in items}
    latest = {r.triggering_event_id: root(h, r.customer_id) for r in h.decisions(Resolved)
              if r.triggering_event_id in ids}
    assert set(latest) == ids, "an event of the contact on no customer"
    people = {holder(h, fields["account_number"]): person for person, fields in PEOPLE.items()}
    return {people.get(customer, customer) for customer in latest.values()}


def blocks(contact: Items) -> list[Items]:
    """Julie's line, Paul's line, then each event of ``contact`` alone: the items whose orders are tried."""
    return [line("julie"), line("paul"), *([item] for item in contact)]


def check(h: Harness, contact: Items, context_: object, *, settled: bool = True) -> None:
    """Julie and Paul apart, every event of ``contact`` on Paul, and (``settled``: each event settled on arrival) no
    customer made for one of its events alone: the events that leave Julie leave for one customer, the one its
    record seeds (``own_customer.leaves``), which Paul's line then joins: no merge for subscribers to re-key.
    (Interleaved, Paul's line may make his customer before the call's is merged into it.)"""
    assert holder(h, "ACC-1003") != holder(h, "ACC-1004"), context_
    assert ended(h, contact) == {"paul"}, context_
    assert not settled or h.decisions(Merged) == [], context_


CALL = pauls_call()
CALL_ORDERS = list(itertools.permutations(range(2 + len(CALL))))


@pytest.mark.parametrize("order", CALL_ORDERS, ids=["".join(map(str, order)) for order in CALL_ORDERS])
def test_every_event_of_pauls_call_ends_on_him_in_every_order_of_the_events_and_the_lines(
        order: tuple[int, ...]) -> None:
    """The 120 orders of the two lines and the call's three events (0 Julie's line, 1 Paul's, 2 the
    ``CallCompleted``, 3 the ``InteractionRecorded``, 4 the IVR record), each settled: all three on Paul."""
    made = blocks(CALL)
    h = run([item for index in order for item in made[index]])
    check(h, CALL, order)


WITH_HANDOFF = pauls_call(handoff=True)


@pytest.mark.parametrize("order", list(itertools.permutations(range(len(WITH_HANDOFF)))))
def test_a_handoff_opened_during_the_call_ends_on_him_with_the_call(order: tuple[int, ...]) -> None:
    """The call with the handoff its flow opened, its four events in each of their 24 orders between Julie's line and
    Paul's (where the call meets only Julie on the mobile): every one on Paul."""
    h = run([*line("julie"), *(WITH_HANDOFF[index] for index in order), *line("paul")])
    check(h, WITH_HANDOFF, order)


VISIT = pauls_visit()
VISIT_ORDERS = list(itertools.permutations(range(2 + len(VISIT))))


@pytest.mark.parametrize("order", VISIT_ORDERS, ids=["".join(map(str, order)) for order in VISIT_ORDERS])
def test_a_counter_visit_ends_on_him_with_its_record_in_every_order(order: tuple[int, ...]) -> None:
    """The counter kind: the transaction and the clerk's record with Paul's traits, and the two lines, in their 24
    orders: both on Paul."""
    made = blocks(VISIT)
    h = run([item for index in order for item in made[index]])
    check(h, VISIT, order)


@pytest.mark.parametrize("seed", range(12))
def test_the_call_interleaved_on_partitions_with_copies_ends_on_him(seed: int) -> None:
    """Julie's line, the call's events and Paul's line in a drawn order, interleaved on 3 partitions with copies."""
    items = [*line("julie"), *WITH_HANDOFF, *line("paul")]
    h = run(random.Random(seed).sample(items, len(items)), partitions=3, seed=seed)
    check(h, WITH_HANDOFF, seed, settled=False)


def saga(event_id: str, *, traits_of: str | None = None, leaves_traits: bool = False) -> Saga:
    return Saga(event_id, "CALL_CENTER", 0, 0.0, [f"PHONE:{MOBILE}"], traits={"gn": ["paul"]},
                traits_of=traits_of, leaves_traits=leaves_traits)


def test_a_contact_is_named_by_its_record() -> None:
    assert contact_of(saga("ivr", leaves_traits=True)) == "ivr"
    assert contact_of(saga("ctr", traits_of="ivr")) == "ivr"
    assert contact_of(saga("line")) is None


def test_an_event_ranks_first_with_its_contact_while_that_contact_holds_the_rank() -> None:
    """The record sets the rank: its call's events rank with it, another call's do not; a line that lowers the rank
    after it ends that."""
    state = IdentifierState(first_rank=7)
    set_rank(state, saga("ivr", leaves_traits=True))
    assert ranks_with_its_contact(state, saga("ctr", traits_of="ivr"))
    assert not ranks_with_its_contact(state, saga("other-ctr", traits_of="other-ivr"))
    assert not ranks_with_its_contact(state, saga("line"))
    state.first_rank = 5
    set_rank(state, saga("line"))
    assert state.housemates is not None and state.housemates.first == b""
    assert not ranks_with_its_contact(state, saga("ctr", traits_of="ivr"))
