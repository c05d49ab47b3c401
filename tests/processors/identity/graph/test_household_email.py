"""tester26 F6: a household's shared billing e-mail and its members' first portal logins.

A utility's billing export gives each member of a household a contract of their own (Claire's electricity, Julien's
gas, Inès's) with the one family e-mail. Each member's first portal login sends the e-mail and perhaps a name. A login
that tells no person (the e-mail alone, or the household's surname) may be either member's: it must wait for review
with a household record, never take the e-mail from a record, never stay on a member's record. The tester saw, with
Claire's line, Julien's login, Claire's login and Julien's line in that order: Claire's login took the e-mail from
Claire's record (``claim_node.on_give``) and Julien's login stayed on it; in other orders a login stayed on an empty
web-only customer with no review (``holder_review.py``). The events are what the legacy and web adapters' mappers
publish, in every arrival order.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from adapters.legacy.mapper import BusinessRecord, LegacyContext, map_business
from processors.identity.graph.outputs import Merged, ReviewRequested
from processors.identity.review import OpenReview, decision, open_reviews
from tests.processors.identity.graph.test_holders import Item, held_by, portal
from tests.processors.identity.graph.test_joint_holders import BUSINESS, OBSERVED, feed
from tests.processors.identity.graph.test_keypad_customer_number import EXPORTED, PLAIN
from tests.processors.identity.graph.test_portal_login import last_placed
from tests.processors.identity.graph.test_seek import root
from tests.processors.identity.support import Harness
from tests.processors.identity.support import matcher_settings as settings
from tests.processors.identity.test_review import queued

EMAIL = "foyer.moreau@example.fr"
MEMBERS: dict[str, dict[str, Any]] = {
    "claire": {"account_number": "EL-100201", "account_type": "electricity", "customer_id": "C-880001",
               "email": EMAIL, "phone": "0611000001", "given_name": "Claire", "family_name": "Moreau",
               "birth_date": "1979-03-12"},
    "julien": {"account_number": "GZ-100202", "account_type": "gas", "customer_id": "C-880002", "email": EMAIL,
               "phone": "0622000002", "given_name": "Julien", "family_name": "Moreau", "birth_date": "1977-11-30"},
    "ines": {"account_number": "EL-100203", "account_type": "electricity", "customer_id": "C-880003", "email": EMAIL,
             "phone": "0633000003", "given_name": "Ines", "family_name": "Moreau", "birth_date": "2003-06-08"},
}
NAMELESS = {"email only": (), "surname only": ("lastName",)}  # what a login sends that tells no member apart
NAMED = {"first name": ("firstName",), "first and last name": ("firstName", "lastName")}
SENT = {"firstName": "given_name", "lastName": "family_name"}


def billing_line(member: str, line: int) -> list[Item]:
    """What ``omnibus adapter legacy import-batch`` publishes for the member's line of the export."""
    mapped = map_business(BusinessRecord("AccountOpened", MEMBERS[member], f"accounts.csv:{line}", EXPORTED),
                          LegacyContext("billing", BUSINESS, identity_topic=OBSERVED, phone_region="FR",
                                        identifiers=PLAIN))
    return [(out.event, out.topic) for out in mapped.events]


def first_login(member: str, minutes: int, fields: tuple[str, ...]) -> list[Item]:
    """The member's identify with the family e-mail and ``fields`` of her name, and her service request."""
    user, traits = f"web-{member}", {field: MEMBERS[member][SENT[field]] for field in fields}
    identify = portal({"type": "identify", "userId": user, "messageId": f"m-{user}-1",
                       "traits": {"email": EMAIL, **traits}}, minutes)
    request = portal({"type": "track", "userId": user, "messageId": f"m-{user}-2", "event": "Service Request Submitted",
                      "properties": {"category": "billing-dispute", "summary": "meter read twice"}}, minutes + 1)
    return [*identify, *request]


def record(h: Harness, member: str) -> str:
    return root(h, h.customer("CUSTOMER_NUMBER", MEMBERS[member]["customer_id"]) or "")


