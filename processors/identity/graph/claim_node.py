"""Which of two customers kept apart keeps the identifier they share: the one whose event ranks first.

When two people share an identifier (a family phone) and the matcher refuses to merge them, the
identifier belongs to the customer of the **earliest event that carried it**, by rank
(``limits.event_rank``: event time, then a hash of the event id; by channel where one is the better evidence of
whose it is, ``limits.key_rank``: a system of record's account or card), whatever the arrival order:

1. A visit that sets or lowers the identifier's ``first_rank`` sets its bit in ``saga.lowered``
   (``identifier_node._lower_rank``); only such an event can be the earliest. A root that refuses the
   event's side through the identifier on evidence of two people (the matcher's refusal, two national
   IDs), keeps it apart for a review when the event tells its person apart (``contest.contests``),
   or by a rejected review, or a shared identifier, notes it in ``saga.contested`` (``_contested``, ``saga``).
2. When the event is applied, its customer's root (``customer_node.on_apply``) sends ``claim`` for
   every identifier both lowered and contested (``Apply.claims``) it does not hold.
3. The identifier node (``on_claim``) accepts a claim only if its rank is still its ``first_rank``
   (an earlier event visited since: that one claims instead, or already holds it) and it has an owner
   other than the claimant. It then reserves itself (``reserved_by`` = the claim's token: visits and
   other claims wait) and sends ``give`` to its owner.
4. The owner's root (``on_give``) drops the member (and its ``shared`` mark), records which of its members its
   events carried with it (``elsewhere.given_up``, from its contact records and what the node sends in
   ``Give.carried_with``) and sends ``adopt`` with the next assignment version to the claimant (for an anonymous id,
   what an event without a user id brought with it alone after the claim's event follows with claims of its own,
   ``came_with.following_claim``: in time order that event found it on the claimant); if the claimant
   is itself or merged into it, or it does not hold the identifier (an assignment or eviction is on its way), it
   releases the reservation (and retries the claim in the last case); so it does if an operator split the two
   apart, and where a record's customer that tells its person holds an e-mail a claimant that tells none claims
   (``holder_review.record_keeps``: a nameless login kept apart by the limit of one user id, tester26 F6). When it
   is the owner's only identifier, the owner merges into the claimant instead (``dissolve_saga``: no
   weight, the identifier stays reserved until the merge is decided), contacts and all, and absorbs the owner's
   traits only if they may be the claimant's person: in the order where the earliest event came first no
   such customer was made, its events met the claimant through the identifier and were applied there
   (a housemate's record was left unresolved and fed no summary). So no customer is left that no lookup reaches, and its
   contacts stay on a screen pop (the demo's abandoned calls; ``omnibus verify``) (issue #8 build 5). If it holds
   more by the time that merge is decided, the merge is refused and the claimant claims again
   (``claim_again.claim_again``); a copy of a claim that moved nothing is dropped (``on_claim``).
5. The claimant's root (``on_adopt``) admits it like any member (``Linked``, ``Assigned`` with the new
   version, ``assign`` ends the reservation), within its limits (over one, the ones that rank last are
   evicted, possibly this one).
6. Contacts follow the move as they follow an operator's split (``split_contacts.py``): the giver hands over, in
   ``Adopt``, the records and profile entries of its contacts that carried the identifier and none it keeps and did
   not tell their person (a page view applied while a later login held the anonymous id; not a call with its
   caller's IVR traits, which the matcher placed by them); the claimant takes them onto its screen pop and
   re-publishes each on ``customer.contacts`` under its key, with an id derived from the move's ``Linked``
   announcement and the contact (``outputs.moved_contact_id``): a redelivered ``give`` or ``adopt`` is dropped
   (step tokens), and a replayed batch publishes the same ids.

So the identifier ends with the customer of its earliest event: every event that ranked first when it
visited claims once it is applied, a claim that no longer ranks first is dropped, and the last one
accepted is the earliest event's. Moves are serialised on the identifier node. Roots never wait for
identifier nodes, so the reservation always ends. Only types with a per-customer limit above one keep
ranks and are claimed (a second national ID or user id is a conflict, not a claim); an identifier that
belongs to nobody (released or evicted by a limit) is not claimed.
"""

from __future__ import annotations

import msgspec

