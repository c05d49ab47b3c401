"""#8 leftover: what the screen pop (``processors/identity/web.py``) says about an identifier several people use.

A call carries no traits (they travel in the sibling ``IdentifiersObserved``), so a housemate's call from the
family phone is shown on the screen pop of the customer who keeps the phone (whose event carried it first,
``graph/claim_node.py``). The agent must see that it may be another person, and which: the lookup by the phone
names every customer kept apart through it, the keeper's screen pop and the housemate's own both list it
(``shared_identifiers``). A call that also carries a personal identifier (the account entered in the IVR)
goes to its own person. Runs the real intake and graph in process; the screen pop reads the nodes as the
owner worker answers them (``ScreenPop.local``).
"""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest

from processors.identity.normalize import Identifier
from processors.identity.web import ScreenPop
from tests.processors.identity.graph.test_evidence import ANN, BOB
from tests.processors.identity.graph.test_household_identifiers import FAMILY_PHONE, _contact_ids, event
from tests.processors.identity.support import Harness, interaction
from tests.processors.identity.support import matcher_settings as settings

ANNS_ACCOUNT, BOBS_ACCOUNT = ("ACCOUNT", "1000001"), ("ACCOUNT", "2000002")


class LocalScreenPop(ScreenPop):
    """The screen pop of a single worker that owns every partition (no HTTP between workers)."""

    def _owner(self, key: str) -> str | None:
        return None


def screen_pop(h: Harness) -> LocalScreenPop:
    processor = SimpleNamespace(app=None, store=h.local.store, graph=h.local.graph, book=h.book)
    return LocalScreenPop(processor)  # type: ignore[arg-type]


def lookup(h: Harness, kind: str, value: str) -> dict[str, Any]:
    """What ``GET /customers/lookup`` answers (its view's steps, without the HTTP)."""
    pop, key = screen_pop(h), h.key(kind, value)

    async def run() -> dict[str, Any]:
        node, people = await pop.identifier_node(key)
        found = await pop.profile(node["owner"])
        assert found is not None
        hint = await pop.hint(Identifier.from_key(key), node, people, found["customer_id"])
        return {**found, "shared_identifier": hint} if hint else found

    return asyncio.run(run())


def household(h: Harness, *, ann_first: bool) -> tuple[str, str]:
    """Ann (minute 0) and Bob (minute 5) each with an account and the family phone; their customers."""
    ann = event([ANNS_ACCOUNT, FAMILY_PHONE], ANN, 0)
    bob = event([BOBS_ACCOUNT, FAMILY_PHONE], BOB, 5)
    for item in (ann, bob) if ann_first else (bob, ann):
        h.feed(item, topic="identity.observed.v1", settle=False)
    h.local.run()
    anns, bobs = h.customer(*ANNS_ACCOUNT), h.customer(*BOBS_ACCOUNT)
    assert anns is not None and bobs is not None and anns != bobs
    return anns, bobs


ORDERS = {"Ann first": (True, 1, None), "Bob first": (False, 1, None), "Ann first, 5 partitions": (True, 5, 1),
          "Bob first, 5 partitions": (False, 5, 2)}


@pytest.mark.parametrize(("ann_first", "partitions", "seed"), ORDERS.values(), ids=ORDERS.keys())
def test_a_call_from_the_family_phone_names_both_people_on_both_screen_pops(
        ann_first: bool, partitions: int, seed: int | None) -> None:
    h = Harness(settings(), partitions=partitions, seed=seed, duplicates=0.2 if seed is not None else 0.0)
    anns, bobs = household(h, ann_first=ann_first)
    h.feed(interaction([FAMILY_PHONE], minutes=10, interaction_id="call-1"))
    assert h.customer(*FAMILY_PHONE) == anns and _contact_ids(h, anns) == {"call-1"}  # the keeper's, as before

    # The agent answering the call looks the phone up: Ann's screen pop, saying it may be Bob.
    found = lookup(h, *FAMILY_PHONE)
    hint = found["shared_identifier"]
    assert found["customer_id"] == anns
    assert hint["customer_ids"][0] == anns and set(hint["customer_ids"]) == {anns, bobs}
    assert (hint["kept_by"], hint["links"], hint["people"], hint["type"]) == (anns, True, 2, "PHONE")
    assert "shared" not in hint  # `people 2` beside `shared false` read as a contradiction
    assert bobs in hint["note"] and "ask who is calling" in hint["note"]
    assert FAMILY_PHONE[1] not in str(found) and "+33600000001"[-4:] in hint["value"]  # masked

    # Ann's screen pop however it is reached, and Bob's own: both name the phone and the two of them.
    anns_pop, bobs_pop = lookup(h, *ANNS_ACCOUNT), lookup(h, *BOBS_ACCOUNT)
    assert [shared["customer_ids"] for shared in anns_pop["shared_identifiers"]] == [hint["customer_ids"]]
    assert "shared_identifier" not in anns_pop and "shared_identifier" not in bobs_pop  # looked up by an account
    (bobs_hint,) = bobs_pop["shared_identifiers"]
    assert (bobs_hint["type"], bobs_hint["kept_by"], set(bobs_hint["customer_ids"])) == ("PHONE", anns, {anns, bobs})
    assert f"kept by customer {anns}" in bobs_hint["note"] and "not on this one" in bobs_hint["note"]
    h.local.check_consistent()


@pytest.mark.parametrize("ann_first", [True, False], ids=["Ann first", "Bob first"])
def test_a_call_that_carries_the_account_entered_in_the_ivr_is_on_its_own_persons_screen_pop(ann_first: bool) -> None:
    """The channel adapter sends the caller's account with the family phone (``caller_identifiers``): the call is
    attributed to that person, not to the phone's keeper."""
    h = Harness(settings())
    anns, bobs = household(h, ann_first=ann_first)
    h.feed(interaction([FAMILY_PHONE, BOBS_ACCOUNT], minutes=10, interaction_id="bobs-call"))
    h.feed(interaction([FAMILY_PHONE, ANNS_ACCOUNT], minutes=11, interaction_id="anns-call"))
    assert _contact_ids(h, bobs) == {"bobs-call"} and _contact_ids(h, anns) == {"anns-call"}
    h.local.check_consistent()


def test_one_persons_phone_has_no_hint_and_a_phone_shared_past_shared_after_links_nobody() -> None:
    h = Harness(settings())
    h.feed(event([ANNS_ACCOUNT, ("PHONE", "+33612345678")], ANN, 0), topic="identity.observed.v1")
    found = lookup(h, "PHONE", "+33612345678")
    assert "shared_identifier" not in found and found["shared_identifiers"] == []

    h = Harness(settings(shared_after={"PHONE": 1}))
    anns, bobs = household(h, ann_first=True)
    (hint,) = lookup(h, *BOBS_ACCOUNT)["shared_identifiers"]
    assert hint["links"] is False and hint["people"] == 2 and "no longer links anyone" in hint["note"]
