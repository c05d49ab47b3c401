"""Whether the side of an event kept apart from a customer claims the identifier between them (``claim_node.py``).

A refusal on evidence of two people always does. A review (``match-review``) keeps the two apart until an
operator decides, so it does too when the event tells its person apart; so does a rejected review's
do-not-merge (``CustomerState.rejected``), and not a split's (the operator placed the identifiers).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from processors.identity.graph.context import Ctx
from processors.identity.graph.evidence import households, judge, with_event
from processors.identity.graph.messages.base import Saga
from processors.identity.graph.messages.steps import Offer
from processors.identity.graph.state import CustomerState
from processors.identity.matching.compare import TRAIT_FIELDS, Level, Thresholds, given_values, trait_levels
from processors.identity.matching.given_names import distinct
from processors.identity.matching.traits import BIRTH, GIVEN, Summary
from processors.identity.matching.weights import Decision, MatchModel, MatchScore

Node = Ctx[CustomerState]
BIRTH_DATE = TRAIT_FIELDS[BIRTH]  # the birth date's name in the m/u table and the vetoes


def weigh_offer(ctx: Node, message: Offer, saga: Saga, also: Iterable[str] = ()) -> tuple[Decision, MatchScore]:
    """The matcher on the two sides of an offer, the event's traits counted on its own (``current``) side; ``also``:
    keys weighed as a household's (``evidence.judge``).

    The event met each side through identifiers it carries (``linking_both``); the culprit, the one through which it
    met the second, is counted on both sides. Which one that is depends on the path (time order's offer, a later
    arrival's, a relink's): ``{x2, e0}`` meeting ``{x2, e1}`` and ``{x1, u-1, e0}`` weighs +6.99 bits with ``x2`` on
    both sides (a merge) and +3.85 with ``e0`` (a review). Where each side holds one of the linking identifiers and one
    of them is a household's (its node holds two people's evidence, ``evidence.households``, or either side knows it
    so), the pair is weighed with the linking identifiers on either side and the weaker decision stands, the same in
    every order (issue #8 point 5, bench draw 657's cut form; ``test_offer_household_order.py``)."""
    state, culprit = ctx.state, message.culprit
    # The event saw ``culprit`` with the other side: it agrees on both. A blocking proposal has none, but the two
    # sides may still have carried one identifier (``carried_by_both``).
    seen = [culprit] if culprit is not None else carried_by_both(message, state)
    loser_traits, own_traits = message.traits, state.traits
    if message.swapped:
        loser_traits = with_event(ctx, loser_traits, saga.traits, [key for key in saga.ids if key in message.members])
    else:
        own_traits = with_event(ctx, own_traits, saga.traits, [key for key in saga.ids if key in state.members])
    also = [*message.households, *also]
    between = linking_both(message, saga, state) if culprit is not None else []
    to_loser = [key for key in between if key in state.members]
    to_own = [key for key in between if key in message.members]
    if not (to_loser and to_own and {*households(saga), *state.households, *message.households} & set(between)):
        return judge(ctx, loser_traits, own_traits, [*message.members, *seen], [*state.members, *seen], saga,
                     also=also)
    on_loser = judge(ctx, loser_traits, own_traits, [*message.members, *to_loser], list(state.members), saga, also=also)
    on_own = judge(ctx, loser_traits, own_traits, list(message.members), [*state.members, *to_own], saga, also=also)
    return min(on_loser, on_own, key=lambda weighed: (_STRENGTH[weighed[0]], weighed[1].weight))


# Decisions from the weakest to the strongest, to pick the weaker of two weighings.
_STRENGTH = {Decision.REFUSE: 0, Decision.REVIEW: 1, Decision.MERGE: 2}


def linking_both(message: Offer, saga: Saga, state: CustomerState) -> list[str]:
    """The event's identifiers (``saga.ids``, or a proposal's ``lookup_only``) that either side of an offer holds: the
    ones through which the event met the two customers, the culprit among them, sorted."""
    return sorted({key for key in [*saga.ids, *saga.lookup_only] if key in message.members or key in state.members}
                  | ({message.culprit} if message.culprit is not None else set()))


def carried_by_both(message: Offer, state: CustomerState) -> list[str]:
    """The identifiers both sides of a blocking proposal carried, held or kept by another customer
    (``CustomerState.elsewhere``): a family landline the keeper holds, which a housemate's record and her IVR call's
    own customer (``seek.own_customer``) were each kept apart through (tester17 M3). They met through it as surely as
    through one they hold, so the pair is weighed as in the orders where the call reached her customer through it
    (``seek.fits_person``): the trained prior and the identifier's agreement, not the population's prior of two
    records met on traits alone."""
    return sorted({*message.members, *message.elsewhere} & {*state.members, *state.elsewhere})


def contests(ctx: Node, decision: Decision, saga: Saga, *, rejected: bool = False) -> bool:
    """Whether the event's side may claim the identifier it was kept apart through (claim_node.py): refused, or
    under review when the event tells its person apart (a given name or birth date, the fields a veto reads).
    A review kept the two apart until an operator decides, so it counts as a refusal; but an event without
    them (a counter record with an account and the family phone) would take the phone to a customer nobody's
    event can be refused against, and every housemate's contact through it would queue another review.
    ``rejected``: an operator rejected their merge, whatever the matcher says now (a merge counts as a review).
    A merge otherwise (one person over a limit) never claims."""
    if decision is Decision.REFUSE:
        return True
    if decision is Decision.MERGE and not rejected:
        return False
    telling = {*ctx.policy.matcher.person_fields, *ctx.policy.matcher.vetoes}
    return any(TRAIT_FIELDS.get(code) in telling for code in saga.traits or {})


def claims_on(ctx: Node, decision: Decision, saga: Saga, *sides: Summary | None) -> bool:
    """Whether the event's side claims the identifier it was kept apart through (``contests``), also on a review
    when neither side (``sides``: the trait summaries of the customers weighed) has any trait: nothing on the
    customers' side tells a person apart, only the identifiers, so the earliest event's customer keeps the identifier
    they met through, as in the order where it came first, whatever the event's own traits (tester16 F3: a login with
    a family name only met a phone-only customer that an IVR-less call had made first; the later call kept the phone,
    and the login's customer stayed without it). The same rule where an event's new identifiers meet a customer
    (``customer_join``) and where two customers meet (``customer_merge.on_offer``): in one order of the same events
    the pair is weighed in a ``join``, in another in an ``offer`` (issue #8 point 5)."""
    if contests(ctx, decision, saga):
        return True
    return decision is Decision.REVIEW and not any(sides)


def held_whole(ctx: Node, saga: Saga, members: Iterable[str], known: Summary | None) -> bool:
    """Whether the customer a join weighs the event against holds only identifiers the event carries and traits
    that agree with the event's (one at least exact or close, none ``different``; a side whose traits the other
    lacks altogether, a call's postcode against a counter's name, is still weighed): in the order where the event came
    first, the contacts that made this customer carried nothing it lacks and were placed on its customer unweighed. So
    the join is one person's whichever came first (issue #8 point 5: the same input in any order gives the same
    clusters): a login with a phone, a family name and a given name the counter refused, after a counter visit with
    the phone and the family name alone, of the same second."""
    held = set(members)
    return bool(held) and held <= set(saga.ids) and agrees(ctx, saga.traits, known)


def agrees(ctx: Node, traits: Summary | None, known: Summary | None) -> bool:
    """Whether two trait summaries agree as ``held_whole`` reads them: one field at least ``exact`` or ``close``, none
    ``different``; False when either side has no trait."""
    if not traits or not known:
        return False
    levels = set(trait_levels(traits, known, ctx.policy.matcher.thresholds).values())
    return Level.DIFFERENT not in levels and bool(levels & {Level.EXACT, Level.CLOSE})


def only_rejected(loser_aliases: set[str], state: CustomerState, own_aliases: set[str], offer: Offer) -> bool:
    """The two sides are kept apart by rejected reviews only (no split): who keeps the identifier they share
    is the earliest event's customer, as after a refusal (claim_node.py); a split's placement stands."""
    return (loser_aliases & set(state.do_not_merge) <= set(state.rejected)
            and own_aliases & set(offer.do_not_merge) <= set(offer.rejected))


def another_person(ctx: Node, traits: Summary | None) -> bool:
    """Whether an event's ``traits`` describe another person than this root's: the matcher refuses them as one
    on traits alone, and no field that tells people apart (``match_person_fields``) agrees, or the given names
    are a twin's (``twin_names``), or the birth dates differ (``other_birth``). A housemate differs in given name
    and birth date; one person's record with a typo, swapped names or a field missing still agrees on one of them,
    and so does a clean record against a summary that holds a typo. Twins agree on the birth date and differ in two
    real first names; a father and son of one name (Sr./Jr.) agree on the names and differ in the birth date."""
    known = ctx.state.traits
    if not traits or not known:
        return False
    matcher = ctx.policy.matcher
    levels = trait_levels(traits, known, matcher.thresholds)
    if matcher.decide(matcher.weigh(levels)) is not Decision.REFUSE:
        return False
    return (not matcher.person_evidence(levels) or twin_names(traits, known, matcher.thresholds)
            or other_birth(matcher, levels))


def other_birth(matcher: MatchModel, levels: Mapping[str, Level]) -> bool:
    """Whether the birth dates are two people's by the matcher's own rule: ``birth_date`` is a veto
    (``match_vetoes``) and its level is ``different``, a full date that is neither equal nor one typing slip off nor day
    and month swapped (``compare.date_level``, the typos of one person). A merge is refused on it whatever the names
    say, so a caller who gives the keeper's name with another birth date (a father and son of one name on the family
    phone, tester14 S2) is another person too, not the keeper with a conflicting record. The given name's veto is
    left out: a nickname the name lists miss ("Manu" / "Emmanuel") reads as different and is one person."""
    return BIRTH_DATE in matcher.vetoes and levels.get(BIRTH_DATE) is Level.DIFFERENT


def twin_names(traits: Summary, known: Summary, limits: Thresholds) -> bool:
    """Whether every given name of ``traits`` is a real first name that differs from every one of ``known``
    (``given_names.distinct``: not a variant, nickname or spelling of it; misspellings a side holds of its own
    real names left out, ``compare.given_values``): two people however much else agrees (issue #8, twins).
    A typo is no real name, so one person's spoilt record is not this; a typo that makes another real name
    ("celia" for Célina) is, as the matcher reads it too."""
    first, second = given_values(traits.get(GIVEN, []), limits), given_values(known.get(GIVEN, []), limits)
    return bool(first and second) and all(distinct(a, b) for a in first for b in second)
