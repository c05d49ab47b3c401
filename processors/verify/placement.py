"""Identity's placement of contacts, checked where others read it: the tracker's customer of each handoff, and the
events of one contact together on one customer (verify passed a handoff tracked on the phone keeper
while identity had placed its call on the housemate, and one call's events on two customers).

A placement is a record of ``customer.contacts.v1``: the event re-published under the customer identity placed it on
(the record's key), read as the tracker's directory reads it (``processors.handoffs.placements.Placement``: a copy an
operator's split or a contact move re-published, ``bus.topics.MOVED_FROM_HEADER``, wins over the original; among
equals the later record), through every ``CustomerMerged`` on that topic (``CustomerDirectory.merge``). A contact is
the events the adapters mapped from one source record (a call, a counter visit, a web message): they share
``envelope.correlation_id`` (``adapters/call_center/mapper.py``, ``processors.offers.intake.placement_key``). A
handoff opened during a contact (``HandoffCreated.origin_interaction_id``) stands with that contact's events, wherever
identity moved them (``check_handoffs_with_their_contact``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from bus.plural import counted
from bus.serde import Event
from processors.handoffs.directory import MOVABLE_CONTACTS, CustomerDirectory
from processors.handoffs.outputs import CREATED, ROUTED, STATUS_CHANGED
from processors.handoffs.placements import Placement
from processors.identity.announcements import CUSTOMER_MERGED
from processors.profile.limits import short_key
from processors.profile.sections.recent_contacts import ID_FIELDS, contact_id
from processors.replay import Replayed
from processors.verify.report import Check, Report

ONE_CONTACT = "identity: every event of one contact is placed on one customer"
HANDOFF_CUSTOMER = "handoffs: each handoff's customer is identity's placement of the contact that opened it"
HANDOFF_WITH_CONTACT = "identity: every handoff is placed with the contact it was opened during"
SPREAD = "contacts on more than one customer"  # a figure (``check_one_customer_per_contact``)
ELSEWHERE = "handoffs on another customer than identity's placement"  # a figure (failures, whatever the status)
NO_CUSTOMER = "no customer"  # what a failure says of a side that names none
ANNOUNCING = frozenset({ROUTED, STATUS_CHANGED})  # the tracker's outputs that name the handoff's customer
# What a copy of a contact changes in its envelope (``announcements.Announcer._moved_contact``).
COPY_FIELDS = ("event_id", "causation_id")


@dataclass
class Placements:
    """What ``customer.contacts.v1`` says: the tracker's directory (handoffs and merges) and each event's placement."""

    directory: CustomerDirectory = field(default_factory=CustomerDirectory)
    events: dict[str, Placement] = field(default_factory=dict)  # original event id -> the placement that stands
    schema: dict[str, str] = field(default_factory=dict)  # original event id -> its schema
    contact: dict[str, str] = field(default_factory=dict)  # original event id -> its contact (correlation id)
    # A HandoffCreated's original event id -> the screen-pop id of the contact it was opened during
    opened_during: dict[str, str] = field(default_factory=dict)
    events_of: dict[str, set[str]] = field(default_factory=dict)  # screen-pop contact id -> its events' original ids

    def customer(self, event_id: str) -> str:
        """The customer the event stands on now, through every merge read."""
        return self.directory.survivor_of(self.events[event_id].customer_id)


def read_placements(contacts: Iterable[Replayed]) -> Placements:
    """Every placement on ``customer.contacts.v1`` (records in partition and offset order; undecoded ones skipped).
    A copy identity re-published under another customer counts for the event it copies and wins over it
    (``Placement.supersedes``): one with ``MOVED_FROM_HEADER``, or one that is the event its ``causation_id`` names but
    for those two envelope fields (``announcements.Announcer._moved_contact``: a contact move's or a later version's
    copy written before those carried the header too). A HandoffCreated stands where its own records put it (identity
    moves it with the contact it was opened during: ``processors.identity.graph.handoff_moves``), which
    ``check_handoffs_with_their_contact`` holds to its contact's."""
    found = Placements()
    read: list[tuple[Placement, dict[str, Any], str]] = []
    values: dict[str, dict[str, Any]] = {}  # event id -> the first value read under it
    for record in contacts:
        event = record.event
        if event is None or not record.key:
            continue
        found.directory.read(record.key, event, record.headers, record.timestamp_ms or 0)
        if event.schema == CUSTOMER_MERGED:
            continue
        placement = Placement.of_record(record.key, event.value, record.headers, record.timestamp_ms or 0)
        read.append((placement, event.value, event.schema))
        values.setdefault(placement.event_id, event.value)
    copied: dict[str, str] = {}  # a copy's event id -> the event it copies
    for placement, value, _ in read:
        cause = copy_of(value, placement.moved, values)
        if cause is not None:
            copied[placement.event_id] = cause
    for placement, value, schema in read:
        original, seen = placement.event_id, {placement.event_id}
        while original in copied and copied[original] not in seen:
            original = copied[original]
            seen.add(original)
        if original != placement.event_id and not placement.moved:
            placement = replace(placement, moved=True)
        held = found.events.get(original)
        if held is None or placement.supersedes(held):
            found.events[original] = placement
        if not placement.moved or original not in found.contact:
            found.contact[original] = str(value["envelope"].get("correlation_id") or original)
            found.schema[original] = schema.rsplit(".", 1)[-1]
        if schema == CREATED and value.get("origin_interaction_id"):
            found.opened_during[original] = short_key(value["origin_interaction_id"])
        elif schema in MOVABLE_CONTACTS and value.get(ID_FIELDS[schema.rsplit(".", 1)[-1]]):
            found.events_of.setdefault(contact_id(Event(schema, value)), set()).add(original)
    return found


