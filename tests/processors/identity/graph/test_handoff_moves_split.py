"""A handoff opened during a contact an operator's split moves follows the contact (``graph/handoff_moves.py``).

Jonathan's phone and the mistyped account (his father's); the counter visit TX-MIXED carried both, and the clerk opened
a handoff during it with both. The split moves the account: the visit follows it (the account outranks the phone,
``split_contacts.goes``), and so does the handoff opened during it; the screen pop's entry went by its identifiers
alone before (both: it stayed with Jonathan).
"""

from __future__ import annotations

import itertools
from typing import Any

from processors.identity.graph.outputs import Split
from tests.processors.identity.graph.test_handoff_moves import HANDOFFS, dispute, ends_on, handoffs, placed, stands_on
from tests.processors.identity.graph.test_split_contacts import ACCOUNT, EMAIL, PHONE, split
from tests.processors.identity.support import Harness, interaction

CONTACTS = "contact.events.v1"


def visit_and_handoff() -> tuple[list[tuple[Any, str]], Any, Any]:
    """The visit with both identifiers, the handoff opened during it and its first status; (items, created, the
    later status)."""
    visit = interaction([ACCOUNT, PHONE], channel="BRANCH", kind="COUNTER_TRANSACTION", interaction_id="TX-MIXED",
                        minutes=2)
    opened, (routed, acked, _) = dispute("TX-MIXED", identifiers=(ACCOUNT, PHONE))
    return [(visit, CONTACTS), (opened, HANDOFFS), (routed, HANDOFFS)], opened, acked


def jonathan(h: Harness) -> str:
    h.observe(EMAIL, PHONE)
    h.observe(PHONE, ACCOUNT, minutes=1)
    source = h.customer(*ACCOUNT)
    assert source is not None
    return source


def test_the_handoff_opened_during_the_visit_follows_it_to_the_new_customer() -> None:
    h = Harness()
    source = jonathan(h)
    items, opened, acked = visit_and_handoff()
    for event, topic in items:
        h.feed(event, topic)
    assert handoffs(h, source) == ["h-dispute"]
    split(h, source, ACCOUNT)
    (decided,) = h.decisions(Split)
    assert handoffs(h, source) == [] and handoffs(h, decided.new_id) == ["h-dispute"]
    assert placed(h, opened) == [(source, ""), (decided.new_id, source)]  # off Jonathan's stream (the header)
    assert ends_on(h, items[2][0], decided.new_id, source)  # and so is its routing (tester24 F6)
    h.feed(acked, HANDOFFS)  # its later events: the new customer's
    assert {c for c, _ in placed(h, acked)} == {decided.new_id}
    assert handoffs(h, source) == [] and handoffs(h, decided.new_id) == ["h-dispute"]
    h.local.check_consistent()


def test_in_every_order_before_the_split_the_handoff_ends_with_its_visit() -> None:
    items, opened, acked = visit_and_handoff()
    for order in itertools.permutations(items):
        case = [event.schema.rsplit(".", 1)[1] for event, _ in order]
        h = Harness()
        source = jonathan(h)
        for event, topic in order:
            h.feed(event, topic)
        split(h, source, ACCOUNT)
        (decided,) = h.decisions(Split)
        assert handoffs(h, source) == [] and handoffs(h, decided.new_id) == ["h-dispute"], case
        assert ends_on(h, opened, decided.new_id, source), case
        assert ends_on(h, items[2][0], decided.new_id, source), case  # its routing too (tester24 F6)
        h.feed(acked, HANDOFFS)
        assert {c for c, _ in placed(h, acked)} == {decided.new_id}, case
        h.local.check_consistent()


def test_in_any_interleaving_with_the_split_the_handoff_ends_with_its_visit() -> None:
    items, opened, acked = visit_and_handoff()
    for seed, partitions, steps in itertools.product(range(4), (3, 7), (0, 4, 10, 20)):
        case = (seed, partitions, steps)
        h = Harness(partitions=partitions, seed=seed, duplicates=0.3)
        source = jonathan(h)
        for event, topic in items:
            h.feed(event, topic, settle=False)
        for _ in range(steps):
            if not h.local.step():
                break
        split(h, source, ACCOUNT)
        (decided,) = h.decisions(Split)
        visit = items[0][0].value["envelope"]["event_id"]
        where = {c for c, _ in placed(h, items[0][0])}
        assert decided.new_id in where, (case, visit)
        assert handoffs(h, source) == [] and handoffs(h, decided.new_id) == ["h-dispute"], case
        assert ends_on(h, opened, decided.new_id, source), case
        assert stands_on(h, items[2][0], decided.new_id), case  # its routing too (tester24 F6)
        h.feed(acked, HANDOFFS)
        assert {c for c, _ in placed(h, acked)} == {decided.new_id}, case
        h.local.check_consistent()
