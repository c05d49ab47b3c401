"""A corrected version of a contact that names another first identifier stays with its case (``graph/versions.py``).

The reported sample: a counter transaction with Ana's phone opened a case (on her screen pop); the terminal
corrected the transaction and uploaded it again under a new ``event_id`` with another phone (a typo, or another
customer's number). The tracker keeps the case's identifiers (``bus.handoff_revisions``: "the case keeps its own"),
but identity placed the correction's events on the new phone's customer: the case left Ana's screen pop and
``omnibus verify`` found the contact on two customers. Now every version of the contact, the case and the tracker's
later events stay on Ana, in every arrival order; versions with one first identifier still follow the latest
(``test_contact_versions.py``).
"""

from __future__ import annotations

import copy
import itertools
from datetime import timedelta
from typing import Any

import pytest

from bus.handoff_revisions import SOURCE_RECORD_FACT
from bus.serde import Event
from processors.identity.graph.outputs import ContactMoved
from processors.identity.graph.versions import NODE_PREFIX, node_of
from processors.identity.rules import CORRECTED_VERSION
from tests.adapters.branch.test_mapper import mapped
from tests.adapters.branch.test_mapper_handoff import with_handoff
from tests.processors.handoffs.factories import T0, acknowledged, created
from tests.processors.handoffs.test_profile_section import status_events
from tests.processors.identity.graph.test_handoff_moves import HANDOFFS, handoffs, stands_on
from tests.processors.identity.graph.test_seek import OBSERVED, contact_ids, root
from tests.processors.identity.support import Harness, envelope, ident
from tests.processors.identity.support import matcher_settings as settings

CONTACTS = "contact.events.v1"
ANA_PHONE, TYPO_PHONE, PEDRO_PHONE = "+34 612 345 678", "+34 612 345 679", "+34 622 555 111"
CORRECTION = "0b7e1f7c-2d1a-4c55-9e0a-7f3c2b1d4e55"
TICKET = "legacy:tickets-db:poll:tickets:501"


def upload(phone: str, event_id: str | None = None, summary: str = "Tarjeta retenida en cajero") -> dict[str, Any]:
    """A counter transaction with only ``phone`` that hands a card dispute off (the branch adapter's body)."""
    sent = copy.deepcopy(with_handoff({"kind": "card-dispute", "summary": summary}))
    event = sent["events"][0]
    event["identifiers"] = [{"type": "phone", "value": phone}]
    if event_id:
        event["event_id"] = event_id
    return sent


def published(sent: dict[str, Any]) -> list[tuple[Event, str]]:
    """What the branch adapter publishes for ``sent``, with the topic identity reads each from."""
    topics = {"omnibus.contact.IdentifiersObserved": OBSERVED, "omnibus.handoff.HandoffCreated": HANDOFFS}
    return [(out.event, topics.get(out.event.schema, CONTACTS)) for out in mapped(sent).events]


def record(phone_event: Event, given_name: str, minutes: int) -> Event:
    """A customer's own record with the phone of ``phone_event`` (as the adapter normalised it) and an e-mail."""
    phone = next(i for i in phone_event.value["identifiers"] if i["type"].lower() == "phone")
    mail = ident("EMAIL", f"{given_name.lower()}@example.es")
    return Event("omnibus.contact.IdentifiersObserved", {
        "envelope": envelope("WEB", minutes=minutes), "identifiers": [phone, mail],
        "traits": {"given_name": given_name, "family_name": "García"}})


def observed_of(items: list[tuple[Event, str]]) -> Event:
    return next(e for e, topic in items if e.schema.endswith("IdentifiersObserved"))


def scene(corrected_phone: str) -> dict[str, list[tuple[Event, str]]]:
    first, correction = published(upload(ANA_PHONE)), published(upload(corrected_phone, CORRECTION))
    created = next(e for e, topic in first if topic == HANDOFFS)
    status = status_events(created, acknowledged(created.value["handoff_id"], T0))  # the tracker: the case's own ids
    items = {"ana": [(record(observed_of(first), "Ana", 0), OBSERVED)], "v1": first, "v2": correction,
             "status": [(event, HANDOFFS) for event in status]}
    if corrected_phone == PEDRO_PHONE:
        items["pedro"] = [(record(observed_of(correction), "Pedro", 1), OBSERVED)]
    return items


def run(order: tuple[str, ...], items: dict[str, list[tuple[Event, str]]]) -> Harness:
    h = Harness(settings())
    for name in order:
        for event, topic in items[name]:
            h.feed(event, topic)
    h.local.run()
    h.local.check_consistent()
    return h


def ana(h: Harness, items: dict[str, list[tuple[Event, str]]]) -> str:
    customer = h.customer("EMAIL", "ana@example.es")
    assert customer is not None
    return root(h, customer)


def contact_events(items: dict[str, list[tuple[Event, str]]]) -> list[Event]:
    return [event for name in ("v1", "v2", "status") for event, topic in items[name] if topic != OBSERVED]


