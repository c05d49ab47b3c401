"""Issue #8, F13: one contact, one customer, whatever version of it came when (``graph/versions.py``).

Amazon Connect re-sends a contact's CTR when the contact is updated (same ContactId, later LastUpdateTimestamp).
The tester's sample: a call from the landline Ann and Bob share, first without IVR data (it follows the phone to its
keeper, Ann), then updated with the name and birth date Bob gave the IVR (Bob's). Each version's events have their
own ids (``adapters/call_center/mapper.py``); identity keeps every version of the contact on the customer of the
latest version, and moves an earlier one there as an operator's ``move-contact`` would (``ContactMoved``, the
moved events re-published with new ids and their originals as causes), in every arrival order of the two versions
and the housemates' own records.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from bus.serde import Event
from processors.identity.graph.outputs import ContactMoved, Resolved
from processors.identity.graph.versions import one_version
from processors.identity.rules import LATEST_VERSION
from processors.profile.sections.recent_contacts import contact_id
from tests.adapters.call_center.test_mapper_ctr import published_versions
from tests.processors.identity.graph.test_evidence import ANN, BOB
from tests.processors.identity.graph.test_move_contact import moves_name_their_source
from tests.processors.identity.graph.test_seek import (
    ANN_ACCOUNT,
    BOB_ACCOUNT,
    FAMILY_PHONE,
    OBSERVED,
    contact_ids,
    observed,
    root,
)
from tests.processors.identity.support import Harness, interaction
from tests.processors.identity.support import matcher_settings as settings

CONTACTS = "contact.events.v1"
IVR = {"firstName": BOB["given_name"], "lastName": BOB["family_name"], "dateOfBirth": BOB["birth_date"]}
DAY = "2025-03-01"  # after the household's records (support.T0)


def versions(caller: dict[str, str] = IVR, count: int = 2) -> list[list[tuple[Event, str]]]:
    """The tester's versions of one call from the family phone (two, or ``count``), as the adapter publishes them."""
    return [[(event, OBSERVED if event.schema.endswith("IdentifiersObserved") else CONTACTS) for event in events]
            for events in published_versions(count, FAMILY_PHONE[1], caller, day=DAY)]


def records(caller: dict[str, str] = IVR, count: int = 2) -> dict[str, list[tuple[Event, str]]]:
    found = {f"v{n + 1}": version for n, version in enumerate(versions(caller, count))}
    return {"ann": [(observed([ANN_ACCOUNT, FAMILY_PHONE], ANN, 0), OBSERVED)],
            "bob": [(observed([BOB_ACCOUNT, FAMILY_PHONE], BOB, 1), OBSERVED)], **found}


def replay(order: tuple[str, ...], caller: dict[str, str] = IVR) -> tuple[Harness, dict[str, Any]]:
    h = Harness(settings())
    events = records(caller, count=sum(name.startswith("v") for name in order))
    for name in order:
        for event, topic in events[name]:
            h.feed(event, topic)
    h.local.run()
    h.local.check_consistent()
    return h, events


def placed(h: Harness) -> dict[str, str]:
    """Contact event id -> the customer (after merges) it is under now: where it was last applied or moved."""
    return {r.triggering_event_id: root(h, r.customer_id) for r in h.decisions(Resolved)}


ORDERS = list(itertools.permutations(("ann", "bob", "v1", "v2")))
IDS = ["-".join(order) for order in ORDERS]


def holders(h: Harness, events: dict[str, Any]) -> set[str]:
    """The customers (after merges) the versions' contact events are under now."""
    contact_events = {e.value["envelope"]["event_id"] for name in events if name.startswith("v")
                      for e, topic in events[name] if topic == CONTACTS}
    return {customer for event_id, customer in placed(h).items() if event_id in contact_events}


def shown(h: Harness, customer: str) -> tuple[str, str]:
    """The outcome and wrap-up code of the call on ``customer``'s screen pop (its one entry)."""
    (entry,) = (h.local.store.profiles.get(customer) or {})["recent_contacts"]["CALL_CENTER"]
    return entry.get("outcome"), entry.get("disposition")


