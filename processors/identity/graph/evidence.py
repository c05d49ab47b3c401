"""Where the graph asks the matcher: score two sides of a merge, keep trait summaries, feed the blocking index,
and decide on evidence when an identifier is shared.

A customer root keeps ``traits``, the trait summary of every event applied to it and every customer it
absorbed (``matching.traits``). When it changes, the customer files itself under its blocking keys
(``block`` messages to ``BLOCK:...`` nodes, see ``blocking_node.py``).

An identifier node counts the people whose events carried it (``count_person``): each event that visits it
brings its own evidence (``person_of``: its names and birth date, its identifiers of types limited to
one), and the
node keeps the evidence of events from people who conflict pairwise (``two_people``: the matcher refuses
them as one person, e.g. different given names or national IDs). More of them than ``shared_after`` allows make it
shared. The events that carry an identifier are the same in any arrival order, so is the decision; a
customer id that merges later, or one that a refusal alone created (an alias's phantom), counts for nothing.
"""

from __future__ import annotations

from collections.abc import Iterable

import msgspec

from bus.identifiers.kinds import USER_ID
from processors.identity.graph.context import Ctx
from processors.identity.graph.messages.base import Saga
from processors.identity.graph.messages.steps import Block, Shared
from processors.identity.graph.outputs import Lineage, Refused, ReviewRequested, SharedMarked, SharedRevoked
from processors.identity.graph.refusals import announce
from processors.identity.graph.saga import TOLD
from processors.identity.graph.state import CustomerState, IdentifierState
from processors.identity.graph.state_parts import Person
from processors.identity.matching.blocking import block_keys
from processors.identity.matching.compare import TRAIT_FIELDS, Level, trait_levels
from processors.identity.matching.traits import Summary, combine
from processors.identity.matching.weights import Decision, MatchScore
from processors.identity.rules import MATCH_REVIEW, MATCH_WEIGHT, holder_only, kind_of


def judge(ctx: Ctx[CustomerState], traits_a: Summary | None, traits_b: Summary | None, ids_a: Iterable[str],
          ids_b: Iterable[str], saga: Saga | None = None, *, also: Iterable[str] = ()) -> tuple[Decision, MatchScore]:
    """The matcher's decision on two sides (trait summaries and ``TYPE:value`` member keys). ``saga``: the event's
    whose identifiers' nodes held evidence of two people or more at its visit (``households``) are weighed so, and
    so are the keys ``also`` (``logins.stood_on``: would the pair merge were the mailbox a household's?)."""
    known = [*(households(saga) if saga else ()), *ctx.state.households, *also]  # the root's: told after the visit
    score = ctx.policy.matcher.score(traits_a, traits_b, ids_a, ids_b, known)
    return ctx.policy.matcher.decide(score), score


def households(saga: Saga) -> list[str]:
    """The event's identifiers whose node held evidence of two people or more (or was shared) at its visit
    (``Saga.households``): a household's mailbox on two people's billing lines, which the e-mail's ``login`` level
    must not read as one person's (``matching/compare.login_level``; portal-login F10: the first of a household's
    portal users to log in with it, no names sent, joined the other one's billing customer)."""
    return [key for index, key in enumerate(saga.ids) if saga.households >> index & 1]


