"""An operator moves one contact to another customer's screen pop (``omnibus identity move-contact``, tester10 #14).

An agent sees a call on the wrong customer's screen pop; the identifiers it carried stay where they are (a split
moves identifiers, ``customer_node.on_split``), only the contact moves, with the machinery a split's contacts use
(``split_contacts.py``):

* ``move_contact`` at the source root (the customer whose screen pop shows it; a merged-away id forwards to its
  survivor): the records of the contact's events (``CustomerState.contact_records``, matched by the id the screen pop
  shows, ``recent_contacts.contact_id``) and their part of the profile (``ProfileBook.split``) leave it;
  ``ContactMoved`` is announced with who and why; ``take_contact`` carries them to the target.
* ``take_contact`` at the target root: the records join its own (``split_contacts.merged``), the profile part its
  profile (``ProfileBook.merge``), and each event is re-published on ``customer.contacts`` under the target with an
  id derived from the move and the event (``Resolved.moved_by``, ``outputs.moved_contact_id``) and the customer it
  left (``Resolved.moved_from``: the ``omnibus-moved-from`` header, as a split's and a claim's copies carry), whatever
  moved it: an operator, the latest version's rule (``versions.py``) or the late owner's (``late_owner.py``).
* the handoffs opened during the contact (the records of their ``HandoffCreated`` and of their events applied
  here, and their screen-pop entries) go with it, and their later events follow (``handoff_moves.py``); the
  announcement's ``moved_event_ids`` lists every event moved (tester24 F6).

Idempotent: every id derives from the command id (``token``); a redelivered command is dropped at the source (its
step token), a copy of ``take_contact`` at the target (the move's announcement id as step token), and a batch replayed
on the old state yields the same ids. A contact the source no longer records (older than its latest per channel,
``split_contacts.kept_per_channel``) moves nothing: ``ContactMoved`` says so (no event ids). Later contacts still go
to the customer of their identifiers; the move is one contact's. An event of the moved contact that reaches the
source after the move (a call's second event, its saga in flight) is applied there, then handed to the target as
the move's own were (``follow``, ``moved_off.py``): the same outputs in either order.
"""

from __future__ import annotations

from processors.handoffs.outputs import CREATED
from processors.identity.graph import (
    handoff_moves,
    handoff_records,
    moved_off,
    release,
    split_contacts,
    vacate,
    versions,
)
from processors.identity.graph.customer_steps import Node, done, route
from processors.identity.graph.messages.base import ContactRecord
from processors.identity.graph.messages.commands import MoveContact, TakeContact
from processors.identity.graph.messages.steps import Apply
from processors.identity.graph.outputs import ContactMoved, Lineage, Resolved
from processors.identity.graph.profile_codec import decode_profile, encode_profile
from processors.identity.rules import CORRECTED_VERSION, MANUAL_MOVE
from processors.profile.limits import short_key
from processors.profile.sections.recent_contacts import RecentContactsSection, contact_id


def _is_contact(record: ContactRecord) -> bool:
    return record.event.schema in RecentContactsSection.schemas


def _named(ctx: Node, record: ContactRecord, wanted: str) -> bool:
    """Whether the contact event ``record`` is the contact the screen pop shows as ``wanted``."""
    return _is_contact(record) and contact_id(ctx.graph.load_event(record.event)) == short_key(wanted)


