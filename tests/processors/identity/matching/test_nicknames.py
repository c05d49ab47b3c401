"""A nickname is the same given name: of the full name ("Bill"/"William") or of another nickname of it ("Bob"/"Rob",
both Robert's) (tester15 F8).

Web identify of William Bernard (b. 1966-06-16, 38100) then a counter transaction with a phone as "Bill Bernard", the
same birth date and postcode: two customers, no merge, no review. A nickname was no *distinct* real name
(``given_names.variants``), but it compared by spelling (Jaro-Winkler "bill"/"william" 0.51): *different*, the given
name's veto. Robert Garnier (web) and "Bob Garneir" (counter, with a phone) stayed apart the same way, and a call from
that phone as "Rob Garnier" was refused on Bob ("given_name differs (match weight 14.6 bits): two people") and merged
into Robert: Bob and Rob, both Robert's nicknames, were two real, different first names. Nicknames of one name now
compare as *close* (``compare.given_level``); twins' names stay *different* (``test_given_names``, ``test_seek_twins``).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from adapters.branch.mapper import CounterMapper
from adapters.call_center.mapper_ctr import map_ctr
from adapters.web.mapper import SegmentMapper
from bus.config import TopicSettings
from bus.serde import Event
from processors.identity.graph.outputs import Merged, ReviewRequested
from processors.identity.matching.compare import Level, trait_levels
from processors.identity.matching.given_names import distinct, nicknames
from processors.identity.matching.traits import summarize
from tests.adapters.branch.support import branch_settings
from tests.adapters.call_center.test_mapper_identifiers import context, ctr
from tests.adapters.web.support import web_settings
from tests.processors.identity.graph.test_seek import resolved_to
from tests.processors.identity.support import Harness
from tests.processors.identity.support import matcher_settings as settings

RECEIVED = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
BILL_PHONE, BOB_PHONE = "06 21 22 23 24", "06 31 32 33 34"


def topic(event: Event) -> str:
    return "identity.observed.v1" if event.schema.endswith("IdentifiersObserved") else "contact.events.v1"


def feed(h: Harness, events: list[Event]) -> None:
    for event in events:
        h.feed(event, topic(event))


def identify(user_id: str, given: str, family: str, birth: str, email: str, street: str, postcode: str) -> list[Event]:
    """A Segment identify from the web portal, through the web adapter's mapper."""
    message = {"type": "identify", "userId": user_id, "messageId": f"m-{user_id}", "timestamp": "2026-12-01T13:05:00Z",
               "traits": {"firstName": given, "lastName": family, "birthday": birth, "email": email,
                          "address": {"street": street, "postalCode": postcode, "city": "Grenoble"}}}
    mapper = SegmentMapper(web_settings(), TopicSettings())
    return [o.event for o in mapper(message, source="portal-web", received_at=RECEIVED).events]


def counter(event_id: str, phone: str, customer: dict[str, str], email: str | None = None) -> list[Event]:
    """A counter transaction with a phone (and ``email``, if given), through the branch adapter's mapper."""
    identifiers = [{"type": "PHONE", "value": phone}, *([{"type": "EMAIL", "value": email}] if email else [])]
    native = {"event_id": event_id, "kind": "transaction", "occurred_at": "2026-12-01T14:07:00+01:00",
              "agent_id": "E-1", "identifiers": identifiers, "customer": customer,
              "transaction": {"id": f"TX-{event_id}", "type": "payment", "status": "completed", "counter_id": "C1"}}
    mapper = CounterMapper(branch_settings(), TopicSettings())
    return [o.event for o in mapper(native, terminal_id="CT-0142-01", branch_id="0142", received_at=RECEIVED).events]


def call(contact_id: str, phone: str, caller: dict[str, str]) -> list[Event]:
    """A Connect CTR from ``phone`` whose IVR took the caller's name and birth date, through the mapper."""
    attributes: dict[str, Any] = {"firstName": caller["given_name"], "lastName": caller["family_name"],
                                  "dateOfBirth": caller["birth_date"]}
    native = json.loads(json.dumps(ctr(ContactId=contact_id, CustomerEndpoint={"Address": phone,
                                                                                "Type": "TELEPHONE_NUMBER"},
                                       Attributes=attributes)).replace("2024-03-05T09:", "2026-12-01T15:"))
    return [o.event for o in map_ctr(native, context()).events]


def william_and_bill(given: str) -> Harness:
    h = Harness(settings(default_region="FR"))
    feed(h, identify("u-wb", "William", "Bernard", "1966-06-16", "william.bernard@free.fr", "2 rue A", "38100"))
    feed(h, counter("tx-wb-1", BILL_PHONE, {"given_name": given, "family_name": "Bernard",
                                            "birth_date": "1966-06-16", "postcode": "38100"}))
    h.local.check_consistent()
    return h


