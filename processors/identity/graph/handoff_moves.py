"""A handoff opened during a contact follows that contact wherever identity moves it (hoffmove).

A ``HandoffCreated`` names the contact it was opened during (``origin_interaction_id``, the id the screen pop shows:
``recent_contacts.contact_id``) and the customer's identifiers, the same as the contact's; its later events that
name identifiers (``HandoffRouted``, the tracker's ``HandoffStatusChanged``, which feeds the screen pop's
``open_handoffs``) name them again. Identity places each by its identifiers, so when the contact moved (an operator's
``move-contact``, the latest-version or late-owner rule, a split or a claim) the handoff stayed on the first
customer: on ``customer.contacts.v1`` and on the wrong person's screen pop. Now:

* **A record per handoff event**: a ``HandoffCreated`` with an origin is recorded beside the contacts (``note``;
  ``handoff_records.py``), so every move of contacts finds the handoffs opened during them; so is each later event of
  a handoff applied here (the tracker's ``HandoffRouted`` and ``HandoffStatusChanged``, before or after the creation),
  so that a move re-publishes it under the target with the creation (tester24 F6: they stayed on the first
  customer's ``customer.contacts`` stream, ``omnibus verify`` found the contact on two customers).
* **At a move** the source hands them over with the contact: their records, the creation's and every other event's
  (re-published under the target with the move's ids and the ``omnibus-moved-from`` header, as the contact's events
  are; ``ContactMoved.moved_event_ids`` lists them) and their ``open_handoffs`` entries (``ProfileBook.split``'s
  ``also``), and notes where each went (``moved_off.note_handoff``): an operator's or a rule's move
  (``move_contact.py``), a split and a claim (``split_contacts.hand_over``).
* **Later, or late**: a ``HandoffCreated`` whose contact (or handoff) moved before it reached the source is applied
  there and handed over as the contact's late events are (``move_contact.follow``, ``moved_off.contact_moved``):
  the same outputs as in the order where it came first. Any other event of a handoff noted so is sent on unapplied
  (``follow``, before ``customer_node.on_apply`` applies it), with what the source already held of that handoff (a
  status change applied before the move): the same screen pops and placements whatever the arrival order
  (``test_handoff_moves*.py``).
* **Where its contact is**: a creation that names only identifiers its contact's customer does not hold (a recycled
  number, now the new subscriber's, given at the previous holder's counter visit with her customer number) reaches
  their owner, who never held the contact. The customer a contact is applied to tells those identifiers where it is
  (``contact_placed``; at a recycled number's claim the previous holder tells the claimant so for her contacts that
  stay, ``recycle.handoffs_stay``); their owner hands the cases opened during it over, and notes where later ones go
  (``moved_off.note_origin``, followed by ``move_contact.follow``). The note moves cases only, never the contact:
  a contact's own versions decide where it is (``versions.py``; the placement told as a version moved a login's
  contact back and forth between two housemates of a shared mailbox).
"""

from __future__ import annotations

from collections.abc import Iterable

import msgspec

from bus.serde import Event
from processors.handoffs.outputs import CREATED, ROUTED, STATUS_CHANGED
from processors.handoffs.profile_section import OpenHandoffsSection
from processors.identity.graph import moved_off, split_contacts
from processors.identity.graph.context import Ctx
from processors.identity.graph.customer_steps import done, route
from processors.identity.graph.handoff_records import CHANNEL, SCHEMAS, handoff_id, is_handoff, origin, recorded
from processors.identity.graph.limits import HASH_BITS
from processors.identity.graph.messages.base import ContactRecord
from processors.identity.graph.messages.commands import TakeContact
from processors.identity.graph.messages.steps import Apply, HandoffPlaced
from processors.identity.graph.profile_codec import encode_profile
from processors.identity.graph.state import CustomerState, IdentifierState
from processors.profile.sections.recent_contacts import contact_id

# The hand-over of a handoff's events to its creation's customer (``placed``): the step's ``event_id`` part.
PLACED = "placed"
# The hand-over of the cases opened during a contact to the customer it was placed on (``contact_placed``).
OPENED = "opened"
# The tracker's events that name the case's customer (``follow``): its status changes and routings.
NAMING = frozenset({STATUS_CHANGED, ROUTED})


def names_here(ctx: Ctx[CustomerState], event: Event) -> bool:
    """Whether ``event`` is a tracker's event naming this customer as its case's (``customer_id``): its screen pop
    entry is this customer's whatever identifier brought it (``ProfileBook.apply``'s ``told``: it stays at a claim)."""
    named = event.value.get("customer_id") if event.schema in NAMING else None
    return bool(named) and (named == ctx.key or named in ctx.state.aliases)


