"""tester21 F5, F14, F16: a system of record's customer number and a web login are two identifiers of two kinds.

A bank's nightly export (tester21's layout: ``customer_id`` is the core-banking customer number ``C-50..``) and its
online-banking portal (Segment ``userId`` ``ob-...``) each key the customer their own way. Both were USER_ID, limited
to one per customer: the first portal login of every customer was refused against the master record (the e-mail moved
to a web-only customer, which took the card dispute and the declined offer, F5, F14), or a later login evicted the
bank's number (F16). A layout's ``customer_id`` is a CUSTOMER_NUMBER now, with a limit of its own: the events below
are what the legacy and web adapters' mappers publish for the tester's lines and calls.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from adapters.legacy.mapper import BusinessRecord, LegacyContext, map_business
from adapters.web.config import DEFAULT_IDENTIFIER_TRAITS
from adapters.web.mapper import SegmentMapper
from bus.config import TopicSettings
from bus.serde import Event
from processors.identity.graph.outputs import Refused
from processors.identity.rules import MAX_PER_CUSTOMER
from processors.identity.web import masked_values
from tests.adapters.web.support import web_settings
from tests.bus.identifiers.support import identifier_settings
from tests.processors.identity.graph.test_joint_holders import BUSINESS, OBSERVED, feed, landed
from tests.processors.identity.graph.test_seek import root
from tests.processors.identity.support import Harness
from tests.processors.identity.support import matcher_settings as settings

NIGHT = datetime(2026, 12, 1, 23, tzinfo=UTC)  # the export's file time
IDENTIFIERS = identifier_settings(default_region="FR")
TOPICS = TopicSettings()  # FR: national IDs are NIRs, as in the tester's deployment
# night1/night4 lines (tester21's "Scenario set-up"), the fields the layout maps its columns to.
LINES: dict[str, dict[str, Any]] = {
    "alice": {"account_number": "ACC-1001", "account_type": "current", "service_tier": "standard",
              "customer_id": "C-5001", "national_id": "2850175056077 20", "given_name": "Alice",
              "family_name": "Martin", "birth_date": "1985-01-12", "phone": "06 12 34 56 71",
              "email": "alice.martin@bank-test.fr"},
    "julie": {"account_number": "ACC-1005", "account_type": "current", "service_tier": "standard",
              "customer_id": "C-5005", "national_id": "2950875056123 81", "card_number": "4970 1012 3456 7893",
              "iban": "FR76 3000 6000 0112 3456 7890 189", "given_name": "Julie", "family_name": "Petit",
              "birth_date": "1995-08-03", "phone": "06 77 88 99 00", "email": "julie.petit@bank-test.fr"},
    "gina": {"account_number": "ACC-1006", "account_type": "private-banking", "service_tier": "gold",
             "customer_id": "C-5006", "given_name": "Gina", "family_name": "Dorado", "birth_date": "1979-11-30",
             "phone": "06 55 44 33 22", "email": "gina.dorado@bank-test.fr"},
}


def master_line(holder: str, line: int) -> list[tuple[Event, str]]:
    """What ``omnibus adapter legacy import-batch`` publishes for the holder's line of the export."""
    mapped = map_business(BusinessRecord("AccountOpened", LINES[holder], f"night1.csv:{line}", NIGHT),
                          LegacyContext("core-banking", BUSINESS, identity_topic=OBSERVED, phone_region="FR",
                                        identifiers=IDENTIFIERS))
    return [(out.event, out.topic) for out in mapped.events]


def portal(message: dict[str, Any], minutes: int, **web: Any) -> list[tuple[Event, str]]:
    """What the web adapter publishes for one Segment call (the tester's curl, a timestamp added)."""
    at = NIGHT + timedelta(hours=9, minutes=minutes)
    mapper = SegmentMapper(web_settings(**web), TOPICS, IDENTIFIERS)
    mapped = mapper({**message, "timestamp": at.isoformat()}, source="portal-web", received_at=at)
    return [(out.event, out.topic.removeprefix(f"{TOPICS.prefix}.")) for out in mapped.events]


def login(user_id: str, email: str, first: str, last: str, minutes: int, web: dict[str, Any] | None = None,
          **traits: str) -> list[tuple[Event, str]]:
    return portal({"type": "identify", "userId": user_id, "messageId": f"m-id-{user_id}",
                   "traits": {"email": email, "firstName": first, "lastName": last, **traits}}, minutes, **(web or {}))


