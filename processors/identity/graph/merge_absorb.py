"""The survivor of an ``offer`` takes the loser in (``customer_merge.on_offer`` decided a merge): the loser's
members, do-not-merge pairs, aliases, contacts, logins, profile and traits; the ``CustomerMerged``; the answer that
makes the loser point here.
"""

from __future__ import annotations

from collections.abc import Mapping

from processors.identity.graph import (
    came_with,
    displace,
    elsewhere,
    joined,
    logins,
    moved_off,
    split_contacts,
    weigh_again,
)
from processors.identity.graph.customer_steps import Node, assign, dissolving
from processors.identity.graph.evidence import absorb_traits, fits
from processors.identity.graph.limits import evict, eviction, reassigned, saga_rank
from processors.identity.graph.messages.base import Member, Saga
from processors.identity.graph.messages.steps import Offer, OfferResult, Unblock
from processors.identity.graph.outputs import Merged
from processors.identity.graph.profile_codec import decode_profile
from processors.identity.graph.saga import lineage
from processors.identity.matching.blocking import block_keys
from processors.identity.matching.weights import MatchScore


def absorb(ctx: Node, message: Offer, saga: Saga, current: str, *, giving: Mapping[str, str],
           score: MatchScore | None, ended: set[str], login_keys: list[str], own_members: list[str],
           leaving_members: Mapping[str, Member]) -> None:
    """Merge the loser of ``message`` into this root. ``giving``: the identifiers of both sides that give way over a
    limit (key -> reason, ``limits.give_way``), evicted; ``score``: the weight the merge stood on (None unweighed);
    ``ended``: the aliases whose do-not-merge an operator's merge ends; ``login_keys``: the logins it stood on alone
    (``logins.stood_on``) among this root's ``own_members`` before the merge; ``leaving_members``: the loser's
    members that gave way to this root's user id and leave after the merge (``displace.at_offer_loser``)."""
    state, loser = ctx.state, message.loser
    members = state.members
    moved = sorted(key for key in message.members if key not in giving)
    for key in moved:
        members[key] = reassigned(message.members[key])  # the rank moves along
    for key in sorted(giving):  # the loser's are evicted on behalf of the survivor, which absorbs it
        if key in members:
            ctx.send(*evict(state, ctx.key, key, saga.event_id, saga.channel, giving[key]))
        else:
            ctx.send(*eviction(ctx.key, key, message.members[key], saga.event_id, saga.channel, giving[key]))
    # An operator's merge ends the pair's do-not-merge (a later split starts one again); any other keeps it.
    state.do_not_merge = sorted({*state.do_not_merge, *message.do_not_merge} - ended)
    state.rejected = sorted({*state.rejected, *message.rejected} - ended)
    state.aliases = sorted({*state.aliases, loser, *message.aliases})
    state.vacated = False  # it holds the loser's now: nothing a claim gives it later is given back (vacate.py)
    if message.shared:
        state.shared = sorted({*state.shared, *message.shared})
    if message.contacts:  # the loser's contacts, with the identifiers each carried (split_contacts.py)
        split_contacts.join(ctx, split_contacts.records(message.contacts,
                                                        split_contacts.kept_per_channel(ctx.graph.book)))
    if message.split_off:  # where what left it went: a stale apply to it follows from here (moved_off.py)
        moved_off.merge(state, message.split_off)
    elsewhere.merge(state, message.elsewhere, message.elsewhere_with)  # a later split reads whose they were
    logins.merge(state, message.logins, message.households)
    logins.note(state, login_keys, message.members, own_members)
    came_with.merge(state, message.came_with, message.carried_at, message.merged_in)
    joined.merged(ctx.policy, state, own_members, moved, saga.ids, saga_rank(saga), message.joined)  # (joined.py)
    state.review_owed = sorted({*state.review_owed, *message.review_owed})
    # Decided again below (customer_merge.on_offer) with the loser's members.
    weigh_again.merge(ctx, message.unweighed, saga_rank(saga), own_members, moved)
    merge_profiles(ctx, message, saga, current)
    if message.traits:
        for key in block_keys(message.traits):  # the loser's blocking entries go, the survivor's stay
            ctx.send(key, Unblock(loser))
    absorb_loser(ctx, message, saga, current)
    weight = round(score.weight, 2) if score is not None else None
    merged = Merged(ctx.key, loser, tuple(moved), lineage(saga), weight, saga.operator, saga.reason)
    ctx.emit(merged)
    assign(ctx, moved, members, ctx.key, merged.event_id, None)
    ctx.send(loser, OfferResult(message.token, True, ctx.key))
    if leaving_members:
        displace.loser_split_off(ctx, saga, leaving_members)
    saga.current = ctx.key


def merge_profiles(ctx: Node, message: Offer, saga: Saga, current: str) -> None:
    """The loser's profile (``Offer.profile``) joins this survivor's. A customer dissolved into the claimant of its
    only identifier whose traits may not be the claimant's person (``absorb_loser``'s rule) brings no name
    (``ProfileSection.personal``): tester12 S1, a housemate's IVR record that came first on the family phone put her
    name on the phone's keeper. Its contacts and products move all the same."""
    book, mine = ctx.graph.book, ctx.store.get_profile(ctx.key)
    theirs = decode_profile(message.profile) if message.profile else None
    if dissolving(saga) and not giver_fits(ctx, message, current):
        if current == message.loser:
            theirs = book.impersonal(theirs)
        elif mine:
            ctx.store.put_profile(ctx.key, book.impersonal(mine) or None)
            mine = ctx.store.get_profile(ctx.key)
    if theirs:
        ctx.store.put_profile(ctx.key, book.merge(mine, theirs))


def giver_fits(ctx: Node, message: Offer, current: str) -> bool:
    """Whether the traits of a dissolving merge's giver (``current``) may be the claimant's person."""
    state = ctx.state
    giver, claimant = (message.traits, state.traits) if current == message.loser else (state.traits, message.traits)
    return fits(ctx, giver, claimant)


def absorb_loser(ctx: Node, message: Offer, saga: Saga, current: str) -> None:
    """Add the loser's traits to this survivor's summary. A customer dissolved into the claimant of its only
    identifier (``current``, ``claim_node.dissolve_saga``) brings its traits only if they may be the claimant's
    person: in the order where the claimant's event came first, a housemate's record that met it was left
    unresolved and fed no summary; its contacts (the profile) move all the same."""
    if not dissolving(saga):
        absorb_traits(ctx, message.traits)
        return
    state = ctx.state
    if giver_fits(ctx, message, current):
        absorb_traits(ctx, message.traits)
    elif current == ctx.key:  # this survivor was the giver: its summary gives way to the claimant's
        for key in block_keys(state.traits or {}):
            ctx.send(key, Unblock(ctx.key))
        state.traits = None
        absorb_traits(ctx, message.traits)
