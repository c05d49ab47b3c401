"""Customer nodes: the members of a customer and the decisions that change them.

State: ``state.CustomerState`` (members with their assignment versions and ranks, merge pointer,
lock and queue, do-not-merge list, aliases, duplicate guard, birth, trait summary). Messages:
``Create``, ``Apply``, ``SplitCustomer``, ``SplitInit`` here; ``Join`` in ``customer_join.py``; ``Link``,
``Offer``, ``OfferResult`` in ``customer_merge.py``; ``Rekey`` / ``Rejoin`` in ``rank_node.py``; ``Claim``
/ ``Give`` / ``Adopt`` in ``claim_node.py``; the steps they share in ``customer_steps.py`` (catalogue in
``protocol.md``).

Every decision about a customer is taken at its root, one message at a time, with the full member
list at hand: limits are exact. A merge locks the loser (larger id) while the survivor decides, so the
loser's members cannot change under the decision; waits only ever point to smaller ids, so they end.
"""

from __future__ import annotations

import msgspec

from processors.identity.graph import (
    browser_login,
    came_with,
    carried_pair,
    displace,
    elsewhere,
    handoff_moves,
    household_call,
    joined,
    kept_side,
    late_join,
    late_owner,
    move_contact,
    moved_off,
    split_contacts,
    versions,
    weigh_again,
)
from processors.identity.graph.contest import another_person
from processors.identity.graph.customer_join import on_join
from processors.identity.graph.customer_merge import on_link, on_offer, on_offer_result
from processors.identity.graph.customer_split import split_off
from processors.identity.graph.customer_steps import Node, admit, assign, done, route
from processors.identity.graph.evidence import absorb_traits, consistent_traits, file_blocking, note_kept_apart
from processors.identity.graph.limits import claimable, key_rank, member, rank_of, version_of
from processors.identity.graph.messages.claims import Claim
from processors.identity.graph.messages.commands import SplitCustomer, SplitInit
from processors.identity.graph.messages.steps import Apply, Create, Note, Seek
from processors.identity.graph.outputs import Created, Lineage, Refused, Resolved, Split, Unresolved
from processors.identity.graph.own_customer import leaves
from processors.identity.graph.saga import ANONYMOUS, TOLD, apply_message, copy_saga, customer_id, lineage
from processors.identity.rules import MANUAL_SPLIT, kind_of

# The handlers engine.py dispatches to, and the steps claim_node.py and rank_node.py share (by their old names).
__all__ = ["Node", "on_apply", "on_create", "on_join", "on_link", "on_offer", "on_offer_result", "on_split",
           "on_split_init", "_admit", "_done", "_route"]
_admit, _done, _route = admit, done, route


def on_create(ctx: Node, message: Create) -> None:
    """A new customer for identifiers nobody owned, reserved by the saga of ``message``."""
    if ctx.state.created:
        if not message.add and (message.saga.noted or message.saga.traits):
            # A household contact's own customer (seek.own_customer), or a record's (own_customer.before_the_call),
            # is the one of every event of its call or visit: the next one is applied here (a copy of one applied
            # already too: sections are idempotent).
            ctx.send(ctx.key, apply_message(msgspec.structs.replace(message.saga, current=ctx.key, pending=[])))
        return  # created already: a duplicate
    saga, state = copy_saga(message.saga), ctx.state
    state.created, state.born, state.made_for = True, saga.occurred_micros, saga.contact
    state.review_owed = list(saga.review_owed)  # a nameless login refused beside another login (holder_review.py)
    state.members = {
        key: member(version_of(saga, key),
                    rank_of(ctx.policy, saga, key) if ctx.policy.limit(kind_of(key)) is not None else 0)
        for key in message.add}
    # The event's traits are this person's from the start, not only once its ``apply`` arrives: an event
    # that meets this customer meanwhile is weighed against them (issue #8 build 5).
    absorb_traits(ctx, saga.traits)
    came_with.note(ctx.policy, state, saga, message.add)  # what a user-less event brought together (displace.py)
    weigh_again.note(ctx, saga, message.add)  # made unweighed: time order may have met a customer (weigh_again.py)
    created = Created(ctx.key, tuple(message.add), lineage(saga))
    ctx.emit(created)
    assign(ctx, message.add, state.members, ctx.key, created.event_id, saga.event_id)
    saga.current, saga.pending = ctx.key, []
    ctx.send(ctx.key, apply_message(saga))
    ctx.release_queue()