def on_move_contact(ctx: Node, message: MoveContact) -> None:
    """At the source root: take the contact's records and profile entries off, announce, send them to ``to``."""
    if not route(ctx, message, message.token):
        return
    done(ctx, message.token)
    state, book = ctx.state, ctx.graph.book
    if message.rule and (message.to == ctx.key or message.to in state.aliases):
        return  # a contact's versions on customers merged since (``versions.py``): nothing to move, nor to say
    kept = split_contacts.kept(ctx)
    going = [] if message.to == ctx.key else [record for record in kept if _named(ctx, record, message.contact_id)]
    if message.to != ctx.key:  # and the handoffs opened during it (``handoff_moves.py``)
        going += handoff_records.opened_during(ctx.graph.load_event, kept, {short_key(message.contact_id)})
    if message.rule and not going:
        return  # a rule's move of a contact no longer here (an operator's move took it with its other versions)
    moved = ContactMoved(message.contact_id, ctx.key, message.to, tuple(sorted(r.event_id for r in going)),
                         message.operator, message.reason,
                         Lineage(message.token, message.channel, message.rule or MANUAL_MOVE))
    ctx.emit(moved)
    if message.to != ctx.key:  # its events still on their way here follow it (``follow``)
        moved_off.note_contact(state, message.contact_id, message.to, moved.event_id)
    if not going:
        return
    gone = {record.event_id for record in going}
    staying = [record for record in kept if record.event_id not in gone]
    split_contacts.keep(ctx, staying)
    if not message.rule:  # an operator's: what only this contact brought it is no longer its (tester24 F13)
        release.moved_away(ctx, going, staying, message.operator, message.reason, moved.event_id, message.channel)
    profile, taken = ctx.store.get_profile(ctx.key), None
    if profile:
        load = ctx.graph.load_event
        stays, part = book.split(profile, [load(record.event) for record in going if book.reads(record.event.schema)],
                                 also=handoff_records.entries(load, going))
        ctx.store.put_profile(ctx.key, stays or None)
        taken = encode_profile(part) if part else None
    handoff_moves.note_moved(ctx, going, message.to, moved.event_id)
    ctx.send(message.to, TakeContact(going, taken, moved.event_id, source=ctx.key))
    if message.rule == CORRECTED_VERSION:  # what the version took or brought leaves with it (``vacate.py``)
        vacate.moved(ctx, going, moved.event_id, message.channel, message.to)


def follow(ctx: Node, message: Apply) -> bool:
    """After the event ``message`` was applied here: if an operator moved its contact off this customer before it
    arrived (its saga read the owner of its identifiers, still this customer's, before the move: a call's second
    event, a handoff opened during the call), hand it to the target as the move handed the contact's other events
    (``moved_off.py``); True if so."""
    note = moved_off.contact_moved(ctx, message.event)
    if note is None or note.to == ctx.key or note.to in ctx.state.aliases or not note.by:
        return False
    book = ctx.graph.book
    kept = split_contacts.kept(ctx)
    going = [record for record in kept if record.event_id == message.event_id]
    if going and message.event is not None and message.event.schema == CREATED:  # a status applied before it too
        load = ctx.graph.load_event
        going += [record for record in handoff_records.of_handoffs(load, kept, {handoff_records.handoff_id(
            load(message.event))}) if record.event_id != message.event_id]
    if going:
        gone = {record.event_id for record in going}
        split_contacts.keep(ctx, [r for r in kept if r.event_id not in gone])
    profile, taken = ctx.store.get_profile(ctx.key), None
    also = handoff_records.entries(ctx.graph.load_event, going)  # a handoff's status read before its creation
    if profile and message.event is not None and (book.reads(message.event.schema) or also):
        stays, part = book.split(profile, [ctx.graph.load_event(message.event)] if not also else [], also=also)
        ctx.store.put_profile(ctx.key, stays or None)
        taken = encode_profile(part) if part else None
    handoff_moves.note_moved(ctx, going, note.to, note.by)
    if going or taken:
        ctx.send(note.to, TakeContact(going, taken, note.by, f"{note.by}~{message.event_id}", ctx.key))
    return True


def on_take_contact(ctx: Node, message: TakeContact) -> None:
    """At the target root (merges followed): the contact joins its records and profile, re-published under it."""
    token = message.token or message.move_event_id
    if not route(ctx, message, token):
        return
    done(ctx, token)
    state, book = ctx.state, ctx.graph.book
    if any(key.startswith((moved_off.CONTACT, moved_off.ORIGIN)) for key in state.split_off):  # here: not elsewhere
        here = {contact_id(ctx.graph.load_event(record.event)) for record in message.contacts if _is_contact(record)}
        moved_off.received(state, {prefix + contact for contact in here
                                   for prefix in (moved_off.CONTACT, moved_off.ORIGIN)})
    handoff_moves.received(ctx, message.contacts)
    split_contacts.join(ctx, message.contacts)
    if message.profile:
        ctx.store.put_profile(ctx.key, book.merge(ctx.store.get_profile(ctx.key), decode_profile(message.profile)))
    for record in sorted(message.contacts, key=lambda r: (r.at, r.event_id)):
        ctx.emit(Resolved(ctx.key, record.event, record.event_id, moved_by=message.move_event_id,
                          moved_from=message.source))
    versions.placed_together(ctx, message.contacts)
