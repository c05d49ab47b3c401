"""tester31 F4, F11: one impostor call (or a portal sign-up) takes a subscriber's billing mobile.

A UK operator's nightly master has one line per subscription, each line naming ITS user (name, birth date) beside the
account number, the mobile and the landline; no national ID, no customer number. It gives Helen her mobile. A call
from that mobile whose IVR gives another person's name (and birth date) is refused against Helen by weight, makes a
customer of its own, and took the mobile (``CustomerLinked`` rule ``earliest-claim``): a record's mobile ranks after
every other channel's event (``rules.holder_only``: a family plan's line names the account's holder beside each
member's MSISDN, tester18 F4), so the impostor's call ranked first on it. The screen pop by the number then showed the
impostor and Helen's own later untold calls landed on him (F4; dated and undated lines, a caller giving a name and
birth date or a name only). A portal identify typing David's mobile with another name did the same (F11).

Expected: the mobile stays with the subscriber's record, the impostor keeps a customer of his own, and a later call
from the mobile that tells no one lands on the subscriber; in every arrival order, on 1 and 3 partitions. The events
are built as the adapters publish them (the IVR through an Amazon Connect CTR: Flex's TaskRouter task carries the
same caller number and traits).
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
from tests.processors.identity.support import Harness, matcher_settings

Items = list[tuple[Event, str]]
OBSERVED, BUSINESS, CONTACTS = "identity.observed.v1", "business.events.v1", "contact.events.v1"
PLAIN = identifier_settings(default_region="FR")  # the numbers are E.164: the region reads none of them
EXPORTED = datetime(2026, 12, 2, 23, 0, tzinfo=UTC)  # the nightly master's file time
CHANGED = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)  # a dated line's ``last_changed``
CALLED = EXPORTED + timedelta(hours=17)  # the impostor's call or sign-up, the next afternoon
# Subscriber lines of the master (tester31's master_1.csv): each line's own user beside its account and phones.
LINES: dict[str, dict[str, str]] = {
    "helen": {"account_number": "40000005", "given_name": "Helen", "family_name": "King",
              "birth_date": "1970-05-05", "mobile": "+447911000051", "landline": "+442071006051",
              "email": "helen.king@example.co.uk"},
    "david": {"account_number": "40000002", "given_name": "David", "family_name": "Hughes",
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


def run(blocks: list[Items], order: tuple[int, ...], partitions: int, seed: int | None) -> Harness:
    h = Harness(matcher_settings(), partitions=partitions, seed=seed)
    for index in order:
        for event, topic in blocks[index]:
            h.feed(event, topic, settle=partitions == 1)
    h.local.run()
    h.local.check_consistent()
    return h


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


UNFIXED = pytest.mark.xfail(strict=True, reason="tester31 F4/F11: a record's mobile ranks after every other channel's "
                                                "event (rules.holder_only), so the impostor's customer claims it")
ORDERS = list(itertools.permutations(range(3)))
ORDER_IDS = ["-".join(map(str, order)) for order in ORDERS]


@UNFIXED
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


@UNFIXED
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