def on_apply(ctx: Node, message: Apply, follow_moves: bool = True) -> None:
    """The event belongs to this customer: update the profile sections it feeds. ``follow_moves``: an event whose
    saga read its identifiers' owner before they left (an operator's split, a claim), or whose contact an operator
    moved meanwhile, goes on to where they went (``moved_off.follow``); not one a housemate's seek placed by its
    traits (``seek.py``)."""
    if not route(ctx, message):
        return  # no duplicate guard: sections are idempotent, and a re-published contact keeps its event id
    # (A handoff's event follows its handoff also where a seek placed it: its contact decided, not its traits.)
    followed = _moved_on(ctx, message) if follow_moves else handoff_moves.follow(ctx, message)
    if followed is not None:
        ctx.send(*followed)
        return
    displace.applied(ctx, message.rank)  # its rank settles the members it ranked (displace.py)
    # A trait-less event's identifiers found together here: what it brought with an anonymous id (came_with.py).
    came_with.note_applied(ctx.policy, ctx.state, message.linked, message.rank)
    carried_pair.carried(ctx.policy, ctx.state, message.ids or message.linked, message.rank)  # found, brought by none
    joined.carried(ctx.policy, ctx.state, message.ids or message.linked, message.rank)  # pairs linked through it
    weigh_again.carried(ctx, message.event_id, message.ids or message.linked)  # a later event linked a kept pair again
    weigh_again.again(ctx)  # ... or, its rank settled, an earlier event's members show time order weighed one
    late_join.applied(ctx)  # a join weighed only for a later login: its linking identifier's earliest event came
    kept_side.applied(ctx, message)  # an event kept apart where an earlier one, arriving after it, brought its own
    if message.household_only and another_person(ctx, message.traits):
        # A housemate's contact that reached this customer through a household identifier only (contest.py):
        # not on this screen pop, nor on its contact stream. The housemates kept apart through the family
        # identifier may take it (seek.py); else it is unresolved, and the identifier's lookup says it is shared.
        held = [key for key in message.ids if key in ctx.state.members] or message.ids
        if held:
            ctx.send(held[0], Seek(held[0], message, [ctx.key]))
        else:
            ctx.emit(Unresolved(message.event_id, message.started_at))
        return
    # A record that reached this customer through its user id is its person's, even when its traits contradict
    # the summary (a typo in one, a field missing in the other: the weight's veto yields to a shared login too).
    mine = consistent_traits(ctx, message.traits) or _by_login(ctx, message.ids)
    if (not mine or not ctx.state.traits) and leaves(ctx, message):
        return  # another person's record that ranks first on identifiers held here: its own customer
    for key in message.kept_apart:  # another customer keeps it: both screen pops name the two (web.py)
        if key not in ctx.state.members:
            note_kept_apart(ctx.state.elsewhere, key)
            elsewhere.note(ctx.state, key, message.ids)  # with which of its identifiers: a split reads it
            ctx.send(key, Note(ctx.key))
    kept_side.note(ctx, message)  # kept apart with nothing of it here ranked before it: an earlier event may come
    if mine:  # a household member on the family phone: not this person
        absorb_traits(ctx, message.traits)
    ref, event = message.event, None
    book = ctx.graph.book
    # Decoded only where a section reads it: a section on the side (the name) wants only events with traits.
    if ref is not None and (book.reads(ref.schema) or message.traits and book.takes(ref.schema)):
        if book.reads(ref.schema):  # a contact on its screen pop: did it tell its person (claim_node.on_give, seek.py)?
            told = ctx.state.contacts
            ctx.state.contacts = max(told, TOLD if message.traits else ANONYMOUS)
            if ctx.state.contacts != told and not ctx.state.members:
                file_blocking(ctx)  # a contact no customer on its identifiers took: its person's is found by blocking
                household_call.ask(ctx)  # ... or among the household it came through, when it names one
        event = ctx.graph.load_event(ref)
        if book.wants(event):
            # The name only from a record the matcher takes as this person's (tester12 S1): not another's traits.
            # Told: the event named its person, by traits or as the tracker's case customer (handoff_moves.names_here).
            told = bool(message.traits) or handoff_moves.names_here(ctx, event)
            ctx.store.put_profile(ctx.key, book.apply(ctx.store.get_profile(ctx.key), event, message.carried,
                                                      person=mine, told=told))
    split_contacts.note(ctx, message)  # which identifiers it carried: an operator's split may move it
    handoff_moves.note(ctx, message)  # a handoff opened during a contact: it follows the contact's moves
    handoff_moves.placed(ctx, message)  # ... and its later events come here, not to its identifiers' keeper
    ctx.emit(Resolved(ctx.key, ref, message.event_id, message.started_at))
    if not move_contact.follow(ctx, message):  # its contact an operator moved off here meanwhile: it follows
        versions.placed(ctx, message.event_id, ref, message.carried, event)  # its contact's versions: one customer
        handoff_moves.contact_placed(ctx, message, event)  # ... and the cases opened during it, with it
        late_owner.await_owner(ctx, message, event)  # here while its own identifier was nobody's: follows its owner
    # The event ranks first on these: they belong here (claim_node.py). Not if its traits contradict this
    # customer: it reached it unweighed through a household identifier planned first, and a housemate's
    # claim would take her own e-mail to this customer in the orders where she was refused through it.
    for key in message.claims if mine else ():
        if key not in ctx.state.members and claimable(ctx.policy, key):
            # By channel too, and after every record's when the event claimed a record's key (limits.key_rank).
            rank = key_rank(message.rank, message.channel, key, message.claims_record, message.member_line)
            ctx.send(key, Claim(ctx.key, rank, message.event_id, message.channel, traits=ctx.state.traits,
                                users=browser_login.users(key, ctx.state.members)))