def assert_all_on_ana(h: Harness, items: dict[str, list[tuple[Event, str]]]) -> None:
    anas = ana(h, items)
    for event in contact_events(items):
        assert stands_on(h, event, anas), event.schema
    case = next(e for e, topic in items["v1"] if topic == HANDOFFS).value["handoff_id"]
    assert contact_ids(h, anas) and handoffs(h, anas) == [case]
    others = {root(h, c) for c in h.local.store.profiles if c != anas and root(h, c) != anas}
    assert all(not contact_ids(h, other) and not handoffs(h, other) for other in others)


ORDERS = [order for order in itertools.permutations(("ana", "v1", "v2", "status"))
          if order.index("v1") < order.index("status")]  # the tracker answers the case it was given


@pytest.mark.parametrize("order", ORDERS, ids="-".join)
def test_the_reported_sample_a_corrected_phone_leaves_the_case_and_the_contact_on_ana(order: tuple[str, ...]) -> None:
    items = scene(TYPO_PHONE)
    h = run(order, items)
    assert_all_on_ana(h, items)


@pytest.mark.parametrize("order", [o + ("pedro",) for o in ORDERS[:6]] + [("pedro", *o) for o in ORDERS[-6:]],
                         ids="-".join)
def test_corrected_to_another_customers_phone_the_contact_stays_on_ana_not_on_his(order: tuple[str, ...]) -> None:
    items = scene(PEDRO_PHONE)
    h = run(order, items)
    assert_all_on_ana(h, items)


def test_the_correction_that_landed_elsewhere_moves_by_the_corrected_version_rule() -> None:
    items = scene(TYPO_PHONE)
    h = run(("ana", "v1", "v2", "status"), items)
    moved = h.decisions(ContactMoved)
    assert moved and {m.lineage.rule for m in moved} == {CORRECTED_VERSION}
    # (the customer the correction made for the number nobody held merges into Ana's: either id may survive)
    assert all(root(h, m.target_id) == ana(h, items) for m in moved)


def test_the_versions_of_one_contact_meet_on_one_node_whatever_identifiers_they_carry() -> None:
    assert node_of("BRANCH/abc") == node_of("BRANCH/abc") and node_of("BRANCH/abc").startswith(NODE_PREFIX)
    assert len({node_of(f"BRANCH/{n}") for n in range(200)}) > 150  # spread over the nodes


def ticket_version(phone_event: Event, hours: int) -> Event:
    """A polled ticket row's ``HandoffCreated`` (no contact: ``adapters/legacy/handoffs.py``) naming the phone of
    ``phone_event``, at its version ``hours`` after T0."""
    phone = next(i for i in phone_event.value["identifiers"] if i["type"].lower() == "phone")
    event = created(TICKET, T0 + timedelta(hours=hours), channel="BUSINESS_SYSTEM", identifiers=[phone])
    return Event(event.schema, {**event.value, "origin_interaction_id": None,
                                "intake_facts": {SOURCE_RECORD_FACT: TICKET}})


@pytest.mark.parametrize("corrected_phone", [TYPO_PHONE, PEDRO_PHONE])
def test_a_ticket_rows_later_version_with_another_phone_leaves_the_case_on_anas_screen_pop(
        corrected_phone: str) -> None:
    """A ticket row or keyed batch line opens a case without a contact: each version is placed by its own
    identifiers, and the case (the screen pop's ``open_handoffs``, the tracker's events) is where the tracker keeps
    it, Ana's; the later version's ``HandoffCreated`` copy stands where its phone leads (docs/subscribers.md,
    "Versions of one case": read the case from the tracker's ``HandoffStatusChanged``)."""
    items = scene(corrected_phone)
    first = ticket_version(observed_of(items["v1"]), 0)
    later = ticket_version(observed_of(items["v2"]), 2)
    status = status_events(first, acknowledged(TICKET, T0 + timedelta(hours=1)))
    h = Harness(settings())
    for event, topic in [*items["ana"], *items.get("pedro", []), (first, HANDOFFS), *((s, HANDOFFS) for s in status),
                         (later, HANDOFFS)]:
        h.feed(event, topic)
    h.local.run()
    anas = ana(h, items)
    assert TICKET in handoffs(h, anas)
    assert all(stands_on(h, event, anas) for event in (first, *status))
    others = {root(h, c) for c in h.local.store.profiles} - {anas}
    assert all(TICKET not in handoffs(h, other) for other in others)


@pytest.mark.parametrize("order", [("ana", "v1", "v2", "v3", "status"), ("ana", "v3", "v2", "status", "v1"),
                                   ("v2", "v3", "ana", "v1", "status")], ids="-".join)
def test_a_second_correction_with_the_same_new_phone_joins_the_contact_too(order: tuple[str, ...]) -> None:
    """The versions of the new phone follow the contact's first identifier, not their own latest's customer."""
    items = scene(TYPO_PHONE)
    items["v3"] = published(upload(TYPO_PHONE, "5c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f", summary="Tarjeta retenida"))
    h = run(order, items)
    assert_all_on_ana(h, items)
    assert all(stands_on(h, event, ana(h, items)) for event, topic in items["v3"] if topic != OBSERVED)
