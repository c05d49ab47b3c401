"""Identifier nodes: who owns the identifier, whether it is shared, and who has reserved it.

State: ``state.IdentifierState`` (owner and assignment version, reservation, queue, shared flag and
the people counted towards it, dedupe window, smallest rank). Messages: ``Visit``, ``Assign``,
``Release``, ``Note``, ``Evict`` (``messages/steps.py``; catalogue in ``protocol.md``).
"""

from __future__ import annotations

import sys

from processors.identity.graph import browser_login, contact_rank, fits_two, household_call, master, recycle, vacate
from processors.identity.graph.contact_join import join
from processors.identity.graph.context import Ctx, recalls_hash, remember_hash, token_hash
from processors.identity.graph.evidence import count_person, note_kept_apart, people_count
from processors.identity.graph.late_owner import on_owner
from processors.identity.graph.limits import claimable, saga_key_rank, saga_rank, tells
from processors.identity.graph.messages.base import Saga
from processors.identity.graph.messages.claims import CLAIM_PREFIX
from processors.identity.graph.messages.steps import Assign, Evict, Note, Rejoin, Rekey, Release, Visit
from processors.identity.graph.outputs import Lineage, Refused, Unassigned
from processors.identity.graph.refusals import announce
from processors.identity.graph.release import holder, stale
from processors.identity.graph.saga import (
    MAX_ALIASED,
    NEW,
    SHARED,
    UNKNOWN,
    advance,
    alias_sagas,
    copy_saga,
    is_alias,
    lineage,
    plan,
)
from processors.identity.graph.seek import offer_parked, propose_housemates, propose_owner
from processors.identity.graph.state import IdentifierState
from processors.identity.rules import MAX_PER_CUSTOMER, RECORD_CHANNEL, SHARED_IDENTIFIER, kind_of

Node = Ctx[IdentifierState]



