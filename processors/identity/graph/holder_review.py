"""A login kept apart from a household's records through their shared e-mail waits for review (tester26 F6).

Two people's billing records (a household's contracts) carry one e-mail; identity keeps it on one record's customer
and the other apart through it. A portal login that tells no person (the e-mail, perhaps the household's surname)
may be either's: in time order (the records at night, the logins in the morning) it met the keeper through the
e-mail, the matcher put the pair in the review band, and its customer waited for review. In other orders it met the
keeper holding the other member's login (placed by the mailbox alone before the second record came,
``logins.py``) and the limit of one user id refused it on no evidence of a person; or it made its customer before any
record came. Its customer was kept apart through the e-mail without any review: an empty web-only customer no
operator hears of.

The identifier proposes every pair of customers kept apart through it (``seek.propose_housemates``) and the matcher
weighs them as a household's (``holders.py``). The rule now: a proposed pair of a **login's customer** (a user id, no
key a system of record gives its holder: ``rules.RECORD_KINDS``) and a **record's customer** (such a key) that the
matcher puts in the review band waits for review (``evidence.kept_apart``: ``match-review`` of the identifier, each
side named by its highest-priority member); any other pair stays apart unannounced, as ``holders.py`` says. So the
login's customer is named in a review with a household record in every arrival order. A refusal the other root
announced for the pair before (``Offer.refusals``) is not announced again and its review not requested again
(``refusals.py``); a login reviewed against the keeper in the join may be reviewed against the other record here: it
may be either's (``test_household_email.py``).
"""

from __future__ import annotations

from collections.abc import Iterable

from bus.identifiers.kinds import USER_ID
from processors.identity.graph import holders
from processors.identity.graph.contest import weigh_offer
from processors.identity.graph.customer_steps import Node, face
from processors.identity.graph.evidence import kept_apart
from processors.identity.graph.messages.base import Saga
from processors.identity.graph.messages.claims import Give
from processors.identity.graph.messages.steps import Offer
from processors.identity.graph.saga import lineage
from processors.identity.matching.compare import TRAIT_FIELDS
from processors.identity.matching.traits import Summary
from processors.identity.matching.weights import Decision
from processors.identity.rules import RECORD_KINDS, kind_of


def request(ctx: Node, message: Offer, saga: Saga) -> bool:
    """At the survivor's root (``ctx``) of a holders' pair the matcher did not merge (``holders.merge``, ``message``:
    the loser's offer): request the review of a login's customer and a record's customer whose weight, met through
    what both carried as a household's, lies in the review band. True when the pair is such and in that band."""
    state = ctx.state
    if not login_and_record(message.members, state.members):
        return False
    shared = holders.household(message, state)
    if not shared:
        return False
    decision, score = weigh_offer(ctx, message, saga, shared)
    if decision is not Decision.REVIEW:
        return False
    kept_apart(ctx, decision, score, lineage(saga), shared[0], message.loser, ctx.key,
               (face(ctx, message.members, message.loser), face(ctx, state.members, ctx.key)),
               known=message.refusals)
    return True


def login_and_record(first: Iterable[str], second: Iterable[str]) -> bool:
    """Whether one side (member keys) is a login's customer (a user id, no record key) and the other a record's."""
    kinds = [{kind_of(key) for key in side} for side in (first, second)]
    return any(USER_ID in login and not login & RECORD_KINDS and record & RECORD_KINDS
               for login, record in (kinds, kinds[::-1]))


def record_keeps(ctx: Node, message: Give) -> bool:
    """Whether the giver (``ctx``: the root holding ``message.identifier``) keeps it against this claim: it is a record's
    customer (it holds a key a system of record gives its holder, ``rules.RECORD_KINDS``) whose summary tells its
    person (a given name or birth date, the fields a veto or ``match_person_fields`` reads), and the claimant's summary
    tells none. Such a claimant was kept apart by a limit (a second login the mailbox had placed alone beside the
    record, ``logins.py``), not on evidence of another person: in time order the matcher put the pair in the review
    band and the identifier stayed with the record (``contest.claims_on``), so it does here; both wait for review
    (``request``). Not a recycled number's claim (``message.since``): the records decide whose it is (``recycle.py``)."""
    state = ctx.state
    if message.since is not None or not any(kind_of(key) in RECORD_KINDS for key in state.members):
        return False
    return tells_person(ctx, state.traits) and not tells_person(ctx, message.traits)


def tells_person(ctx: Node, traits: Summary | None) -> bool:
    """Whether a trait summary holds a field that tells people apart (``match_person_fields`` or a veto)."""
    matcher = ctx.policy.matcher
    telling = {*matcher.person_fields, *matcher.vetoes}
    return any(TRAIT_FIELDS.get(code) in telling for code in traits or {})
