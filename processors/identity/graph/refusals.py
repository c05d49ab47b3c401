"""A refusal is announced once: where it is decided, the node remembers it (tester M8).

Two households share a landline: every call from it met the other household's customer through the phone and was
refused again, each time one more ``LinkRefused`` with the same customers, rule and identifier on
``customer.events.v1``. Now the node that decides a refusal (the customer root that weighs a merge or a join, the
identifier node of a shared identifier) keeps a 6-byte hash of what the refusal says (``refusal_token``: the rule,
the identifier, the two customers in either order, the match weight's band) among its latest ``MAX_KEPT``
(``CustomerState.refusals``, ``IdentifierState.refusals``: table state, so it survives a restart and a rebalance).
Which root decides a pair's refusal depends on the order (the identifier's owner in a join, the smaller id in an
offer): an offer carries the loser's memory (``Offer.refusals``), so a pair refused in a join and then in an offer is
one announcement.
The same refusal again is not announced but counted (``RefusalRepeated``,
``omnibus_identity_refusals_repeated_total``); the event itself is placed, recorded and re-published as before. A
refusal that says something new to a subscriber (another rule, identifier or customer, a weight in another band) is
announced. What arrives first is announced, whatever the order: the token does not depend on the triggering event.

Not remembered: an eviction (``evicted``: a change of owner, once by nature), an operator's command refused (its
command waits for the answer), and refusals that name a customer only the refused event would create
(``saga.pending_customer_id``: a new id per event, never a repeat).
"""

from __future__ import annotations

import math

from processors.identity.graph.context import TOKEN_HASH_BYTES, Ctx, token_hash
from processors.identity.graph.outputs import RefusalRepeated, Refused
from processors.identity.graph.state import CustomerState, IdentifierState

# Refusals a node remembers (6 bytes each): a customer meets a few households, a shared identifier a few owners.
# Past them the oldest is forgotten (one that repeats moves to the end) and, met again, announced once more.
MAX_KEPT = 32
# Weights within one band are the same evidence to a subscriber; a new trait that moves the weight to another
# band (bits, log2 odds: a band of 1 is a factor of 2 in the odds) is new evidence, announced.
WEIGHT_BAND_BITS = 1.0


def refusal_token(refused: Refused) -> str:
    """What a subscriber learns from ``refused``, as a string: its rule, its identifier (``TYPE:value`` key), its two
    customers in sorted order, the band of its match weight (``WEIGHT_BAND_BITS``; empty without a weight)."""
    pair = sorted(customer for customer in (refused.customer_id, refused.other_customer_id) if customer)
    weight = refused.match_weight
    band = "" if weight is None else str(math.floor(weight / WEIGHT_BAND_BITS))
    return "\x1f".join((refused.lineage.rule, refused.identifier, *pair, band))


def announce(ctx: Ctx[CustomerState] | Ctx[IdentifierState], refused: Refused, *, known: bytes = b"") -> bool:
    """Emit ``refused`` unless this node announced the same refusal before, or ``known`` holds it (the other root's
    ``refusals``, ``Offer.refusals``: a join of the pair was decided there before this root held the identifier); then
    a ``RefusalRepeated``. True when emitted. An eviction (``evicted``) is always emitted."""
    if refused.evicted:
        ctx.emit(refused)
        return True
    state = ctx.state
    wanted = token_hash(refusal_token(refused))
    kept = _hashes(state.refusals)
    repeated = wanted in kept or wanted in _hashes(known)
    state.refusals = b"".join([*(known_hash for known_hash in kept if known_hash != wanted), wanted][-MAX_KEPT:])
    ctx.emit(RefusalRepeated(refused.identifier, refused.lineage.rule) if repeated else refused)
    return not repeated


def _hashes(kept: bytes) -> list[bytes]:
    return [kept[i:i + TOKEN_HASH_BYTES] for i in range(0, len(kept), TOKEN_HASH_BYTES)]