def on_visit(ctx: Node, message: Visit) -> None:
    """Phase 1: read the owner (or reserve a new identifier), then visit the next identifier."""
    joined = join(ctx, message)  # a call's contact takes its caller's IVR traits here, or waits (contact_join.py)
    if joined is None:
        return
    saga = copy_saga(joined.saga)
    event_id, state = saga.event_id, ctx.state
    if state.reserved_by == event_id:
        return  # a duplicate of a saga that already passed here
    if state.reserved_by:
        ctx.defer(joined)
        return
    fresh = not stale(state, saga)  # asked once: nothing below changes what it reads (``released_below``, the saga)
    # Only an identifier a master record gave can lapse (``master.lapses``): no call for the others (#9).
    withheld = master.lapses(ctx, saga) if fresh and state.master is not None else None
    if withheld is not None:
        ctx.send(ctx.key, withheld)  # the claim the rule kept moves it first (reserving it): this visit comes after
        ctx.send(ctx.key, joined)
        return
    hashed = token_hash(event_id)  # asked here, remembered below: hashed once
    if recalls_hash(state.recent, hashed):
        # The same event again (its saga started or reserved here before, within the window): a copy
        # of a saga that is already past this node, which must not reserve anything a second time.
        return
    last = saga.visited == len(saga.ids) - 1
    # An owner can evict a limited identifier (limits.py): a late copy of a saga that found it owned must
    # not reserve it once it belongs to nobody (the copy dies at the last node and would never release it).
    evictable = bool(state.owner) and ctx.policy.limit(kind_of(ctx.key)) is not None
    if last or evictable:
        # The last node drops a second copy of the event (or of its saga) before phase 2 could run it
        # twice; reserved nodes remember it below, so a copy never reserves anything a second time.
        state.recent = remember_hash(state.recent, hashed, ctx.graph.dedupe_window)
    if fresh:
        _lower_rank(ctx, saga)
        count_person(ctx, saga)  # shared_after: on the evidence of the events that carry it, in any order
        fits_two.at_visit(ctx, saga)  # a login that fits two people's records: a review
    # A closed account's number a later record gave another (tester24 F14), a tenant change (tester33 F3): the records
    # say whose it is also where an operator released it since (``claim_node._adopt_released``).
    recycle.on_record_visit(ctx, saga)
    if fresh and saga.channel == RECORD_CHANNEL:
        vacate.record_visit(ctx, saga)  # its holder's line after a correction gave it up (vacate.py)
    if fresh:
        master.on_visit(ctx, saga)  # a person's master record: its holder's own mobile or e-mail (tester27 F1, F2)
    if fresh and claimable(ctx.policy, ctx.key) and (
            state.shared or (len(state.people) > 1 and people_count(ctx) > 1)):
        saga.households |= 1 << saga.visited  # a household's identifier (contest.another_person); not a user id
    if not fresh:
        saga.seen[ctx.key] = UNKNOWN  # carried for its holder before an operator released it: links nothing
        saga.released_to = saga.released_to or holder(state, saga)  # but reaches that holder if nothing else
    elif state.shared:
        saga.seen[ctx.key] = SHARED
        announce(ctx, Refused(ctx.key, f"{kind_of(ctx.key)} is shared by several customers and no longer links",
                              lineage(saga, SHARED_IDENTIFIER), customer_id=state.owner))
    elif state.owner:
        saga.seen[ctx.key] = state.owner
        if not saga.households >> saga.visited & 1 and any(other != state.owner for other in state.kept_apart):
            saga.apart |= 1 << saga.visited  # one person's, another kept apart through it (deciding.used_by_others)
    elif ctx.key in saga.lookup_only:
        saga.seen[ctx.key] = UNKNOWN  # an alias's previous id nobody owns: never reserved nor created
        if is_alias(saga) and not saga.proposal:  # linked when it gets an owner (on_assign), with the alias's rank
            rank = saga_rank(saga)
            mine = {(rank, key) for key in saga.ids if key not in saga.lookup_only}
            state.aliased = sorted(mine.union((noted_rank, key) for noted_rank, key in state.aliased))[:MAX_ALIASED]
    else:
        state.reserved_by = event_id
        if not (last or evictable):
            state.recent = remember_hash(state.recent, hashed, ctx.graph.dedupe_window)
        saga.seen[ctx.key] = NEW
        if state.first_rank is not None:  # the root ranks it by the earliest event that carried it
            saga.node_ranks[ctx.key] = state.first_rank
        if state.version:  # evicted before: the next assignment must supersede the eviction
            saga.node_versions[ctx.key] = state.version
    saga.visited += 1
    if saga.visited < len(saga.ids):
        ctx.send(saga.ids[saga.visited], Visit(saga))
        return
    saga.plan = plan(ctx.policy, saga)
    ctx.emit(*advance(saga, ctx.policy))


def _lower_rank(ctx: Node, saga: Saga) -> None:
    """Keep the smallest rank of the events that carried a limited identifier; tell its owner when it drops.

    The event notes the identifiers it ranks first on (``saga.lowered``): its customer claims them if it
    does not hold them when the event is applied (``claim_node.py``); so does an event whose contact's other event
    set the rank (``contact_rank.py``: a call's events rank as one). A review's command saga carries no
    event and ranks nowhere.
    """
    if saga.proposal or ctx.policy.limit(kind_of(ctx.key)) is None or not tells(ctx.policy, saga, ctx.key):
        return  # (an anonymous page view does not rank its anonymous id: its earliest login does, limits.tells)
    state, rank = ctx.state, saga_key_rank(saga, ctx.key)
    if vacate.ranked_by_correction(state, rank):
        return  # a corrected version's event whose customer gave it up: it ranks it no longer
    # A browser is its user's whose login came first on it: a login decides, not the time (browser_login.py).
    login = browser_login.at_visit(state, ctx.key, saga, rank)
    if login:
        saga.lowered |= 1 << saga.visited
    known = state.first_rank
    if known is not None and rank > known:
        if login is None and contact_rank.ranks_with_its_contact(state, saga):
            saga.lowered |= 1 << saga.visited  # its call's record or another of its events ranks first
        return
    if login is False:
        saga.untold_first |= 1 << saga.visited  # first by time, without a user id: it claims, its login user's decides
    elif login is None:
        saga.lowered |= 1 << saga.visited  # the bit of this key in ``saga.ids``: one byte on the wire, not a key
    if rank == known:
        return
    state.first_rank = rank
    contact_rank.set_rank(state, saga)
    if known is not None:
        saga.prior_ranks = {**saga.prior_ranks, ctx.key: known}
    if state.owner:
        # (known None: an event that did not rank it made it its owner's member unranked, rank 0, until now: an
        # anonymous id a page view brought, a number a call without IVR data brought, limits.tells)
        ctx.send(state.owner, Rekey(ctx.key, rank, saga.channel))


