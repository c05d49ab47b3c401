"""tester31 F4, F11: one impostor call (or a portal sign-up) takes a subscriber's billing mobile.

A UK operator's nightly master has one line per subscription, each line naming ITS user (name, birth date) beside the
account number, the mobile and the landline; no national ID, no customer number. It gives Helen her mobile. A call
from that mobile whose IVR gives another person's name (and birth date) is refused against Helen by weight, makes a
customer of its own, and took the mobile (``CustomerLinked`` rule ``earliest-claim``): a record's mobile ranks after
every other channel's event (``rules.holder_only``: a family plan's line names the account's holder beside each
member's MSISDN, tester18 F4), so the impostor's call ranked first on it. The screen pop by the number then showed the
impostor and Helen's own later untold calls landed on him (F4; dated and undated lines, a caller giving a name and
birth date or a name only). A portal identify typing David's mobile with another name did the same (F11).

Identity cannot tell such a line from a family plan's (the holder's name beside a member's MSISDN): the deployment
declares it, ``RECORD_LINES_NAME=user`` (``rules.master_record``): each line is then its user's master record, held by
its account, and ``master.py`` keeps the mobile on the line's customer against any refused contact. The mobile stays
with the subscriber's record, the impostor keeps a customer of his own, and a later call from the mobile that tells no
one lands on the subscriber; in every arrival order, on 1 and 3 partitions. The events are built as the adapters
publish them (the IVR through an Amazon Connect CTR: Flex's TaskRouter task carries the same caller number and
traits).
"""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from adapters.call_center.mapper_ctr import map_ctr
from adapters.legacy.mapper import BusinessRecord, LegacyContext, map_business
from adapters.web.mapper import SegmentMapper
from bus.config import TopicSettings
from bus.serde import Event
from processors.identity.graph.outputs import Resolved
from tests.adapters.call_center.test_mapper_identifiers import context, ctr
from tests.adapters.web.support import web_settings
from tests.bus.identifiers.support import identifier_settings
from tests.processors.identity.graph.test_seek import root
from tests.processors.identity.support import Harness, matcher_settings, replayed

Items = list[tuple[Event, str]]
OBSERVED, BUSINESS, CONTACTS = "identity.observed.v1", "business.events.v1", "contact.events.v1"
PLAIN = identifier_settings(default_region="FR")  # the numbers are E.164: the region reads none of them
EXPORTED = datetime(2026, 12, 2, 23, 0, tzinfo=UTC)  # the nightly master's file time
CHANGED = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)  # a dated line's ``last_changed``
CALLED = EXPORTED + timedelta(hours=17)  # the impostor's call or sign-up, the next afternoon
# Subscriber lines of the master (tester31's master_1.csv): each line's own user beside its account and phones.
LINES: dict[str, dict[str, str]] = {
    "helen": {"account_number": "40000005", "account_type": "mobile", "given_name": "Helen", "family_name": "King",
              "birth_date": "1970-05-05", "mobile": "+447911000051", "landline": "+442071006051",
              "email": "helen.king@example.co.uk"},
    "david": {"account_number": "40000002", "account_type": "mobile", "given_name": "David", "family_name": "Hughes",
              "birth_date": "1970-03-14", "mobile": "+447911000021", "landline": "+442071006021",
              "email": "david.hughes@example.co.uk"},
}
# Who the impostor tells: a name and birth date (Mark Evans, F4), or a name only (Tom Jones, F4 (a), (b)).
CALLERS: dict[str, dict[str, str]] = {
    "name-and-birth-date": {"firstName": "Mark", "lastName": "Evans", "dateOfBirth": "1985-01-01"},
    "name-only": {"firstName": "Tom", "lastName": "Jones"},
}
DATINGS = ["dated-line", "undated-line"]
PARTITIONS = [(1, None), (3, 5)]


def master_line(holder: str, dating: str) -> Items:
    """What ``import-batch`` publishes for the subscriber's master line: dated by its ``last_changed`` or undated
    (the export's file time, ``BusinessRecord.undated``)."""
    dated = dating == "dated-line"
    record = BusinessRecord("AccountOpened", LINES[holder], f"master_1.csv:{holder}", CHANGED if dated else EXPORTED,
                            undated=not dated)
    mapped = map_business(record, LegacyContext("billing", BUSINESS, identity_topic=OBSERVED, phone_region="GB",
                                                identifiers=PLAIN))
    return [(out.event, out.topic) for out in mapped.events]


def ivr_call(contact_id: str, number: str, attributes: dict[str, str], at: datetime) -> Items:
    """A call from ``number`` whose IVR took ``attributes`` (none: the caller told nothing), at ``at``."""
    record = ctr(ContactId=contact_id, CustomerEndpoint={"Address": number, "Type": "TELEPHONE_NUMBER"},
                 Attributes=attributes)
    native = json.loads(json.dumps(record).replace("2024-03-05T", f"{at.date().isoformat()}T"))
    return [(out.event, OBSERVED if out.event.schema.endswith("IdentifiersObserved") else CONTACTS)
            for out in map_ctr(native, context()).events]


