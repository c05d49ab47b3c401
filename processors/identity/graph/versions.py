"""One contact, one customer, whatever version of it came when (issue #8, "One customer"; tester finding F13).

A channel may report one contact again once it changed: Amazon Connect re-sends a CTR when the contact is updated
(same ContactId, later ``LastUpdateTimestamp``: the IVR's name and birth date, the agent's wrap-up code added), a
counter re-sends a transaction whose status changed. Each version has its own event ids
(``adapters/call_center/mapper.py``) and its own saga, so two versions may be placed on two customers: the first,
told nobody, follows the family phone to its keeper; the update, with the caller's traits, goes to the housemate
they fit (``seek.py``). The contact then stays on the customer of its *latest* version:

* the customer that applies a contact event (``customer_node.on_apply``), or takes one over (a claim's, a split's
  or a move's), tells the event's first identifier (``Placed``): which contact (its channel and screen-pop id,
  ``recent_contacts.contact_id``), which version (its source system and ``source_event_id``, which a call's events
  of one report share; events without one are one version), in what order (when it occurred, when its source
  received it, its event id: the later the newer; a CTR's versions share their occurred time) and where; not a
  contact that is one version whatever comes (``one_version``: a web message, an event naming no version);
* that identifier keeps the latest version of each recent contact (``IdentifierState.contacts``) and, when a
  version lands on another customer than the latest, moves the contact from the one to the other as an operator's
  ``move-contact`` does (``move_contact.py``: ``ContactMoved`` with rule ``latest-version``, the moved events
  re-published under the target with new ids, their originals as causes); an older version that lands later is
  moved to the latest's customer the same way.

Every version of one contact carries the same first identifier (the caller's number: the adapters list it first),
so one node sees them all. Bounded without timers: the latest ``MAX_CONTACTS`` contacts by event time per
identifier; a version of one that fell off (older than all kept, a day of calls on one line later) is placed as it
comes. Idempotent: a copy of ``Placed`` changes nothing, and a move's id derives from the contact, its source and
the latest version (a copy of the move is dropped at the source, ``move_contact.on_move_contact``). An event an
operator's move took on tells where it went; another event of the same version only updates where it is. Known
limit: an operator's move of a contact while two of its versions are still on their way may be undone by the latest
version's rule (a stale ``Placed``).
"""

from __future__ import annotations

import msgspec

from bus.envelope import IDENTITY_DECISION_IDS
from bus.serde import Event
from bus.topics import CONTACT_EVENTS
from processors.identity.graph.context import Ctx
from processors.identity.graph.messages import EventRef, MoveContact, Placed, PlacedContact
from processors.identity.graph.messages.base import ContactRecord
from processors.identity.graph.state import CustomerState, IdentifierState
from processors.identity.rules import LATEST_VERSION
from processors.profile.limits import short_key
from processors.profile.sections.recent_contacts import contact_id, version, version_order

CONTACT_SCHEMAS = frozenset(CONTACT_EVENTS.carries)
MAX_CONTACTS = 16  # recent contacts whose latest version an identifier keeps
OPERATOR = "omnibus-identity"
REASON = "a later version of the contact was placed on this customer"


def placed(ctx: Ctx[CustomerState], event_id: str, ref: EventRef | None, carried: list[str],
           event: Event | None = None) -> None:
    """After the event ``event_id`` (``ref``, carrying identifier keys ``carried``; ``event``: ``ref`` decoded, if it
    was) was applied to this customer, or handed to it (a claim's, a split's or a move's contacts): tell its first
    identifier if it is a contact."""
    if ref is None or ref.schema not in CONTACT_SCHEMAS or not carried or not ctx.graph.book.reads(ref.schema):
        return  # not a contact; or a graph that keeps no screen pop (``baseline.resolver``: another stage does)
    event = event or ctx.graph.load_event(ref)
    own_id = contact_id(event)
    if one_version(event, own_id):
        return
    contact = f"{event.value['envelope']['channel']}/{own_id}"
    ctx.send(carried[0], Placed(PlacedContact(contact, version(event), *version_order(event), event_id, ctx.key)))


def one_version(event: Event, own_id: str) -> bool:
    """Every event of ``event``'s contact (``own_id``: its ``contact_id``) is of one version, so its first identifier
    has nothing to keep (issue #9: a message and an identifier state write per contact event): it names no version
    (``source_event_id`` missing: one version, ``recent_contacts.version``), or its version is the contact itself (a
    web message's ``messageId`` is both its interaction id and its version; an Asterisk CDR line with ``sequence``).
    Versioned contacts (a CTR's ``ContactId@LastUpdateTimestamp``, a counter's event id) are placed."""
    source_event_id = event.value["envelope"].get("source_event_id")
    return not source_event_id or short_key(source_event_id) == own_id


def on_placed(ctx: Ctx[IdentifierState], message: Placed) -> None:
    """At the identifier: keep the contact's latest version, and move the contact to its customer if a version is
    elsewhere."""
    state = ctx.state
    incoming = message.placed
    known = next((item for item in state.contacts if item.contact == incoming.contact), None)
    if known is None:
        if len(state.contacts) >= MAX_CONTACTS and incoming.at < min(item.at for item in state.contacts):
            return  # older than every contact kept here: placed as it came
        _keep(state, incoming)
        return
    if known.version == incoming.version:
        # Another event of the same version, a copy, or one an operator's move or a split took on: it is where it was
        # put last (its events follow one another there: ``move_contact.follow``, ``moved_off.py``).
        if known.customer != incoming.customer:
            _keep(state, msgspec.structs.replace(known, customer=incoming.customer))
        return
    latest, earlier = (incoming, known) if _order(incoming) > _order(known) else (known, incoming)
    if earlier.customer != latest.customer:
        token = IDENTITY_DECISION_IDS.derive(LATEST_VERSION, incoming.contact, earlier.customer, latest.event_id)
        ctx.send(earlier.customer, MoveContact(incoming.contact.partition("/")[2], latest.customer, OPERATOR, REASON,
                                               token, rule=LATEST_VERSION))
    _keep(state, latest)


def _order(item: PlacedContact) -> tuple[int, int, str]:
    return item.at, item.received, item.event_id


def _keep(state: IdentifierState, item: PlacedContact) -> None:
    kept = [other for other in state.contacts if other.contact != item.contact]
    state.contacts = sorted([*kept, item], key=lambda other: (other.at, other.contact))[-MAX_CONTACTS:]


def told(ctx: Ctx[CustomerState], records: list[ContactRecord]) -> set[str]:
    """The event ids of ``records`` (contact events applied here) whose contact told its person by its latest version
    among them: the first CTR of a call, untold, updated with the IVR's name and birth date told it, so a claim of
    the family phone neither takes it (``split_contacts.hand_over``) nor dissolves its customer (``claim_node``)."""
    contacts: dict[str, list[tuple[tuple[int, int, str], ContactRecord]]] = {}
    for record in records:
        event = ctx.graph.load_event(record.event)
        contact = f"{event.value['envelope']['channel']}/{contact_id(event)}"
        contacts.setdefault(contact, []).append(((*version_order(event), version(event)), record))
    found: set[str] = set()
    for versions in contacts.values():
        latest = max(order for order, _ in versions)
        if any(record.told for order, record in versions if order[2] == latest[2]):
            found.update(record.event_id for _, record in versions)
    return found