def on_assign(ctx: Node, message: Assign) -> None:
    """The identifier's customer changed (created, linked, merged, split); may end a reservation."""
    state = ctx.state
    if message.version > state.version:
        # Interned: every identifier of a customer shares one copy of its id in memory. A claim that moves it
        # (claim_node.py) counts nobody: the people were counted when their events visited it.
        state.owner, state.version = sys.intern(message.owner), message.version
        # Aliases that came before it had an owner: link them now, one saga per alias (saga.alias_saga).
        for late in alias_sagas(ctx.key, message.version, state.aliased, state.aliased_to):
            ctx.send(late.ids[0], Visit(late))
        state.aliased, state.aliased_to = [], []
        offer_parked(ctx, state.owner)  # a housemate's record parked here may be the new owner's (seek.py)
        propose_owner(ctx)  # a customer kept apart through it may be the new owner's in time order (seek.py)
        household_call.on_customer_came(ctx, state.owner, owner=True)  # a named call's household (household_call.py)
        on_owner(ctx)  # contacts placed elsewhere while it was nobody's move to its owner (late_owner.py)
    _end_reservation(ctx, message.token)


def on_release(ctx: Node, message: Release) -> None:
    """The reserving saga did not link this new identifier: it stays unowned (``refused_with`` no longer
    counts towards ``shared_after``: the people are counted on visits, ``evidence.count_person``)."""
    _end_reservation(ctx, message.token)


def on_note(ctx: Node, message: Note) -> None:
    """Customer ``refused_with`` was kept apart from this identifier's owner through it: the screen pop names it
    with the owner (``IdentifierState.kept_apart``). It counts for nothing towards ``shared_after`` (a customer
    id that merges later would count twice; ``evidence.count_person`` counts people on visits). A customer noted
    for the first time is proposed with the others kept apart through it (``seek.propose_housemates``)."""
    new = message.refused_with not in ctx.state.kept_apart
    note_kept_apart(ctx.state.kept_apart, message.refused_with)
    if message.refused_with in ctx.state.kept_apart:
        offer_parked(ctx, message.refused_with)  # a housemate's record parked here may be this customer's (seek.py)
        if new:
            household_call.on_customer_came(ctx, message.refused_with, owner=False)
        if new:
            propose_housemates(ctx, message.refused_with)


def on_evict(ctx: Node, message: Evict) -> None:
    """Customer ``customer`` gives this identifier up to keep its limit (it ranked it ``rank``).

    Accepted, the identifier belongs to nobody, like a refused new one. If an event with a smaller
    rank visited it meanwhile, the root decided on a stale rank: ask it to decide again (``Rejoin``).
    """
    state = ctx.state
    if message.version <= state.version:
        return  # a duplicate, or an eviction a later assignment superseded
    if _claimed(state):  # the claimant could not keep it within its limits (claim_node.on_adopt)
        _end_reservation(ctx, state.reserved_by)
    if state.first_rank is not None and state.first_rank < message.rank:
        token = f"{ctx.key}@{message.version}@{state.first_rank}"
        ctx.send(message.customer, Rejoin(ctx.key, state.first_rank, message.version, message.event_id,
                                          message.channel, token))
        return
    state.owner = None
    state.version = message.version
    ctx.emit(Refused(ctx.key, message.reason, Lineage(message.event_id, message.channel, MAX_PER_CUSTOMER),
                     customer_id=message.customer, evicted=True), Unassigned(ctx.key, message.version))


def _claimed(state: IdentifierState) -> bool:
    """Reserved by a claim moving it (``claim_node.py``), not by a saga."""
    return state.reserved_by is not None and state.reserved_by.startswith(CLAIM_PREFIX)


def _end_reservation(ctx: Node, token: str | None) -> None:
    if token is not None and ctx.state.reserved_by == token:
        ctx.state.reserved_by = None
        ctx.release_queue()