def portal_sign_up(number: str, traits: dict[str, str]) -> Items:
    """F11: a new portal user's ``POST /v1/identify`` with his own login and e-mail, the typed mobile ``number`` and
    his name, as the web adapter maps it (the default ``IDENTIFIER_TRAITS`` read ``phone``)."""
    body = {"type": "identify", "userId": "web-mark-evans", "messageId": "m-t31-f11",
            "timestamp": CALLED.isoformat(), "traits": {"email": "mark.evans@example.co.uk", "phone": number,
                                                        "firstName": traits["firstName"],
                                                        "lastName": traits["lastName"]}}
    mapped = SegmentMapper(web_settings(), TopicSettings(), PLAIN)(body, received_at=CALLED)
    return [(out.event, out.topic) for out in mapped.events]


USER_LINES = matcher_settings(record_lines_name="user")  # the deployment's declaration: each line names its user


def run(blocks: list[Items], order: tuple[int, ...], partitions: int, seed: int | None) -> Harness:
    return replayed(USER_LINES, [item for index in order for item in blocks[index]], partitions=partitions, seed=seed)


def landed(h: Harness, items: Items) -> set[str]:
    ids = {event.value["envelope"]["event_id"] for event, _ in items}
    return {root(h, r.customer_id) for r in h.decisions(Resolved) if r.triggering_event_id in ids}


def assert_subscriber_keeps_the_mobile(h: Harness, holder: str, impostor: Items, order: Any) -> None:
    """The subscriber's customer (by the account) holds the mobile and the landline; the impostor's event is on a
    customer of its own; a later call from the mobile that tells no one lands on the subscriber."""
    line = LINES[holder]
    subscriber = root(h, h.customer("ACCOUNT", line["account_number"]) or "")
    assert subscriber, order
    assert landed(h, impostor) - {subscriber} and subscriber not in landed(h, impostor), order
    assert root(h, h.customer("PHONE", line["mobile"]) or "") == subscriber, order
    assert root(h, h.customer("PHONE", line["landline"]) or "") == subscriber, order
    later = ivr_call(f"t31-{holder}-own", line["mobile"], {}, CALLED + timedelta(days=1))
    for event, topic in later:
        h.feed(event, topic)
    h.local.run()
    assert landed(h, later) == {subscriber}, order
    h.local.check_consistent()


ORDERS = list(itertools.permutations(range(3)))
ORDER_IDS = ["-".join(map(str, order)) for order in ORDERS]


@pytest.mark.parametrize(("partitions", "seed"), PARTITIONS, ids=["1-partition", "3-partitions"])
@pytest.mark.parametrize("order", ORDERS, ids=ORDER_IDS)
@pytest.mark.parametrize("caller", sorted(CALLERS))
@pytest.mark.parametrize("dating", DATINGS)
def test_f4_an_impostors_call_leaves_the_subscribers_mobile_on_her_record(
        dating: str, caller: str, order: tuple[int, ...], partitions: int, seed: int | None) -> None:
    """F4: Helen's and David's master lines and a call from Helen's mobile whose IVR gives another person, in every
    arrival order: Helen keeps her mobile, the caller is a customer of his own, and her own untold call pops her."""
    impostor = ivr_call("t31-impostor", LINES["helen"]["mobile"], CALLERS[caller], CALLED)
    blocks = [master_line("helen", dating), master_line("david", dating), impostor]
    h = run(blocks, order, partitions, seed)
    assert_subscriber_keeps_the_mobile(h, "helen", impostor, order)


@pytest.mark.parametrize(("partitions", "seed"), PARTITIONS, ids=["1-partition", "3-partitions"])
@pytest.mark.parametrize("order", ORDERS, ids=ORDER_IDS)
@pytest.mark.parametrize("dating", DATINGS)
def test_f11_a_portal_sign_up_typing_a_subscribers_mobile_leaves_it_on_his_record(
        dating: str, order: tuple[int, ...], partitions: int, seed: int | None) -> None:
    """F11: a portal identify (own login and e-mail, another name) typing David's mobile, with Helen's and David's
    lines, in every arrival order: David keeps his mobile and his later untold call pops him."""
    sign_up = portal_sign_up(LINES["david"]["mobile"], CALLERS["name-only"])
    blocks = [master_line("helen", dating), master_line("david", dating), sign_up]
    h = run(blocks, order, partitions, seed)
    assert_subscriber_keeps_the_mobile(h, "david", sign_up, order)


