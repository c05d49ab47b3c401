"""Where a contact stands now, for ``omnibus identity move-contact`` to refuse a move that would move nothing.

The graph moves a contact only from the customer that records it (``graph/move_contact.py``); any other ``--from``
gave a ``ContactMoved`` with ``moved_event_ids: []`` while the command said it was requested and exited 0 (tester22
F8 addendum: a lost call, on no customer, could not be moved at all).
"""

from __future__ import annotations

from collections.abc import Iterable

import typer

from bus.config import OmnibusSettings
from bus.topics import CUSTOMER_CONTACTS
from processors.handoffs.directory import MOVABLE_CONTACTS
from processors.profile.sections.recent_contacts import contact_id
from processors.replay import Replayed, read_topics
from processors.verify.placement import read_placements


def contact_customers(contacts: Iterable[Replayed], contact: str) -> set[str]:
    """The customers (through every merge read) the events of the contact whose screen-pop id is ``contact``
    (``recent_contacts[].id``) stand on, by ``customer.contacts.v1`` (``contacts``: its records in partition and
    offset order; a moved copy wins over the original, as ``omnibus verify`` reads it). Empty: on no customer, or
    older than the topic's retention."""
    records = list(contacts)
    placements = read_placements(records)
    found = {record.event.value["envelope"]["event_id"] for record in records
             if record.event is not None and record.event.schema in MOVABLE_CONTACTS
             and contact_id(record.event) == contact}
    return {placements.customer(event_id) for event_id in found if event_id in placements.events}


async def contact_records(settings: OmnibusSettings) -> list[Replayed]:
    """Every record of ``customer.contacts.v1`` now."""
    return (await read_topics(settings, [CUSTOMER_CONTACTS])).records


def refuse_elsewhere(contact: str, source: str, records: list[Replayed]) -> None:
    """Exit 1 with one line unless the contact stands on ``source`` (``contact_customers``): the graph moves it only
    from there, so the move would be a ``ContactMoved`` with nothing in it."""
    customers = contact_customers(records, contact)
    if source in customers:
        return
    where = (f"on {len(customers)} other customer(s): {', '.join(sorted(customers))}" if customers else
             "on no customer on customer.contacts.v1 (never placed, or older than the topic keeps)")
    typer.echo(f"error: contact {contact} is not on {source} but {where}; nothing to move", err=True)
    raise typer.Exit(1)
