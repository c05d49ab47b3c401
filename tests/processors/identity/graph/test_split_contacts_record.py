"""The contact -> identifiers record of a customer (``processors/identity/graph/split_contacts.py``): its bound, its
merge and which contacts a split takes."""

from __future__ import annotations

import random

from processors.identity.graph.limits import event_rank
from processors.identity.graph.messages.base import ContactRecord, EventRef
from processors.identity.graph.split_contacts import (
    EVENTS_PER_CONTACT,
    appended,
    contact_record,
    encoded,
    kept_per_channel,
    leaving,
    merged,
    records,
)
from processors.profile.book import ProfileBook
from processors.profile.limits import ProfileLimits

CONTACT = EventRef("contact.events.v1", "omnibus.contact.InteractionRecorded", b"\x00")


def record(event_id: str, at: int, ids: list[str], channel: str = "BRANCH") -> ContactRecord:
    return ContactRecord(event_id, at, channel, ids, CONTACT)


def test_only_a_contact_with_identifiers_of_its_own_is_recorded_at_its_instant() -> None:
    rank = event_rank(1_700_000_000_000_000, "ev-1")
    assert contact_record("ev-1", CONTACT, rank, "WEB", ["PHONE:+1", "ACCOUNT:A"]) == ContactRecord(
        "ev-1", 1_700_000_000_000_000, "WEB", ["ACCOUNT:A", "PHONE:+1"], CONTACT)
    business = EventRef("business.events.v1", "omnibus.business.AccountOpened", b"")
    assert contact_record("ev-1", business, rank, "WEB", ["ACCOUNT:A"]) is None
    assert contact_record("ev-1", CONTACT, rank, "WEB", []) is None and contact_record("ev-1", None, rank, "", ["A"]) \
        is None


def test_the_record_keeps_as_many_events_per_channel_as_the_screen_pop_shows_contacts_times_two() -> None:
    assert kept_per_channel(ProfileBook.from_registry(ProfileLimits(recent_contacts_per_channel=3))) \
        == 3 * EVENTS_PER_CONTACT
    assert kept_per_channel(ProfileBook([])) == ProfileLimits().recent_contacts_per_channel * EVENTS_PER_CONTACT


def test_the_latest_per_channel_count_whatever_the_arrival_order_and_a_copy_counts_once() -> None:
    events = [record(f"{channel}-{i}", i, ["ACCOUNT:A"], channel) for i in range(40) for channel in ("WEB", "BRANCH")]
    expected = [e for channel in ("BRANCH", "WEB") for e in sorted(
        (e for e in events if e.channel == channel and e.at >= 37), key=lambda e: e.at, reverse=True)]
    for seed in range(20):
        order = events[:]
        random.Random(seed).shuffle(order)
        kept: dict[str, bytes] = {}
        for event in order + order[:9]:  # and copies
            kept[event.channel] = appended(kept.get(event.channel, b""), event, 3)
            assert len(records({"any": kept[event.channel]}, 100)) <= 2 * 3
        assert records(kept, 3) == expected, seed


def test_a_channel_is_cut_back_only_past_twice_its_bound_and_past_fifteen_records_too() -> None:
    kept = b""
    for i in range(40):
        kept = appended(kept, record(f"ev-{i:02}", i, ["ACCOUNT:A"]), 20)
    assert [r.event_id for r in records({"BRANCH": kept}, 100)] == [f"ev-{i:02}" for i in range(39, -1, -1)]
    kept = appended(kept, record("ev-40", 40, ["ACCOUNT:A"]), 20)  # the 41st: cut back to the latest 20
    assert [r.event_id for r in records({"BRANCH": kept}, 100)] == [f"ev-{i:02}" for i in range(40, 20, -1)]
    assert records({}, 20) == [] and encoded([]) == {}


def test_a_merge_keeps_each_event_once_and_the_latest_per_channel() -> None:
    survivor = encoded([record("a", 1, ["PHONE:+1"]), record("b", 5, ["PHONE:+1"])])
    loser = encoded([record("b", 5, ["PHONE:+1"]), record("c", 3, ["ACCOUNT:A"]), record("d", 9, ["ACCOUNT:A"], "WEB")])
    assert [r.event_id for r in records(merged(survivor, loser, 2), 2)] == ["b", "c", "d"]
    assert merged(survivor, loser, 2) == merged(loser, survivor, 2)


def test_a_split_takes_the_contacts_that_carried_a_moved_identifier_and_no_kept_one() -> None:
    records = [record("only-moved", 1, ["ACCOUNT:A"]), record("mixed", 2, ["ACCOUNT:A", "PHONE:+1"]),
               record("kept", 3, ["PHONE:+1"]), record("moved-and-shared", 4, ["ACCOUNT:A", "PHONE:+shared"]),
               record("none-moved", 5, ["PHONE:+shared"])]
    taken = leaving(records, ["ACCOUNT:A"], ["PHONE:+1", "EMAIL:j@x"])
    assert [r.event_id for r in taken] == ["only-moved", "moved-and-shared"]


def test_a_contact_that_carried_a_moved_and_a_kept_identifier_follows_its_highest_priority_one() -> None:
    """Where the same contact goes when it arrives after the split (tester10 #1): ACCOUNT > EMAIL > PHONE."""
    from processors.identity.rules import LinkPolicy
    from tests.processors.identity.support import settings

    order = LinkPolicy(settings()).plan_order
    records = [record("account-and-phone", 1, ["ACCOUNT:A", "PHONE:+1"]),
               record("account-and-email", 2, ["ACCOUNT:A", "EMAIL:j@x"]),
               record("phone-and-email", 3, ["PHONE:+2", "EMAIL:j@x"])]
    assert [r.event_id for r in leaving(records, ["ACCOUNT:A", "PHONE:+2"], ["PHONE:+1", "EMAIL:j@x"], order)] == [
        "account-and-phone", "account-and-email"]
    assert [r.event_id for r in leaving(records, ["EMAIL:j@x"], ["ACCOUNT:A", "PHONE:+1", "PHONE:+2"], order)] == [
        "phone-and-email"]
