"""tester24 F1: a sibling's first portal login with the family e-mail is weighed against every holder of the e-mail.

Billing (tester24's ``accounts.csv``) gives two siblings, Lea ``C-770003`` and Hugo ``C-770004``, the family e-mail
and phone; identity keeps each on one sibling's customer and the other apart through them. A portal login with the
family e-mail and a given name (the sign-up form sends only that) was weighed at the keeper only: the other sibling's
login was refused there on the given name and made a third, web-only customer, which took the family e-mail and the
login's service request, with no review naming the sibling's record. The identifier now proposes the login's customer
with every customer kept apart through it, and the matcher merges the one whose traits agree (``graph/holders.py``).
The events are what the legacy and web adapters' mappers publish, in every arrival order.
"""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

import pytest

from adapters.legacy.mapper import BusinessRecord, LegacyContext, map_business
from adapters.web.mapper import SegmentMapper
from bus.config import TopicSettings
from bus.serde import Event
from processors.identity.graph.outputs import Merged, ReviewRequested
from tests.adapters.web.support import web_settings
from tests.processors.identity.graph.test_joint_holders import BUSINESS, OBSERVED, feed, landed
from tests.processors.identity.graph.test_keypad_customer_number import CALLED, EXPORTED, PLAIN
from tests.processors.identity.graph.test_portal_login import last_placed
from tests.processors.identity.graph.test_seek import root
from tests.processors.identity.support import Harness
from tests.processors.identity.support import matcher_settings as settings

Item = tuple[Event, str]
TOPICS = TopicSettings()
FAMILY_EMAIL, FAMILY_PHONE = "famille.martin@example.fr", "+33611223355"
# tester24's accounts.csv lines 2 and 3, the fields its layout maps the columns to
SIBLINGS: dict[str, dict[str, Any]] = {
    "lea": {"account_number": "CT-900002", "account_type": "mobile", "customer_id": "C-770003", "email": FAMILY_EMAIL,
            "phone": "0611223355", "given_name": "Lea", "family_name": "Martin", "birth_date": "2004-09-05"},
    "hugo": {"account_number": "CT-900003", "account_type": "mobile", "customer_id": "C-770004", "email": FAMILY_EMAIL,
             "phone": "0611223355", "given_name": "Hugo", "family_name": "Martin", "birth_date": "2007-01-21"},
}
NUMBERS = {"lea": "C-770003", "hugo": "C-770004"}


def billing_line(sibling: str, line: int, **fields: Any) -> list[Item]:
    """What ``omnibus adapter legacy import-batch`` publishes for the sibling's line of the export."""
    mapped = map_business(BusinessRecord("AccountOpened", {**SIBLINGS[sibling], **fields}, f"accounts.csv:{line}",
                                         EXPORTED),
                          LegacyContext("billing", BUSINESS, identity_topic=OBSERVED, phone_region="FR",
                                        identifiers=PLAIN))
    return [(out.event, out.topic) for out in mapped.events]


def portal(message: dict[str, Any], minutes: int) -> list[Item]:
    """What the web adapter publishes for one Segment call after the export (the tester's curl, a timestamp added)."""
    at = CALLED + timedelta(minutes=minutes)
    mapped = SegmentMapper(web_settings(), TOPICS, PLAIN)({**message, "timestamp": at.isoformat()},
                                                          source="portal-web", received_at=at)
    return [(out.event, out.topic.removeprefix(f"{TOPICS.prefix}.")) for out in mapped.events]


def first_login(user: str, minutes: int = 0, **traits: str) -> list[Item]:
    """The sibling's identify (the family e-mail unless ``traits`` say otherwise) and her service request."""
    identify = portal({"type": "identify", "userId": user, "messageId": f"m-{user}-1",
                       "traits": {"email": FAMILY_EMAIL, **traits}}, minutes)
    request = portal({"type": "track", "userId": user, "messageId": f"m-{user}-2", "event": "Service Request Submitted",
                      "properties": {"category": "billing-dispute", "summary": "charged twice"}}, minutes + 1)
    return [*identify, *request]