from processors.identity.graph import (
    browser_login,
    came_with,
    carried_pair,
    carried_undo,
    elsewhere,
    handoff_moves,
    holder_review,
    household_call,
    late_claim,
    late_join,
    master,
    moved_off,
    recycle,
    split_contacts,
    vacate,
    versions,
    weigh_again,
    weigh_again_claimant,
)
from processors.identity.graph.contest import another_person
from processors.identity.graph.context import Ctx, node_digest, recalls, remember
from processors.identity.graph.customer_node import Node, _admit, _done, _route
from processors.identity.graph.evidence import file_blocking, note_kept_apart
from processors.identity.graph.limits import (
    evict,
    give_way,
    held_from,
    member,
    member_rank,
    member_version,
    reassigned,
)
from processors.identity.graph.messages.base import Saga
from processors.identity.graph.messages.claims import CLAIM_PREFIX, Adopt, Claim, Give
from processors.identity.graph.messages.steps import Evict, Link, Note, Release, Visit
from processors.identity.graph.outputs import Lineage, Linked
from processors.identity.graph.saga import ANONYMOUS, TOLD, command_saga
from processors.identity.graph.state import IdentifierState
from processors.identity.rules import EARLIEST_CLAIM, kind_of


def claim_token(event_id: str, key: str, attempt: int, version: int) -> str:
    """The reservation (and duplicate guard) of one move: per event, identifier, attempt and the node's
    assignment version, so a reservation taken after a move never has the token of one before it. The identifier is
    there as its ``node_digest``: the token becomes the lineage of the ``CustomerMerged`` it may lead to
    (``dissolve_saga``), and ids never carry an identifier value (tester28 F1)."""
    return f"{CLAIM_PREFIX}{event_id}~{node_digest(key)}~{attempt}~{version}"


def dissolve_saga(message: Give) -> Saga:
    """The merge of a customer whose only identifier an earlier event's customer claims into that customer:
    an operator-like merge (no weight: the identifier is the evidence, as when the earliest event came first)
    whose ``lookup_only`` names the identifier, still reserved by the claim's token (``event_id``) until the
    merge is decided (``customer_steps.proceed`` releases it), so no other claim moves it meanwhile."""
    saga = command_saga(message.token, message.channel, EARLIEST_CLAIM)
    # The claim's rank: if the owner holds more by the time the merge is decided, the claim is made again.
    return msgspec.structs.replace(saga, force=True, lookup_only=[message.identifier],
                                   node_ranks={message.identifier: message.rank})


def on_claim(ctx: Ctx[IdentifierState], message: Claim) -> None:
    """The customer of an event that ranked first on this identifier does not hold it: move it there; or a corrected
    version's customer gives it up (``Claim.vacated_by``, ``vacate.py``)."""
    if message.vacated_by:
        vacate.on_vacate(ctx, message)
        return
    state = ctx.state
    if message.login:
        if state.login_user != message.login or state.login_rank is None:
            return  # a displaced user's claim of a browser another user logged in on first (browser_login.py)
        message = msgspec.structs.replace(message, rank=state.login_rank)  # decided as that login's own claim
    if state.reserved_by:
        ctx.defer(message)  # a saga's reservation or another move: decide once it ends
        return
    holder = recycle.holder_record(state)  # a system of record gave it to another after a closure (tester24 F14)
    if holder is None:
        message = vacate.reclaims(state, message)  # a record's holder after a correction gave it up (vacate.py)
    since = holder[1] if holder is not None else None
    # The holder record's own event claims as a recycle does (its saga ranked here: recycle._note_gift, tester33 F3).
    recycled = message.recycled or (since is not None and holder is not None and holder[0].rank == message.rank)
    if recycled and (holder is None or holder[0].rank != message.rank):
        return  # a record or a closure came since: the holder they say claims
    if not recycled and since is not None:
        return  # recycled: the records decide whose it is (recycle.py), not the earliest event
    by_master = master.claims(state, message) if since is None else None
    if by_master is False:
        return  # a person's master record gave it: only that record's claim moves it (master.py, tester27 F2)
    # An earlier event visited since: its customer claims (or holds) it; the owner merges into the claimant only where
    # time order would have joined them (late_claim.py).
    # A browser a login ranked: only that login's claim moves it (browser_login.py); a later login's is overtaken.
    login = browser_login.claim_decides(state, message.rank) if since is None and not by_master else None
    if login is False and message.rank < state.login_rank:  # type: ignore[operator]
        if state.login_user not in message.users:
            return  # an event without a user id: a login decides whose browser it is
        login = None  # ... on the customer of that login's user: its earliest event's claim, as before
    later = since is None and not by_master and (login is False or late_claim.overtaken(state.first_rank, message.rank))
    if since is None and not by_master and state.first_rank is None:
        return
    if not state.owner and recycled and since is not None and state.released_below is not None:
        _adopt_released(ctx, message, since)  # released by hand, then the records named its holder (tester33 F3)
        return
    if not state.owner or state.owner == message.customer:
        return
    if recycled:
        state.recycled = since is not None
        if since is not None:
            recycle.note_giver(state, since)  # its contacts until then reach it still (tester28 F2)
    # An overtaken claim has a token of its own: the same event's claim that ranks first again is no copy of it.
    token = claim_token(message.event_id, ctx.key, message.attempt, state.version)
    token += late_claim.SUFFIX if later else ""
    if recalls(state.recent, token):
        # A copy of a claim that moved nothing (the owner's merge into the claimant was refused: the version
        # stands): reserved again under the same token, the owner would take its ``give`` for a copy and never
        # end the reservation (property draw 4871, duplicates).
        return
    state.recent = remember(state.recent, token, ctx.graph.dedupe_window)
    state.reserved_by = token
    # The adopt's version (``vacate.on_vacate``); none once a correction gave it up: a holder's claim, kept.
    state.claimed_from = (state.owner, state.version + 1) if state.vacated_rank is None else None
    ctx.send(state.owner, Give(ctx.key, message.customer, message.rank, message.event_id, message.channel,
                               message.attempt, token, message.traits, since, carried_with(state),
                               kept=master.undoable(state, message), later=later,
                               corrected=vacate.corrected_only(state, message), login=later and login is True))


