"""``omnibus verify`` after a handoff placed on its caller while its identifiers are another's (tester26 F1, F3, F7).

The reproductions of ``tests/processors/identity/graph/test_handoff_placement.py`` (a new tenant's move-in call, a
counter visit with a neighbour's typed contract number, a housemate's Twilio task) run through the processor and
verified: "every event of one contact is placed on one customer" failed with "6 event(s) on 2 customers" (the
tracker's events on the keeper); in orders of the visit's and the handoff's events drawn from all 720 it passes.
"""

from __future__ import annotations

import itertools
import random

import pytest

from processors.verify.placement import HANDOFF_WITH_CONTACT, ONE_CONTACT
from tests.processors.identity.graph.test_handoff_placement import (
    BUSINESS,
    CASES,
    CONTACTS,
    HANDOFFS,
    OBSERVED,
    blocks,
    line,
)
from tests.processors.identity.support import matcher_settings
from tests.processors.verify.operator_runs import Run
from tests.processors.verify.support import BUSINESS_IN, CONTACTS_IN, HANDOFFS_IN, INPUT

TOPICS = {OBSERVED: INPUT, CONTACTS: CONTACTS_IN, HANDOFFS: HANDOFFS_IN, BUSINESS: BUSINESS_IN}


def verified(case: str, order: tuple[int, ...]) -> tuple[bool, list[str], int]:
    _, lines, *_ = CASES[case]
    made = blocks(case)
    run = Run(config=matcher_settings())
    for account in lines:
        for event, topic in line(account):
            run.feed(event, TOPICS[topic])
    for index in order:
        for event, topic in made[index]:
            run.feed(event, TOPICS[topic])
    report = run.verified()
    return report.ok, report.lines(), report.check(ONE_CONTACT).checked + report.check(HANDOFF_WITH_CONTACT).checked


@pytest.mark.parametrize("case", CASES)
def test_the_reported_sample_verifies(case: str) -> None:
    ok, lines, checked = verified(case, tuple(range(len(blocks(case)))))
    assert ok, lines
    assert checked >= 2


@pytest.mark.parametrize("case", CASES)
def test_in_drawn_arrival_orders_it_verifies(case: str) -> None:
    """8 of the 720 orders, drawn (each run recomputes the graph: the identity test takes all of them)."""
    orders = random.Random(26).sample(list(itertools.permutations(range(len(blocks(case))))), 8)
    failed = [(order, lines) for order in orders if not (found := verified(case, order))[0] for lines in [found[1]]]
    assert not failed, f"{len(failed)}/{len(orders)}: {failed[:3]}"
