"""Which identifiers a customer keeps when a per-customer limit decides: by rank, not by arrival.

The rank of an identifier is the earliest event that carried it: that event's ``occurred_at`` (µs)
shifted left by ``HASH_BITS`` plus the low bits of a hash of its event id, one int (< 2**62 until the
year 2112), in a band above that by channel (``key_rank``: below 2**64, an unsigned 64-bit int). The identifier
node keeps the smallest rank it was visited with (``first_rank``); a customer root
caches the rank of each member of a limited type beside its assignment version (``members``: ``{identifier
key: (version, rank)}``; rank 0 for other types and for members from before ranks). When a type's
limit is exceeded, the root keeps the members with the smallest ``(rank, key)`` and refuses or evicts
the largest, so the kept set does not depend on the order the events arrived in. An evicted
identifier belongs to nobody (like a refused new one) unless its node knows a smaller rank than the
root used, in which case it asks to rejoin with it (see ``protocol.md``).
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Mapping

from processors.identity.graph.messages.base import Member, Saga
from processors.identity.graph.messages.steps import Evict
from processors.identity.graph.state import CustomerState
from processors.identity.rules import (
    ALIAS_LINK,
    UNTOLD_KINDS,
    LinkPolicy,
    claims_record,
    holder_only,
    kind_of,
    member_account,
    second_hand,
)

HASH_BITS = 10  # ties within one microsecond: 1 in 1024, then the identifier key decides
# An event's rank, a BLAKE2b of its id, is asked 1.5 times per event of the hot-path bench (the fast path once; a
# saga at each identifier it ranks, at its join and its ``Apply``): recent ranks are kept (#9).
EVENT_RANKS_KEPT = 4096


def member(version: int, rank: int = 0) -> Member:
    """A root's value for one member: its assignment version and (limited types) its rank."""
    return (version, rank)


def member_version(value: Member) -> int:
    return value[0]


def member_rank(value: Member) -> int:
    return value[1]


def reassigned(value: Member) -> Member:
    """The member moved to another customer (merge, split): the next assignment version, the same rank."""
    return (value[0] + 1, value[1])


@functools.lru_cache(maxsize=EVENT_RANKS_KEPT)
def held_from(rank: int, since: int | None) -> int:
    """A member's rank (``member``) on the customer that holds a recycled identifier from ``since`` (epoch µs,
    ``recycle.holder_record``; None: not recycled): never before that instant, so the fast path (``fast_node.holds``)
    sends an event from before it the slow way, to the customer that held it then (``recycle.held_then``)."""
    return rank if since is None else max(rank, max(since, 0) << HASH_BITS)


def event_rank(occurred_micros: int, event_id: str) -> int:
    """``occurred_micros << HASH_BITS`` + the low ``HASH_BITS`` of a blake2b hash of ``event_id``."""
    digest = int.from_bytes(hashlib.blake2b(event_id.encode(), digest_size=2).digest(), "big")
    return (max(occurred_micros, 0) << HASH_BITS) | (digest & ((1 << HASH_BITS) - 1))


def saga_rank(saga: Saga) -> int:
    return event_rank(saga.occurred_micros, saga.event_id)


def deciding_rank(saga: Saga) -> int | None:
    """The rank (``event_rank``) of the event a step decides for: the saga's own event's, or for an alias's late
    link (``saga.alias_saga``, rule ``ALIAS_LINK``) the rank of the alias it links for, which it carries as its
    previous id's ``node_ranks`` (the link is made when the previous id gets an owner, but in time order it was made
    when the alias came); None for another proposal (blocking, a review: no event ranks it) or a late link of an
    alias noted without a rank (an earlier version's ``aliased_to``)."""
    if not saga.proposal:
        return saga_rank(saga)
    if saga.rule == ALIAS_LINK and len(saga.node_ranks) == 1:
        return next(iter(saga.node_ranks.values()))
    return None


# Above every event time (``event_rank`` < 2**62 until the year 2112): the ranks an event gives the identifiers it is
# weaker evidence of than another channel's (``key_rank``).
LATE_BAND = 1 << 62
# Above the late band (ranks stay below 2**64, an unsigned 64-bit int): the ranks an event that claims a record's key
# (``rules.claims_record``) gives its other identifiers, after every record's and every other event's (``key_rank``).
CLAIMED_BAND = 1 << 63
BANDS = ~(LATE_BAND | CLAIMED_BAND)  # ``key_rank``'s band bits off: the event's own rank (``event_rank``)


