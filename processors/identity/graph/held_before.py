"""A recycled number's earlier holder found through its account: its contacts before the recycle go back to it
(tester28 F2, the arrival orders where the earlier holder's record came after the later one's).

``recycle.py`` moves a number billing recycled to the later active holder and keeps the earlier holder's contacts on
it when the recycle's claim takes the number from it (``claim_node.on_give``'s ``since``, ``recycle.note_giver``). But
where the earlier holder's record arrives after the later holder's record took the number (Daniel's line, then
Claire's closure and her line), no claim takes it from her: she never held it in the graph, so the contacts she made
from it before the new holder's record gave it (her move-out call, its handoff) were placed on the later holder, and
the node knows no earlier holder to send a late one to. The records say who held it; the account says who that is:

* ``recycle._recycle`` (at the identifier, once ``holder_record`` names a recycled record) sends ``held_before`` to the
  first account of the record before it (``recycle.giver_record``) with the instant the holder took over (``since``);
* ``on_held_before`` at that account: its owner held the number until then (``held_until`` back to the identifier;
  waits while a saga reserves the account: its record's customer is being decided);
* ``on_held_until`` at the identifier: when the record chain still says so and the number is another customer's, the
  earlier holder is noted with the releases' holders (``recycle.note_giver``: a contact before ``since`` that visits
  later goes to it, ``release.stale``), and ``give_back`` goes to the holder;
* ``on_give_back`` at the holder's root: its member rank of the number rises to ``since`` (the earlier holder's older
  record lowered it, ``rank_node.on_rekey``; the fast path then sends her contacts from before it the slow way); each
  of its contacts that occurred before ``since``, carried the number and
  none of its other identifiers (a fixed line aside, ``split_contacts.held_at_claim``) and told no person (the matcher
  placed a named call by its traits) moves to the earlier holder as an operator's ``move-contact`` does
  (``move_contact.py``: ``ContactMoved`` with rule ``earliest-claim`` and operator ``omnibus-identity``, the handoffs
  opened during it with it, its events still on their way following, ``moved_off.py``).

Not covered: what a move names no contact of stays on the holder: an untold call's (or counter visit's) IVR record,
which no customer records (``split_contacts.CONTACT_SCHEMAS``) and which was resolved on him before her line came (8
of the 24 orders of ``test_recycled_tenant.py``, strict xfails), and a counter's queue ticket.

Idempotent: each move's id derives from the contact, the holder and the earlier holder, so a repeated ``give_back``
asks for the same moves, which the holder drops by their step tokens.
"""

from __future__ import annotations

from bus.envelope import IDENTITY_DECISION_IDS
from processors.identity.graph import recycle, split_contacts, versions
from processors.identity.graph.context import Ctx, node_digest
from processors.identity.graph.customer_steps import Node, route
from processors.identity.graph.limits import held_from, member, member_rank, member_version
from processors.identity.graph.messages.claims import GiveBack, HeldBefore, HeldUntil
from processors.identity.graph.messages.commands import MoveContact, TakeContact
from processors.identity.graph.profile_codec import encode_profile
from processors.identity.graph.state import IdentifierState
from processors.identity.graph.versions import OPERATOR
from processors.identity.rules import EARLIEST_CLAIM, PERSON_KINDS, kind_of
from processors.profile.sections.recent_contacts import RecentContactsSection, contact_id

REASON = "occurred before a later record of billing gave its number to this customer: the earlier holder's"


def on_held_before(ctx: Ctx[IdentifierState], message: HeldBefore) -> None:
    """At the account of the record before a recycle (at a tenant change: the previous holder's person key,
    ``tenancy.previous``): its owner held ``identifier`` until ``since``."""
    state = ctx.state
    if state.reserved_by or (not state.owner and kind_of(ctx.key) in PERSON_KINDS):
        ctx.defer(message)  # the record's saga is still deciding the account's customer (or has not reached the key)
        return
    if state.owner:
        ctx.send(message.identifier, HeldUntil(state.owner, message.since))


def on_held_until(ctx: Ctx[IdentifierState], message: HeldUntil) -> None:
    """At the recycled identifier: ``customer`` held it until ``since``; its contacts until then go back to it."""
    state = ctx.state
    if state.reserved_by:
        ctx.defer(message)  # a claim in progress: the owner after it decides
        return
    held = recycle.holder_record(state)
    if held is None or held[1] != message.since or not state.owner or state.owner == message.customer:
        return  # a record or a closure came since, or the earlier holder still holds it (the claim keeps its own)
    recycle.note_giver(state, message.since, message.customer)
    ctx.send(state.owner, GiveBack(ctx.key, message.customer, message.since))


def on_give_back(ctx: Node, message: GiveBack) -> None:
    """At the recycled identifier's holder: move its contacts before ``since`` that came through it alone to ``to``."""
    if not route(ctx, message):
        return
    state, key = ctx.state, message.identifier
    value = state.members.get(key)
    if message.to == ctx.key or message.to in state.aliases or value is None:
        return
    # It is this customer's from ``since`` on: the earlier holder's older record lowered its member rank here
    # (``rank_node.on_rekey``) when it came after this customer held it; raised, her untold contact from before goes
    # the slow way to her (``limits.held_from``), not through the fast path here.
    state.members[key] = member(member_version(value), held_from(member_rank(value), message.since))
    kept = split_contacts.kept(ctx)
    held = split_contacts.held_at_claim([key], set(state.members) - {key})
    going = [record for record in split_contacts.leaving(kept, [key], held) if record.at < message.since
             and not record.told and record.event.schema in RecentContactsSection.schemas]
    told = versions.told(ctx, [record for record in going if record.event.schema in versions.CONTACT_SCHEMAS])
    contacts = [record for record in going if record.event_id not in told]
    load = ctx.graph.load_event
    for contact in sorted({contact_id(load(record.event)) for record in contacts}):
        token = IDENTITY_DECISION_IDS.derive(EARLIEST_CLAIM, contact, ctx.key, message.to)
        ctx.send(ctx.key, MoveContact(contact, message.to, OPERATOR, REASON, token, rule=EARLIEST_CLAIM))
    _facts_back(ctx, message, held)


def _facts_back(ctx: Node, message: GiveBack, held: set[str]) -> None:
    """The screen pop's entries fed through the identifier alone by facts from before ``since`` (an account's bill
    of the tenant who left, placed on the next tenant whose line came first: tester33 F3) go back to ``to``."""
    book, profile = ctx.graph.book, ctx.store.get_profile(ctx.key)
    going = book.held_before(profile, [message.identifier], held, message.since)
    if not going:
        return
    stays, part = book.split(profile, [], also=going)
    if not part:
        return
    ctx.store.put_profile(ctx.key, stays or None)
    token = IDENTITY_DECISION_IDS.derive(EARLIEST_CLAIM, "facts", node_digest(message.identifier), ctx.key,
                                         message.to, str(message.since), *sorted(set().union(*going.values())))
    ctx.send(message.to, TakeContact([], encode_profile(part), token, token, ctx.key))