def copy_of(value: Mapping[str, Any], moved: bool, values: Mapping[str, Mapping[str, Any]]) -> str | None:
    """The event id of the event a record of ``customer.contacts.v1`` (its decoded ``value``) copies, or None when it
    is no copy: one with ``MOVED_FROM_HEADER`` (``moved``), or one that is the event its ``causation_id`` names
    (``values``: event id -> the first value read under it) but for ``COPY_FIELDS``."""
    cause = value["envelope"].get("causation_id")
    if cause and (moved or (cause in values and _body(values[cause]) == _body(value))):
        return str(cause)
    return None


def _body(value: Mapping[str, Any]) -> dict[str, Any]:
    envelope = {k: v for k, v in value["envelope"].items() if k not in COPY_FIELDS}
    return {**value, "envelope": envelope}


def check_one_customer_per_contact(placements: Placements, report: Report) -> Check:
    """Every event of one contact stands on one customer; a contact on more fails, naming its events' kinds per
    customer and the customer ids (never an identifier value), and counts in ``SPREAD``."""
    members: dict[str, list[str]] = {}
    for event_id, contact in placements.contact.items():
        members.setdefault(contact, []).append(event_id)
    check = report.add(Check(ONE_CONTACT, len(members)))
    for contact, event_ids in sorted(members.items()):
        kinds: dict[str, list[str]] = {}
        for event_id in event_ids:
            kinds.setdefault(placements.customer(event_id), []).append(placements.schema[event_id])
        if len(kinds) > 1:
            spread = "; ".join(sorted(f"{', '.join(sorted(names))} on {customer}" for customer, names in kinds.items()))
            check.fail(f"contact {contact}: {counted(len(event_ids), 'event')} on {len(kinds)} customers ({spread})")
    report.count_items(SPREAD, check.failures)
    return check


def check_handoffs_with_their_contact(placements: Placements, report: Report) -> Check:
    """Every ``HandoffCreated`` opened during a contact read on the topic (``origin_interaction_id``, the contact's
    screen-pop id) stands on a customer that contact's events stand on, through every merge: a handoff left on the
    customer a contact moved off shows on the wrong person's screen pop (movehoff's note). Fails naming the handoff's
    event id, the contact and the customer ids (never an identifier value); a handoff whose contact was not read is
    not checked."""
    checked = {event_id: contact for event_id, contact in placements.opened_during.items()
               if contact in placements.events_of}
    check = report.add(Check(HANDOFF_WITH_CONTACT, len(checked)))
    for event_id, contact in sorted(checked.items()):
        where = {placements.customer(other) for other in placements.events_of[contact]}
        if placements.customer(event_id) not in where:
            check.fail(f"HandoffCreated {event_id}: on {placements.customer(event_id)}, the contact {contact} it was "
                       f"opened during on {', '.join(sorted(where))}")
    return check


def announced_customers(tracker_outputs: Iterable[Replayed]) -> dict[str, str | None]:
    """Handoff id -> the customer the tracker's latest ``HandoffRouted`` / ``HandoffStatusChanged`` names (records of
    one handoff are on one partition, in offset order)."""
    return {r.event.value["handoff_id"]: r.event.value.get("customer_id") for r in tracker_outputs
            if r.event is not None and r.event.schema in ANNOUNCING}


def check_handoff_customers(placements: Placements, table: Mapping[str, Mapping[str, Any]],
                            announced: Mapping[str, str | None], report: Report) -> Check:
    """For every handoff identity placed, the customer of the tracker's table (``table``: handoff id -> its state's
    ``customer_id`` and ``status``) and of its latest announcement (``announced_customers``) is identity's placement,
    through every merge. A handoff elsewhere fails (``ELSEWHERE``) whatever its status: the tracker follows a
    resolved or closed case too, within a tick (``processors.handoffs.customers``). The failure names
    the handoff's status and the customer ids, ``no customer`` where a side names none. A handoff not in the table
    is the lost check's."""
    directory = placements.directory
    placed = {h: p[0] for h in table if (p := directory.placed_on(h)) is not None}
    check = report.add(Check(HANDOFF_CUSTOMER, len(placed)))
    for handoff_id, customer in sorted(placed.items()):
        state = table[handoff_id]
        sides = {"the tracker's table": state.get("customer_id")}
        if handoff_id in announced:
            sides["its latest HandoffRouted/HandoffStatusChanged"] = announced[handoff_id]
        wrong = [side for side, named in sides.items() if named is None or directory.survivor_of(named) != customer]
        if not wrong:
            continue
        named = ", ".join(sorted({sides[side] or NO_CUSTOMER for side in wrong}))
        status = f" ({state['status'].lower()})" if state.get("status") else ""
        check.fail(f"handoff {handoff_id}{status}: identity placed it on {customer}, {' and '.join(wrong)} "
                   f"name(s) {named}")
    report.count_items(ELSEWHERE, check.failures)
    return check