# The kind beyond the samples: a family account's three users' lines (tester31 F3: David the payer with the landline,
# Emma and Sam with their mobiles), each line its user's; an impostor calls from Emma's mobile.
FAMILY: dict[str, dict[str, str]] = {
    "david": {**LINES["david"]},
    "emma": {"account_number": "40000002", "account_type": "mobile", "given_name": "Emma", "family_name": "Hughes", "birth_date": "2004-07-21",
             "mobile": "+447911000022"},
    "sam": {"account_number": "40000002", "account_type": "mobile", "given_name": "Sam", "family_name": "Hughes", "birth_date": "2008-02-02",
            "mobile": "+447911000023"},
}


def family_line(user: str) -> Items:
    record = BusinessRecord("AccountOpened", FAMILY[user], f"master_1.csv:{user}", EXPORTED, undated=True)
    mapped = map_business(record, LegacyContext("billing", BUSINESS, identity_topic=OBSERVED, phone_region="GB",
                                                identifiers=PLAIN))
    return [(out.event, out.topic) for out in mapped.events]


FAMILY_ORDERS = list(itertools.permutations(range(4)))


@pytest.mark.parametrize(("partitions", "seed"), PARTITIONS, ids=["1-partition", "3-partitions"])
def test_a_family_accounts_lines_each_keep_their_users_mobile_against_an_impostor(
        partitions: int, seed: int | None) -> None:
    """The three lines and an impostor's call from Emma's mobile (another name and birth date), in all 24 arrival
    orders: each user keeps a customer of their own with their own mobile (the account shared by them), the impostor
    is on none of them, and Emma's and Sam's own untold calls land on them."""
    impostor = ivr_call("t31-fam-impostor", FAMILY["emma"]["mobile"], CALLERS["name-and-birth-date"], CALLED)
    for order in FAMILY_ORDERS:
        h = run([family_line("david"), family_line("emma"), family_line("sam"), impostor], order, partitions, seed)
        users = {user: root(h, h.customer("PHONE", line["mobile"]) or "") for user, line in FAMILY.items()}
        assert len(set(users.values())) == 3 and all(users.values()), order
        assert not landed(h, impostor) & set(users.values()), order
        for user in ("emma", "sam"):
            own = ivr_call(f"t31-fam-{user}-{order}", FAMILY[user]["mobile"], {}, CALLED + timedelta(days=1))
            for event, topic in own:
                h.feed(event, topic)
            h.local.run()
            assert landed(h, own) == {users[user]}, (user, order)
        h.local.check_consistent()


@pytest.mark.parametrize("order", ORDERS, ids=ORDER_IDS)
def test_the_subscriber_identifying_herself_after_the_impostor_is_on_her_record_with_her_mobile(
        order: tuple[int, ...]) -> None:
    """F4's addendum: after the impostor's call, Helen calls from her mobile and gives her own name and birth date:
    the call lands on her record, which still holds the mobile, in every arrival order of the line and the two calls
    (hers dated after the impostor's)."""
    impostor = ivr_call("t31-impostor", LINES["helen"]["mobile"], CALLERS["name-and-birth-date"], CALLED)
    herself = ivr_call("t31-helen", LINES["helen"]["mobile"],
                       {"firstName": "Helen", "lastName": "King", "dateOfBirth": "1970-05-05"},
                       CALLED + timedelta(days=1))
    h = run([master_line("helen", "undated-line"), impostor, herself], order, 1, None)
    helen = root(h, h.customer("ACCOUNT", LINES["helen"]["account_number"]) or "")
    assert landed(h, herself) == {helen}, order
    assert root(h, h.customer("PHONE", LINES["helen"]["mobile"]) or "") == helen, order
    assert helen not in landed(h, impostor), order


@pytest.mark.parametrize("order", ORDERS, ids=ORDER_IDS)
def test_a_portal_sign_up_typing_a_subscribers_e_mail_leaves_it_on_her_record(order: tuple[int, ...]) -> None:
    """F11's kind on the e-mail a line gives: a portal identify with its own login, Helen's e-mail and another name."""
    body = {"type": "identify", "userId": "web-tom-jones", "messageId": "m-t31-email", "timestamp": CALLED.isoformat(),
            "traits": {"email": LINES["helen"]["email"], "firstName": "Tom", "lastName": "Jones"}}
    sign_up = [(out.event, out.topic)
               for out in SegmentMapper(web_settings(), TopicSettings(), PLAIN)(body, received_at=CALLED).events]
    h = run([master_line("helen", "dated-line"), master_line("david", "dated-line"), sign_up], order, 1, None)
    helen = root(h, h.customer("ACCOUNT", LINES["helen"]["account_number"]) or "")
    assert root(h, h.customer("EMAIL", LINES["helen"]["email"]) or "") == helen, order
    assert helen not in landed(h, sign_up), order
