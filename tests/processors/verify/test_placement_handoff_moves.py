"""``omnibus verify`` after a move of a call that opened a handoff (tester24 F6).

Ann's phone called; the agent opened a dispute during the call; the tracker routed and acknowledged it (its
``HandoffStatusChanged`` events carry the call's correlation id, as the tracker copies it from the creation). An
operator moves the call to Bob. Every event of the contact (the call, the creation, the tracker's events, in any
order against the move) must stand on Bob, so verify's "every event of one contact is placed on one customer" holds;
it failed with the tracker's events left on Ann.
"""

from __future__ import annotations

import itertools

import pytest

from bus.serde import Event
from processors.verify.placement import HANDOFF_WITH_CONTACT, ONE_CONTACT
from tests.processors.identity.graph.test_handoff_moves import dispute
from tests.processors.identity.support import interaction, observed
from tests.processors.verify.operator_runs import Run
from tests.processors.verify.support import CONTACTS_IN, HANDOFFS_IN

PHONE = ("PHONE", "+33622334455")
ANN = [("ACCOUNT", "ACC-ANN"), PHONE]
BOB = [("ACCOUNT", "ACC-BOB")]


def one_contact() -> list[tuple[Event, str]]:
    """The call, the dispute opened during it, its routing and acknowledgement: one correlation id."""
    call = interaction([PHONE], interaction_id="CALL-1", minutes=5)
    opened, (routed, acked, _) = dispute("CALL-1", identifiers=(PHONE,))
    for event in (opened, routed, acked):
        event.value["envelope"]["correlation_id"] = call.value["envelope"]["correlation_id"]
    return [(call, CONTACTS_IN), (opened, HANDOFFS_IN), (routed, HANDOFFS_IN), (acked, HANDOFFS_IN)]


def moved(items: list[tuple[Event, str]], before: int) -> Run:
    """Ann and Bob, the first ``before`` of ``items`` fed, the call moved to Bob, then the rest."""
    run = Run()
    for minutes, identifiers in enumerate((ANN, BOB)):
        run.feed(observed(identifiers, minutes=minutes))
    for event, topic in items[:before]:
        run.feed(event, topic)
    run.move("CALL-1", BOB[0], source=run.customer(*PHONE))
    for event, topic in items[before:]:
        run.feed(event, topic)
    return run


def test_the_reported_sample_the_call_its_handoff_and_the_trackers_events_verify_on_one_customer() -> None:
    report = moved(one_contact(), 4).verified()
    assert report.ok, report.lines()
    assert report.check(ONE_CONTACT).checked >= 1 and report.check(HANDOFF_WITH_CONTACT).checked == 1


@pytest.mark.parametrize("order", list(itertools.permutations(range(4))), ids=lambda o: "".join(map(str, o)))
def test_in_every_order_of_the_contacts_events_with_the_move_before_the_last_it_verifies(
        order: tuple[int, ...]) -> None:
    items = one_contact()
    report = moved([items[i] for i in order], 3).verified()
    assert report.ok, (order, report.lines())
