"""One event's way through the graph: visit its identifiers, then link them greedily by priority.

Phase 1 visits the identifiers in key order (a global order, so two sagas never wait on each other in
a cycle), reading each one's owner and reserving the new ones. Phase 2 walks them by priority (highest
first) and grows the event's cluster one identifier at a time; a step that would break a limit drops
that (lower-priority) identifier and carries on with the rest. The saga travels inside the messages,
so it survives restarts like any other record.
"""

from __future__ import annotations

import hashlib

import msgspec

from processors.identity.graph import split_contacts
from processors.identity.graph.context import token_hash
from processors.identity.graph.deciding import household_keys, past_the_line, unshared_first, untold_through_shared
from processors.identity.graph.limits import claimable, claims_only, loser, rank_of, saga_rank
from processors.identity.graph.messages.base import EventRef, Saga, Summary
from processors.identity.graph.messages.claims import Claim
from processors.identity.graph.messages.steps import Apply, Create, Join, Link, Release
from processors.identity.graph.outputs import Lineage, Output, Refused, Send, Unresolved
from processors.identity.rules import (
    ALIAS_LINK,
    CO_OBSERVED,
    MANUAL_MERGE,
    MAX_PER_CUSTOMER,
    UNTOLD_KINDS,
    LinkPolicy,
    kind_of,
)

NEW = ""  # phase-1 status of an identifier nobody owns (reserved by the saga)
SHARED = "!"  # phase-1 status of a shared identifier (not linked)
UNKNOWN = "-"  # phase-1 status of a look-up-only identifier nobody owns (an alias's previousId): skipped
# ``CustomerState.contacts``: no contact applied yet; every one carried its person's traits; one did not.
NO_CONTACT, TOLD, ANONYMOUS = 0, 1, 2
MAX_ALIASED = 8  # identifiers an unowned previousId keeps for the aliases that named it (IdentifierState.aliased_to)
OWN_SUFFIX = "~household"  # seeds the id of a contact's own customer (``own_customer_id``)


def customer_id(birth_micros: int, seed: str) -> str:
    """``cus_`` + 13 hex digits of the birth instant + 11 of a hash: sorting ids sorts customers by age."""
    digest = hashlib.sha256(seed.encode()).hexdigest()[:11]
    return f"cus_{max(birth_micros, 0):013x}{digest}"


def born_at(customer: str) -> int | None:
    """The birth instant (epoch µs) a ``customer_id`` carries; None for an id of another form."""
    digits = customer[4:17] if customer.startswith("cus_") and len(customer) == 28 else ""
    try:
        return int(digits, 16) if len(digits) == 13 else None
    except ValueError:
        return None


def new_saga(
    event_id: str, channel: str, occurred_micros: int, keys: list[str], event_ref: EventRef | None,
    started_at: float, *, traits: Summary | None = None, lookup_only: list[str] | None = None,
    correlation_id: str | None = None,
) -> Saga:
    """``traits``: the event's trait summary (``matching.traits``); ``lookup_only``: keys that link when
    somebody owns them but are never reserved nor create a customer (an alias's previous id); ``correlation_id``: the
    envelope's, shared by the events an adapter mapped from one call, visit or message (``contact_mark``)."""
    ids = sorted({*keys, *(lookup_only or ())})
    return Saga(event_id, channel, occurred_micros, started_at, ids, event=event_ref, traits=traits or None,
                lookup_only=sorted(set(lookup_only or ())), contact=contact_mark(correlation_id, ids))


def contact_mark(correlation_id: str | None, ids: list[str]) -> bytes:
    """6 bytes naming one contact's events that carry the same identifier keys ``ids`` (sorted), empty without a
    correlation id: a customer one of them made is the one of them all (``apart_side.own_side``, tester22 F2:
    a counter visit's transaction made the son's customer, its interaction and handoff met it in an ``offer``)."""
    return token_hash(correlation_id + "|" + ",".join(ids)) if correlation_id else b""


# Prefix of the proposals an identifier sends between customers kept apart through it (``seek.propose_housemates``):
# decided only where one side holds no identifier (``customer_merge.on_offer``).
HOUSEMATE_TOKEN = "hm:"
# The same between a new owner and each customer kept apart through the identifier (``seek.propose_owner``): merged
# only where time order joined the two unweighed (``holders.browsers``).
OWNER_TOKEN = HOUSEMATE_TOKEN + "o"


def command_saga(token: str, channel: str, rule: str) -> Saga:
    """A saga that carries a merge proposal (blocking, review) rather than an event: nothing to apply."""
    return Saga(token, channel, 0, 0.0, [], proposal=True, rule=rule)


