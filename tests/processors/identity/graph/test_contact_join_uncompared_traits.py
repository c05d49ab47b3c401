"""A call whose IVR record carries only traits identity does not compare (tester32 F5, a Spanish bank).

The contact flow set the caller's ``language`` (docs/handoffs.md asks for it, for notifications in the caller's
language) and nothing else: the call-center adapter names the IVR record in the contact's ``traits_event_id``, as for
any trait, and the contact waits at its phone for that record's traits (``graph/contact_join.py``). The record's
traits summarised to nothing compared, so it left none, and the call waited, on no customer and on nobody's screen
pop, until an event a day later on that phone. The kind: every record whose traits are all of kinds the matcher does
not compare (language, locale, country, city without an address) or do not read (a birth date that is not a date);
in every arrival order, on one partition and on three, the call is the phone's customer's.
"""

from __future__ import annotations

import itertools
import json

import pytest

from adapters.call_center.mapper_ctr import map_ctr
from tests.adapters.call_center.test_mapper_identifiers import context, ctr
from tests.processors.identity.graph.test_evidence import ANN
from tests.processors.identity.graph.test_seek import (
    ANN_ACCOUNT,
    FAMILY_PHONE,
    OBSERVED,
    call,
    contact_ids,
    observed,
    resolved_to,
)
from tests.processors.identity.support import Harness
from tests.processors.identity.support import matcher_settings as settings

CONTACTS = "contact.events.v1"
UNCOMPARED = {
    "language": {"preferred_language": "es-ES"},
    "locale": {"preferred_language": "es"},
    "country": {"country": "ES"},
    "city": {"city": "Madrid"},
    "unread birth date": {"birth_date": "not a date"},
}
ORDERS = list(itertools.permutations(("ann", "call", "ivr")))


def fed(order: tuple[str, ...], traits: dict[str, str], *, partitions: int = 1, seed: int | None = None) -> tuple:
    contact, sibling = call(traits, minutes=10)
    assert contact.value["traits_event_id"] == sibling.value["envelope"]["event_id"]  # as the adapter names it
    events = {"ann": (observed([ANN_ACCOUNT, FAMILY_PHONE], ANN, 0), OBSERVED), "call": (contact, CONTACTS),
              "ivr": (sibling, OBSERVED)}
    h = Harness(settings(), partitions=partitions, seed=seed)
    for name in order:
        h.feed(*events[name], settle=partitions == 1)
    h.local.run()
    h.local.check_consistent()
    return h, contact


def assert_on_the_phones_customer(h: Harness, contact: object) -> None:
    ann = h.customer(*ANN_ACCOUNT)
    assert ann is not None and resolved_to(h, contact) == {ann}  # type: ignore[arg-type]
    assert "call-1" in contact_ids(h, ann)
    box = h.local.store.nodes[h.key(*FAMILY_PHONE)].housemates  # type: ignore[union-attr]
    assert box is None or not box.awaiting


@pytest.mark.parametrize("traits", UNCOMPARED.values(), ids=UNCOMPARED.keys())
@pytest.mark.parametrize("order", ORDERS, ids=["-".join(order) for order in ORDERS])
def test_a_call_whose_record_carries_only_uncompared_traits_is_on_the_phones_customer(
        order: tuple[str, ...], traits: dict[str, str]) -> None:
    assert_on_the_phones_customer(*fed(order, traits))


@pytest.mark.parametrize("seed", [3, 5, 7, 11])
@pytest.mark.parametrize("traits", UNCOMPARED.values(), ids=UNCOMPARED.keys())
def test_so_it_is_on_three_partitions_with_messages_interleaved(traits: dict[str, str], seed: int) -> None:
    for order in ORDERS:
        assert_on_the_phones_customer(*fed(order, traits, partitions=3, seed=seed))


LANGUAGE_ONLY = [{"language": "es-ES"}, {"locale": "es"}, {"language": "es-ES", "ivr_menu": "tarjetas"}]


@pytest.mark.parametrize("attributes", LANGUAGE_ONLY)
def test_the_reported_ctr_from_a_known_mobile_with_a_language_attribute(attributes: dict[str, str]) -> None:
    """The sample, end to end from the adapter's mapper: a Connect CTR from Ann's phone whose contact flow set only a
    language; every event of the call (CallCompleted, InteractionRecorded, the IVR record), in every order after
    Ann's record, and Ann's screen pop lists the call."""
    native = json.loads(json.dumps(ctr(CustomerEndpoint={"Address": FAMILY_PHONE[1], "Type": "TELEPHONE_NUMBER"},
                                       Attributes=attributes)).replace("2024-03-05T", "2025-03-01T"))
    mapped = [(o.event, OBSERVED if o.event.schema.endswith("IdentifiersObserved") else CONTACTS)
              for o in map_ctr(native, context()).events]
    assert [event.schema.rsplit(".", 1)[1] for event, _ in mapped] == [
        "CallCompleted", "InteractionRecorded", "IdentifiersObserved"]
    assert mapped[1][0].value["traits_event_id"] is not None  # the contact waits for its record, as the tester's did
    for order in itertools.permutations(mapped):
        h = Harness(settings())
        h.feed(observed([ANN_ACCOUNT, FAMILY_PHONE], ANN, 0), OBSERVED)
        for event, topic in order:
            h.feed(event, topic)
        h.local.check_consistent()
        ann = h.customer(*ANN_ACCOUNT)
        assert all(resolved_to(h, event) == {ann} for event, _ in mapped[:2])
        assert len(contact_ids(h, ann)) == 1


@pytest.mark.parametrize("channel", ["BRANCH", "BUSINESS_SYSTEM"])
@pytest.mark.parametrize("order", ORDERS, ids=["-".join(order) for order in ORDERS])
def test_so_is_a_counter_visit_or_a_business_record_naming_such_a_record(order: tuple[str, ...], channel: str) -> None:
    """The same join serves a counter visit's transaction (its customer's ``preferred_language`` alone) and a legacy
    record's line (``intake.CALLER_RECORDS``)."""
    contact, sibling = call(UNCOMPARED["language"], minutes=10)
    for event in (contact, sibling):
        event.value["envelope"]["channel"] = channel
    events = {"ann": (observed([ANN_ACCOUNT, FAMILY_PHONE], ANN, 0), OBSERVED), "call": (contact, CONTACTS),
              "ivr": (sibling, OBSERVED)}
    h = Harness(settings())
    for name in order:
        h.feed(*events[name])
    h.local.check_consistent()
    assert_on_the_phones_customer(h, contact)
