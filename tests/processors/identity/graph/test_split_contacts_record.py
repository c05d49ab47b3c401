"""The contact -> identifiers record of a customer (``processors/identity/graph/split_contacts.py``): its bound, its
merge and which contacts a split takes."""

from __future__ import annotations

import random

from processors.identity.graph.limits import event_rank
from processors.identity.graph.messages import ContactRecord, EventRef
from processors.identity.graph.split_contacts import (
    EVENTS_PER_CONTACT,
    contact_record,
    kept_per_channel,
    leaving,
    merged,
    noted,
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


def test_the_latest_per_channel_are_kept_whatever_the_arrival_order_and_a_copy_changes_nothing() -> None:
    events = [record(f"{channel}-{i}", i, ["ACCOUNT:A"], channel) for i in range(8) for channel in ("WEB", "BRANCH")]
    expected = sorted(e.event_id for e in events if e.at >= 5)
    for seed in range(20):
        order = events[:]
        random.Random(seed).shuffle(order)
        kept: list[ContactRecord] = []
        for event in order + order[:4]:  # and copies
            kept = noted(kept, event, 3) or kept
        assert sorted(e.event_id for e in kept) == expected, seed
    assert noted(kept, kept[0], 3) is None and noted(kept, record("ev-old", 0, ["ACCOUNT:A"], "WEB"), 3) is None


def test_a_merge_keeps_each_event_once_and_the_latest_per_channel() -> None:
    survivor = [record("a", 1, ["PHONE:+1"]), record("b", 5, ["PHONE:+1"])]
    loser = [record("b", 5, ["PHONE:+1"]), record("c", 3, ["ACCOUNT:A"]), record("d", 9, ["ACCOUNT:A"], "WEB")]
    assert [r.event_id for r in merged(survivor, loser, 2)] == ["b", "c", "d"]
    assert merged(survivor, loser, 2) == merged(loser, survivor, 2)


def test_a_split_takes_the_contacts_that_carried_a_moved_identifier_and_no_kept_one() -> None:
    records = [record("only-moved", 1, ["ACCOUNT:A"]), record("mixed", 2, ["ACCOUNT:A", "PHONE:+1"]),
               record("kept", 3, ["PHONE:+1"]), record("moved-and-shared", 4, ["ACCOUNT:A", "PHONE:+shared"]),
               record("none-moved", 5, ["PHONE:+shared"])]
    taken = leaving(records, ["ACCOUNT:A"], ["PHONE:+1", "EMAIL:j@x"])
    assert [r.event_id for r in taken] == ["only-moved", "moved-and-shared"]
