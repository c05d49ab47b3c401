"""The records of the handoffs opened during a contact, kept beside the contacts' (``handoff_moves.py``, the rules).

A ``HandoffCreated`` that names its contact (``origin_interaction_id``) is recorded as a ``ContactRecord`` in the
bucket ``CHANNEL`` of ``split_contacts`` (bounded as a channel's contacts are, carried through merges); every move of
contacts takes the handoffs opened during them (``opened_during``) and their screen-pop entries (``entries``).
Pure: ``load`` decodes a record's event (``Graph.load_event``).
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


def following(load: Load, records: list[ContactRecord], going: list[ContactRecord],
              would_go: Callable[[list[ContactRecord]], list[ContactRecord]]) -> list[ContactRecord]:
    """The handoff records of ``records`` that go with the contact records ``going`` (a split's, a claim's): those
    opened during one of them, and those opened during a contact not among ``records`` (it went elsewhere, or has not
    arrived) that ``would_go`` (the rule of the move for a contact with their identifiers: where that contact goes)."""
    def contacts(chosen: Iterable[ContactRecord]) -> set[str]:
        return {contact_id(load(r.event)) for r in chosen if r.event.schema in RecentContactsSection.schemas}

    handoffs = [record for record in records if is_handoff(record)]
    if not handoffs:
        return []
    here, gone = contacts(records), contacts(going)
    alone = would_go([record for record in handoffs if origin(load(record.event)) not in here])
    return [record for record in handoffs if origin(load(record.event)) in gone] + alone


def opened_during(load: Load, records: Iterable[ContactRecord], contacts: set[str]) -> list[ContactRecord]:
    """The handoff records of ``records`` opened during one of ``contacts`` (screen-pop ids, ``short_key``)."""
    return [record for record in records if is_handoff(record) and origin(load(record.event)) in contacts]


def entries(load: Load, records: Iterable[ContactRecord]) -> dict[str, set[str]]:
    """The screen-pop entries of the handoffs of ``records`` (``ProfileBook.split``'s ``also``)."""
    found = {handoff_id(load(record.event)) for record in records if is_handoff(record)}
    return {OpenHandoffsSection.name: found} if found else {}