def reviewed_with(h: Harness, customer: str) -> set[str]:
    """The customers named in a review with ``customer`` (roots now)."""
    pairs = [{root(h, review.customer_id), root(h, review.other_customer_id)}
             for review in h.decisions(ReviewRequested)]
    return {other for pair in pairs if customer in pair for other in pair - {customer}}


def run(groups: dict[str, list[Item]], order: tuple[str, ...]) -> Harness:
    h = Harness(settings())
    for name in order:
        feed(h, groups[name])
    return h


def assert_waits_for_review(h: Harness, members: list[str], logins: dict[str, list[Item]], shape: object) -> None:
    """Every nameless login: on a customer of its own (no record) with its service request, named in a review with
    a household record, one review per login; the e-mail on a record's customer; nothing merged."""
    records = {record(h, member) for member in members}
    assert len(records) == len(members), shape
    assert held_by(h, "EMAIL", EMAIL) in records, shape
    for member, login in logins.items():
        own = held_by(h, "USER_ID", f"web-{member}")
        assert own not in records, (member, shape)
        assert last_placed(h, login[-1][0]) == own, (member, shape)  # her service request follows her login
        assert reviewed_with(h, own) & records, (member, shape)
    assert len(h.decisions(ReviewRequested)) == len(logins), shape  # one each: the login may be either member's
    assert not h.decisions(Merged), shape
    h.local.check_consistent()


def household(logins: dict[str, tuple[str, ...]], members: tuple[str, ...] = ("claire", "julien")
              ) -> dict[str, list[Item]]:
    """The members' lines (``L:member``) and the named members' logins (``W:member``, five minutes apart)."""
    groups = {f"L:{member}": billing_line(member, line) for line, member in enumerate(members, start=2)}
    for minutes, (member, fields) in enumerate(logins.items()):
        groups[f"W:{member}"] = first_login(member, 5 * minutes, fields)
    return groups


# tester26's order: Claire's line, Julien's login, Claire's login, Julien's line.
REPORTED = ("L:claire", "W:julien", "W:claire", "L:julien")


def logins_first(order: tuple[str, ...]) -> bool:
    return all(name.startswith("W:") for name in order[:2])


@pytest.mark.parametrize("fields", NAMELESS.values(), ids=NAMELESS.keys())
def test_f6_the_reported_order_two_nameless_logins_wait_for_review_and_the_email_stays_on_a_record(
        fields: tuple[str, ...]) -> None:
    """The tester's sample: Julien's login is not left on Claire's record, Claire's login does not take the e-mail
    from it; each login waits for review with a household record."""
    groups = household({"claire": fields, "julien": fields})
    h = run(groups, REPORTED)
    assert_waits_for_review(h, ["claire", "julien"], {m: groups[f"W:{m}"] for m in ("claire", "julien")}, REPORTED)


TWO_LOGINS = list(itertools.permutations(("L:claire", "L:julien", "W:claire", "W:julien")))


@pytest.mark.parametrize("fields", NAMELESS.values(), ids=NAMELESS.keys())
@pytest.mark.parametrize("order", [order for order in TWO_LOGINS if not logins_first(order)],
                         ids=lambda order: "-".join(order))
def test_two_nameless_logins_wait_for_review_in_every_order(order: tuple[str, ...], fields: tuple[str, ...]) -> None:
    """Two members' lines and their nameless logins, the 20 orders where a line comes before the second login."""
    groups = household({"claire": fields, "julien": fields})
    assert_waits_for_review(run(groups, order), ["claire", "julien"],
                            {m: groups[f"W:{m}"] for m in ("claire", "julien")}, order)


def assert_email_on_a_record(h: Harness, members: list[str], logins: dict[str, list[Item]], shape: object) -> None:
    """Where both logins come before every record: the e-mail on a record, each login on a customer of its own with its
    service request, the earlier login (Claire's, minute 0) in exactly one review, with a record; nothing merged."""
    records = {record(h, member) for member in members}
    assert len(records) == len(members), shape
    assert held_by(h, "EMAIL", EMAIL) in records, shape
    for member, login in logins.items():
        own = held_by(h, "USER_ID", f"web-{member}")
        assert own not in records and last_placed(h, login[-1][0]) == own, (member, shape)
    earlier = held_by(h, "USER_ID", "web-claire")
    reviews = [pair for pair in _reviewed_pairs(h) if earlier in pair]
    assert len(reviews) == 1 and set(reviews[0]) & records, shape
    assert not h.decisions(Merged), shape
    h.local.check_consistent()