def track(user_id: str, event: str, properties: dict[str, Any], minutes: int) -> list[tuple[Event, str]]:
    return portal({"type": "track", "userId": user_id, "messageId": f"m-tr-{user_id}-{minutes}", "event": event,
                   "properties": properties}, minutes)


def bank() -> Harness:
    """The master records of Alice, Julie and Gina."""
    h = Harness(settings())
    feed(h, [*master_line("alice", 2), *master_line("julie", 6), *master_line("gina", 7)])
    return h


def limit_refusals(h: Harness) -> list[Refused]:
    return [refused for refused in h.decisions(Refused) if refused.lineage.rule == MAX_PER_CUSTOMER]


def test_a_layouts_customer_id_is_the_customer_number_of_the_master_record() -> None:
    h = bank()
    alice = h.customer("PHONE", "+33612345671")
    assert alice is not None and h.customer("CUSTOMER_NUMBER", "C-5001") == alice
    assert h.customer("USER_ID", "C-5001") is None  # not a web login
    assert h.customer("CUSTOMER_NUMBER", " c-5006") == h.customer("EMAIL", "gina.dorado@bank-test.fr")  # as typed
    assert masked_values(["CUSTOMER_NUMBER:C-5001"]) == {"CUSTOMER_NUMBER:C-5001": "****5001"}  # the screen pop: F6


@pytest.mark.parametrize(("holder", "user_id", "request_id"),
                         [("alice", "ob-alice", "CD-1001"), ("gina", "ob-gina", "CD-1002")])
def test_the_first_portal_login_joins_the_master_record_with_its_email_and_its_dispute(
        holder: str, user_id: str, request_id: str) -> None:
    """F5: the login (registered e-mail written as the user typed it, names) and its card dispute land on the master
    record, which keeps its e-mail; the dispute is on the customer whose account carries the tier (Gina's gold, by
    which the handoff processor times it: 4 h, not the standard 20 h)."""
    h = bank()
    line = LINES[holder]
    master = h.customer("CUSTOMER_NUMBER", line["customer_id"])
    identify = login(user_id, line["email"].title(), line["given_name"], line["family_name"], minutes=1)
    dispute = track(user_id, "Service Request Submitted", {"case_type": "card-dispute", "request_id": request_id,
                                                           "summary": "Unknown charge of 89.90 EUR on 28/11"}, 2)
    feed(h, [*identify, *dispute])
    assert h.customer("USER_ID", user_id) == master
    assert h.customer("EMAIL", line["email"]) == master
    assert h.customer("CUSTOMER_NUMBER", line["customer_id"]) == master
    for event, _ in [*identify, *dispute]:
        assert landed(h, event) == {master}, event.schema
    assert not limit_refusals(h)
    assert len(h.local.roots()) == 3  # no web-only customer
    accounts = (h.local.store.get_profile(master) or {})["products"]["accounts"]
    assert accounts[line["account_number"]]["service_tier"] == line["service_tier"]
    h.local.check_consistent()


def test_an_offer_declined_on_the_portal_is_declined_by_the_master_record() -> None:
    """F14: the decline's USER_ID is the master record's, so the offers processor (which finds the customer by the
    decline's identifiers) withdraws the offer from the call center and the counter of the customer her phone pops."""
    h = bank()
    feed(h, login("ob-alice", "Alice.Martin@bank-test.fr", "Alice", "Martin", minutes=1))
    feed(h, track("ob-alice", "Offer Declined", {"offer_id": "gold-card-upgrade", "offer_version": 1}, 3))
    assert h.customer("USER_ID", "ob-alice") == h.customer("PHONE", "+33612345671") is not None


