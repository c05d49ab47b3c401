"""The contact -> identifiers record of a customer (``processors/identity/graph/split_contacts.py``): its bound, its
merge and which contacts a split takes."""

from __future__ import annotations

import random

from processors.identity.graph.context import Ctx, GraphConfig, token_hash
from processors.identity.graph.handoff_records import CHANNEL, EVENTS_PER_HANDOFF
from processors.identity.graph.limits import event_rank
from processors.identity.graph.local import MemoryStore
from processors.identity.graph.messages.base import ContactRecord, EventRef
from processors.identity.graph.split_contacts import (
    EVENTS_PER_CONTACT,
    add,
    contact_key,
    contact_record,
    encoded,
    join,
    keep,
    kept,
    kept_in,
    kept_per_channel,
    leaving,
    partition_key,
    records,
)
from processors.identity.graph.state import CustomerState
from processors.identity.rules import LinkPolicy
from processors.profile.book import ProfileBook
from processors.profile.limits import ProfileLimits
from tests.processors.identity.support import settings

CONTACT = EventRef("contact.events.v1", "omnibus.contact.InteractionRecorded", b"\x00")
CUSTOMER = "cus_0a"


def record(event_id: str, at: int, ids: list[str], channel: str = "BRANCH") -> ContactRecord:
    return ContactRecord(event_id, at, channel, ids, CONTACT)


def customer(contacts_shown: int, store: MemoryStore | None = None,
             state: CustomerState | None = None) -> Ctx[CustomerState]:
    """A customer handling one message, whose record keeps ``2 * contacts_shown`` events per channel."""
    book = ProfileBook.from_registry(ProfileLimits(recent_contacts_per_channel=contacts_shown))
    config = GraphConfig(LinkPolicy(settings()), book, lambda ref: None)  # type: ignore[arg-type,return-value]
    return Ctx(config, store or MemoryStore(), CUSTOMER, state, CustomerState(created=True))


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
        (e for e in events if e.channel == channel and e.at >= 36), key=lambda e: e.at, reverse=True)]
    for seed in range(20):
        order = events[:]
        random.Random(seed).shuffle(order)
        ctx = customer(2)
        for event in order + order[:9]:  # and copies
            add(ctx, event)
            assert all(len(entries) <= 2 * 4 * 6 for entries in ctx.state.contact_index.values())
        assert kept(ctx) == expected, seed
        assert len(ctx.store.contacts) == sum(len(e) // 6 for e in ctx.state.contact_index.values())  # type: ignore[attr-defined]


def test_the_handoffs_bucket_keeps_as_many_handoffs_as_a_channel_contacts_each_with_its_events() -> None:
    """Each lifecycle event of a handoff is recorded (tester24 F6): the bucket keeps ``EVENTS_PER_HANDOFF`` per handoff
    a channel keeps contacts, so recording them keeps as many handoffs movable as the creations alone did."""
    ctx = customer(2)  # 2 contacts shown: 4 events per channel, 2 handoffs of 4 events
    for i in range(30):
        add(ctx, record(f"h-{i:02}", i, ["ACCOUNT:A"], CHANNEL))
        add(ctx, record(f"c-{i:02}", i, ["ACCOUNT:A"]))
    assert kept_in(CHANNEL, 4) == 2 * EVENTS_PER_HANDOFF and kept_in("BRANCH", 4) == 4
    assert [r.event_id for r in kept(ctx) if r.channel == CHANNEL] == [f"h-{i}" for i in range(29, 21, -1)]
    assert [r.event_id for r in kept(ctx) if r.channel == "BRANCH"] == [f"c-{i}" for i in range(29, 25, -1)]
    assert len(ctx.state.contact_index[CHANNEL]) <= 2 * 8 * 6


def test_a_channel_is_cut_back_only_past_twice_its_bound_its_cut_records_deleted() -> None:
    store = MemoryStore()
    ctx = customer(10, store)
    for i in range(40):
        add(ctx, record(f"ev-{i:02}", i, ["ACCOUNT:A"]))
    assert len(store.contacts) == 40 and [r.event_id for r in kept(ctx)] == [f"ev-{i:02}" for i in range(39, 19, -1)]
    add(ctx, record("ev-40", 40, ["ACCOUNT:A"]))  # the 41st: cut back to the latest 20
    assert sorted(r.event_id for r in store.contacts.values()) == [f"ev-{i:02}" for i in range(21, 41)]
    assert len(ctx.state.contact_index["BRANCH"]) == 20 * 6
    assert records({}, 20) == [] and encoded([]) == {}


class _Writes(MemoryStore):
    """A memory store that counts the contact records written (tombstones too)."""

    def __init__(self) -> None:
        super().__init__()
        self.written: list[str] = []

    def put_contact(self, key: str, record: ContactRecord | None) -> None:
        self.written.append(key)
        super().put_contact(key, record)


def test_a_repeat_contact_writes_its_own_record_and_six_bytes_of_index_not_the_history() -> None:
    """#9: the node changelog took the customer's whole history at every contact (~3.5 KB an event)."""
    store = _Writes()
    ctx = customer(10, store)
    for i in range(15):
        add(ctx, record(f"ev-{i:02}", i, ["ACCOUNT:A"]))
    store.written.clear()
    index = ctx.state.contact_index["BRANCH"]
    add(ctx, record("ev-15", 15, ["ACCOUNT:A"]))
    assert store.written == [contact_key(CUSTOMER, token_hash("ev-15"))]
    assert ctx.state.contact_index["BRANCH"] == index + token_hash("ev-15")
    add(ctx, record("ev-15", 15, ["ACCOUNT:A"]))  # a re-delivery writes nothing
    assert len(store.written) == 1


def test_a_contact_record_lives_on_its_customers_partition() -> None:
    key = contact_key(CUSTOMER, token_hash("ev-1"))
    assert key.startswith(CUSTOMER + "/") and partition_key(key.encode()) == CUSTOMER.encode()


def test_a_merge_keeps_each_event_once_and_the_latest_per_channel() -> None:
    survivor = [record("a", 1, ["PHONE:+1"]), record("b", 5, ["PHONE:+1"])]
    loser = [record("b", 5, ["PHONE:+1"]), record("c", 3, ["ACCOUNT:A"]), record("d", 9, ["ACCOUNT:A"], "WEB")]
    one, other = customer(1), customer(1)
    keep(one, survivor)
    join(one, loser)
    keep(other, loser)
    join(other, survivor)
    assert [r.event_id for r in kept(one)] == ["b", "c", "d"] and kept(one) == kept(other)
    assert sorted(one.store.contacts) == sorted(other.store.contacts)  # type: ignore[attr-defined]
    keep(one, [])  # a merged loser: nothing left in the table
    assert one.state.contact_index == {} and one.store.contacts == {}  # type: ignore[attr-defined]


def test_a_state_saved_before_the_index_is_read_and_moved_to_the_table_at_its_next_contact() -> None:
    old = CustomerState(created=True, contact_records=encoded([record("a", 1, ["PHONE:+1"]),
                                                                record("b", 2, ["PHONE:+1"], "WEB")]))
    ctx = customer(10, state=old)
    assert [r.event_id for r in kept(ctx)] == ["a", "b"]
    add(ctx, record("c", 3, ["PHONE:+1"]))
    assert ctx.state.contact_records == {} and [r.event_id for r in kept(ctx)] == ["c", "a", "b"]
    assert len(ctx.store.contacts) == 3  # type: ignore[attr-defined]


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