def _reviewed_pairs(h: Harness) -> list[tuple[str, str]]:
    return [(root(h, review.customer_id), root(h, review.other_customer_id)) for review in h.decisions(ReviewRequested)]


@pytest.mark.parametrize("fields", NAMELESS.values(), ids=NAMELESS.keys())
@pytest.mark.parametrize("order", [order for order in TWO_LOGINS if logins_first(order)],
                         ids=lambda order: "-".join(order))
def test_two_nameless_logins_before_the_lines_leave_the_email_on_a_record(order: tuple[str, ...],
                                                                          fields: tuple[str, ...]) -> None:
    """The part of the orders below that holds: the master record's claim back (``master.lapses``) is the earlier
    login's customer's, which tells no person, so the record keeps the e-mail (``holder_review.record_keeps``); before,
    with e-mail-only logins, the e-mail went back to the earlier login's customer, reviewed with both records."""
    groups = household({"claire": fields, "julien": fields})
    assert_email_on_a_record(run(groups, order), ["claire", "julien"],
                             {m: groups[f"W:{m}"] for m in ("claire", "julien")}, order)


@pytest.mark.parametrize("fields", NAMELESS.values(), ids=NAMELESS.keys())
@pytest.mark.parametrize("order", [order for order in TWO_LOGINS if logins_first(order)],
                         ids=lambda order: "-".join(order))
def test_two_nameless_logins_before_the_lines_wait_for_review_with_a_record(order: tuple[str, ...],
                                                                            fields: tuple[str, ...]) -> None:
    groups = household({"claire": fields, "julien": fields})
    assert_waits_for_review(run(groups, order), ["claire", "julien"],
                            {m: groups[f"W:{m}"] for m in ("claire", "julien")}, order)


@pytest.mark.parametrize("seed", [3, 7])
@pytest.mark.parametrize("fields", NAMELESS.values(), ids=NAMELESS.keys())
@pytest.mark.parametrize("order", [order for order in TWO_LOGINS if logins_first(order)],
                         ids=lambda order: "-".join(order))
def test_two_nameless_logins_before_the_lines_wait_for_review_on_three_partitions_with_copies(
        order: tuple[str, ...], fields: tuple[str, ...], seed: int) -> None:
    """The same on 3 partitions, messages interleaved and some delivered twice (at-least-once): the debt is state
    (``CustomerState.review_owed``), paid once."""
    groups = household({"claire": fields, "julien": fields})
    h = Harness(settings(), partitions=3, seed=seed, duplicates=0.2)
    for name in order:
        feed(h, groups[name])
    assert_waits_for_review(h, ["claire", "julien"], {m: groups[f"W:{m}"] for m in ("claire", "julien")}, order)


@pytest.mark.parametrize("fields", NAMED.values(), ids=NAMED.keys())
@pytest.mark.parametrize("order", TWO_LOGINS, ids=lambda order: "-".join(order))
def test_named_logins_join_their_own_records_in_every_order(order: tuple[str, ...], fields: tuple[str, ...]) -> None:
    """The rest of the kind: a login with its member's first name ends on her record, the e-mail on a record."""
    h = run(household({"claire": fields, "julien": fields}), order)
    records = {record(h, "claire"), record(h, "julien")}
    for member in ("claire", "julien"):
        assert held_by(h, "USER_ID", f"web-{member}") == record(h, member), (member, order)
    assert held_by(h, "EMAIL", EMAIL) in records and len(records) == 2
    assert len({root(h, customer) for customer in h.local.roots()}) == 2, order
    h.local.check_consistent()


THREE = ("claire", "julien", "ines")


@pytest.mark.parametrize("order", list(itertools.permutations(("L:claire", "L:julien", "L:ines", "W:julien"))),
                         ids=lambda order: "-".join(order))