def key_rank(rank: int, channel: str, key: str, claims: bool = False, member: bool = False) -> int:
    """The rank an event of ``rank`` (``event_rank``) that came through ``channel`` gives its identifier ``key``: its
    own, or ``LATE_BAND`` above it where another channel's event is the better evidence of whose ``key`` is, so that
    event's customer keeps it against this one's claim whatever the times and the arrival order (``claim_node.py``):

    * a system of record (``rules.RECORD_CHANNEL``, a business system's record) names the holder of its account,
      not who uses its other identifiers (``rules.holder_only``): a family plan's billing line puts the holder's name
      beside each member's MSISDN, activated before the member's own sign-up (tester18 F4); on those it ranks after
      every other channel's event. A fixed line ranks by the record's time (``rules.household_line``: each
      housemate's account line carries the home's, tester20 F1);
    * what such a record gives its holder (``rules.RECORD_KINDS``: the account, an IBAN, a card, the customer number)
      another channel's event (web, counter, call center) only claims (``rules.second_hand``): it ranks after every
      record's (tester21 F9: a portal identify with Paul's national ID beside Alice's card took the card to Paul).

    ``claims``: the event carried such a key and tells no person (``claims_only``: an account typed on an IVR keypad
    or in a web form, no traits). Its other identifiers (the caller's phone, the visitor's login and e-mail) rank in
    ``CLAIMED_BAND``, after every record's and every other event's: the typed key reaches the record's holder whoever
    typed it, so such an event never takes a phone or an e-mail a record gave another customer, in any arrival order
    (tester25 F2: a caller who typed another customer's account took his own billing phone to that customer). A
    person's own contact that carries no other customer's record key still takes a family member's phone from the
    holder (tester18 F4).

    ``member``: the event is a system of record's line of a member of its account (``rules.member_account``: a family
    plan's child, ``holder_role`` MEMBER). Its account ranks in ``LATE_BAND`` too, after every payer's line and every
    line that names no role, whatever the times and the arrival order, so the account's own facts (an overdue bill
    that names the account alone) reach the payer's screen pop, not the child's (tester32 F3). Among the late band it
    ranks by time: a family whose lines name no payer still has its account kept by its earliest line.

    Within a band, events rank by time: records among themselves (a joint account's two holders' lines), and the
    other channels among themselves.
    """
    if holder_only(channel, key) or second_hand(channel, key) or (member and member_account(channel, key)):
        return rank | LATE_BAND
    if claims:
        return rank | CLAIMED_BAND
    return rank


def saga_key_rank(saga: Saga, key: str) -> int:
    """``key_rank`` of ``saga``'s event for ``key``."""
    return key_rank(saga_rank(saga), saga.channel, key, claims_only(saga), saga.member_line)


def claims_only(saga: Saga) -> bool:
    """Whether ``saga``'s event claims a record's key (``rules.claims_record``) and tells no person (no traits): nothing
    but the typed key says whose its other identifiers are (``key_rank``'s ``claims``). One with traits (the caller's
    name and birth date from the IVR) is weighed on them where it meets the key's holder, and ranks as any event."""
    return not saga.traits and claims_record(saga.channel, saga.ids)


def tells(policy: LinkPolicy, saga: Saga, key: str) -> bool:
    """Whether the event of ``saga`` ranks its identifier ``key``: unless it carries nothing else and tells no person.

    An anonymous id (``rules.UNTOLD_KINDS``) is ranked by an event that carries another identifier too, never by
    an anonymous page view: so the rank of an anonymous id is the time it came: the earliest event that carried
    it with a user id, an e-mail or any other identifier, an alias naming it as ``previousId`` included. When two
    users' customers are kept apart through it (one user id per customer: a family PC's browser, or two conflicting
    aliases), the claim protocol (``claim_node.py``) leaves it with the customer of its earliest *login*, the
    earliest event that carried it with a user id (its node's login rank, ``browser_login.py``: an e-mail typed on
    it without a login does not count), whatever the arrival order: what a Segment-fed CRM does when events arrive in
    time order (the first user who logged in on a browser keeps its anonymous history; ``analytics.reset()`` on logout
    would have given the next user a new id,
    https://segment.com/docs/connections/sources/catalog/libraries/website/javascript/identity/). Issue #8 point 5.

    Any other identifier likewise, when the event carries it alone and tells no person (``tells_person``): a call
    from a family mobile with nothing from the IVR lands on whoever keeps the phone when it arrives, so its rank
    would make that customer the keeper, whichever housemate it was (tester21 F17: such a call ranked before the
    father's IVR-told call from the phone kept the phone with the daughter when it arrived first, gave it to the
    father when it came second, and a rebuild disagreed with the running graph). The earliest event that carried
    it with something telling whose it is ranks it.
    """
    if kind_of(key) in UNTOLD_KINDS:
        return any(kind_of(other) not in UNTOLD_KINDS for other in saga.ids)
    return len(saga.ids) > 1 or tells_person(policy, saga)


def tells_person(policy: LinkPolicy, saga: Saga) -> bool:
    """Whether the event has traits or an identifier of a type one person holds one of (a user id, a national ID:
    ``evidence.person_of`` reads the same)."""
    return bool(saga.traits) or any(
        policy.limit(kind_of(key)) == 1 for key in saga.ids if key not in saga.lookup_only)