def note(ctx: Ctx[CustomerState], message: Apply) -> None:
    """Record the handoff event ``message`` applies to this customer: a ``HandoffCreated`` that names its contact, any
    later event of a handoff (``handoff_records.recorded``; nothing for another event)."""
    ref = message.event
    if ref is None or ref.schema not in SCHEMAS or not recorded(ctx.graph.load_event(ref)):
        return
    split_contacts.add(ctx, ContactRecord(message.event_id, message.rank >> HASH_BITS, CHANNEL,
                                          sorted(message.carried), ref, bool(message.traits)))


def placed(ctx: Ctx[CustomerState], message: Apply) -> None:
    """A ``HandoffCreated`` opened during a contact was applied here: tell the identifiers it carried that this
    customer does not hold (their owners get the handoff's later events, which name the same identifiers) to send
    the handoff here (``on_placed_identifier``, ``on_placed``). Nothing for another event."""
    ref = message.event
    if ref is None or ref.schema != CREATED or not message.carried:
        return
    event = ctx.graph.load_event(ref)
    if origin(event) is None:
        return
    placement = HandoffPlaced(handoff_id(event), ctx.key, f"{message.event_id}~{PLACED}")
    for key in sorted(set(message.carried) - set(ctx.state.members)):
        ctx.send(key, placement)


def contact_placed(ctx: Ctx[CustomerState], message: Apply, event: Event | None = None) -> None:
    """A contact event (``message``; ``event``: its event, if decoded) was applied here: tell the identifiers it
    carried that this customer does not hold where it is (``on_placed``'s contact form). A case opened during it that
    names those identifiers alone (a recycled number, now the new subscriber's, given at the previous holder's counter
    visit with her customer number) reaches their owner first, whatever the arrival order; it goes here, with its
    contact. Nothing for another event, nor in a graph that keeps no screen pop of cases."""
    ref = message.event
    if ref is None or ref.schema not in split_contacts.CONTACT_SCHEMAS or not ctx.graph.book.reads(STATUS_CHANGED):
        return
    foreign = sorted(set(message.carried) - set(ctx.state.members))
    if foreign:
        tell_contact(ctx, foreign, message.event_id, contact_id(event or ctx.graph.load_event(ref)))


def tell_contact(ctx: Ctx[CustomerState], to: list[str], event_id: str, contact: str, part: str = "") -> None:
    """Tell ``to`` (identifier keys, or a customer: a recycled number's claimant) that contact ``contact`` (its
    screen-pop id) of event ``event_id`` is on this customer (``part``: a token part, ``recycle.handoffs_stay``)."""
    placement = HandoffPlaced("", ctx.key, f"{event_id}~{OPENED}{part}", contact)
    for key in to:
        ctx.send(key, placement)


def on_placed_identifier(ctx: Ctx[IdentifierState], message: HandoffPlaced) -> None:
    """At an identifier the creation carried: its owner, if another customer, takes the placement."""
    owner = ctx.state.owner
    if owner is not None and owner != message.customer:
        ctx.send(owner, message)


def on_placed(ctx: Ctx[CustomerState], message: HandoffPlaced) -> None:
    """At the root of an identifier's owner: the handoff's creation is on ``message.customer``, so what this customer
    holds of the handoff (its events applied here through their identifiers, before the creation was placed) goes
    there, re-published under it, and its later events follow (``follow``). A move's note of the handoff stands."""
    if not route(ctx, message, message.token):
        return
    done(ctx, message.token)
    to, state = message.customer, ctx.state
    if to == ctx.key or to in state.aliases:
        return
    if message.contact:
        _opened_during(ctx, message)
        return
    noted = state.split_off.get(moved_off.HANDOFF + message.handoff)
    if noted is not None and (went := moved_off.moved(noted)).by and went.to != to:
        return
    _hand_over(ctx, message.handoff, to, message.token, PLACED)
    moved_off.note_handoff(state, message.handoff, to, message.token)


def _opened_during(ctx: Ctx[CustomerState], message: HandoffPlaced) -> None:
    """Contact ``message.contact`` is on ``message.customer``: the cases opened during it that this customer holds go
    there, and those arriving later follow (``moved_off.note_origin``). Not where an event of the contact is here too
    (its versions decide, ``versions.py``), nor a case a move took elsewhere."""
    load, state, to = ctx.graph.load_event, ctx.state, message.customer
    kept = split_contacts.kept(ctx)
    if any(record.event.schema in split_contacts.CONTACT_SCHEMAS and contact_id(load(record.event)) == message.contact
           for record in kept):
        return
    moved_off.note_origin(state, message.contact, to, message.token)
    opened = {handoff_id(event) for record in kept if is_handoff(record) and record.event.schema == CREATED
              and origin(event := load(record.event)) == message.contact}
    for key in sorted(opened):
        noted = state.split_off.get(moved_off.HANDOFF + key)
        if noted is not None and (went := moved_off.moved(noted)).by and went.to != to:
            continue
        _hand_over(ctx, key, to, message.token, PLACED)
        moved_off.note_handoff(state, key, to, message.token)


