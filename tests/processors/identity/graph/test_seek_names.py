"""The screen pop's name is the person's the matcher placed there, in every arrival order (tester12 S1).

Jean and Marie Dumas share a phone. Marie's web login (09:10) and Jean's (09:00, the earliest event on the phone: his
customer keeps it) each carried it; Marie then calls from it (10:00), the call center publishing the contact and its
IVR record with her name and birth date. Before the fix, in the orders where Marie's records (or the IVR record) came
before Jean's, the IVR record's name followed the phone to Jean when he claimed it (``claim_node.on_give``, the
profile divided by identifiers) or when the IVR record's own customer dissolved into his: Jean's screen pop greeted
"Marie Dumas", from the call center. Also here: a moved call takes its caller's name along (``move_contact.py``).
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from bus.serde import Event
from processors.identity.graph.messages.commands import MoveContact
from processors.identity.graph.outputs import Send
from tests.processors.identity.graph import test_seek
from tests.processors.identity.graph.test_seek import observed
from tests.processors.identity.support import Harness, matcher_settings, settings

PHONE = test_seek.FAMILY_PHONE
MARIE = {"given_name": "Marie", "family_name": "Dumas", "birth_date": "1987-07-19"}
JEAN = {"given_name": "Jean", "family_name": "Dumas", "birth_date": "1984-03-02"}
OBSERVED = "identity.observed.v1"


def dumas() -> dict[str, tuple[Event, str]]:
    contact, ivr = test_seek.call(MARIE, minutes=60)
    return {
        "marie": (observed([("USER_ID", "marie-I"), ("EMAIL", "marie@example.org"), PHONE], MARIE, 10), OBSERVED),
        "jean": (observed([("USER_ID", "jean-I"), ("EMAIL", "jean@example.org"), PHONE], JEAN, 0), OBSERVED),
        "call": (contact, "contact.events.v1"), "ivr": (ivr, OBSERVED)}


def name_of(h: Harness, user: str) -> dict[str, Any]:
    customer = h.customer("USER_ID", user)
    assert customer is not None
    return dict(h.book.render(h.local.store.profiles.get(customer))["name"])


ORDERS = list(itertools.permutations(("marie", "jean", "call", "ivr")))


@pytest.mark.parametrize("order", ORDERS, ids=["-".join(order) for order in ORDERS])
def test_each_screen_pop_shows_its_own_persons_name_in_every_arrival_order(order: tuple[str, ...]) -> None:
    """The tester's three events (the call is its contact and its IVR record) in all 24 arrival orders: Jean's screen
    pop never shows Marie's name (it did in 12 of them), Marie's always shows hers, and the call is hers."""
    h, events = Harness(matcher_settings()), dumas()
    for name in order:
        h.feed(*events[name])
    h.local.check_consistent()
    jean, marie = name_of(h, "jean-I"), name_of(h, "marie-I")
    assert (jean["given_name"], jean["family_name"], jean["channel"]) == ("Jean", "Dumas", "WEB"), order
    assert (marie["given_name"], marie["family_name"]) == ("Marie", "Dumas"), order
    assert h.customer(*PHONE) == h.customer("USER_ID", "jean-I")
    assert test_seek.resolved_to(h, events["call"][0]) == {h.customer("USER_ID", "marie-I")}


def test_a_moved_call_takes_the_name_its_caller_gave_the_ivr_along() -> None:
    """A call from Ann's phone with Bob's IVR name was on Ann's screen pop (no traits to tell them apart here); the
    operator moves it to Bob: the name Bob gave leaves Ann's screen pop with the call (it stayed before)."""
    h = Harness(settings())
    ann = {"given_name": "Ann", "family_name": "Lee"}
    h.feed(observed([("ACCOUNT", "ACC-ANN"), PHONE], ann, 0, "BRANCH"), OBSERVED)
    h.feed(observed([("ACCOUNT", "ACC-BOB")], None, 1), OBSERVED)
    contact, ivr = test_seek.call({"given_name": "Bob", "family_name": "Lee"}, minutes=10, interaction_id="CALL-1")
    h.feed(ivr, OBSERVED)
    h.feed(contact)
    anns, bobs = h.customer("ACCOUNT", "ACC-ANN"), h.customer("ACCOUNT", "ACC-BOB")
    assert anns is not None and bobs is not None and anns != bobs
    assert h.book.render(h.local.store.profiles.get(anns))["name"]["given_name"] == "Bob"  # the latest (as trusted)
    h.local.submit([Send(anns, MoveContact("CALL-1", bobs, "ops-3", "the caller was Bob", "cmd-move-1"))])
    h.local.run()
    assert h.book.render(h.local.store.profiles.get(anns))["name"]["given_name"] == "Ann"
    assert h.book.render(h.local.store.profiles.get(bobs))["name"]["given_name"] == "Bob"
    h.local.check_consistent()