def _adopt_released(ctx: Ctx[IdentifierState], message: Claim, since: int) -> None:
    """An operator released this identifier (``release.py``: nobody's), and a system of record's closure and later
    record since say whose it is (a tenant change, ``tenancy.py``; a recycled number): it goes to that record's
    customer, as a claim moves it, with nobody to give it (an operator who released the account and landline of a
    tenant who left, before the closure was imported, found them on nobody for good)."""
    state = ctx.state
    token = claim_token(message.event_id, ctx.key, message.attempt, state.version)
    if recalls(state.recent, token):
        return
    state.recent = remember(state.recent, token, ctx.graph.dedupe_window)
    state.reserved_by, state.recycled = token, True
    ctx.send(message.customer, Adopt(ctx.key, state.version + 1, message.rank, False, message.event_id,
                                     message.channel, token))


def carried_with(state: IdentifierState) -> list[str]:
    """The identifiers the node knows events that carried it carried too: those limited to one of its evidence
    (``IdentifierState.people``) and the accounts of the records that gave it (``records``), sorted."""
    return sorted({*(key for person in state.people for key in person.ids),
                   *(account for gift in state.records for account in gift.accounts)})


def _all_told(ctx: Node) -> bool:
    """Whether every contact applied here told its person (``CustomerState.contacts``), or, where one did not, a later
    version of each such contact here did (``versions.told``: an updated CTR with the IVR's traits)."""
    if ctx.state.contacts != ANONYMOUS:
        return ctx.state.contacts == TOLD
    records = [record for record in split_contacts.kept(ctx) if record.event.schema in versions.CONTACT_SCHEMAS]
    return bool(records) and len(versions.told(ctx, records)) == len(records)