def _moved_on(ctx: Node, message: Apply) -> tuple[str, Apply] | None:
    """Where an event goes instead of here: after its identifiers (``moved_off.follow``; a handoff opened during a
    contact, its later events too: ``handoff_moves.forwarded``), or after its handoff (``handoff_moves.follow``)."""
    followed = moved_off.follow(ctx, message)
    if followed is None:
        return handoff_moves.follow(ctx, message)
    handoff_moves.forwarded(ctx, message, followed[0])
    return followed


def _by_login(ctx: Node, ids: list[str]) -> bool:
    """Whether one of an event's identifiers ``ids`` is this customer's of a kind one person alone has."""
    held = [key for key in ids if key in ctx.state.members]
    return bool(held) and any(kind_of(key) in ctx.policy.matcher.one_per_person_kinds for key in held)


def on_split(ctx: Node, message: SplitCustomer) -> None:
    """An operator's unmerge: move some identifiers to a new customer, and never merge the two again.

    The contacts that carried only moved identifiers follow them, with their part of the profile; a contact that
    carried a kept one too stays here (``split_contacts.py``). A copy of the split is dropped (``route``: the step
    token), or finds nothing left to move and is refused: it moves nothing twice."""
    if not route(ctx, message, message.token):
        return
    state = ctx.state
    members = state.members
    moving = sorted(key for key in set(message.ids) if key in members)
    done(ctx, message.token)
    rule_lineage = Lineage(message.token, message.channel, MANUAL_SPLIT)
    if not moving or len(moving) == len(members):
        ctx.emit(Refused(message.ids[0], "a split must move some, but not all, identifiers of the customer",
                         rule_lineage, customer_id=ctx.key))
        return
    split_off(ctx, moving, Split(ctx.key, customer_id(message.at, message.token), tuple(moving), message.reason,
                                 rule_lineage, message.operator), message.at)


def on_split_init(ctx: Node, message: SplitInit) -> None:
    if ctx.state.created:
        return
    state = ctx.state
    state.created, state.born = True, message.at
    state.members, state.do_not_merge = dict(message.members), list(message.do_not_merge)
    state.shared = list(message.shared)
    absorb_traits(ctx, message.traits)  # filed under its blocking keys: the split-off person is found by her traits
    split_contacts.take_over(ctx, message)
    elsewhere.taken(ctx, message.elsewhere)  # kept apart through what its events carried, as before a merge
    moved_off.merge(state, message.moved_off)  # a moved contact's later events follow the move from here too
    ctx.release_queue()
