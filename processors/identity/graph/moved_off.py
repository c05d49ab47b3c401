"""What left a customer and where it went: an event still on its way follows a split, a claim or a moved contact.

A saga reads an identifier's owner, then sends the event's ``apply`` to it; Kafka orders nothing across partitions,
so the identifier (or the contact) may have moved on in between. Three paths move something off a customer without
a merge (a merge leaves a parent pointer, which ``customer_steps.route`` follows):

* an operator's split (``customer_node.on_split``): identifiers to a new customer;
* a claim (``claim_node.on_give``): an identifier to the customer of its earliest event (the earliest login, the
  household member whose record came first);
* an operator's ``move-contact`` (``move_contact.py``): one contact's events to another customer, identifiers
  staying.

Each notes what left and where it went in ``CustomerState.split_off`` (``note_identifiers``, ``note_contact``;
the latest ``MAX_MOVED_OFF``, carried through merges: ``merge``), and an event that reaches the customer after the
move goes where the same event would have gone had it been applied before it, by the rule of that move
(``split_contacts.hand_over``, ``move_contact.on_move_contact``), so it ends on one screen pop whatever the arrival
order (``test_split_contacts_order.py``, ``test_claim_node_order.py``, ``test_move_contact_order.py``):

* identifiers (split, claim; ``follow``, asked by ``customer_node.on_apply`` before applying: the event goes on
  unapplied): a contact that carried moved identifiers and no kept one, or both with a moved one of
  the highest priority (``split_contacts.goes``; not after a claim, whose identifier is two people's:
  ``deciding.py``); any other event (a product) only through moved ones (a business event through its account
  alone when it carried it, ``processors.profile.about``: where its entry went). After a claim
  an event that told its person (traits) stays (the matcher placed it: ``hand_over``'s ``untold_only``), and so does
  one that ranks first on the claimed identifier (``Apply.claims``: its own claim decides who keeps it). Not an
  identifier the kept-apart rule placed the event here through (``Apply.kept_apart``). A ``HandoffCreated`` opened
  during a contact goes as that contact would (``handoff_records.origin``). A ``join`` through an anonymous id a claim
  took away goes on to the claimant, undecided (``join_follows``, asked by ``customer_join.on_join``); so does one of
  an event whose user id the limit of one moved out since its visit, to that user id's customer (``_displaced``).
* a contact (``contact_moved``, asked by ``move_contact.follow`` once the event is applied here): an event of the
  moved contact (its screen-pop id, ``recent_contacts.contact_id``) is applied here as the move's own events were
  (claims, traits: the identifiers stay where they are), then handed to the target with its record and profile
  entries and re-published there under the id the move gives its events (``outputs.moved_contact_id``): the same
  outputs as when it arrived before the move.
* a handoff (``handoff_moves.follow``, asked by ``customer_node.on_apply`` before applying): an event of a handoff
  that followed its contact off this customer (``note_handoff``), or a ``HandoffCreated`` opened during a contact an
  operator moved, goes on unapplied, with what this customer held of that handoff.

Never a loop: a hand-over (``take_contact``) is never passed on; an ``apply`` carries the customers that sent it on
(``Apply.followed``) and none sends it on twice, so stale notes (merged from a loser, a move undone since, an
identifier that came back: ``received``) cost at most one hop per customer, never a ping-pong (order8b's draw 439,
where merged notes passed one apply back and forth); a note naming the customer itself or a customer merged into it
is ignored.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import msgspec

from bus.identifiers.kinds import USER_ID
from processors.handoffs.outputs import CREATED
from processors.identity.graph import handoff_records
from processors.identity.graph.context import Ctx
from processors.identity.graph.limits import HASH_BITS, member_version
from processors.identity.graph.messages.base import EventRef, Member, MovedOff, MovedTo
from processors.identity.graph.messages.steps import Apply, Join
from processors.identity.graph.split_contacts import CONTACT_SCHEMAS, goes, held_at_claim
from processors.identity.graph.state import CustomerState
from processors.identity.rules import UNTOLD_KINDS, kind_of
from processors.profile.limits import short_key
from processors.profile.sections.products import NS as BUSINESS
from processors.profile.sections.recent_contacts import RecentContactsSection, contact_id

# Notes a customer keeps (identifiers and contacts together): an apply in flight is seconds old.
MAX_MOVED_OFF = 32
# Key of a moved contact's note: this prefix and its screen-pop id (an identifier key is ``TYPE:value``).
CONTACT = "contact~"
# The events whose own contact (or the contact they were opened during) an operator may move.
MOVABLE = RecentContactsSection.schemas | {CREATED}
# Key of a moved handoff's note (it followed the contact it was opened during): this prefix and its handoff id.
HANDOFF = "handoff~"
# Key of a note that a contact carrying an identifier held here was placed on another customer (``note_origin``):
# this prefix and its screen-pop id. At most ``MAX_ORIGINS`` of them, the latest, so they never crowd out the rest.
ORIGIN = "origin~"
MAX_ORIGINS = 8


def moved(value: MovedTo) -> MovedOff:
    """A ``split_off`` value as a ``MovedOff`` (a customer id alone: a split an earlier version noted)."""
    return value if isinstance(value, MovedOff) else MovedOff(value)


def _latest(notes: dict[str, MovedTo]) -> dict[str, MovedTo]:
    return dict(list(notes.items())[-MAX_MOVED_OFF:])


def note_identifiers(state: CustomerState, members: Mapping[str, Member], to: str, claim: bool = False,
                     since: int | None = None) -> None:
    """Identifiers ``members`` (key -> their member value at ``to``: its assignment version) left this customer for
    ``to``: by an operator's split, or by a claim (``claim``; ``since``: a recycled number's, ``MovedOff.since``)."""
    notes = {key: value for key, value in state.split_off.items() if key not in members}
    notes.update((key, MovedOff(to, member_version(value), claim, since=since or 0)) for key, value in members.items())
    state.split_off = _latest(notes)


def note_contact(state: CustomerState, contact: str, to: str, by: str) -> None:
    """An operator moved contact ``contact`` (its screen-pop id) to ``to`` (``ContactMoved`` ``by``): its events still
    on their way follow (``move_contact.follow``)."""
    _note(state, CONTACT + short_key(contact), MovedOff(to, by=by))


def note_handoff(state: CustomerState, handoff: str, to: str, by: str = "") -> None:
    """Handoff ``handoff`` (``short_key`` of its id) followed its contact to ``to`` (``handoff_moves.py``; ``by``: the
    move's announcement id, if an operator's or a rule's move): its later events follow."""
    _note(state, HANDOFF + handoff, MovedOff(to, by=by))


def note_origin(state: CustomerState, contact: str, to: str, by: str) -> None:
    """Contact ``contact`` (its screen-pop id), which carried an identifier this customer holds, was placed on ``to``
    (``handoff_moves.contact_placed``; ``by``: the placement's token): a case opened during it that reaches this
    customer later, through that identifier alone, goes there (``move_contact.follow``)."""
    _note(state, ORIGIN + short_key(contact), MovedOff(to, by=by))
    origins = [key for key in state.split_off if key.startswith(ORIGIN)]
    if len(origins) > MAX_ORIGINS:
        state.split_off = {key: value for key, value in state.split_off.items()
                           if key not in origins[:-MAX_ORIGINS]}


def _note(state: CustomerState, key: str, value: MovedOff) -> None:
    notes = {other: held for other, held in state.split_off.items() if other != key}
    notes[key] = value
    state.split_off = _latest(notes)


def by_hand(state: CustomerState) -> dict[str, MovedTo]:
    """The notes of the contacts moved off this customer (``note_contact``) and of the handoffs that went with a
    contact (``note_handoff``), for a split's new customer (``SplitInit.moved_off``) or a claimant
    (``Adopt.moved_off``): a later event of a moved contact whose identifiers the split or claim moved reaches that
    customer, not this one (F4's orders: merge, move-contact, split, then the call's second event, which stayed on the
    new customer while the call was on the move's target)."""
    return {key: value for key, value in state.split_off.items() if key.startswith((CONTACT, HANDOFF))}


def received(state: CustomerState, keys: Iterable[str]) -> None:
    """Identifier keys (or ``CONTACT`` keys) came (back) to this customer: what it noted of their leaving is stale."""
    gone = set(keys) & set(state.split_off)
    if gone:
        state.split_off = {key: value for key, value in state.split_off.items() if key not in gone}


def merge(state: CustomerState, loser: Mapping[str, MovedTo]) -> None:
    """A merge's survivor takes the loser's notes (``Offer.split_off``); where both noted one identifier, the later
    move (higher assignment version) wins, the survivor's on a tie."""
    notes = dict(loser)
    for key, value in state.split_off.items():
        if key not in notes or moved(value).version >= moved(notes[key]).version:
            notes.pop(key, None)
            notes[key] = value
    state.split_off = _latest(notes)


def follow(ctx: Ctx[CustomerState], message: Apply) -> tuple[str, Apply] | None:
    """Where the event ``message`` applied to this root goes instead, and the ``apply`` to send there, or None to
    apply it here (the rules: module docstring)."""
    state = ctx.state
    if not state.split_off or ctx.key in message.followed:
        return None
    to = _identifiers_moved(ctx, message)
    if to is None or to == ctx.key or to in state.aliases:
        return None
    return to, msgspec.structs.replace(message, followed=[*message.followed, ctx.key])


def join_follows(ctx: Ctx[CustomerState], message: Join) -> str | None:
    """Where a ``join`` that reached this root through an anonymous id (``Join.culprit``) a claim took away since the
    event's visit goes instead: to the claimant (the customer of the anonymous id's earliest login), if the event
    carries no identifier of a type limited to one, told no person (no traits) and did not rank first on it (its own
    claim decides then). In time order such an event came after that login and met the anonymous id on the claimant's
    customer, as ``came_with.following_claim`` moves what it brought when the join came first (bench draw 693; its
    form in ``test_came_with_claim.py``). First, a ``join`` of an event whose one user id left this customer since
    its visit (not among the identifiers it adds) goes where that user id went (``_displaced``). None: decided here."""
    state, saga, key = ctx.state, message.saga, message.culprit
    value = state.split_off.get(key)
    users = [other for other in saga.ids if kind_of(other) == USER_ID and other not in message.add
             and other not in state.members and other in state.split_off]
    if len(users) == 1 and (to := _displaced(ctx, moved(state.split_off[users[0]]))):
        return to
    if value is None or message.new or key in state.members or kind_of(key) not in UNTOLD_KINDS or saga.traits \
            or any(ctx.policy.limit(kind_of(other)) == 1 for other in saga.ids):
        return None
    note = moved(value)
    if not note.claim or note.to == ctx.key or note.to in state.aliases:
        return None
    if key in saga.ids and saga.lowered >> saga.ids.index(key) & 1:
        return None
    return note.to


def _displaced(ctx: Ctx[CustomerState], note: MovedOff) -> str | None:
    """Where a ``join`` of an event whose user id left this customer since the event's visit goes: to the user id's
    customer, where the limit of one moved it out (``displace.split_off``: no do-not-merge, unlike an operator's
    split). In time order the event met the user id on that customer (a shared browser's later login's later event,
    its rank in flight on 3 partitions: ``test_displace_order.py``). None: decided here."""
    state = ctx.state
    if note.claim or note.to == ctx.key or note.to in state.aliases or note.to in state.do_not_merge:
        return None
    return note.to


def contact_moved(ctx: Ctx[CustomerState], ref: EventRef | None) -> MovedOff | None:
    """Where an operator moved the contact of the event ``ref`` (decoded only if this customer moved one), or the
    handoff a ``HandoffCreated`` opened during a contact opens (``handoff_moves.py``): with its contact, or after, or
    where that contact was placed (``note_origin``)."""
    notes = ctx.state.split_off
    if ref is None or not notes or ref.schema not in MOVABLE:
        return None
    event = ctx.graph.load_event(ref)
    if ref.schema == CREATED:
        contact = handoff_records.origin(event)
        value = None if contact is None else notes.get(HANDOFF + handoff_records.handoff_id(event)) or \
            notes.get(CONTACT + contact) or notes.get(ORIGIN + contact)
    else:
        value = notes.get(CONTACT + contact_id(event)) if any(k.startswith(CONTACT) for k in notes) else None
    return None if value is None else moved(value)


def _identifiers_moved(ctx: Ctx[CustomerState], message: Apply) -> str | None:
    """The customer the identifiers the event ``message`` came through went to, by the rule of their move."""
    state = ctx.state
    if not message.carried:
        return None
    kept_apart, claims = set(message.kept_apart), set(message.claims)
    went: dict[str, str] = {}
    for key in message.carried:
        value = state.split_off.get(key)
        if value is None or key in state.members or key in kept_apart:
            continue
        note = moved(value)
        if note.claim and (message.traits or key in claims):
            continue
        if note.since and message.rank >> HASH_BITS < note.since:
            continue  # before a recycled number's new holder held it: the previous holder's (tester28 F2)
        went[key] = note.to
    if not went:
        return None
    # A claimed identifier is one two people's events carried: a contact with a kept one too stays (deciding.py),
    # unless what it kept is the home's fixed line (``split_contacts.held_at_claim``).
    claimed = all(moved(state.split_off[key]).claim for key in went)
    contact = message.event is not None and (message.event.schema in CONTACT_SCHEMAS or (  # or opened during one
        message.event.schema == CREATED and handoff_records.origin(ctx.graph.load_event(message.event))
        is not None))
    held = held_at_claim(went, state.members) if contact and claimed else set(state.members)
    carried = message.carried
    if message.event is not None and message.event.schema.startswith(BUSINESS):  # its account's, if it has one
        carried = ctx.graph.book.about(ctx.graph.load_event(message.event), carried)
    if not goes(carried, set(went), held, ctx.policy.plan_order if contact and not claimed else None):
        return None
    return went[ctx.policy.plan_order(went)[0]]