def note_moved(ctx: Ctx[CustomerState], records: Iterable[ContactRecord], to: str, by: str = "") -> None:
    """The handoffs of ``records`` left this customer for ``to``: their later events follow (``follow``)."""
    for record in records:
        if is_handoff(record):
            moved_off.note_handoff(ctx.state, handoff_id(ctx.graph.load_event(record.event)), to, by)


def received(ctx: Ctx[CustomerState], records: Iterable[ContactRecord]) -> None:
    """The handoffs of ``records`` came (back) to this customer: what it noted of their leaving is stale."""
    if any(key.startswith(moved_off.HANDOFF) for key in ctx.state.split_off):
        moved_off.received(ctx.state, {moved_off.HANDOFF + handoff_id(ctx.graph.load_event(record.event))
                                       for record in records if is_handoff(record)})


def forwarded(ctx: Ctx[CustomerState], message: Apply, to: str) -> None:
    """The event ``message`` went on to ``to`` unapplied (``moved_off.follow``, ``follow``): if it is a
    ``HandoffCreated`` opened during a contact, the handoff's later events follow it."""
    ref = message.event
    if ref is not None and ref.schema == CREATED and origin(event := ctx.graph.load_event(ref)) is not None:
        moved_off.note_handoff(ctx.state, handoff_id(event), to)


def follow(ctx: Ctx[CustomerState], message: Apply) -> tuple[str, Apply] | None:
    """Where the handoff event ``message`` goes instead of this customer, and the ``apply`` to send there; None to
    apply it here. What this customer holds of that handoff already goes there too.

    A tracker's event that names another customer (``customer_id``: the tracker's customer of the case, from this
    processor's placement) goes there whatever identifiers brought it here (tester34 F4: a recycled number's new
    subscriber got his predecessor's case on the screen pop by the number the event still named); a stale name is
    set right there by that customer's own notes of where the handoff went."""
    ref, notes = message.event, ctx.state.split_off
    if ref is None or ref.schema not in SCHEMAS or ctx.key in message.followed:
        return None
    event = ctx.graph.load_event(ref)
    key = handoff_id(event)
    named = event.value.get("customer_id") if event.schema in NAMING else None
    if named and named != ctx.key and named not in ctx.state.aliases and named not in message.followed:
        _hand_over(ctx, key, named, "", message.event_id)
        return named, msgspec.structs.replace(message, followed=[*message.followed, ctx.key], household_only=False,
                                              kept_apart=[], claims=[], carried=[])
    if not notes:
        return None
    value = notes.get(moved_off.HANDOFF + key)
    if value is None or origin(event) is not None:  # its creation: applied here, then handed over (move_contact)
        return None
    went = moved_off.moved(value)
    if went.to == ctx.key or went.to in ctx.state.aliases:
        return None
    _hand_over(ctx, key, went.to, went.by, message.event_id)
    moved_off.note_handoff(ctx.state, key, went.to, went.by)  # with the move's id (``forwarded`` notes none)
    # Applied there as its own: the handoff's contact placed it, not its identifiers (no household seek, no claim,
    # and no identifier's move sends it on from there: ``moved_off.follow`` reads ``carried``).
    return went.to, msgspec.structs.replace(message, followed=[*message.followed, ctx.key], household_only=False,
                                            kept_apart=[], claims=[], carried=[])


def _hand_over(ctx: Ctx[CustomerState], key: str, to: str, by: str, event_id: str) -> None:
    """Send handoff ``key``'s record and screen-pop entry, if this customer holds them, to ``to``."""
    book = ctx.graph.book
    kept = split_contacts.kept(ctx)
    going = [record for record in kept
             if is_handoff(record) and handoff_id(ctx.graph.load_event(record.event)) == key] if by else []
    if going:
        gone = {record.event_id for record in going}
        split_contacts.keep(ctx, [record for record in kept if record.event_id not in gone])
    profile, taken = ctx.store.get_profile(ctx.key), None
    if profile:
        stays, part = book.split(profile, [], also={OpenHandoffsSection.name: {key}})
        if part:
            ctx.store.put_profile(ctx.key, stays or None)
            taken = encode_profile(part)
    if going or taken:
        ctx.send(to, TakeContact(going, taken, by, f"{by or to}~{key}~{event_id}", ctx.key))