def test_a_portal_login_never_evicts_the_banks_customer_number() -> None:
    """F16: Julie registers on the portal (her NIR, card and IBAN, another e-mail and phone): the login joins her
    master record and her customer number stays on it, so the back office and the IVR still find her by it. The
    portal's back end verified her NIR at registration (read by default before tester29 F9, now its opt-in)."""
    h = bank()
    julie = h.customer("CUSTOMER_NUMBER", "C-5005")
    identify = login("ob-log-1", "log.person@bank-test.fr", "Julie", "Petit", minutes=1,
                     web={"identifier_traits": {**DEFAULT_IDENTIFIER_TRAITS, "NATIONAL_ID": ("nationalId",)}},
                     nationalId=LINES["julie"]["national_id"], cardNumber=LINES["julie"]["card_number"],
                     iban=LINES["julie"]["iban"], phone="+33 6 98 76 54 32")
    feed(h, identify)
    assert julie is not None and h.customer("CUSTOMER_NUMBER", "C-5005") == julie
    assert h.customer("USER_ID", "ob-log-1") == julie and landed(h, identify[0][0]) == {julie}
    assert not limit_refusals(h)
    h.local.check_consistent()


def test_a_second_login_of_one_person_is_still_refused_by_the_login_limit() -> None:
    """One login per person (USER_ID's limit is unchanged): a second portal account with her e-mail is refused
    against the master record, which keeps its first login and its customer number."""
    h = bank()
    feed(h, login("ob-alice", "alice.martin@bank-test.fr", "Alice", "Martin", minutes=1))
    feed(h, login("ob-alice-2", "alice.martin@bank-test.fr", "Alice", "Martin", minutes=5))
    alice = h.customer("CUSTOMER_NUMBER", "C-5001")
    assert h.customer("USER_ID", "ob-alice") == alice and h.customer("USER_ID", "ob-alice-2") != alice
    assert h.customer("EMAIL", "alice.martin@bank-test.fr") == alice
    refusals = limit_refusals(h)
    assert refusals and all("2 USER_ID identifiers" in refused.reason and not refused.evicted for refused in refusals)
    h.local.check_consistent()


def test_two_customer_numbers_of_one_system_are_two_people() -> None:
    """A customer number is one per customer of its system of record: a line that gives Alice's phone to another
    number is not merged into her (the number's limit refuses the link, as the login's did)."""
    h = bank()
    other = {**LINES["alice"], "account_number": "ACC-1099", "customer_id": "C-5099", "national_id": None,
             "given_name": "Alicia", "email": None}
    mapped = map_business(BusinessRecord("AccountOpened", other, "night2.csv:9", NIGHT + timedelta(days=1)),
                          LegacyContext("core-banking", BUSINESS, identity_topic=OBSERVED, phone_region="FR",
                                        identifiers=IDENTIFIERS))
    feed(h, [(out.event, out.topic) for out in mapped.events])
    assert root(h, h.customer("CUSTOMER_NUMBER", "C-5099") or "") != root(h, h.customer("CUSTOMER_NUMBER", "C-5001")
                                                                               or "")
    h.local.check_consistent()


BILLING_FORMAT = '{"prefix": "C-"}'  # OMNIBUS_IDENTIFIERS__CUSTOMER_NUMBER_FORMAT: billing's numbers are C-770002


def keypad_call(number: str, identifiers: Any) -> list[tuple[Event, str]]:
    """A call whose IVR took the customer number on the keypad and checked it (Connect attribute ``customerNumber``,
    named in ``verified_record_attributes``: none is read by default, tester24 F3), from a phone the master
    record does not carry."""
    from adapters.call_center.mapper import MapContext, Topics
    from adapters.call_center.mapper_ctr import map_ctr
    from tests.adapters.call_center.support import call_center_settings
    from tests.adapters.call_center.test_mapper_identifiers import ctr

    settings = call_center_settings(verified_record_attributes={"CUSTOMER_NUMBER": ["customerNumber"]})
    context = MapContext("paris", settings.sites["paris"], Topics.of(TOPICS), settings, identifiers)
    record = ctr(CustomerEndpoint={"Address": "+33699887766", "Type": "TELEPHONE_NUMBER"},
                 Attributes={"customerNumber": number})
    return [(out.event, OBSERVED if out.event.schema.endswith("IdentifiersObserved") else "contact.events.v1")
            for out in map_ctr(record, context).events]


