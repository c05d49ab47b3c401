"""A household e-mail's login that tells no person waits for review with the records, in every order (tester26 F6).

Two people's billing records (a household's contracts) carry one e-mail; identity keeps it on one record's customer
and the other apart through it. A portal login that tells no person (the e-mail alone, or the household's surname)
may be either's: in time order (the records at night, the logins in the morning) it meets the keeper through the
e-mail, the matcher weighs the pair as a household's (+3.9 bits, the review band), its customer waits for review and
the e-mail stays on the record (``contest.claims_on``: a review claims nothing against a customer that tells its
person). In the tester's order (Claire's line, Julien's login, Claire's login, Julien's line) Julien's login had
joined Claire's record at the e-mail's ``login`` level (the mailbox was one person's then, ``logins.py``); Claire's
login then met a record holding another user id: the limit of one refused it with no review, and its claim took the
e-mail from the record. The record no longer held the mailbox when Julien's line showed it two people's, so Julien's
login stayed on Claire's record, and Claire's login on an empty web-only customer no operator heard of.

The rule now, for such a login refused by the one-login limit alone:

1. ``at_login_limit``: the pair is weighed as time order weighs it, the user ids left out (the resident one stood on
   the mailbox alone); in the review band, the review time order asks for is requested (``ReviewRequested``, the pair
   named by the login's highest-priority identifier and the record's);
2. ``record_keeps``: its claim does not take an e-mail (``MatchModel.login_kinds``) from a record's customer (a key
   a system of record gives its holder, ``rules.RECORD_KINDS``) that tells its person, where the claimant tells none:
   the limit said two logins, not two people. The record keeps the mailbox, so the second line's evidence reaches it
   and the login placed there alone leaves for review (``login_leaves.py``). The claim back a lapsing master record
   rule makes for the customer a master record's claim took the e-mail from (``master.lapses``) is that customer's,
   not a record's, though it carries the record's channel: where both nameless logins came first, the earlier login's.

3. ``owe`` / ``owed``: where both nameless logins come before every record, the later login is refused beside the
   earlier login's customer (no record there to weigh it with). Both customers remember the review they are owed
   through the e-mail (``CustomerState.review_owed``; which keeps the e-mail depends on the order: an earlier-ranked
   login's claim takes it), a state, not a timer. The first holders' pair of one of them with a record's customer
   (``holders.py``, otherwise apart unannounced) that weighs in the review band asks for it; a review naming the
   customer pays the debt (``evidence.kept_apart``, ``OfferResult.reviewed``): one review per login, in every order.

Measured in ``test_household_email.py`` (two and three members, named and nameless logins, every arrival order: the
20 orders where both logins come first were strict xfails, 0 reviews for the later login). The e-mail ends on a
record there (before, with e-mail-only logins, the claim back returned it to the earlier login's customer).
"""

from __future__ import annotations

from collections.abc import Iterable

from bus.identifiers.kinds import USER_ID
from processors.identity.graph.contest import weigh_offer
from processors.identity.graph.customer_steps import Node, face
from processors.identity.graph.evidence import judge, kept_apart
from processors.identity.graph.holders import household
from processors.identity.graph.master import LAPSE_SUFFIX
from processors.identity.graph.messages.base import Saga
from processors.identity.graph.messages.claims import Give
from processors.identity.graph.messages.steps import Offer
from processors.identity.graph.saga import lineage
from processors.identity.matching.compare import TRAIT_FIELDS
from processors.identity.matching.traits import Summary
from processors.identity.matching.weights import Decision, MatchModel
from processors.identity.rules import RECORD_CHANNEL, RECORD_KINDS, kind_of


def at_login_limit(ctx: Node, saga: Saga, added: Iterable[str], culprit: str, pending: str) -> bool:
    """At the root (``ctx``) whose second login refused an event's new ``added`` identifiers met through ``culprit``
    (``customer_join``'s limit of one, the event's side ``pending``): request the review time order asks for when the
    event tells no person, the root holds a record's key, and the pair without the user ids weighs in the review band.
    True when requested."""
    state = ctx.state
    if tells_person(ctx.policy.matcher, saga.traits) or not _holds_record(state.members):
        return False
    event_side = [key for key in [*added, culprit] if kind_of(key) != USER_ID]
    own_side = [key for key in state.members if kind_of(key) != USER_ID]
    decision, score = judge(ctx, saga.traits, state.traits, event_side, own_side, saga)
    if decision is not Decision.REVIEW:
        return False
    # No second refusal: the limit's is announced; the review names the pair as a join's review does.
    kept_apart(ctx, decision, score, lineage(saga), None, pending, ctx.key,
               (ctx.policy.plan_order(list(added))[0], face(ctx, state.members, culprit)))
    return True