def review_saga(token: str, identifiers: list[str], *, accept: bool, rule: str) -> Saga:
    """An operator's review decision: link (``accept``) or keep apart for good the customers of ``identifiers``.

    Both identifiers are look-up only (never reserved, never a new customer); an accepted merge skips
    the weight, a rejected one records each customer in the other's do-not-merge list.
    """
    saga = new_saga(token, "BACK_OFFICE", 0, [], None, 0.0, lookup_only=identifiers)
    return msgspec.structs.replace(saga, proposal=True, rule=rule, force=accept, reject=not accept)


def merge_saga(token: str, identifiers: list[str], operator: str, reason: str) -> Saga:
    """An operator's merge of the customers of ``identifiers`` (one each; ``omnibus identity merge``): an accepted
    review's saga (``review_saga``) with rule ``manual-merge``, which also overrides the pair's do-not-merge (a
    split, a rejected review: ``customer_merge.on_offer``), and who and why for the ``CustomerMerged``."""
    saga = review_saga(token, identifiers, accept=True, rule=MANUAL_MERGE)
    return msgspec.structs.replace(saga, operator=operator, reason=reason)


def alias_saga(identifier: str, version: int, aliased_to: list[str], rank: int | None = None) -> Saga:
    """The link of aliases that came before their previous id ``identifier`` had an owner: made when it gets
    one (assignment ``version``), so the clusters do not depend on which arrived first (#8 point 5).

    Every key is look-up only (never reserved, never a new customer); the customers are linked through the
    same merge decision as any link (limits, weights, review, do-not-merge: ``is_alias``). The token is a hash
    (identifier values never travel in event ids) of the identifier, the version and the alias's ``rank``, the
    same on a redelivery. ``rank`` (``limits.event_rank`` of the alias): refused as another user's, the alias's
    customer claims ``identifier`` with it (``alias_claims``), as the alias would have had it arrived after.
    """
    seed = f"{identifier}@{version}" if rank is None else f"{identifier}@{version}@{rank}"
    token = "alias~" + hashlib.sha256(seed.encode()).hexdigest()[:24]
    saga = new_saga(token, "WEB", 0, [], None, 0.0, lookup_only=[identifier, *aliased_to])
    ranks = {} if rank is None else {identifier: rank}
    return msgspec.structs.replace(saga, proposal=True, rule=ALIAS_LINK, node_ranks=ranks)


def alias_sagas(identifier: str, version: int, aliased: list[tuple[int, str]], aliased_to: list[str]) -> list[Saga]:
    """One ``alias_saga`` per alias noted on ``identifier`` (``IdentifierState.aliased``: ``(rank, key)``, the keys
    of one alias share its rank), and one without a rank for what an earlier version noted (``aliased_to``)."""
    by_rank: dict[int, list[str]] = {}
    for rank, key in aliased:
        by_rank.setdefault(rank, []).append(key)
    sagas = [alias_saga(identifier, version, keys, rank) for rank, keys in sorted(by_rank.items())]
    return sagas + ([alias_saga(identifier, version, aliased_to)] if aliased_to else [])


def alias_claims(saga: Saga, policy: LinkPolicy) -> list[Output]:
    """An alias's late link (``alias_saga``) refused as two people (one user id per customer): its customer claims
    the previous id with the alias's rank; the identifier node moves it only if no earlier login carried it
    (``claim_node.on_claim``: the rank is still its ``first_rank``)."""
    if saga.rule != ALIAS_LINK or saga.current is None:
        return []
    return [Send(key, Claim(saga.current, rank, saga.event_id, saga.channel)) for key, rank in saga.node_ranks.items()
            if key in saga.contested and claimable(policy, key)]


def is_alias(saga: Saga) -> bool:
    """A Segment alias's saga (its ``previousId`` look-up only), or its late link (``alias_saga``)."""
    return bool(saga.lookup_only) and (not saga.proposal or saga.rule == ALIAS_LINK)


def plan(policy: LinkPolicy, saga: Saga) -> list[str]:
    """Phase 2's order: by priority (``LinkPolicy.plan_order``), an owned identifier several people's events
    carried after an owned one that is no household's (``deciding.unshared_first``: tester F2, a family account
    and the caller's own line). An alias plans its own identifiers first: its
    user id is its customer, then the previous id's customer is linked to it like any two customers, so a
    refusal (two user ids) leaves both customers whichever arrived first (#8 point 5)."""
    if saga.proposal:
        return policy.plan_order(saga.ids)
    if not is_alias(saga):
        return unshared_first(policy.plan_order(saga.ids), household_keys(policy, saga, owned(saga)), owned(saga))
    own = [key for key in saga.ids if key not in saga.lookup_only]
    return policy.plan_order(own) + policy.plan_order(saga.lookup_only)


