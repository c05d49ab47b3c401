"""Where a contact stands now, for ``omnibus identity move-contact`` to refuse a move that would move nothing.

The graph moves a contact only from the customer that records it (``graph/move_contact.py``); any other ``--from``
gave a ``ContactMoved`` with ``moved_event_ids: []`` while the command said it was requested and exited 0 (a lost call,
on no customer, could not be moved at all).

A contact is named by the id its screen-pop entry shows (``recent_contacts[].id``, ``recent_contacts.contact_id``),
and stands on every customer one of its events was placed on and not moved off since. Two events of two contacts may
share an event id (a messageId reused once the adapter forgot it: web event ids derive from the source and the
messageId), and two contacts a visible id: each placement counts on its own, where the graph keeps each event's record
on its own customer (F3: the id one screen pop showed was refused as "not on" it, read as the other event's).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import typer

from bus.config import OmnibusSettings
from bus.plural import counted
from bus.topics import CUSTOMER_CONTACTS, moved_from
from processors.handoffs.directory import MOVABLE_CONTACTS, CustomerDirectory
from processors.identity.announcements import CUSTOMER_MERGED
from processors.profile.limits import short_key
from processors.profile.sections.recent_contacts import contact_id
from processors.replay import Replayed, read_topics
from processors.verify.placement import copy_of


def shown_id(contact: str) -> str:
    """A contact id as an operator gave it, as the screen pop shows it (``recent_contacts.contact_id``): without the
    spaces around it, a longer id shortened (``short_key``); what ``move-contact`` checks and sends."""
    return short_key(contact.strip())


def contact_customers(contacts: Iterable[Replayed], contact: str) -> set[str]:
    """The customers (through every merge read) the events of the contact whose screen-pop id is ``contact``
    (``recent_contacts[].id``; a longer id as sent is shortened as the screen pop shows it, ``short_key``) stand on,
    by ``customer.contacts.v1`` (``contacts``: its records in partition and offset order). Each event stands where it
    was placed, and a copy identity re-published under another customer (a split, a claim, a contact move:
    ``verify.placement.copy_of``) takes it off the customer the copy left (``MOVED_FROM_HEADER``; off every one, for
    a copy without it), copies in time order after the placements. Empty: on no customer, or older than the topic's
    retention."""
    wanted = shown_id(contact)
    directory = CustomerDirectory()
    mine: list[tuple[int, Replayed]] = []  # the contact's records, with their read position
    values: dict[str, Mapping[str, Any]] = {}  # event id -> the first value read under it (the contact's records)
    for position, record in enumerate(contacts):
        event = record.event
        if event is None or not record.key:
            continue
        if event.schema == CUSTOMER_MERGED:
            directory.read(record.key, event, record.headers, record.timestamp_ms or 0)
        elif event.schema in MOVABLE_CONTACTS and contact_id(event) == wanted:
            mine.append((position, record))
            values.setdefault(event.value["envelope"]["event_id"], event.value)
    standing: dict[str, set[str]] = {}  # an event id -> the customers it stands on
    copies: list[tuple[int, int, str, str | None, str]] = []  # (time, position, event id, customer left, customer)
    for position, record in mine:
        value, key, source = record.event.value, record.key.decode(), moved_from(record.headers)  # type: ignore[union-attr]
        cause = copy_of(value, source is not None, values)
        if cause is None:
            standing.setdefault(value["envelope"]["event_id"], set()).add(key)
        else:
            copies.append((record.timestamp_ms or 0, position, cause, source, key))
    for _, _, cause, source, key in sorted(copies):
        placed = standing.setdefault(cause, set())
        left = directory.survivor_of(source) if source is not None else None
        placed -= {customer for customer in placed if left is None or directory.survivor_of(customer) == left}
        placed.add(key)
    return {directory.survivor_of(customer) for placed in standing.values() for customer in placed}


def event_contact(contacts: Iterable[Replayed], event_id: str) -> str | None:
    """The screen-pop id of the contact whose event (or copy of it) has envelope id ``event_id`` on
    ``customer.contacts.v1``, or None: what to tell someone who gave ``move-contact`` an event id."""
    for record in contacts:
        event = record.event
        if event is not None and event.schema in MOVABLE_CONTACTS and event.value["envelope"]["event_id"] == event_id:
            return contact_id(event)
    return None


async def contact_records(settings: OmnibusSettings) -> list[Replayed]:
    """Every record of ``customer.contacts.v1`` now."""
    return (await read_topics(settings, [CUSTOMER_CONTACTS])).records


def refuse_elsewhere(contact: str, source: str, records: list[Replayed]) -> None:
    """Exit 1 with one line unless the contact stands on ``source`` (``contact_customers``): the graph moves it only
    from there, so the move would be a ``ContactMoved`` with nothing in it. An event id given for the contact's id
    is named as such, with the contact id to give instead."""
    customers = contact_customers(records, contact)
    if source in customers:
        return
    if not customers and (named := event_contact(records, contact.strip())) is not None:
        typer.echo(f"error: {contact} is the event id of one of contact {named}'s events; move-contact takes the "
                   f"contact id the screen pop shows (recent_contacts[].id): {named}", err=True)
        raise typer.Exit(1)
    where = (f"on {counted(len(customers), 'other customer')}: {', '.join(sorted(customers))}" if customers else
             "on no customer on customer.contacts.v1 (never placed, or older than the topic keeps)")
    typer.echo(f"error: contact {contact} is not on {source} but {where}; nothing to move", err=True)
    raise typer.Exit(1)