def kept_apart(ctx: Ctx[CustomerState], decision: Decision, score: MatchScore, lineage: Lineage, culprit: str | None,
               customer_id: str, other_customer_id: str, pair: tuple[str, str], *, known: bytes = b"") -> None:
    """Announce a refusal by weight (or a review request): the identifier is shared by these two only. A refusal
    this root announced before is counted, not announced again, nor is its review requested again (``refusals.py``).

    ``pair``: one identifier of each side, what a review's accept links; ``known``: the refusals the other side
    remembers (``Offer.refusals``). Whether the identifier is shared
    by too many people is decided on its node from the events that carry it (``count_person``), not here.
    """
    rule = MATCH_REVIEW if decision is Decision.REVIEW else MATCH_WEIGHT
    rule_lineage = Lineage(lineage.triggering_event_id, lineage.channel, rule)
    announced = True
    if culprit is not None:
        if decision is Decision.REVIEW:
            reason = f"match weight {score.weight:.1f} bits: kept apart until an operator reviews the pair"
        elif (vetoed := ctx.policy.matcher.veto(score.levels)) is not None:
            # the weight of the rest may be high (the same surname and address): the veto decides, not the weight
            reason = f"{vetoed} differs: two people, whatever the other fields' match weight ({score.weight:.1f} bits)"
        else:
            reason = f"match weight {score.weight:.1f} bits is below {ctx.policy.matcher.refuse_below:.1f}"
        announced = announce(ctx, Refused(culprit, reason, rule_lineage, customer_id=customer_id,
                                          other_customer_id=other_customer_id, match_weight=round(score.weight, 2)),
                             known=known)
    if decision is Decision.REVIEW and announced:  # a repeated refusal would request the same review again
        if ctx.key in (customer_id, other_customer_id):
            ctx.state.review_owed = []  # reviewed: a nameless login owes none any more (holder_review.owed)
        ctx.emit(ReviewRequested(customer_id, other_customer_id, pair, round(score.weight, 2),
                                 {name: str(level) for name, level in score.levels.items()}, rule_lineage))


def consistent_traits(ctx: Ctx[CustomerState], traits: Summary | None) -> bool:
    """Whether an event's traits may describe this root's person (their weight alone is not refused; a
    mistyped given name with the right birth date may: ``compare.trait_levels``)."""
    return fits(ctx, traits, ctx.state.traits)


def fits(ctx: Ctx[CustomerState], traits: Summary | None, known: Summary | None, held: Iterable[str] = ()) -> bool:
    """Whether ``traits`` (an event's) may describe the person of the summary ``known``. ``held``: the event's
    identifiers (``TYPE:value`` keys) that the side of ``known`` holds; one of a type one person holds one of
    (``Matcher.one_per_person_kinds``: a user id) agrees, as it does where the event met that side by it, and a
    trait's veto yields to it (``Matcher.veto``: one person's records, one of them spoilt)."""
    if not traits or not known:
        return True
    matcher = ctx.policy.matcher
    levels = trait_levels(traits, known, matcher.thresholds)
    held_kinds = {kind_of(key) for key in held}
    levels.update({kind: Level.AGREE for kind in matcher.one_per_person_kinds if kind in held_kinds})
    return matcher.decide(matcher.weigh(levels)) is not Decision.REFUSE


def known_traits(ctx: Ctx[CustomerState], traits: Summary | None) -> bool:
    """Whether an event's traits say nothing this root's summary does not (every value already in it): such
    a repeat contact may skip its identifier nodes (``fast_node.py``). One with a value new here may be a
    new person's, or a new form of this one's, which the nodes count towards ``shared_after`` in any order
    only if it visits them (``count_person``)."""
    if not traits:
        return True
    known = ctx.state.traits or {}
    return all(set(values) <= set(known.get(code, ())) for code, values in traits.items())


def with_event(ctx: Ctx[CustomerState], known: Summary | None, traits: Summary | None,
               held: Iterable[str] = ()) -> Summary | None:
    """``known`` (one side of a merge) with the deciding event's ``traits`` added, if they may describe that
    side's person. The event reached that side first only because of the order of its identifiers (and of
    who owned them then): a household member's event that met its housemate first through the family
    e-mail must not make the housemate's summary agree with itself (issue #8 build 5). ``held``: the event's
    identifiers that side holds (``fits``): a spoilt record ("Ann" without a birth date) that met "Axn" born 1950
    through their login is that login's person's, whichever customer it met first (issue #8 point 5)."""
    return combine(known, traits) if fits(ctx, traits, known, held) else known


def absorb_traits(ctx: Ctx[CustomerState], traits: Summary | None) -> None:
    """Add ``traits`` to this root's summary; file the customer under its blocking keys if it changed."""
    state = ctx.state
    if not traits:
        return
    before = state.traits or {}
    after = combine(before, traits)
    if after == before:
        return
    state.traits = after
    file_blocking(ctx)