@pytest.mark.parametrize("given", ["Bill", "Billy", "Will", "Willy"])
def test_a_nickname_at_the_counter_with_the_same_surname_birth_date_and_postcode_is_merged(given: str) -> None:
    """The reported pair (Bill) and William's other nicknames the list gives: one customer, merged on traits."""
    h = william_and_bill(given)
    assert h.customer("USER_ID", "u-wb") == h.customer("PHONE", "+33621222324")
    (merged,) = h.decisions(Merged)
    assert merged.lineage.rule == "blocking-candidate"


def test_another_given_name_at_the_counter_is_still_another_person() -> None:
    """The control: a brother born the same day (a twin) with a name that is no nickname of William's."""
    h = william_and_bill("Louis")
    assert h.customer("USER_ID", "u-wb") != h.customer("PHONE", "+33621222324")
    assert not h.decisions(Merged) and not h.decisions(ReviewRequested)


ROBERT = {"given_name": "Robert", "family_name": "Garnier", "birth_date": "1970-05-05"}


def test_two_nicknames_of_one_name_are_one_person_and_the_call_lands_on_him() -> None:
    """Robert Garnier (web), "Bob Garneir" (counter, a phone), then a call from that phone as "Rob Garnier": one
    customer, and the call on it; no refusal "given_name differs" between Bob and Rob."""
    h = Harness(settings(default_region="FR"))
    feed(h, identify("u-rg", "Robert", "Garnier", "1970-05-05", "robert.garnier@free.fr", "8 rue Victor Hugo",
                     "38000"))
    feed(h, counter("tx-bg-1", BOB_PHONE, {**ROBERT, "given_name": "Bob", "family_name": "Garneir",
                                           "postcode": "38000"}))
    robert = h.customer("USER_ID", "u-rg")
    assert robert is not None and h.customer("PHONE", "+33631323334") == robert
    events = call("call-rg-1", "+33631323334", {**ROBERT, "given_name": "Rob"})
    feed(h, events)
    h.local.check_consistent()
    robert = h.customer("USER_ID", "u-rg")
    assert h.customer("PHONE", "+33631323334") == robert
    contacts = [event for event in events if topic(event) == "contact.events.v1"]
    assert contacts and all(resolved_to(h, event) == {robert} for event in contacts)


@pytest.mark.parametrize(("a", "b"), [
    ("bill", "william"), ("billy", "william"), ("bob", "robert"), ("rob", "robert"),  # nickname / full name
    ("bob", "rob"), ("bill", "billy"), ("bob", "bobby"), ("ted", "eddie"), ("peggy", "maggie"), ("dick", "rick"),
])
def test_nicknames_of_one_name_compare_close_however_unlike_their_spelling(a: str, b: str) -> None:
    assert nicknames(a, b) and nicknames(b, a) and not distinct(a, b)
    levels = trait_levels(summarize({"given_name": a}), summarize({"given_name": b}))
    assert levels["given_name"] is Level.CLOSE


@pytest.mark.parametrize(("a", "b"), [
    ("maria", "marie"), ("rosa", "rose"), ("kate", "katie"),  # one stem's forms: twins' names as often
    ("jean", "jenny"),  # both Jeanette's in the list; "jean" is a man's name in French
    ("rose", "mary"),  # the parts of a compound ("rosemary"): two names
    ("jean", "jeanne"), ("louis", "lucas"),
])
def test_names_the_genealogy_list_relates_loosely_stay_two_people(a: str, b: str) -> None:
    assert not nicknames(a, b) and distinct(a, b)
    levels = trait_levels(summarize({"given_name": a}), summarize({"given_name": b}))
    assert levels["given_name"] is Level.DIFFERENT


@pytest.mark.parametrize(("a", "b"), [("catherine", "kate"), ("elisabeth", "lisa"), ("elisabeth", "liz")])
def test_a_french_spelling_has_the_nicknames_of_the_english_one(a: str, b: str) -> None:
    """tester17 N6: the list has "kate" under "katherine" and "lisa" under "elizabeth" only; "Kate Fabre" stayed a
    customer apart from Catherine Fabre, born the same day at the same postcode, with no review."""
    assert nicknames(a, b) and not distinct(a, b)
    levels = trait_levels(summarize({"given_name": a}), summarize({"given_name": b}))
    assert levels["given_name"] is Level.CLOSE


@pytest.mark.parametrize(("full", "short"), [("Catherine", "Kate"), ("Elisabeth", "Lisa")])
def test_a_french_spelling_s_nickname_on_the_portal_is_merged(full: str, short: str) -> None:
    """The reported pairs end to end: a billing-like counter record and the portal identify under the nickname."""
    h = Harness(settings(default_region="FR"))
    feed(h, counter("tx-fr-1", BILL_PHONE, {"given_name": full, "family_name": "Fabre", "birth_date": "1975-03-03",
                                            "postcode": "35000"}))
    feed(h, identify("u-fr", short, "Fabre", "1975-03-03", "k.fabre@example.org", "3 rue B", "35000"))
    h.local.check_consistent()
    assert h.customer("USER_ID", "u-fr") == h.customer("PHONE", "+33621222324")