def owned(saga: Saga) -> set[str]:
    """The event's own identifiers (not look-up only) that had a customer at the visit."""
    return {key for key, status in saga.seen.items()
            if status not in (NEW, SHARED, UNKNOWN) and key not in saga.lookup_only}


def held_then(saga: Saga) -> set[str]:
    """An event that carried an identifier for the customer that held it when it occurred (released or recycled
    since: ``release.holder``, ``Saga.released_to``) and no identifier another customer owns: that identifier leads
    it to that holder as it did then, so the identifiers it brings that nobody held join that holder, weighed as in
    time order (processors/identity/README.md, "Release an identifier": a contact belongs to whoever held the number
    when it occurred, also when it arrives after the move). Marks it owned by that holder in ``saga.seen`` (phase 2
    only: the node is not touched, and the event ranks and claims nothing there) and returns the owned keys; none when
    the event carried no such identifier."""
    key = next((key for key in saga.plan if saga.seen.get(key) == UNKNOWN and key not in saga.lookup_only), None)
    if key is None or saga.proposal or saga.released_to is None:
        return set()
    saga.seen[key] = saga.released_to
    return {key}


def held_for(saga: Saga, key: str) -> bool:
    """Whether ``key`` leads the event to its customer because that customer held it when the event occurred
    (``held_then``), not because it holds it now."""
    return saga.released_to is not None and saga.seen.get(key) == saga.released_to


def copy_saga(saga: Saga) -> Saga:
    """A copy safe to change (messages kept in a node's queue share their saga otherwise)."""
    return msgspec.structs.replace(saga, seen=dict(saga.seen), pending=list(saga.pending),
                                   node_ranks=dict(saga.node_ranks), node_versions=dict(saga.node_versions),
                                   contested=list(saga.contested), unowned=list(saga.unowned))


def own_customer_id(occurred_micros: int, seed: str) -> str:
    """The id of a contact's customer of its own, without identifiers (``seek.own_customer``, and a contact whose
    identifiers no longer link, ``advance``): ``seed`` is the event id of the record its traits came from
    (``Saga.traits_of``) or its own, so a call's or visit's events (CallCompleted, InteractionRecorded, HandoffCreated
    and its IVR record) and copies reach one customer. Suffixed: not the id a record makes when it reserves a new
    identifier (``pending_customer_id``)."""
    return customer_id(occurred_micros, f"{seed}{OWN_SUFFIX}")


def pending_customer_id(saga: Saga) -> str:
    """The id the event's new customer gets, if its identifiers belong to nobody yet."""
    return customer_id(saga.occurred_micros, saga.event_id)


def lineage(saga: Saga, rule: str | None = None) -> Lineage:
    return Lineage(saga.event_id, saga.channel, rule or saga.rule or CO_OBSERVED)


def step_token(saga: Saga) -> str:
    return f"{saga.event_id}#{saga.step}"


def advance(saga: Saga, policy: LinkPolicy) -> list[Output]:
    """Run phase 2 from step ``saga.step`` up to the next step another node must decide."""
    outputs: list[Output] = []
    plan, seen, event_id = saga.plan, saga.seen, saga.event_id
    # Led to its customer only by identifiers several people share, telling no person: its new ones join nobody.
    mine = owned(saga)
    if saga.step == 0 and saga.released_to is not None:
        mine |= held_then(saga)
    household = household_keys(policy, saga, mine)
    untold = not saga.proposal and untold_through_shared(policy, saga, household, mine)
    # ... unless they are fixed lines and it brings a new account: that names its customer (deciding.py).
    skipped = past_the_line(policy, saga, household, mine) if untold else set()
    untold = untold and not skipped
    while saga.step < len(plan):
        key = plan[saga.step]
        status = seen[key]
        current = saga.current
        if key in skipped:
            saga.step += 1
        elif status in (SHARED, UNKNOWN):
            if status == SHARED and key not in saga.contested:
                saga.contested.append(key)  # several people use it: claimed if the event ranks first (claim_node.py)
            saga.step += 1
        elif status == NEW and untold and kind_of(key) not in UNTOLD_KINDS:  # deciding.py: not the keeper's
            outputs.append(Send(key, Release(event_id)))
            if key not in saga.unowned:  # its contact follows it to its owner (late_owner.py)
                saga.unowned.append(key)
            saga.step += 1
        elif status == NEW and current is None:
            breach = policy.breach(saga.pending, [key])
            dropped = None
            if breach is not None:  # the limit keeps the smallest ranks (limits.py), not the first planned
                ranks = {k: rank_of(policy, saga, k) for k in saga.pending if kind_of(k) == breach.kind}
                dropped = loser(ranks, key, rank_of(policy, saga, key))
                outputs.append(Refused(dropped, breach.reason, lineage(saga, MAX_PER_CUSTOMER),
                                       customer_id=pending_customer_id(saga)))
                outputs.append(Send(dropped, Release(event_id)))
            if dropped != key:
                saga.pending = [k for k in saga.pending if k != dropped] + [key]
            saga.step += 1
        elif status == NEW and current is not None:
            outputs.append(Send(current, Join([key], key, True, step_token(saga), saga)))
            return outputs
        elif current is None and not saga.pending:
            saga.current = status
            saga.step += 1
        elif current is None:
            outputs.append(Send(status, Join(list(saga.pending), key, False, step_token(saga), saga)))
            return outputs
        elif status == current:
            saga.step += 1
        else:
            outputs.append(Send(status, Link(current, False, key, step_token(saga), saga)))
            return outputs
    if saga.proposal:
        return outputs + alias_claims(saga, policy)  # a merge proposal: no event to apply
    if saga.current is None and saga.pending:
        outputs.append(Send(pending_customer_id(saga), Create(list(saga.pending), saga)))
    elif saga.current is not None:
        outputs.append(Send(saga.current, apply_message(saga)))
    elif saga.released_to is not None:
        # Every identifier it carried was released after it occurred (release.py): its holder's then (tester18 F5).
        outputs.append(Send(saga.released_to, apply_message(saga)))
    elif saga.traits and saga.event is not None and saga.contested:
        # Told its person, through identifiers that no longer link alone (shared past ``shared_after``): a customer of
        # its own, which blocking merges into its person's, before or after (tester22 F8: lost, a move-in call).
        outputs.append(Send(own_customer_id(saga.occurred_micros, saga.traits_of or event_id), Create([], saga)))
    else:
        outputs.append(Unresolved(event_id, saga.started_at))
    return outputs