def owe(ctx: Node, saga: Saga, culprit: str) -> bool:
    """Where ``at_login_limit`` found no record at the root (``ctx``: another login's customer, both logins before
    every record) and the event tells no person: the event's new customer (``Saga.review_owed``, kept by ``create``
    in ``CustomerState.review_owed``) and the root, if its traits tell none either, are each owed the review time
    order gives them through ``culprit``: which of the two keeps ``culprit`` and meets the records through it depends
    on the order (an earlier-ranked login's claim takes it). A review that names a customer pays its debt
    (``evidence.kept_apart``, ``OfferResult.reviewed``). Two logins only (a user id on each side), not two national
    IDs: those are two people. True when owed."""
    state = ctx.state
    if tells_person(ctx.policy.matcher, saga.traits) or _holds_record(state.members) or not (
            _logs_in(saga.ids) and _logs_in(state.members)):
        return False
    if culprit not in saga.review_owed:
        saga.review_owed.append(culprit)
    if not tells_person(ctx.policy.matcher, state.traits) and culprit not in state.review_owed:
        state.review_owed = sorted({*state.review_owed, culprit})
    return True


def owed(ctx: Node, message: Offer, saga: Saga) -> bool:
    """At the survivor (``ctx``) of a holders' pair left apart (``holders.merge`` False): when one side owes a review
    through an identifier both carried (``owe``) and the other holds a record's key and owes none, request the review
    the pair weighs in (as ``holders.merge`` weighs it: the identifier a household's) and drop the debt on the
    survivor's side. True when the loser's debt is paid: its ``OfferResult.reviewed`` tells it to drop its own.
    Nothing when the pair weighs outside the review band."""
    state = ctx.state
    keys = household(message, state)
    loser_owes = bool(set(keys) & set(message.review_owed)) and _holds_record(state.members) and not state.review_owed
    own_owes = bool(set(keys) & set(state.review_owed)) and _holds_record(message.members) \
        and not message.review_owed
    if not (loser_owes or own_owes):
        return False
    decision, score = weigh_offer(ctx, message, saga, keys)
    if decision is not Decision.REVIEW:
        return False
    login, record = (message.loser, ctx.key) if loser_owes else (ctx.key, message.loser)
    login_members, record_members = (message.members, state.members) if loser_owes else (state.members,
                                                                                          message.members)
    kept_apart(ctx, decision, score, lineage(saga), None, login, record,
               (face(ctx, login_members, login), face(ctx, record_members, record)))
    if own_owes:
        state.review_owed = [key for key in state.review_owed if key not in keys]
    return loser_owes


def _logs_in(keys: Iterable[str]) -> bool:
    """Whether ``keys`` hold a login's user id."""
    return any(kind_of(key) == USER_ID for key in keys)


def _holds_record(members: Iterable[str]) -> bool:
    """Whether ``members`` hold a key a system of record gives its holder (``rules.RECORD_KINDS``)."""
    return any(kind_of(key) in RECORD_KINDS for key in members)


def record_keeps(ctx: Node, message: Give) -> bool:
    """Whether the giver (``ctx``: the root holding ``message.identifier``) keeps it against this claim: the identifier
    is of a kind the matcher reads at a ``login`` level (``MatchModel.login_kinds``: the e-mail), the giver is a
    record's customer whose summary tells its person, and the claimant, of another channel than a record's, tells
    none (module docstring, point 2). Not a recycled identifier's claim (``message.since``): the records decide whose
    it is (``recycle.py``)."""
    state = ctx.state
    if (message.since is not None or _records(message)
            or kind_of(message.identifier) not in ctx.policy.matcher.login_kinds or not _holds_record(state.members)):
        return False
    return tells_person(ctx.policy.matcher, state.traits) and not tells_person(ctx.policy.matcher, message.traits)


def _records(message: Give) -> bool:
    """Whether the claim is a system of record's own: of its channel, and not the claim back of the earlier event's
    customer that a master record's claim took the identifier from (``master.lapses``: it carries the record's channel
    and no traits), which is a login's customer's where a nameless login came first."""
    return message.channel == RECORD_CHANNEL and not message.event_id.endswith(LAPSE_SUFFIX)


def tells_person(matcher: MatchModel, traits: Summary | None) -> bool:
    """Whether a trait summary holds a field that tells people apart (``match_person_fields`` or a veto: the given
    name, the birth date), as ``contest.contests`` reads an event's."""
    telling = {*matcher.person_fields, *matcher.vetoes}
    return any(TRAIT_FIELDS.get(code) in telling for code in traits or {})