def on_give(ctx: Node, message: Give) -> None:
    """Hand member ``identifier`` to ``customer``, whose event ranks first on it (``adopt``)."""
    state, key = ctx.state, message.identifier
    if recalls(state.done, message.token):
        # A copy: given already. The move's own ``assign`` (or ``evict``) ends the reservation; a release
        # now could end it before, and a visit would read the old owner. A later reservation has another token.
        return
    if not _route(ctx, message):
        return
    if key not in state.members:
        # Its node is behind (an assignment or an eviction is on its way to it): release, and claim again.
        ctx.send(key, Release(message.token))
        ctx.send(key, Claim(message.customer, message.rank, message.event_id, message.channel, message.attempt + 1,
                            message.traits, message.since is not None))
        return
    split = message.customer in state.do_not_merge and message.customer not in state.rejected
    if message.customer == ctx.key or message.customer in state.aliases or split or holder_review.record_keeps(
            ctx, message):
        # The claimant is this customer (merged into it): nothing moves; or an operator split the two
        # apart: the split's placement stands. A rejected review does not stop the move: it says two
        # people, as a refusal does, and the earliest event's customer keeps it. A record's customer that tells its
        # person keeps what the record gave it against a claimant that tells none (holder_review.py, tester26 F6).
        ctx.send(key, Release(message.token))
        return
    # A login's claim of a browser a user-less event ranked first: alone where another user was there first.
    later = message.later and not browser_login.goes_alone(ctx.policy, state, message)
    if later and not late_claim.merges(ctx, message):
        ctx.send(key, Release(message.token))  # overtaken by an earlier event: the identifier stays (late_claim.py)
        return
    _done(ctx, message.token)
    if later or message.since is None and not message.kept and len(state.members) == 1 and (
            not _all_told(ctx) or not another_person(ctx, message.traits)):
        # Its only identifier: left without it, no contact could find this customer again and its contacts
        # would be on no screen pop. In the order where the earliest event came first, this customer's events
        # met that event's customer through it and were applied there: so this customer merges into the
        # claimant, identifier, contacts and all (``customer_steps.dissolving``), its traits only if they fit.
        value = state.members[key]
        state.members[key] = member(member_version(value), vacate.rank_given_back(message, member_rank(value)))
        ctx.send(message.customer, Link(ctx.key, False, None, f"{message.token}#merge", dissolve_saga(message)))
        return
    # (Its traits another person's than the claimant's, and every contact on it told its person, by its latest
    # version: a housemate's call with her IVR traits that came first on the family phone. It stays a customer of its
    # own, without identifiers: its contacts are not the claimant's, and blocking merges it with its person's customer
    # when that one comes.)
    value = state.members.pop(key)
    # An event whose saga read this customer as its owner and whose apply comes after the move follows it, as the
    # contacts handed over below do (moved_off.py).
    moved_off.note_identifiers(state, {key: reassigned(value)}, message.customer, claim=True, since=message.since)
    if all(kind_of(other) != kind_of(key) for other in state.members):
        # Its blocking entries name the types it holds: one it no longer holds is no conflict with another
        # customer's (the claimant's record, one slip from this customer's name, is its person: blocking_node.py).
        file_blocking(ctx)
    # This customer's events carried it too: both screen pops name the two (web.py), and it records which of its
    # members they carried, so an operator's move of one of its contacts leaves it one of the identifier's users
    # while another of them carried it (release.moved_away).
    if not message.corrected:  # (held by a correction alone: not kept apart through it, vacate.corrected_only)
        note_kept_apart(state.elsewhere, key)
    came_with.given(state, key)  # an event that brought it with a member here met the claimant's customer (lowered)
    # An event kept here that joined through it alone met the claimant's customer in time order (weigh_again.py);
    # one that brought it itself goes along as a mark (weigh_again_claimant.py), read before claimed_away splits.
    own = weigh_again_claimant.brought_it(ctx, key, member_rank(value), message.rank)
    # A later event without a user id that brought it with a member here met both customers: an offer in time order.
    for other in came_with.met_through(ctx.policy, state, key, member_rank(value)):
        weigh_again.propose(ctx, f"{message.token}~{other}", message.channel, [key, other])
    # What a later user-less event's offer merged in through it alone leaves, its pair proposed again (before the next);
    # not where a login's rank takes a browser alone (the merging event ranked before the login: browser_login.py).
    if not message.login:
        carried_undo.merged_away(ctx, key, message.event_id, message.channel,
                                came_with.following_claim(ctx.policy, state, key, message.rank))
    # A later event that met it here with a member an earlier one brought met, in time order, both customers: an offer.
    for other in carried_pair.carried_with(state, key, member_rank(value)):
        carried_pair.proposed(state, other)
        weigh_again.propose(ctx, f"{message.token}~carried~{other}", message.channel, [key, other],
                            carried_pair.CARRIED_PREFIX)
    # ... and a pair proposed so that linked members here through it: in time order that event met it at the claimant.
    carried_undo.unlinked(ctx, key, message.event_id, message.channel)
    carried_undo.partner_claimed(ctx, key, message.event_id, message.channel)  # ... or of the claimant's side
    # ... and one beside a later login that brought it with an anonymous id met the claimant unweighed (late_join.py).
    for other in late_join.given(ctx, key, message.rank)[:1]:
        late = late_join.late_saga(f"{message.token}~{other}", message.channel, [key, other])
        ctx.send(late.ids[0], Visit(late))
    weigh_again.claimed_away(ctx, key, member_rank(value), message.rank, message.customer, message.traits)
    elsewhere.given_up(state, key, split_contacts.kept(ctx), message.carried_with)
    household_call.ask(ctx)  # a call that came first, without identifiers now: its person may be the household's
    if not message.corrected:
        ctx.send(key, Note(ctx.key))
    shared = key in state.shared
    if shared:
        state.shared = [other for other in state.shared if other != key]
    # Its contacts that carried none of what this customer keeps (a page view applied while this customer held the
    # anonymous id) follow it, as they follow an operator's split (split_contacts.py); not one that told its person
    # (a housemate's call with her IVR traits): the matcher placed it by them.
    # (Recycled: the contacts before the closure stay, the previous holder's history.)
    contacts, profile = split_contacts.hand_over(ctx, [key], untold_only=True, since=message.since)
    # A number only a correction of one of those contacts placed here follows it (vacate.py).
    vacate.followed(ctx, contacts, split_contacts.kept(ctx), key, message.customer, message.event_id, message.channel)
    handoff_moves.note_moved(ctx, contacts, message.customer)  # the handoffs that followed a contact: later events too
    if message.since is not None:
        recycle.handoffs_stay(ctx, key, message.customer, contacts)  # and those that stayed: here (tester28 F2)
    # What a user-less event brought with a claimed anonymous id alone, after the claim's event, follows it: in time
    # order it came to the claimant's customer (came_with.py); the claimant learns the pairs, to pass them on.
    followers = came_with.following_claim(ctx.policy, state, key, message.rank)
    rank = vacate.rank_given_back(message, member_rank(value))  # a give-back: the holder's own rank (vacate.py)
    ctx.send(message.customer, Adopt(key, member_version(value) + 1, rank, shared, message.event_id,
                                     message.channel, message.token, contacts, profile, ctx.key,
                                     moved_off.by_hand(state), came_with.pairs(state, key, followers),
                                     [*weigh_again_claimant.left_through(ctx, key, message.rank), *own],
                                     message.since))
    for follower in followers:
        ctx.send(follower, Claim(message.customer, message.rank, message.event_id, message.channel, message.attempt,
                                 message.traits))