def orders(*groups: list[Item]) -> list[list[Item]]:
    """Every arrival order of ``groups`` (a billing line's events, a login's), each group's events in turn."""
    return [[item for group in chosen for item in group] for chosen in itertools.permutations(groups)]


def record(h: Harness, sibling: str) -> str:
    return root(h, h.customer("CUSTOMER_NUMBER", NUMBERS[sibling]) or "")


def held_by(h: Harness, kind: str, value: str) -> str:
    return root(h, h.customer(kind, value) or "")


@pytest.mark.parametrize("order", range(6))
@pytest.mark.parametrize("sibling", ["lea", "hugo"])
def test_f1_a_siblings_first_login_with_the_family_email_and_her_given_name_joins_her_billing_record(
        sibling: str, order: int) -> None:
    """The reported case (Lea, ``firstName`` only) and her brother's, the two lines and the login in every order:
    whichever sibling keeps the family e-mail, the login, its request and the e-mail end on a sibling's billing
    record, the login on its own person's; no third customer."""
    login = first_login(f"web-{sibling}", firstName=SIBLINGS[sibling]["given_name"])
    h = Harness(settings())
    feed(h, orders(billing_line("lea", 2), billing_line("hugo", 3), login)[order])
    own, other = record(h, sibling), record(h, "hugo" if sibling == "lea" else "lea")
    assert own != other
    assert held_by(h, "USER_ID", f"web-{sibling}") == own
    for event, _ in login:
        assert landed(h, event) <= {own}, event.schema
    assert held_by(h, "EMAIL", FAMILY_EMAIL) in (own, other)  # a record holder keeps it, not a web-only customer
    assert len({root(h, customer) for customer in h.local.roots()}) == 2
    assert not h.decisions(ReviewRequested)
    h.local.check_consistent()


def test_both_siblings_logins_join_their_own_records_in_every_order() -> None:
    """Each sibling logs in with the family e-mail and a given name: the four groups in all 24 orders."""
    logins = {sibling: first_login(f"web-{sibling}", minutes, firstName=SIBLINGS[sibling]["given_name"])
              for sibling, minutes in (("lea", 0), ("hugo", 5))}
    for order in orders(billing_line("lea", 2), billing_line("hugo", 3), *logins.values()):
        h = Harness(settings())
        feed(h, order)
        shape = [event.value["envelope"]["event_id"][-12:] for event, _ in order]
        for sibling, login in logins.items():
            assert held_by(h, "USER_ID", f"web-{sibling}") == record(h, sibling), shape
            assert landed(h, login[-1][0]) == {record(h, sibling)}, shape
        assert len({root(h, customer) for customer in h.local.roots()}) == 2, shape
        h.local.check_consistent()


@pytest.mark.parametrize("order", range(6))
@pytest.mark.parametrize("told", [("given_name",), ("given_name", "birth_date")])
def test_a_login_with_the_family_phone_and_the_siblings_traits_joins_her_record(told: tuple[str, ...],
                                                                                order: int) -> None:
    """The rest of the kind: the shared identifier is the family phone, the login tells the sibling's given name
    (and birth date), whichever sibling keeps the phone."""
    sent = {"given_name": "firstName", "birth_date": "birthday"}
    for sibling in SIBLINGS:
        person = SIBLINGS[sibling]
        login = first_login(f"web-{sibling}", email=None, phone=person["phone"],
                            **{sent[field]: person[field] for field in told})
        h = Harness(settings())
        feed(h, orders(billing_line("lea", 2), billing_line("hugo", 3), login)[order])
        assert held_by(h, "USER_ID", f"web-{sibling}") == record(h, sibling), sibling
        assert landed(h, login[-1][0]) == {record(h, sibling)}, sibling
        assert len({root(h, customer) for customer in h.local.roots()}) == 2, sibling
        h.local.check_consistent()


