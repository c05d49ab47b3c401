"""Which identifiers a customer keeps when a per-customer limit decides: by rank, not by arrival.

The rank of an identifier is the earliest event that carried it: that event's ``occurred_at`` (µs)
shifted left by ``HASH_BITS`` plus the low bits of a hash of its event id, one int (< 2**63 until the
year 2255). The identifier node keeps the smallest rank it was visited with (``f``); a customer root
caches the rank of each member of a limited type in the member's one int (``m``: ``{identifier key:
rank << VERSION_BITS | assignment version}``; rank 0 for other types and for members from before ranks). When a type's
limit is exceeded, the root keeps the members with the smallest ``(rank, key)`` and refuses or evicts
the largest, so the kept set does not depend on the order the events arrived in. An evicted
identifier belongs to nobody (like a refused new one) unless its node knows a smaller rank than the
root used, in which case it asks to rejoin with it (see ``protocol.md``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from processors.identity.rules import LinkPolicy, kind_of

HASH_BITS = 10  # ties within one microsecond: 1 in 1024, then the identifier key decides
VERSION_BITS = 24  # the assignment version in a member's int (a customer's merges, evictions, splits)
VERSION_MASK = (1 << VERSION_BITS) - 1


def member(version: int, rank: int = 0) -> int:
    """A root's value for one member: its assignment version and (limited types) its rank, in one int."""
    return (rank << VERSION_BITS) | version


def member_version(value: int) -> int:
    return value & VERSION_MASK


def member_rank(value: int) -> int:
    return value >> VERSION_BITS


def event_rank(occurred_micros: int, event_id: str) -> int:
    """``occurred_micros << HASH_BITS`` + the low ``HASH_BITS`` of a blake2b hash of ``event_id``."""
    digest = int.from_bytes(hashlib.blake2b(event_id.encode(), digest_size=2).digest(), "big")
    return (max(occurred_micros, 0) << HASH_BITS) | (digest & ((1 << HASH_BITS) - 1))


def saga_rank(saga: Mapping[str, Any]) -> int:
    return event_rank(saga["at"], saga["e"])


def rank_of(saga: Mapping[str, Any], key: str) -> int:
    """The rank of a new identifier of the saga: what its node knew (``nr``), else the event's."""
    return saga.get("nr", {}).get(key, saga_rank(saga))


def version_of(saga: Mapping[str, Any], key: str) -> int:
    """The assignment version a new identifier of the saga gets: one above its last (an evicted one has one)."""
    return saga.get("nv", {}).get(key, 0) + 1


def loser(ranks: Mapping[str, int], candidate: str, candidate_rank: int) -> str:
    """Of the members ``ranks`` (one type) and ``candidate``, the one to give way: largest ``(rank, key)``."""
    return max([*ranks.items(), (candidate, candidate_rank)], key=lambda item: (item[1], item[0]))[0]


def give_way(policy: LinkPolicy, members: Mapping[str, int], added: Mapping[str, int],
             waived: tuple[str, ...] = ()) -> dict[str, str]:
    """Who gives way when ``added`` (key -> rank) join ``members`` (a root's ``m``): ``{key: reason}``.

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


def conflict(policy: LinkPolicy, members: Mapping[str, int], added: Mapping[str, int],
             waived: tuple[str, ...] = ()) -> str | None:
    """The reason, when ``added`` would give ``members`` a second identifier of a type limited to one.

    A limit of one (national ID, user id) says that two values are two people: such a merge or join is
    refused, like the matcher's veto, rather than ranked (a larger limit, e-mails or phones, is a cap).
    """
    for kind in sorted({kind_of(key) for key in added if key not in members}):
        if kind not in waived and policy.limit(kind) == 1:
            count = len({key for key in [*members, *added] if kind_of(key) == kind})
            if count > 1 and count > sum(1 for key in members if kind_of(key) == kind):
                return f"the customer would hold {count} {kind} identifiers (limit 1)"
    return None


def eviction(root: str, key: str, value: int, triggering_event_id: str, channel: str,
             reason: str) -> tuple[str, dict[str, Any]]:
    """The ``evict`` message for member ``key`` of value ``value`` (``m``), on behalf of ``root``."""
    return key, {"k": "evict", "c": root, "v": member_version(value) + 1, "r": member_rank(value),
                 "e": triggering_event_id, "ch": channel, "why": reason}


def ranks_of_kind(state: Mapping[str, Any], kind: str) -> dict[str, int]:
    """The root's members of ``kind`` with their ranks (0 for a member kept from before ranks existed)."""
    return {key: member_rank(value) for key, value in state.get("m", {}).items() if kind_of(key) == kind}


def evict(state: dict[str, Any], root: str, key: str, triggering_event_id: str, channel: str,
          reason: str) -> tuple[str, dict[str, Any]]:
    """Remove ``key`` from the root's state; the message its identifier node must get (``evict``)."""
    return eviction(root, key, state["m"].pop(key), triggering_event_id, channel, reason)