def file_blocking(ctx: Ctx[CustomerState]) -> None:
    """File this root under the blocking keys of its summary (``block``), if it has members or holds a contact
    that told its person (``CustomerState.contacts``, ``saga.TOLD``): one without either can be found by nobody
    (one made for a record claims its first ones, ``own_customer.py``, and is filed when the first comes), but a
    household-only contact no customer on its identifier took lives on one without members until blocking finds
    its person's customer (``seek.own_customer``, ``claim_node.on_give``)."""
    state = ctx.state
    if ctx.policy.blocking and (state.members or state.contacts == TOLD) and state.traits:
        kinds = sorted({kind_of(key) for key in state.members})
        for key in block_keys(state.traits):
            ctx.send(key, Block(ctx.key, state.traits, kinds))


# The most people an identifier node keeps evidence of: a ``shared_after`` at or above it is never reached
# (the default is 3 at most; once it is shared, the people kept are the flag's evidence).
MAX_PEOPLE = 32
# Distinct evidences a node keeps whatever they say; past them, only one that conflicts with all (greedy).
MAX_EVIDENCE = 12


# The most customers (or identifiers) kept apart through one identifier a node (or customer) names for the screen
# pop: a household is a few people; the smallest ids are kept, so the list does not depend on arrival order.
MAX_KEPT_APART = 8


def note_kept_apart(kept: list[str], key: str) -> None:
    """Add ``key`` to the sorted list ``kept`` of at most ``MAX_KEPT_APART`` (``IdentifierState.kept_apart``,
    ``CustomerState.elsewhere``)."""
    if key not in kept:
        kept.append(key)
        kept.sort()
        del kept[MAX_KEPT_APART:]


def person_of(ctx: Ctx[IdentifierState], saga: Saga, *, holder: bool = False) -> Person | None:
    """What ``saga``'s event says about its person, seen from this identifier node: the traits that tell
    people apart (those in ``match_person_fields`` or ``match_vetoes``: given name, birth date; with the
    given name, the family name, which shows names swapped on one side; a household shares the address)
    and its other identifiers of types limited to one. None if it says nothing of them. ``holder``: a record's
    traits are kept where they name the holder of its account rather than who uses the identifier
    (``rules.holder_only``; ``fits_two.py`` reads them so)."""
    policy = ctx.policy
    ids = sorted(key for key in saga.ids if key != ctx.key and key not in saga.lookup_only
                 and policy.limit(kind_of(key)) == 1)
    telling = {*policy.matcher.person_fields, *policy.matcher.vetoes}
    if "given_name" in telling:
        telling.add("family_name")
    traits = {code: values for code, values in (saga.traits or {}).items() if TRAIT_FIELDS.get(code) in telling}
    if holder_only(saga.channel, ctx.key) and not holder:
        traits = {}  # the account holder's, beside a family member's line (tester18 F4): not who uses it
    if not traits and not ids:
        return None
    return Person(traits or None, ids)


def two_people(ctx: Ctx[IdentifierState], a: Person, b: Person) -> bool:
    """Whether two events that carried this identifier come from two people: the matcher refuses them as
    one (their evidence, this identifier on both sides, met through it), by the rule a merge uses
    (``MatchModel.decide``): a household member differs in given name and birth date, or holds another
    national ID; one person's event with a typo and the right birth date, or swapped names, does not."""
    if a == b:
        return False
    matcher = ctx.policy.matcher
    score = matcher.score(a.traits, b.traits, [ctx.key, *a.ids], [ctx.key, *b.ids])
    return matcher.decide(score) is Decision.REFUSE


