"""The records of the handoffs opened during a contact, kept beside the contacts' (``handoff_moves.py``, the rules).

A ``HandoffCreated`` (naming its contact, ``origin_interaction_id``, or none) is recorded as a ``ContactRecord`` in
the bucket ``CHANNEL`` of ``split_contacts`` (carried through merges), and so is every other lifecycle event of a
handoff applied to the customer (the tracker's ``HandoffRouted``, ``HandoffStatusChanged``...: identity placed it there
because of the handoff's contact too, whether it came before or after the creation; tester24 F6, where a move left
them on the first customer's ``customer.contacts`` stream). The bucket keeps ``EVENTS_PER_HANDOFF`` records per
handoff a channel keeps contacts (``split_contacts.kept_in``). Every move of contacts takes the handoffs opened
during them, each with all its records (``opened_during``, ``of_handoffs``), and their screen-pop entries
(``entries``). Pure: ``load`` decodes a record's event (``Graph.load_event``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from bus.serde import Event
from bus.topics import HANDOFF_EVENTS
from processors.handoffs.outputs import CREATED
from processors.handoffs.profile_section import OpenHandoffsSection
from processors.identity.graph.messages.base import ContactRecord, EventRef
from processors.profile.limits import short_key
from processors.profile.sections.recent_contacts import RecentContactsSection, contact_id

SCHEMAS = frozenset(HANDOFF_EVENTS.carries)
# The records' bucket beside the channels' (``split_contacts.latest`` keeps as many per bucket): no channel is named so.
CHANNEL = "~handoffs"
# The records of one handoff a customer typically holds: its creation, routing, acknowledgement and resolution.
EVENTS_PER_HANDOFF = 4

Load = Callable[[EventRef], Event]


def origin(event: Event) -> str | None:
    """The screen-pop id of the contact a ``HandoffCreated`` was opened during, or None (none, or another event)."""
    found = event.value.get("origin_interaction_id") if event.schema == CREATED else None
    return short_key(found) if found else None


def handoff_id(event: Event) -> str:
    """The handoff's key as the screen pop's ``open_handoffs`` and the notes keep it."""
    return short_key(event.value["handoff_id"])


def is_handoff(record: ContactRecord) -> bool:
    return record.channel == CHANNEL


def recorded(event: Event) -> bool:
    """Whether a handoff's lifecycle ``event`` applied to a customer is recorded: every event of a handoff (its
    creation may come later). A ``HandoffCreated`` that names no contact too: it goes where a contact with its
    identifiers would (``following``'s ``would_go``), so a case opened through a recycled number after the new
    subscriber's record gave it follows the number with its screen-pop entry, and the tracker reads it placed there."""
    return event.schema in SCHEMAS and bool(event.value.get("handoff_id"))


def staying(load: Load, records: Iterable[ContactRecord], going: Iterable[ContactRecord]) -> dict[str, set[str]]:
    """The screen-pop entries (``ProfileBook.split``'s ``stay``) of the handoffs whose ``HandoffCreated`` is among
    ``records`` and not ``going``: the case stays where identity placed its creation (the customer its contact was
    placed on), whatever identifiers its status events named (a recycled number the source gives away)."""
    gone = {record.event_id for record in going}
    found = {handoff_id(load(record.event)) for record in records
             if is_handoff(record) and record.event.schema == CREATED and record.event_id not in gone}
    return {OpenHandoffsSection.name: found} if found else {}


def following(load: Load, records: list[ContactRecord], going: list[ContactRecord],
              would_go: Callable[[list[ContactRecord]], list[ContactRecord]]) -> list[ContactRecord]:
    """The handoff records of ``records`` that go with the contact records ``going`` (a split's, a claim's): every
    record of the handoffs opened during one of them, and of those opened during a contact not among ``records`` (it
    went elsewhere, or has not arrived) whose ``HandoffCreated`` ``would_go`` (the rule of the move for a contact with
    their identifiers: where that contact goes)."""
    def contacts(chosen: Iterable[ContactRecord]) -> set[str]:
        return {contact_id(load(r.event)) for r in chosen if r.event.schema in RecentContactsSection.schemas}

    handoffs = [record for record in records if is_handoff(record)]
    opened = [record for record in handoffs if record.event.schema == CREATED]
    if not opened:
        return []
    here, gone = contacts(records), contacts(going)
    alone = would_go([record for record in opened if origin(load(record.event)) not in here])
    taken = [record for record in opened if origin(load(record.event)) in gone] + alone
    return of_handoffs(load, handoffs, {handoff_id(load(record.event)) for record in taken})


def opened_during(load: Load, records: Iterable[ContactRecord], contacts: set[str]) -> list[ContactRecord]:
    """Every handoff record of ``records`` (creation and later events) of the handoffs opened during one of
    ``contacts`` (screen-pop ids, ``short_key``)."""
    records = [record for record in records if is_handoff(record)]
    return of_handoffs(load, records, {handoff_id(load(record.event)) for record in records
                                       if origin(load(record.event)) in contacts})


def of_handoffs(load: Load, records: Iterable[ContactRecord], handoffs: set[str]) -> list[ContactRecord]:
    """The handoff records of ``records`` of the handoffs ``handoffs`` (``handoff_id``), whichever their event."""
    if not handoffs:
        return []
    return [record for record in records if is_handoff(record) and handoff_id(load(record.event)) in handoffs]


def entries(load: Load, records: Iterable[ContactRecord]) -> dict[str, set[str]]:
    """The screen-pop entries of the handoffs of ``records`` (``ProfileBook.split``'s ``also``)."""
    found = {handoff_id(load(record.event)) for record in records if is_handoff(record)}
    return {OpenHandoffsSection.name: found} if found else {}