def rank_of(policy: LinkPolicy, saga: Saga, key: str) -> int:
    """The rank of a new identifier of the saga: what its node knew (``node_ranks``), else the event's (0, unranked,
    when the event does not rank it: ``tells``)."""
    known = saga.node_ranks.get(key)
    if known is not None:
        return known
    return saga_key_rank(saga, key) if tells(policy, saga, key) else 0


def version_of(saga: Saga, key: str) -> int:
    """The assignment version a new identifier of the saga gets: one above its last (an evicted one has one)."""
    return saga.node_versions.get(key, 0) + 1


def loser(ranks: Mapping[str, int], candidate: str, candidate_rank: int) -> str:
    """Of the members ``ranks`` (one type) and ``candidate``, the one to give way: largest ``(rank, key)``."""
    return max([*ranks.items(), (candidate, candidate_rank)], key=lambda item: (item[1], item[0]))[0]


def give_way(policy: LinkPolicy, members: Mapping[str, Member], added: Mapping[str, int],
             waived: tuple[str, ...] = ()) -> dict[str, str]:
    """Who gives way when ``added`` (key -> rank) join ``members`` (a root's): ``{key: reason}``.

    For every limited type the addition takes over its limit, the identifiers of that type, old and
    new, are ordered by ``(rank, key)`` and those beyond the limit give way (a customer already over a
    since-lowered limit keeps as many as it has). The same set results whether the identifiers arrive
    one by one or all at once (a merge of two customers), in any order.
    """
    ranked: dict[str, list[tuple[int, str]]] = {}
    for key, value in members.items():
        ranked.setdefault(kind_of(key), []).append((member_rank(value), key))
    new_kinds = set()
    for key, rank in added.items():
        if key not in members:
            ranked.setdefault(kind_of(key), []).append((rank, key))
            new_kinds.add(kind_of(key))
    giving: dict[str, str] = {}
    for kind in sorted(new_kinds):
        limit = None if kind in waived else policy.limit(kind)
        if limit is None or len(ranked[kind]) <= limit:
            continue
        allowed = max(limit, sum(1 for key in members if kind_of(key) == kind))
        reason = f"the customer would hold {len(ranked[kind])} {kind} identifiers (limit {limit})"
        giving.update((key, reason) for _, key in sorted(ranked[kind])[allowed:])
    return giving


def conflict(policy: LinkPolicy, members: Mapping[str, Member], added: Mapping[str, object],
             waived: tuple[str, ...] = ()) -> str | None:
    """The reason, when ``added`` would give ``members`` a second identifier of a type limited to one.

    A limit of one (national ID, user id) says that two values are two people: such a merge or join is
    refused, like the matcher's veto, rather than ranked (a larger limit, e-mails or phones, is a cap).
    """
    kind = conflict_kind(policy, members, added, waived)
    if kind is None:
        return None
    count = len({key for key in [*members, *added] if kind_of(key) == kind})
    return f"the customer would hold {count} {kind} identifiers (limit 1)"


def conflict_kind(policy: LinkPolicy, members: Mapping[str, Member], added: Mapping[str, object],
                  waived: tuple[str, ...] = ()) -> str | None:
    """The first type (by name) limited to one of which ``added`` would give ``members`` a second (``conflict``)."""
    for kind in sorted({kind_of(key) for key in added if key not in members}):
        if kind not in waived and policy.limit(kind) == 1:
            count = len({key for key in [*members, *added] if kind_of(key) == kind})
            if count > 1 and count > sum(1 for key in members if kind_of(key) == kind):
                return kind
    return None


def eviction(root: str, key: str, value: Member, triggering_event_id: str, channel: str,
             reason: str) -> tuple[str, Evict]:
    """The ``Evict`` message for member ``key`` of value ``value``, on behalf of ``root``."""
    return key, Evict(root, member_version(value) + 1, member_rank(value), triggering_event_id, channel, reason)


def claimable(policy: LinkPolicy, key: str) -> bool:
    """Whether a customer claims ``key`` from another (``claim_node.py``): types whose limit is a cap
    above one (a second national ID or user id is a conflict, never moved)."""
    limit = policy.limit(kind_of(key))
    return limit is not None and limit > 1


def ranks_of_kind(state: CustomerState, kind: str) -> dict[str, int]:
    """The root's members of ``kind`` with their ranks (0 for a member kept from before ranks existed)."""
    return {key: member_rank(value) for key, value in state.members.items() if kind_of(key) == kind}


def evict(state: CustomerState, root: str, key: str, triggering_event_id: str, channel: str,
          reason: str) -> tuple[str, Evict]:
    """Remove ``key`` from the root's state; the message its identifier node must get (``Evict``)."""
    return eviction(root, key, state.members.pop(key), triggering_event_id, channel, reason)