def count_person(ctx: Ctx[IdentifierState], saga: Saga) -> None:
    """Count the people of the events that carry this identifier; past ``shared_after`` people who conflict
    pairwise, it is shared: ``SharedMarked``, and its owner is told (``Shared``, for the fast path).

    The node keeps each distinct evidence (``person_of``) its events brought, up to ``MAX_EVIDENCE``; the
    people are the largest set of them that conflict pairwise (``two_people``; a maximum clique, on a
    dozen entries at most). That is a function of the set of evidences, not of their order, also when
    "one person" does not chain: Bob's swapped record may agree with Chloe's and with Bob's own while those
    two conflict. A greedy count (a new evidence counts if it conflicts with every one kept) made the flag
    depend on which came first (issue #8 build 5). Past ``MAX_EVIDENCE`` distinct evidences, a new one is
    kept only if it conflicts with every one kept (greedy again; ``protocol.md``).

    The people stay once it is shared: they are the evidence the flag stands on. A flag they no longer
    support is revoked first (``revoke_unsupported``).
    """
    state, kind = ctx.state, kind_of(ctx.key)
    state.refused_with = []  # counted by earlier versions (customer ids), no longer read: freed on a visit
    revoke_unsupported(ctx)
    if state.shared or ctx.policy.shared_limit(kind) >= MAX_PEOPLE:
        return
    person = person_of(ctx, saga)
    if person is None or person in state.people:
        return
    if len(state.people) >= MAX_EVIDENCE and any(not two_people(ctx, person, known) for known in state.people):
        return
    state.people = sorted([*state.people, person], key=_evidence_order)
    if state.owner and kind in ctx.policy.matcher.login_kinds and another_record(ctx, person):
        # a login its owner took through it alone may be either person's now (logins.py)
        ctx.send(state.owner, Shared(ctx.key, household=True, event_id=saga.event_id, channel=saga.channel))
    people = people_count(ctx)
    if not ctx.policy.is_shared(kind, people):
        return
    ctx.emit(SharedMarked(ctx.key, people))
    state.shared = True
    if state.owner:  # its customer must stop taking repeat contacts through it (fast_node.py)
        ctx.send(state.owner, Shared(ctx.key))


def another_record(ctx: Ctx[IdentifierState], person: Person) -> bool:
    """Whether ``person``, an event's evidence with no login (``USER_ID``) among its identifiers, is another person
    than one kept on this node without a login either (a housemate's billing line on the holder's mailbox). Two
    logins on one mailbox are refused by the one-login limit whatever the mailbox says: they do not count here."""
    if _login(person):
        return False
    return any(not _login(known) and two_people(ctx, person, known) for known in ctx.state.people if known != person)


def _login(person: Person) -> bool:
    return any(kind_of(key) == USER_ID for key in person.ids)


def revoke_unsupported(ctx: Ctx[IdentifierState]) -> None:
    """Revoke a shared flag its evidence does not support (issue #8 build 4: shared only on evidence): the
    people it keeps are not more than ``shared_after`` allows. So is a flag an earlier version set by counting
    customer ids (``refused_with``, a customer counted twice once it merged) and stored without ``people``,
    and one a since-raised ``shared_after`` no longer allows. It links again (its owner is told,
    ``Shared(revoked=True)``) and counts people from the next event on; past ``shared_after`` it is shared again.
    """
    state = ctx.state
    if not state.shared:
        return
    people = people_count(ctx)
    if ctx.policy.is_shared(kind_of(ctx.key), people):
        return
    state.shared = False
    ctx.emit(SharedRevoked(ctx.key, people))
    if state.owner:
        ctx.send(state.owner, Shared(ctx.key, revoked=True))


def _evidence_order(person: Person) -> bytes:
    """A fixed order of evidences (their encoding), so the kept list is the same in any arrival order."""
    return msgspec.msgpack.encode(person)


def _largest_conflicting(ctx: Ctx[IdentifierState], people: list[Person]) -> list[int]:
    """The indexes of a largest set of ``people`` that are pairwise two people (Bron–Kerbosch with pivoting)."""
    conflicts = [{other for other in range(len(people)) if other != one and two_people(ctx, people[one], people[other])}
                 for one in range(len(people))]
    best: list[int] = []

    def extend(clique: list[int], candidates: set[int], excluded: set[int]) -> None:
        nonlocal best
        if not candidates and not excluded:
            if len(clique) > len(best):
                best = clique
            return
        if len(clique) + len(candidates) <= len(best):
            return
        pivot = max(candidates | excluded, key=lambda one: len(conflicts[one] & candidates))
        for one in sorted(candidates - conflicts[pivot]):
            extend([*clique, one], candidates & conflicts[one], excluded & conflicts[one])
            candidates = candidates - {one}
            excluded = excluded | {one}

    extend([], set(range(len(people))), set())
    return best


def people_count(ctx: Ctx[IdentifierState]) -> int:
    """How many people the evidence kept on this node shows: the largest pairwise-conflicting set."""
    return len(_largest_conflicting(ctx, ctx.state.people))
