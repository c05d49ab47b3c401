"""tester34 F4: a tracker's event of a case lands on the case's customer, not on whoever holds the identifier it names.

A recycled number's new subscriber got his predecessor's open case on the screen pop: the tracker's status event still
named the number (written before the tracker read that identity gave it away), and identity placed it by the number.
Now a ``HandoffStatusChanged`` or ``HandoffRouted`` naming the case's customer (``customer_id``) goes there
(``handoff_moves.follow``), with any entry of the case the other customer's screen pop already held.
"""

from __future__ import annotations

import pytest

from datetime import timedelta

from tests.processors.handoffs.factories import T0, acknowledged, resolved
from tests.processors.handoffs.test_profile_section import status_events
from tests.processors.identity.graph.test_handoff_moves import HANDOFF, HANDOFFS, dispute, handoffs, placed
from tests.processors.identity.graph.test_move_contact import BOBS_ACCOUNT, PHONE
from tests.processors.identity.graph.test_move_contact_order import ann_and_bob
from tests.processors.identity.support import Harness, ident, interaction, settings

pytestmark = pytest.mark.usefixtures("both_paths")  # without the fast path, then through it


def named(event, customer: str, *identifiers: tuple[str, str]):
    """``event`` as the tracker publishes it for ``customer``, naming ``identifiers``."""
    event.value["customer_id"] = customer
    event.value["customer_identifiers"] = [ident(*i) for i in identifiers]
    return event


def test_f4_a_status_event_naming_anns_case_lands_on_ann_whatever_identifier_it_carries() -> None:
    h = Harness(settings())
    anns, bobs = ann_and_bob(h)
    h.feed(interaction([PHONE], interaction_id="CALL-1", minutes=2))
    opened, (routed, *_) = dispute()
    h.feed(opened, HANDOFFS)
    h.feed(named(routed, anns, PHONE), HANDOFFS)
    assert handoffs(h, anns) == [HANDOFF]
    # the next status event still carries an identifier another customer holds now (the number's new holder)
    acked, done = status_events(opened, acknowledged(HANDOFF, T0 + timedelta(minutes=5)),
                                resolved(HANDOFF, T0 + timedelta(minutes=9)))[1:]
    h.feed(named(acked, anns, BOBS_ACCOUNT), HANDOFFS)
    assert handoffs(h, bobs) == [] and handoffs(h, anns) == [HANDOFF]
    assert [c for c, _ in placed(h, acked)] == [anns]
    h.feed(named(done, anns, BOBS_ACCOUNT), HANDOFFS)
    assert handoffs(h, anns) == [] and handoffs(h, bobs) == []
    h.local.check_consistent()


def test_an_entry_already_on_the_other_pop_goes_to_the_named_customer() -> None:
    """The race's first event went by the identifier (a tracker's event naming no customer yet, or an older
    tracker's): the next one naming Ann takes the entry off Bob's screen pop."""
    h = Harness(settings())
    anns, bobs = ann_and_bob(h)
    opened, (routed, acked, _) = dispute(contact=None, identifiers=(BOBS_ACCOUNT,))
    h.feed(routed, HANDOFFS)  # names no customer: placed by the identifier, on Bob
    assert handoffs(h, bobs) == [HANDOFF]
    h.feed(named(acked, anns, BOBS_ACCOUNT), HANDOFFS)
    assert handoffs(h, bobs) == [] and handoffs(h, anns) == [HANDOFF]
    h.local.check_consistent()


def test_a_status_event_naming_the_customer_and_no_identifier_lands_on_that_customer() -> None:
    """The customer lost every contact point of the case (a recycled number, the case known only by it): the tracker's
    next events name him by ``customer_id`` alone (``customer_identifiers: []``, ``needs_contact``). They were taken
    for anonymous and dropped: his screen pop kept the case at its first version, open after it was resolved."""
    h = Harness(settings())
    anns, _ = ann_and_bob(h)
    opened, (routed, acked, done) = dispute(contact=None, identifiers=(BOBS_ACCOUNT,))
    h.feed(named(routed, anns, BOBS_ACCOUNT), HANDOFFS)
    assert handoffs(h, anns) == [HANDOFF]
    h.feed(named(acked, anns), HANDOFFS)
    (entry,) = h.book.render(h.local.store.get_profile(anns))["open_handoffs"]
    assert entry["version"] == acked.value["version"]
    h.feed(named(done, anns), HANDOFFS)
    assert handoffs(h, anns) == []
    h.local.check_consistent()
