"""Which identifiers a customer keeps when a per-customer limit decides: by rank, not by arrival.

The rank of an identifier is the earliest event that carried it: that event's ``occurred_at`` (µs)
shifted left by ``HASH_BITS`` plus the low bits of a hash of its event id, one int (< 2**63 until the
year 2255). The identifier node keeps the smallest rank it was visited with (``f``); a customer root
caches the rank of each member of a limited type (``f``: ``{identifier key: rank}``). When a type's
limit is exceeded, the root keeps the members with the smallest ``(rank, key)`` and refuses or evicts
the largest, so the kept set does not depend on the order the events arrived in. An evicted
identifier belongs to nobody (like a refused new one) unless its node knows a smaller rank than the
root used, in which case it asks to rejoin with it (see ``protocol.md``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from processors.identity.rules import kind_of

HASH_BITS = 10  # ties within one microsecond: 1 in 1024, then the identifier key decides


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


def ranks_of_kind(state: Mapping[str, Any], kind: str) -> dict[str, int]:
    """The root's members of ``kind`` with their ranks (0 for a member kept from before ranks existed)."""
    ranks = state.get("f", {})
    return {key: ranks.get(key, 0) for key in state.get("m", {}) if kind_of(key) == kind}


def evict(state: dict[str, Any], root: str, key: str, triggering_event_id: str, channel: str,
          reason: str) -> tuple[str, dict[str, Any]]:
    """Remove ``key`` from the root's state; the message its identifier node must get (``evict``)."""
    version = state["m"].pop(key) + 1
    rank = state.get("f", {}).pop(key, 0)
    return key, {"k": "evict", "c": root, "v": version, "r": rank, "e": triggering_event_id, "ch": channel,
                 "why": reason}