@pytest.mark.parametrize("order", ORDERS, ids=IDS)
def test_f13_both_versions_of_one_call_are_on_one_customer_in_every_order(order: tuple[str, ...]) -> None:
    h, events = replay(order)
    (holder,) = holders(h, events)
    others = {h.customer(*ANN_ACCOUNT), h.customer(*BOB_ACCOUNT)} - {holder}
    assert len(contact_ids(h, holder)) == 1 and all(contact_ids(h, other) == set() for other in others)
    assert shown(h, holder) == ("RESOLVED", "resolved")  # the update's, whichever version was applied last


THREE = [("ann", "bob", *versions) for versions in itertools.permutations(("v1", "v2", "v3"))] + [
    (*versions, "ann", "bob") for versions in itertools.permutations(("v1", "v2", "v3"))]


@pytest.mark.parametrize("order", THREE, ids="-".join)
def test_the_screen_pop_shows_the_latest_of_three_versions_in_every_order(order: tuple[str, ...]) -> None:
    """The entry takes the latest version's outcome by the versions' own order, not the one applied last (an older
    version applied after a newer one left UNKNOWN after RESOLVED)."""
    h, events = replay(order)
    (holder,) = holders(h, events)
    assert len(contact_ids(h, holder)) == 1 and shown(h, holder) == ("UNRESOLVED", "unresolved")


@pytest.mark.parametrize("order", ORDERS, ids=IDS)
def test_f13_both_versions_of_bobs_call_end_on_bob_alone_in_every_order(order: tuple[str, ...]) -> None:
    """Both versions before both housemates' records ended on Ann: the untold version made the phone's customer, the
    told one was applied there too, and Ann's earlier record claiming the phone dissolved that customer into hers,
    as one whose contacts did not all tell their person (``claim_node.on_give``). A contact tells its person by its
    latest version (``versions.told``): the customer stays apart, without the phone, until blocking merges it into
    Bob's."""
    h, events = replay(order)
    ann, bob = h.customer(*ANN_ACCOUNT), h.customer(*BOB_ACCOUNT)
    assert ann is not None and bob is not None and ann != bob
    assert holders(h, events) == {bob}
    assert contact_ids(h, ann) == set() and len(contact_ids(h, bob)) == 1


@pytest.mark.parametrize("order", list(itertools.permutations(("ann", "v1", "v2"))), ids="-".join)
def test_without_a_housemate_the_update_replaces_the_first_version_on_one_screen_pop(order: tuple[str, ...]) -> None:
    """Ann alone on her phone: both versions are hers, one entry on her screen pop, no contact moved."""
    h, events = replay(order, caller={"firstName": ANN["given_name"], "lastName": ANN["family_name"],
                                      "dateOfBirth": ANN["birth_date"]})
    ann = h.customer(*ANN_ACCOUNT)
    assert holders(h, events) == {ann} and len(contact_ids(h, ann)) == 1
    assert not h.decisions(ContactMoved)


def test_a_version_moved_to_the_latest_versions_customer_is_re_published_naming_the_customer_it_left() -> None:
    """The latest-version rule's move re-publishes the earlier version's events with the ``omnibus-moved-from``
    header, as an operator's move, a split and a claim do: a reader counting per customer takes them off there."""
    copies = 0
    for order in ORDERS:
        h, _ = replay(order)
        rules = {m.lineage.rule for m in h.decisions(ContactMoved)}
        assert rules <= {LATEST_VERSION}, order
        copies += moves_name_their_source(h)
    assert copies > 0  # some orders place the first version elsewhere first, then move it


def test_only_a_contact_that_may_have_another_version_is_placed() -> None:
    """Issue #9: a web message (its ``messageId`` both its interaction id and its version) and an event naming no
    version are one version whatever comes: no ``Placed``; every event of a CTR version is placed."""

    web = interaction([FAMILY_PHONE], channel="WEB", interaction_id="m" * 300)
    web.value["envelope"]["source_event_id"] = "m" * 300  # longer than an entry's id: compared as the entry keeps it
    unversioned = interaction([FAMILY_PHONE])
    assert one_version(web, contact_id(web)) and one_version(unversioned, contact_id(unversioned))
    ctr = [event for version in versions() for event, topic in version if topic == CONTACTS]
    assert ctr and not any(one_version(event, contact_id(event)) for event in ctr)
