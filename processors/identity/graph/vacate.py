"""A corrected version's customer gives back what the version took (issue #8, "One customer"; a counter upload
corrected with another customer's phone).

A counter transaction uploaded again with its phone corrected (a typo fixed, or another customer's number) is a
later version of the same contact: ``versions.py`` moves it to the customer of its first version (rule
``corrected-version``). But the correction's events were applied first where their own identifiers led: a customer
the correction made, which, its traits another person's than the phone's billing holder's, claimed the phone
(``claim_node.py``: a person's own contact takes a family member's phone from the account holder). Once the contact
left, that customer had no name, no account and no contact, and kept the holder's number: his calls landed on it.

So a corrected version never takes an identifier from the customer that held it:

* ``moved`` at the customer a ``corrected-version`` move leaves: each identifier it holds that the moved version
  carried is given back (``Claim`` with ``vacated_by``, to the identifier's node). When it holds nothing the version
  did not bring (``CustomerState.vacated``), what a claim of the version's gives it later is given back as well;
* ``on_vacate`` at the identifier's node: while that customer still holds it and a claim took it from another
  customer (``IdentifierState.claimed_from``, while that claim's assignment stands), it goes back there as a claim
  moves it (reserved, ``give`` to the holder, ``adopt`` at the other). A customer left with that identifier alone
  merges into its holder (``claim_node.on_give``'s dissolve): nothing is left of it, and the version's events still
  on their way follow the contact's move from there (``move_contact.follow``). Where no claim took it (nobody held it
  when the version came, or the holder's system-of-record line came after the version: such a line ranks after a
  person's own contact, ``limits.key_rank``, and claimed nothing), a customer the version left with nothing of its own
  gives it to the customer the contact moved to, and merges into it the same way: no customer is left without name,
  account or contact (before, it stayed there, and an operator merged it by hand);
* the node then forgets the correction (``forget_correction``): it ranks the identifier by the earliest system of
  record's line that gave it (``IdentifierState.records``), else (nobody held it) by the next event that carries it,
  never by the version's events (``ranked_by_correction``: one still on its way no longer ranks it). So the holder's
  line claims it whenever it comes: at once where it came before the correction was given up (``Recycle`` to its
  account, whose owner claims, ``reclaims``), on its visit where it comes after (``record_visit``); and the holder's
  rank is his line's again, not the correction's. Its person and customer are no evidence of who uses it
  (``forget_evidence``, ``corrected_only``): the holder's screen pop names no second user for it;
* a contact's versions stay together when one of its identifiers is claimed (``versions.with_first_version``): its
  versions go where its earliest goes, and an identifier only a correction placed and only those versions carried
  follows them (``followed``: the first upload's phone claimed by its owner's own record takes the contact and the
  corrected number along, the customer the first upload made merging into hers).

An identifier nobody held goes to the contact's customer, not to a customer of its own: a clerk's correction is most
often a fixed typo, the visitor's own number, and its next call finds his screen pop; where it is a stranger's, his
record or his own contact takes it when it comes (his own contact by the earliest event, as anywhere; his billing line
as above), in any arrival order. The case keeps its first version's identifiers; where its later notices go after a
correction is the tracker's (``docs/handoffs.md``, "A corrected contact identifier").

The holder's member rank (``CustomerState.members``) is his line's too: the give-back carries the node's rank, which
the giver hands on (``rank_given_back``; before, the correction's, so a per-customer limit ranked it so). Known
limit: where two corrections of two contacts placed one identifier, the second, given up on a node that forgot the
first, keeps what its claim took (``claimed_from`` is no longer noted there).

Idempotent: the node's step token derives from the move's announcement, the identifier and its version; a copy that
finds the identifier moved on does nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec

from processors.identity.graph.context import Ctx, node_digest, recalls, remember
from processors.identity.graph.limits import member_rank
from processors.identity.graph.messages.base import ContactRecord, Saga, Summary
from processors.identity.graph.messages.claims import CLAIM_PREFIX, Claim, Give, Recycle
from processors.identity.graph.state import IdentifierState
from processors.identity.graph.state_parts import Person

VACATE_MARK = "~vacate~"  # in a give-back's step token (``on_vacate``), after the move's announcement id

if TYPE_CHECKING:  # (the type only: identifier_node imports this module, customer_steps imports it back)
    from processors.identity.graph.customer_steps import Node


def moved(ctx: Node, going: list[ContactRecord], announcement: str, channel: str, to: str) -> None:
    """After a ``corrected-version`` move took the records ``going`` off this customer to customer ``to``
    (``announcement``: the ``ContactMoved`` id): the identifiers they carried that it holds are given back (the
    module's rules); where it holds nothing else, to ``to`` if no claim took them from another customer."""
    state = ctx.state
    carried = {key for record in going for key in record.ids} & set(state.members)
    state.vacated = carried == set(state.members)  # nothing of its own (or nothing yet: the version's claim to come)
    for key in sorted(carried):
        give_back(ctx, key, announcement, channel, to if state.vacated else "")


def adopted(ctx: Node, key: str, event_id: str, channel: str) -> None:
    """After this customer admitted ``key`` (a claim's ``adopt``): given back if a corrected version's move left the
    customer with nothing of its own (``CustomerState.vacated``)."""
    if ctx.state.vacated and key in ctx.state.members:
        give_back(ctx, key, event_id, channel)


def give_back(ctx: Node, key: str, event_id: str, channel: str, to: str = "") -> None:
    """Ask member ``key``'s node to give it back to the customer a claim took it from, else to ``to`` ("": keep it;
    ``on_vacate``)."""
    ctx.send(key, Claim(to, member_rank(ctx.state.members[key]), event_id, channel, traits=ctx.state.traits,
                        vacated_by=ctx.key))


def followed(ctx: Node, going: list[ContactRecord], kept: list[ContactRecord], key: str, claimant: str,
             event_id: str, channel: str) -> None:
    """At a claim's giver (``claim_node.on_give``) after the claim of ``key`` handed the contact records ``going`` to
    ``claimant``, ``kept`` staying: each identifier it holds that only those records carried asks its node whether a
    correction alone placed it (``IdentifierState.vacated_rank``): then it follows the contact (``on_vacate``), so the
    customer the first upload made is not left with the corrected number alone once its owner's record claims the
    first upload's phone."""
    held = {other for record in kept for other in record.ids}
    state = ctx.state
    for other in sorted({other for record in going for other in record.ids} - held - {key}):
        if other in state.members:
            ctx.send(other, Claim(claimant, member_rank(state.members[other]), event_id, channel, vacated_by=ctx.key,
                                  following=True))


def on_vacate(ctx: Ctx[IdentifierState], message: Claim) -> None:
    """At the identifier's node: the customer ``message.vacated_by`` gives it back (the module's rules)."""
    state = ctx.state
    if state.reserved_by:
        ctx.defer(message)  # a saga's reservation or a move: decide once it ends
        return
    if state.owner != message.vacated_by:
        return  # moved on since: it stays
    before = state.claimed_from
    if before is not None and before[1] == state.version and before[0] != state.owner:
        to = before[0]  # a claim of the version's took it from its holder: back to him
    elif message.customer and message.customer != state.owner and (
            not message.following or state.vacated_rank is not None):
        # Nobody's claim: to the contact's customer, until a holder's record or event claims it; or, after, it follows
        # the contact its correction brought it with while only that correction placed it (``followed``).
        to = message.customer
    else:
        return  # the giver keeps something of its own, or no claim took it from another customer: it stays
    # (no identifier value in it: its digest)
    token = f"{CLAIM_PREFIX}{message.event_id}{VACATE_MARK}{node_digest(ctx.key)}~{state.version}"
    if recalls(state.recent, token):
        return
    state.recent = remember(state.recent, token, ctx.graph.dedupe_window)
    state.reserved_by = token
    forget_correction(state, to != message.customer)
    forget_evidence(state, message.vacated_by, message.traits)
    # The holder's own rank again (his line's: ``forget_correction``), which the giver hands on (``rank_given_back``).
    rank = state.first_rank if state.first_rank is not None and to != message.customer else message.rank
    ctx.send(state.owner, Give(ctx.key, to, rank, message.event_id, message.channel, message.attempt, token))
    if to == message.customer and state.records:
        # A system of record gave it another holder, whose record ranked after the correction: his customer claims it
        # now (``Recycle`` to the record's account, whose owner claims; ``reclaims``), after this move.
        gift = state.records[0]
        ctx.send(gift.accounts[0], Recycle(ctx.key, gift.rank, gift.event_id))


def record_visit(ctx: Ctx[IdentifierState], saga: Saga) -> None:
    """A system of record's line that gives this identifier visits it after a corrected version's customer gave it up
    (``IdentifierState.vacated_rank``): where it ranks first of the records (``recycle._note_gift``), its holder's
    customer claims it (``Recycle`` to its account, ``reclaims``), as where the record came before the correction;
    without it, the line ranks after the contact's customer's own events and would leave it there."""
    state = ctx.state
    if state.vacated_rank is None or not state.owner or not state.records or saga.proposal:
        return
    gift = state.records[0]
    if gift.event_id == saga.event_id:
        ctx.send(gift.accounts[0], Recycle(ctx.key, gift.rank, gift.event_id))


def forget_correction(state: IdentifierState, to_holder: bool) -> None:
    """The node no longer ranks the identifier by the corrected version (``IdentifierState.vacated_rank``: its rank,
    0 where it ranked nothing): by the earliest system of record's line that gave it, else, given back to a holder
    (``to_holder``) whose own rank it no longer knows (a web sign-up's), by the version's still (his events ranked
    after it: nothing ranks between), else by nothing yet (the next event that carries it ranks it)."""
    rank = state.first_rank
    state.vacated_rank = rank if rank is not None and all(gift.rank != rank for gift in state.records) else 0
    if state.records or not to_holder:
        state.first_rank = min((gift.rank for gift in state.records), default=None)


def forget_evidence(state: IdentifierState, customer: str, traits: Summary | None) -> None:
    """The correction's customer ``customer`` (its trait summary ``traits``) was kept apart through the identifier and
    its event's person counted among its users (``evidence.count_person``): neither is evidence of who uses it once
    the correction gave it up, so the screen pop no longer names a second person or customer for it (before, the
    holder's number kept a "used by 2 people" hint naming the correction's person)."""
    state.kept_apart = [other for other in state.kept_apart if other != customer]
    if traits:
        state.people = [person for person in state.people if not _told_by(person, traits)]


def _told_by(person: Person, traits: Summary) -> bool:
    """Whether ``person``'s evidence is what ``traits`` (a customer's summary) says: the same values of each trait it
    has, and no identifier of its own."""
    return bool(person.traits) and not person.ids and all(
        set(values) <= set(traits.get(code, [])) for code, values in (person.traits or {}).items())


def rank_given_back(message: Give, rank: int) -> int:
    """At the giver (``claim_node.on_give``): the member rank the identifier goes with, ``rank`` (the giver's) unless
    ``message`` is a give-back (``on_vacate``'s token) or a holder's claim of what the giver held by a correction alone
    (``Give.corrected``): then the rank the node knows it by once it forgot the correction, the holder's line's."""
    return message.rank if VACATE_MARK in message.token or message.corrected else rank


def corrected_only(state: IdentifierState, message: Claim) -> bool:
    """At a claim the node accepts (``claim_node.on_claim``): whether its owner holds the identifier by a corrected
    version alone, which gave it up, and a system of record's line of the claimant's ranks first on it (its holder's
    billing line came after the correction). Any other channel's event of the owner's that carried it would rank
    before such a line (``limits.key_rank``), so the owner used it through that correction only."""
    return state.vacated_rank is not None and any(gift.rank == message.rank for gift in state.records)


def ranked_by_correction(state: IdentifierState, rank: int) -> bool:
    """Whether an event of ``rank`` (``limits.key_rank``) is the corrected version's the node forgot
    (``forget_correction``): one of its events still on its way, which no longer ranks it."""
    return bool(state.vacated_rank) and rank == state.vacated_rank


def reclaims(state: IdentifierState, message: Claim) -> Claim:
    """At the identifier's node: a record holder's claim that ``on_vacate`` asked for (``Recycle`` at a node nothing
    recycled: ``recycle.holder_record`` None) is a claim by rank (``claim_node.on_claim``), not a recycle."""
    if message.recycled and state.vacated_rank is not None and any(
            gift.rank == message.rank and gift.event_id == message.event_id for gift in state.records):
        return msgspec.structs.replace(message, recycled=False)
    return message