def test_three_members_one_nameless_login_waits_for_review(order: tuple[str, ...]) -> None:
    """Three members' lines and one e-mail-only login, in all 24 orders."""
    groups = household({"julien": ()}, THREE)
    assert_waits_for_review(run(groups, order), list(THREE), {"julien": groups["W:julien"]}, order)


THREE_TWO_LOGINS = list(itertools.permutations(("L:claire", "L:julien", "L:ines", "W:claire", "W:julien")))


@pytest.mark.parametrize("order", [order for order in THREE_TWO_LOGINS if not logins_first(order)],
                         ids=lambda order: "-".join(order))
def test_three_members_two_nameless_logins_wait_for_review(order: tuple[str, ...]) -> None:
    """Three members' lines and two surname-only logins: the 108 orders where a line comes before the second login."""
    groups = household({"claire": ("lastName",), "julien": ("lastName",)}, THREE)
    assert_waits_for_review(run(groups, order), list(THREE),
                            {m: groups[f"W:{m}"] for m in ("claire", "julien")}, order)


@pytest.mark.parametrize("order", [order for order in THREE_TWO_LOGINS if logins_first(order)],
                         ids=lambda order: "-".join(order))
def test_three_members_two_nameless_logins_before_the_lines_leave_the_email_on_a_record(order: tuple[str, ...]) -> None:
    groups = household({"claire": ("lastName",), "julien": ("lastName",)}, THREE)
    assert_email_on_a_record(run(groups, order), list(THREE), {m: groups[f"W:{m}"] for m in ("claire", "julien")},
                             order)


@pytest.mark.parametrize("order", [order for order in THREE_TWO_LOGINS if logins_first(order)],
                         ids=lambda order: "-".join(order))
def test_three_members_two_nameless_logins_before_the_lines_wait_for_review(order: tuple[str, ...]) -> None:
    groups = household({"claire": ("lastName",), "julien": ("lastName",)}, THREE)
    assert_waits_for_review(run(groups, order), list(THREE),
                            {m: groups[f"W:{m}"] for m in ("claire", "julien")}, order)


@pytest.mark.parametrize("accept", [True, False])
def test_an_operator_decides_the_review_of_the_reported_order(accept: bool) -> None:
    """``omnibus identity review accept|reject`` on the review of Julien's login with a household record: accepted,
    the login is on that record; rejected, they stay apart and the same evidence asks for no review of the pair again
    (one with the other record may follow: the login may be either member's)."""
    groups = household({"claire": (), "julien": ()})
    h = run(groups, REPORTED)
    login, records = held_by(h, "USER_ID", "web-julien"), {record(h, "claire"), record(h, "julien")}
    review = next(review for review in open_reviews(queued(h))
                  if login in {root(h, review.customer_id), root(h, review.other_customer_id)}
                  and records & {root(h, review.customer_id), root(h, review.other_customer_id)})
    (reviewed,) = records & {root(h, review.customer_id), root(h, review.other_customer_id)}
    decide(h, review, accept)
    assert (held_by(h, "USER_ID", "web-julien") == root(h, reviewed)) is accept
    assert held_by(h, "EMAIL", EMAIL) in {record(h, "claire"), record(h, "julien")}
    if not accept:
        pair = {login, root(h, reviewed)}
        before = len(h.decisions(ReviewRequested))
        feed(h, first_login("julien", 30, ()))
        assert held_by(h, "USER_ID", "web-julien") not in {record(h, "claire"), record(h, "julien")}
        assert not [review for review in h.decisions(ReviewRequested)[before:]
                    if {root(h, review.customer_id), root(h, review.other_customer_id)} == pair]
    h.local.check_consistent()


def decide(h: Harness, review: OpenReview, accept: bool) -> None:
    """An operator's ``omnibus identity review accept|reject`` of ``review``: the graph message it sends, run."""
    send, _ = decision(review, accept=accept, operator="ops-7", reason="checked", command_id=f"c-{accept}")
    h.local.submit([send])
    h.local.run()