def on_adopt(ctx: Node, message: Adopt) -> None:
    """``identifier`` comes to this customer: admit it within the limits, and end its node's reservation."""
    token = f"{message.token}+"  # not the giver's: the giver may be this customer's root by now
    if not _route(ctx, message, token):
        return
    _done(ctx, token)
    state, key, rank = ctx.state, message.identifier, message.rank
    link = Lineage(message.event_id, message.channel, EARLIEST_CLAIM)
    # The giver's contacts that followed the identifier: here, re-published with ids derived from the move's
    # announcement (``Linked``, as ``_admit`` emits it). Also when the identifier cannot stay (over a limit): the
    # giver no longer holds it, and the claimant's event ranks first on it.
    handoff_moves.received(ctx, message.contacts)
    split_contacts.take_claimed(ctx, message.contacts, message.profile, Linked(ctx.key, key, link).event_id,
                                message.giver)
    giving = give_way(ctx.policy, state.members, {key: rank})
    if key in giving:  # this customer holds enough of its type ranked before it: it belongs to nobody
        ctx.send(key, Evict(ctx.key, message.version, rank, message.event_id, message.channel, giving[key]))
        return
    first = not state.members  # a record's own customer (own_customer.py) is filed once it holds one
    moved_off.received(state, [key])  # back here: where it went before is no longer where it is
    moved_off.merge(state, message.moved_off)  # a contact moved off the giver: its later events follow the move
    came_with.merge(state, message.came_with)  # what follows the identifier (came_with.following_claim)
    # Recycled: its member rank is the instant the claimant took it over, so that the fast path (``fast_node.holds``)
    # sends an event from before it the slow way, to the previous holder (``recycle.held_then``), not here.
    _admit(ctx, key, message.version, held_from(rank, message.since), link, message.token)
    weigh_again_claimant.met_the_claimant(ctx, key, message.left)  # the giver's marks: time order met them here
    weigh_again_claimant.took(ctx, message.event_id, key, rank)
    if first:
        file_blocking(ctx)
    vacate.adopted(ctx, key, message.event_id, message.channel)  # a corrected version's customer gives it back
    if key in state.elsewhere:
        state.elsewhere = [other for other in state.elsewhere if other != key]
    if message.shared:
        state.shared = sorted({*state.shared, key})
    for dropped in sorted(giving):
        ctx.send(*evict(state, ctx.key, dropped, message.event_id, message.channel, giving[dropped]))
