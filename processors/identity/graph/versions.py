"""One contact, one customer, whatever version of it came when (issue #8, "One customer"; tester finding F13).

A channel may report one contact again once it changed: Amazon Connect re-sends a CTR when the contact is updated
(same ContactId, later ``LastUpdateTimestamp``: the IVR's name and birth date, the agent's wrap-up code added), a
counter re-sends a transaction whose status changed. Each version has its own event ids
(``adapters/call_center/mapper.py``) and its own saga, so two versions may be placed on two customers: the first,
told nobody, follows the family phone to its keeper; the update, with the caller's traits, goes to the housemate
they fit (``seek.py``). The contact then stays on one customer:

* the customer that applies a contact event, or takes one over (a claim's, a split's or a move's), tells the
  contact's versions node (``Placed``; ``node_of``: one of ``NODES`` by the contact, so every version meets there,
  whatever identifiers it carries): which contact (its channel and screen-pop id, ``recent_contacts.contact_id``),
  which version (its source system and ``source_event_id``, which a call's events of one report share; events
  without one are one version), in what order (when it occurred, when its source received it, its event id: the
  later the newer; a CTR's versions share their occurred time), through which first identifier and where; not a
  contact that is one version whatever comes (``one_version``: a web message, an event naming no version);
* the node keeps, per first identifier, the latest version of each recent contact and the order of its earliest
  (``IdentifierState.contacts``). Versions with one first identifier (a CTR updated with the IVR's traits) are on
  the customer of the latest: when one lands elsewhere, the contact moves there as an operator's ``move-contact``
  does (``move_contact.py``: ``ContactMoved`` with rule ``latest-version``, the moved events re-published under the
  target with new ids, their originals as causes); an older version that lands later is moved the same way;
* a corrected version that names another first identifier (a counter upload re-sent with the phone corrected, a
  ticket row's or a keyed batch line's later version with another number) is not another person's contact: the
  tracker keeps the case's identifiers (``bus.handoff_revisions``), so the contact stays with the versions of the
  first identifier its earliest version came with, and a version elsewhere moves there (rule
  ``corrected-version``; before, it stayed on the customer of its own identifiers, the case and its later events
  with it: one contact on two customers).

Bounded without timers: the latest ``MAX_CONTACTS`` contacts by event time per node; a version of one that fell off
(older than all kept) is placed as it comes. Idempotent: a copy of ``Placed`` changes nothing, and a move's id
derives from the contact, its source and the version (a copy of the move is dropped at the source,
``move_contact.on_move_contact``). An event an operator's move took on tells where it went; another event of the
same version only updates where it is. Known limit: an operator's move of a contact while two of its versions are
still on their way may be undone by these rules (a stale ``Placed``).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable

import msgspec

from bus.envelope import IDENTITY_DECISION_IDS
from bus.serde import Event
from bus.topics import CONTACT_EVENTS
from processors.identity.graph.context import Ctx
from processors.identity.graph.messages import EventRef, MoveContact, Placed, PlacedContact
from processors.identity.graph.messages.base import ContactRecord
from processors.identity.graph.state import CustomerState, IdentifierState
from processors.identity.rules import CORRECTED_VERSION, LATEST_VERSION
from processors.profile.limits import short_key
from processors.profile.sections.recent_contacts import contact_id, version, version_order

CONTACT_SCHEMAS = frozenset(CONTACT_EVENTS.carries)
MAX_CONTACTS = 16  # recent contacts whose versions a versions node keeps
# The versions nodes (``node_of``): 16,384 × 16 recent contacts; at 100,000 versioned contacts a day a correction
# within two days of its first version still finds it.
NODES = 1 << 14
NODE_PREFIX = "VERSIONS:"
OPERATOR = "omnibus-identity"
REASONS = {LATEST_VERSION: "a later version of the contact was placed on this customer",
           CORRECTED_VERSION: "the contact's first version, whose identifiers its case keeps, is on this customer"}


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
    ctx.send(node_of(contact), Placed(PlacedContact(contact, version(event), *version_order(event), event_id, ctx.key,
                                                    carried[0])))


def placed_together(ctx: Ctx[CustomerState], records: Iterable[ContactRecord]) -> None:
    """``placed`` for each of ``records``, contact events a move, a split or a claim brought here together, each
    contact's earliest version first. The versions node anchors a contact on its earliest version's customer: told a
    later version's new place first, it moved the contact back to where the earliest still stood (an operator's
    ``move-contact`` of a counter upload and its correction undone when the two share their instant); told the
    earliest first, it takes the other versions along, and the move it sends for them to where they stood finds
    nothing there and says nothing (``move_contact.on_move_contact``)."""
    book = ctx.graph.book
    ordered: list[tuple[tuple[int, int, str], ContactRecord, Event | None]] = []
    for record in records:
        event = None  # not a contact: ``placed`` tells nothing
        if record.event.schema in CONTACT_SCHEMAS and book.reads(record.event.schema):
            event = ctx.graph.load_event(record.event)
        at, received = version_order(event) if event is not None else (record.at, 0)
        ordered.append(((at, received, record.event_id), record, event))
    for _, record, event in sorted(ordered, key=lambda item: item[0]):
        placed(ctx, record.event_id, record.event, record.ids, event)


def one_version(event: Event, own_id: str) -> bool:
    """Every event of ``event``'s contact (``own_id``: its ``contact_id``) is of one version, so its first identifier
    has nothing to keep (issue #9: a message and an identifier state write per contact event): it names no version
    (``source_event_id`` missing: one version, ``recent_contacts.version``), or its version is the contact itself (a
    web message's ``messageId`` is both its interaction id and its version; an Asterisk CDR line with ``sequence``).
    Versioned contacts (a CTR's ``ContactId@LastUpdateTimestamp``, a counter's event id) are placed."""
    source_event_id = event.value["envelope"].get("source_event_id")
    return not source_event_id or short_key(source_event_id) == own_id


def node_of(contact: str) -> str:
    """The graph node where the versions of ``contact`` (its channel and screen-pop id) meet, whatever identifiers
    each carries: one of ``NODES``, by the contact's CRC-32."""
    return f"{NODE_PREFIX}{zlib.crc32(contact.encode()) % NODES}"


def on_placed(ctx: Ctx[IdentifierState], message: Placed) -> None:
    """At the contact's versions node (``node_of``): keep, per first identifier, the contact's latest version there
    and its earliest's order; move the versions elsewhere to the contact's customer (the module's rules)."""
    state = ctx.state
    incoming = message.placed
    incoming = msgspec.structs.replace(incoming, first=_order(incoming))
    entries = [item for item in state.contacts if item.contact == incoming.contact]
    if not entries:
        if _kept_contacts(state) >= MAX_CONTACTS and incoming.at < min(item.at for item in state.contacts):
            return  # older than every contact kept here: placed as it came
        _keep(state, incoming.contact, [incoming])
        return
    home = min(entries, key=_first).via
    moves: dict[str, tuple[str, str, str]] = {}  # source customer -> (target, rule, the version's event id)
    known = next((item for item in entries if item.via == incoming.via), None)
    if known is None:
        entries.append(incoming)
    elif known.version == incoming.version:
        # Another event of the same version, a copy, or one an operator's move or a split took on: it is where it was
        # put last (its events follow one another there: ``move_contact.follow``, ``moved_off.py``).
        entries = [msgspec.structs.replace(item, customer=incoming.customer) if item is known else item
                   for item in entries]
    else:
        latest, earlier = (incoming, known) if _order(incoming) > _order(known) else (known, incoming)
        latest = msgspec.structs.replace(latest, first=min(_first(known), _first(incoming)))
        if incoming.via == home and earlier.customer != latest.customer:
            moves[earlier.customer] = (latest.customer, LATEST_VERSION, latest.event_id)
            entries = [msgspec.structs.replace(item, customer=latest.customer)
                       if item.customer == earlier.customer else item for item in entries]  # the move takes them
        entries = [latest if item.via == incoming.via else item for item in entries]
    anchor = min(entries, key=_first)
    for item in entries:
        if item.customer != anchor.customer:
            moves.setdefault(item.customer, (anchor.customer, CORRECTED_VERSION, item.event_id))
    entries = [msgspec.structs.replace(item, customer=anchor.customer) for item in entries]
    for source, (target, rule, event_id) in moves.items():
        token = IDENTITY_DECISION_IDS.derive(rule, incoming.contact, source, event_id)
        ctx.send(source, MoveContact(incoming.contact.partition("/")[2], target, OPERATOR, REASONS[rule], token,
                                     rule=rule))
    _keep(state, incoming.contact, entries)


def _order(item: PlacedContact) -> tuple[int, int, str]:
    return item.at, item.received, item.event_id


def _first(item: PlacedContact) -> tuple[int, int, str]:
    return item.first or _order(item)


def _kept_contacts(state: IdentifierState) -> int:
    return len({item.contact for item in state.contacts})


def _keep(state: IdentifierState, contact: str, entries: list[PlacedContact]) -> None:
    """Keep ``entries`` as ``contact``'s, and the latest ``MAX_CONTACTS`` contacts by event time."""
    kept = [other for other in state.contacts if other.contact != contact] + entries
    latest: dict[str, int] = {}
    for item in kept:
        latest[item.contact] = max(latest.get(item.contact, item.at), item.at)
    staying = set(sorted(latest, key=lambda name: (latest[name], name))[-MAX_CONTACTS:])
    state.contacts = sorted((item for item in kept if item.contact in staying),
                            key=lambda item: (item.at, item.contact, item.via))


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



def with_first_version(ctx: Ctx[CustomerState], records: list[ContactRecord],
                       going: list[ContactRecord]) -> list[ContactRecord]:
    """Of ``records`` (contact events applied here), those a claim hands over (``split_contacts.hand_over``) once the
    versions of one contact go where its earliest version here goes: ``going`` with a version of a contact whose
    earliest stays left out, and the other versions of one whose earliest goes added. A counter upload corrected with
    another number stays with the first upload's phone, as ``corrected-version`` moves it (before, the claim of the
    corrected number took the correction and its case to that number's holder, and the claim of the first upload's
    phone left the correction behind: one contact on two customers until the versions node moved it)."""
    first: dict[str, tuple[tuple[int, int, str], str]] = {}
    contact_of: dict[str, str] = {}
    for record in records:
        if record.event.schema not in CONTACT_SCHEMAS:
            continue
        event = ctx.graph.load_event(record.event)
        contact = contact_of[record.event_id] = f"{event.value['envelope']['channel']}/{contact_id(event)}"
        order = (*version_order(event), version(event))
        if contact not in first or order < first[contact][0]:
            first[contact] = (order, record.event_id)
    gone = {record.event_id for record in going}
    if len(first) == len(contact_of):  # one version of each contact here: nothing to keep together
        return going

    return [record for record in records if record.event_id in contact_of
            and first[contact_of[record.event_id]][1] in gone] + [record for record in going
                                                                  if record.event_id not in contact_of]