@pytest.mark.parametrize("order", range(6))
def test_a_login_whose_given_name_is_neither_siblings_joins_neither(order: int) -> None:
    """A third person of the household (their mother) logs in with the family e-mail: weighed against both
    siblings, refused by both; her login stays on a customer of its own."""
    login = first_login("web-marie", firstName="Marie")
    h = Harness(settings())
    feed(h, orders(billing_line("lea", 2), billing_line("hugo", 3), login)[order])
    lea, hugo = record(h, "lea"), record(h, "hugo")
    assert held_by(h, "USER_ID", "web-marie") not in (lea, hugo)
    assert not h.decisions(Merged)
    h.local.check_consistent()


@pytest.mark.parametrize("order", range(6))
def test_a_login_without_a_given_name_merges_with_no_sibling_and_waits_for_review(order: int) -> None:
    """Nothing tells which sibling logs in (the e-mail only): no merge into either, one review with a sibling's
    record (the mailbox is weighed as a household's, ``portal-login F10``)."""
    login = first_login("web-someone")
    h = Harness(settings())
    feed(h, orders(billing_line("lea", 2), billing_line("hugo", 3), login)[order])
    lea, hugo = record(h, "lea"), record(h, "hugo")
    assert held_by(h, "USER_ID", "web-someone") not in (lea, hugo)
    assert not h.decisions(Merged)
    (review,) = h.decisions(ReviewRequested)
    assert {root(h, review.customer_id), root(h, review.other_customer_id)} & {lea, hugo}
    h.local.check_consistent()


@pytest.mark.parametrize("order", range(6))
def test_a_login_whose_given_name_both_siblings_bear_stays_a_review_in_every_order(order: int) -> None:
    """Two siblings of one given name (born apart): the login's ``firstName`` fits both, so it merges into neither;
    one review with a sibling's record, the e-mail on a record, the login's request on its own customer
    (``graph/fits_two.py``; before it the login merged into a record in 6 of 6 orders, no review)."""
    login = first_login("web-lea", firstName="Lea")
    h = Harness(settings())
    feed(h, orders(billing_line("lea", 2), billing_line("hugo", 3, given_name="Lea"), login)[order])
    records = {record(h, "lea"), record(h, "hugo")}
    own = held_by(h, "USER_ID", "web-lea")
    assert own not in records and len(records) == 2
    assert last_placed(h, login[-1][0]) == own  # her request follows her login (re-published if it moved)
    assert held_by(h, "EMAIL", FAMILY_EMAIL) in records
    (review,) = h.decisions(ReviewRequested)
    assert {root(h, review.customer_id), root(h, review.other_customer_id)} - records == {own}
    assert not h.decisions(Merged)
    h.local.check_consistent()


@pytest.mark.parametrize(("partitions", "duplicates"), [(5, 0.3), (12, 0.5)])
def test_across_partitions_with_redeliveries_each_siblings_login_joins_her_record(partitions: int,
                                                                                  duplicates: float) -> None:
    """The two lines and a sibling's login in flight together, in every order, shuffled across partitions and
    redelivered: the login on its sibling's record, no third customer."""
    for sibling in SIBLINGS:
        login = first_login(f"web-{sibling}", firstName=SIBLINGS[sibling]["given_name"])
        for index, order in enumerate(orders(billing_line("lea", 2), billing_line("hugo", 3), login)):
            h = Harness(settings(), partitions=partitions, seed=index, duplicates=duplicates)
            for event, topic in order:
                h.feed(event, topic=topic, settle=False)
            h.local.run()
            assert held_by(h, "USER_ID", f"web-{sibling}") == record(h, sibling), (sibling, index)
            assert len({root(h, customer) for customer in h.local.roots()}) == 2, (sibling, index)
            h.local.check_consistent()
