"""Contacts follow an operator's split (#8 point 7): the contact -> identifiers record of a customer, and its split.

A customer keeps, beside its members, a ``ContactRecord`` for each contact event applied to it (a call, a counter
visit, a web interaction: the schemas ``customer.contacts.v1`` re-publishes, ``bus.topics.CONTACT_EVENTS``): the
event's id, instant, channel, record and the identifier keys it carried (look-up-only keys left out).

* **Bounded like the screen pop** (``CustomerState.contact_records``): per channel the latest ``kept_per_channel``
  events by (instant, event id), the recent-contacts limit (``ProfileLimits.recent_contacts_per_channel``) times
  ``EVENTS_PER_CONTACT`` (a call comes as its ``CallCompleted`` and its ``InteractionRecorded``). What is kept
  depends on the events, not on their arrival order; a re-delivered event is kept once.
* **Carried through merges**: the loser's records travel in ``Offer.contacts`` and join the survivor's (``merged``).
* **At a split** (``leaving``) a contact follows the moved identifiers when it carried at least one of them and none
  that the source keeps: it carried only identifiers that moved (or that belong to no one here: shared, refused).
  **A contact that carried both a moved and a kept identifier stays** with the source: nothing tells whose it was.
  The source drops those records and their entries from its profile (``ProfileBook.split``); the new customer takes
  both and re-publishes each contact on ``customer.contacts`` under its own key (``Resolved.moved_by``), with an
  event id derived from the split's announcement and the contact (``outputs.moved_contact_id``): a redelivered split
  publishes the same ids.
"""

from __future__ import annotations

from collections.abc import Iterable

from bus.topics import CONTACT_EVENTS
from processors.identity.graph.context import Ctx
from processors.identity.graph.limits import HASH_BITS
from processors.identity.graph.messages import Apply, ContactRecord, EventRef, SplitInit
from processors.identity.graph.outputs import Resolved
from processors.identity.graph.state import CustomerState, decode_profile, encode_profile
from processors.profile.book import ProfileBook
from processors.profile.limits import ProfileLimits
from processors.profile.sections.recent_contacts import RecentContactsSection

CONTACT_SCHEMAS = frozenset(CONTACT_EVENTS.carries)
# A contact's events on one channel: its channel's own (CallCompleted, CounterTransaction) and InteractionRecorded.
EVENTS_PER_CONTACT = 2


def kept_per_channel(book: ProfileBook) -> int:
    """How many contact events a customer records per channel: as many as its screen pop shows contacts, for each
    of a contact's events."""
    for section in book.sections:
        if isinstance(section, RecentContactsSection):
            return EVENTS_PER_CONTACT * section.limits.recent_contacts_per_channel
    return EVENTS_PER_CONTACT * ProfileLimits().recent_contacts_per_channel


def carried(ref: EventRef | None, keys: list[str]) -> list[str]:
    """What an ``Apply`` of the event ``ref`` carries for the record: its keys ``keys`` if it is a contact."""
    return keys if ref is not None and ref.schema in CONTACT_SCHEMAS else []


def contact_record(event_id: str, ref: EventRef | None, rank: int, channel: str,
                   carried: list[str]) -> ContactRecord | None:
    """The record of a contact event applied with ``carried`` identifier keys (``rank``: ``limits.event_rank``), or
    None for an event no split moves (not a contact, or no identifier of its own)."""
    if ref is None or ref.schema not in CONTACT_SCHEMAS or not carried:
        return None
    return ContactRecord(event_id, rank >> HASH_BITS, channel, sorted(carried), ref)


def _order(record: ContactRecord) -> tuple[int, str]:
    return record.at, record.event_id


def noted(records: list[ContactRecord], record: ContactRecord, limit: int) -> list[ContactRecord] | None:
    """``records`` with ``record`` added, the oldest of its channel dropped past ``limit``; None when nothing
    changes (a copy of an event kept already, or one older than every event kept on its full channel)."""
    if any(kept.event_id == record.event_id for kept in records):
        return None
    same = [kept for kept in records if kept.channel == record.channel]
    if len(same) < limit:
        return [*records, record]
    oldest = min(same, key=_order)
    if _order(record) < _order(oldest):
        return None
    return [kept for kept in records if kept is not oldest] + [record]


def merged(survivor: Iterable[ContactRecord], loser: Iterable[ContactRecord], limit: int) -> list[ContactRecord]:
    """Both customers' records, each event once, the latest ``limit`` per channel (the survivor's first in a tie
    of equal event ids: the same event either way)."""
    by_id: dict[str, ContactRecord] = {}
    for record in (*loser, *survivor):
        by_id[record.event_id] = record
    by_channel: dict[str, list[ContactRecord]] = {}
    for record in by_id.values():
        by_channel.setdefault(record.channel, []).append(record)
    return [record for channel in sorted(by_channel)
            for record in sorted(by_channel[channel], key=_order, reverse=True)[:limit]]


def leaving(records: Iterable[ContactRecord], moved: Iterable[str], kept: Iterable[str]) -> list[ContactRecord]:
    """The records of the contacts that follow a split moving ``moved`` keys while the source keeps ``kept``: each
    carried a moved identifier and no kept one. A contact with both stays (nothing tells whose it was)."""
    moved_keys, kept_keys = set(moved), set(kept)
    return [record for record in records
            if not moved_keys.isdisjoint(record.ids) and kept_keys.isdisjoint(record.ids)]


def note(ctx: Ctx[CustomerState], message: Apply) -> None:
    """Record the contact ``message`` applies to this customer (a no-op for an event that is no contact)."""
    record = contact_record(message.event_id, message.event, message.rank, message.channel, message.carried)
    if record is not None:
        state = ctx.state
        updated = noted(state.contact_records, record, kept_per_channel(ctx.graph.book))
        if updated is not None:
            state.contact_records = updated


def hand_over(ctx: Ctx[CustomerState], moved: Iterable[str]) -> tuple[list[ContactRecord], bytes | None]:
    """At the source of a split moving ``moved`` (already taken off its members): the records of the contacts that
    follow, and their part of its profile (encoded), both taken off this customer."""
    state = ctx.state
    going = leaving(state.contact_records, moved, state.members)
    if not going:
        return [], None
    gone = {record.event_id for record in going}
    state.contact_records = [record for record in state.contact_records if record.event_id not in gone]
    book = ctx.graph.book
    events = [ctx.graph.load_event(record.event) for record in going if book.reads(record.event.schema)]
    profile = ctx.store.get_profile(ctx.key)
    if not events or not profile:
        return going, None
    kept, taken = book.split(profile, events)
    ctx.store.put_profile(ctx.key, kept or None)
    return going, encode_profile(taken) if taken else None


def take_over(ctx: Ctx[CustomerState], message: SplitInit) -> None:
    """At the new customer of a split: the contacts that followed, on its profile and re-published under its key
    (``Resolved.moved_by``: ids derived from the split's announcement and each contact)."""
    if not message.contacts:
        return
    ctx.state.contact_records = list(message.contacts)
    if message.profile:
        ctx.store.put_profile(ctx.key, decode_profile(message.profile))
    for record in sorted(message.contacts, key=_order):
        ctx.emit(Resolved(ctx.key, record.event, record.event_id, moved_by=message.split_event_id))