@pytest.mark.parametrize("typed", ["770002", "0770002", "c 770002"])
def test_f9_a_customer_number_typed_on_the_keypad_finds_billings_customer(
        monkeypatch: pytest.MonkeyPatch, typed: str) -> None:
    """F9 (fresh tester, session 20): the call center's keypad ``770002`` never matched billing's ``C-770002``. With
    billing's format set (the same ``OMNIBUS_IDENTIFIERS__CUSTOMER_NUMBER_FORMAT`` on the adapters and identity) the
    call lands on the master record, and the screen pop finds it by the number as the agent types it."""
    monkeypatch.setenv("OMNIBUS_IDENTIFIERS__CUSTOMER_NUMBER_FORMAT", BILLING_FORMAT)
    identifiers = identifier_settings(default_region="FR", customer_number_format={"prefix": "C-"})
    h = Harness(settings())
    line = {**LINES["alice"], "customer_id": "C-770002"}
    mapped = map_business(BusinessRecord("AccountOpened", line, "night1.csv:2", NIGHT),
                          LegacyContext("billing", BUSINESS, identity_topic=OBSERVED, phone_region="FR",
                                        identifiers=identifiers))
    feed(h, [(out.event, out.topic) for out in mapped.events])
    master = h.customer("EMAIL", line["email"])
    call = keypad_call(typed, identifiers)
    feed(h, call)
    assert master is not None and h.customer("CUSTOMER_NUMBER", "C-770002") == master
    assert h.customer("CUSTOMER_NUMBER", typed) == master  # the screen pop's lookup, as typed
    assert h.customer("PHONE", "+33699887766") == master and landed(h, call[0][0]) == {master}
    assert len(h.local.roots()) == 1
    h.local.check_consistent()


def stranger_claims(number: str, **web: Any) -> list[tuple[Event, str]]:
    """A visitor's portal identify (his own login and e-mail, no name) with another customer's number typed in the
    portal's form (Segment trait ``customerNumber``), as the web adapter maps it with ``web`` settings."""
    at = NIGHT + timedelta(hours=9)
    mapper = SegmentMapper(web_settings(**web), TOPICS, IDENTIFIERS)
    mapped = mapper({"type": "identify", "userId": "ob-mallory", "messageId": "m-claim", "timestamp": at.isoformat(),
                     "traits": {"email": "mallory.smith@orange-mail.fr", "customerNumber": number}},
                    source="portal-web", received_at=at)
    return [(out.event, out.topic.removeprefix(f"{TOPICS.prefix}.")) for out in mapped.events]


def test_f5_a_web_claim_of_another_customers_number_is_not_read_by_default() -> None:
    """The safe default (F5, session 20): the web adapter does not read ``customerNumber``, so a visitor who types
    Alice's number stays his own customer, and Alice's own first login still joins her master record."""
    h = bank()
    alice = h.customer("CUSTOMER_NUMBER", "C-5001")
    feed(h, stranger_claims("C-5001"))
    mallory = h.customer("USER_ID", "ob-mallory")
    assert mallory is not None and mallory != alice and h.customer("EMAIL", "mallory.smith@orange-mail.fr") == mallory
    feed(h, login("ob-alice", "alice.martin@bank-test.fr", "Alice", "Martin", minutes=5))
    assert h.customer("USER_ID", "ob-alice") == alice and not limit_refusals(h)
    h.local.check_consistent()


def test_why_a_web_customer_number_is_opt_in_a_claim_read_as_one_puts_the_visitor_on_the_numbers_customer() -> None:
    """What a web claim does when a deployment reads ``customerNumber`` as an identifier: identity links what comes
    with the number to its customer (a customer number ranks above every web identifier, and a new login and e-mail
    merge no two customers, so no weight is asked), so the visitor's login and e-mail land on Alice, his answers
    would be hers, and her own first login is then refused by the one-login limit. Hence opt-in, for a portal whose
    back end writes the number it verified (README, OMNIBUS_ADAPTER_WEB__IDENTIFIER_TRAITS)."""
    from adapters.web.config import DEFAULT_IDENTIFIER_TRAITS

    h = bank()
    alice = h.customer("CUSTOMER_NUMBER", "C-5001")
    read = {**DEFAULT_IDENTIFIER_TRAITS, "CUSTOMER_NUMBER": ("customerNumber",)}
    feed(h, stranger_claims("C-5001", identifier_traits=read))
    assert h.customer("USER_ID", "ob-mallory") == alice
    assert h.customer("EMAIL", "mallory.smith@orange-mail.fr") == alice
    feed(h, login("ob-alice", "alice.martin@bank-test.fr", "Alice", "Martin", minutes=5))
    assert h.customer("USER_ID", "ob-alice") != alice and limit_refusals(h)
    h.local.check_consistent()