def apply_message(saga: Saga) -> Apply:
    """What the event's customer needs to apply it: its traits and record, not the saga; and the
    identifiers the event ranks first on and was refused through on evidence of two people: its customer
    claims those it does not hold (``claim_node.py``)."""
    # An identifier it only looked up (an alias's previousId) too: refused as another user's (one user id per
    # customer), the earliest alias's customer keeps it (limits.tells, #8 point 5); an alias still never creates one.
    claims = [key for index, key in enumerate(saga.ids)
              if (saga.lowered | saga.untold_first) >> index & 1 and key in saga.contested
              and (key not in saga.lookup_only or is_alias(saga))]
    # It carries nothing but identifiers other people's events carried too (a family phone): whether it is
    # this customer's person, only its traits can tell (contest.another_person).
    household_only = bool(saga.households) and all(
        saga.households >> index & 1 for index, key in enumerate(saga.ids) if key not in saga.lookup_only)
    kept_apart = [key for key in dict.fromkeys([*saga.contested, *saga.noted])
                  if key in saga.ids and key not in saga.lookup_only]
    # A record's identifiers: one its customer holds of a kind one person alone has makes it that person's.
    own = [key for key in saga.ids if key not in saga.lookup_only]
    ids = own if claims or saga.traits else []
    # A contact's identifiers, recorded beside it for an operator's split (split_contacts.py).
    carried = split_contacts.carried(saga.event, own)
    # Without a record's ``ids``: the ones that had an owner, if two or more (a repeat of a pair: weigh_again.carried).
    linked = [] if ids else _linked(saga)
    if not claims and not household_only and not kept_apart and not ids:
        if carried:
            return Apply(saga.event_id, saga.started_at, saga.traits, saga.event, rank=saga_rank(saga),
                         channel=saga.channel, carried=carried, unowned=list(saga.unowned), linked=linked)
        return Apply(saga.event_id, saga.started_at, saga.traits, saga.event, rank=saga_rank(saga) if linked else 0,
                     linked=linked)
    # The ones it ranks first on: the housemate that takes a household-only record claims them (seek.py); another
    # person's record leaves for its own customer (own_customer.py).
    lowered = [key for index, key in enumerate(saga.ids)
               if saga.lowered >> index & 1 and key not in saga.lookup_only] if household_only or ids else []
    return Apply(saga.event_id, saga.started_at, saga.traits, saga.event, claims, saga_rank(saga), saga.channel,
                 household_only, kept_apart, ids, lowered, carried, saga.traits_of if household_only or ids else None,
                 unowned=list(saga.unowned) if carried else [],
                 claims_record=bool(claims) and claims_only(saga), linked=linked, member_line=saga.member_line)


def _linked(saga: Saga) -> list[str]:
    """The event's own identifiers that had an owner at its visit, if two or more (``Apply.linked``), else none: one
    owned identifier links nothing again, and the message of most events stays as it was."""
    linked = owned(saga)
    return sorted(linked) if len(linked) > 1 else []
