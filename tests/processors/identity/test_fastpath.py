"""The fast path's view of customer.identifiers.v1: the reader rule, bounded, one customer or no claim."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from processors.identity.fastpath import AssignmentView
from processors.identity.graph.outputs import Assigned, Created, Lineage, Unassigned

if TYPE_CHECKING:
    from tests.processors.identity.broker import WorkerFactory


def test_the_highest_version_wins_whatever_the_order_rows_arrive_in() -> None:
    view = AssignmentView()
    view.learn("EMAIL:a@x.org", "cus_b", 2)
    view.learn("EMAIL:a@x.org", "cus_a", 1)  # a stale row (a fenced worker's late write)
    assert view.claim(["EMAIL:a@x.org"]) == ("cus_b", {"EMAIL:a@x.org": 2})
    view.learn("EMAIL:a@x.org", "cus_c", 2)  # same version: the later one wins
    assert view.claim(["EMAIL:a@x.org"]) == ("cus_c", {"EMAIL:a@x.org": 2})
    view.forget("EMAIL:a@x.org")
    assert view.claim(["EMAIL:a@x.org"]) is None


def test_a_claim_needs_every_identifier_known_and_on_one_customer() -> None:
    view = AssignmentView()
    view.learn_outputs([Assigned("PHONE:+1", "cus_a", 1, "e"), Assigned("EMAIL:a@x.org", "cus_a", 3, "e"),
                        Assigned("ACCOUNT:9", "cus_b", 1, "e"),
                        Created("cus_a", ("PHONE:+1",), Lineage("e", "WEB", "co-observed"))])
    assert view.claim(["EMAIL:a@x.org", "PHONE:+1"]) == ("cus_a", {"EMAIL:a@x.org": 3, "PHONE:+1": 1})
    assert view.claim(["EMAIL:a@x.org", "ACCOUNT:9"]) is None  # two customers: a link, the slow path
    assert view.claim(["EMAIL:a@x.org", "DEVICE:new"]) is None  # a new identifier: the slow path
    assert view.claim([]) is None


def test_the_view_is_bounded_and_forgets_the_oldest_first() -> None:
    view = AssignmentView(max_identifiers=2)
    for index in range(3):
        view.learn(f"PHONE:{index}", "cus_a", 1)
    assert len(view) == 2 and view.claim(["PHONE:0"]) is None and view.claim(["PHONE:2"]) is not None


def test_an_eviction_tombstone_removes_the_identifier() -> None:
    view = AssignmentView()
    view.learn_outputs([Assigned("EMAIL:six@x.org", "cus_a", 1, "e"), Unassigned("EMAIL:six@x.org", 2)])
    assert view.claim(["EMAIL:six@x.org"]) is None


@pytest.mark.kafka
@pytest.mark.timeout(240)
async def test_on_a_broker_repeat_contacts_take_the_fast_path_to_the_customer_of_their_first_contact(
    identity_worker: WorkerFactory,
) -> None:
    from bus.producer import Outgoing
    from bus.topics import CONTACT_EVENTS, CUSTOMER_CONTACTS
    from processors.identity.graph.fast_node import FAST_PATH
    from tests.processors.identity.support import interaction, settings
    from tests.support.kafka_io import read_dead_letters, read_events

    people = [[("PHONE", f"1390000{p:04d}"), ("EMAIL", f"p{p}@x.org")] for p in range(10)]
    applied = FAST_PATH.labels(outcome="applied")._value.get()
    async with identity_worker(settings()) as run:
        config, worker = run.config, run.worker
        topic = CONTACT_EVENTS.name(config.topics)
        first = [interaction(person, minutes=index, interaction_id=f"first-{index}") for index, person in enumerate(people)]
        await run.publish([Outgoing(topic, f"p{i}", event) for i, event in enumerate(first)])
        assert worker.view is not None and len(worker.view) == 20
        again = [interaction(person[::-1], minutes=20 + i, interaction_id=f"again-{i}") for i, person in enumerate(people)]
        await run.publish([Outgoing(topic, f"p{i}", event) for i, event in enumerate(again)])
    # at least the ten repeats: a first contact redelivered by a rebalance at start finds its customer known and
    # takes the fast path too (at-least-once); where each landed is checked below
    assert FAST_PATH.labels(outcome="applied")._value.get() >= applied + 10
    customer_of = {landed.event.value["interaction_id"]: landed.key for landed in await read_events(config, CUSTOMER_CONTACTS)
                   if landed.event.schema.endswith("InteractionRecorded")}
    assert all(customer_of[f"again-{i}"] == customer_of[f"first-{i}"] is not None for i in range(10))
    assert len(set(customer_of.values())) == 10
    assert await read_dead_letters(config) == []
