"""Customer-root handlers of the fast path for repeat contacts (#9 build 2).

``fast``: an event whose identifiers all belong, by the worker's view of ``customer.identifiers.v1``
(``processors.identity.fastpath``), to this customer comes straight to its root instead of visiting
every identifier node. The view can be stale (a merge, split or eviction since, a row not yet read),
so the root checks the claim against its own member list, the only authority on membership:

* the root is live (created, not merged away) and every claimed identifier is a member with the
  claimed assignment version (a merge, split or eviction changes the version or the membership);
* no claimed identifier is shared (``CustomerState.shared``: members whose node says they stopped
  linking, told by ``shared``), since a shared identifier would be refused on its node, not linked;
* the event ranks no earlier than the rank the root keeps for each claimed member of a limited type, and occurred
  no earlier than that rank's instant (an older event lowers the rank on the identifier node, which only a visit
  does; a recycled member ranks from the instant its holder took it over, ``limits.held_from``, and an event from
  before goes to the customer that held it then, ``recycle.held_then``, whatever band its rank is in);
* its traits say nothing the customer's summary does not (``evidence.known_traits``): a contact with a
  new value (a household member on the family phone, or a new form of this person's name) is counted
  towards ``shared_after`` on its identifier nodes, which only a visit does.

The fast path is idempotent on event id, like the slow path (whose last identifier node drops a second
copy): the root keeps the last ``FAST_APPLIED`` event ids it applied this way (``CustomerState.fast_applied``)
and drops a copy of one of them — a re-delivered input event is resolved, counted and re-keyed once.
A copy that comes back another way (the view changed between the two, or the first went the slow way)
is not caught here.

A claim that holds is applied exactly as the saga's last step would be (``apply``): the slow path
would have found every identifier owned by this customer and decided nothing else. A claim that does
not hold starts the event's ordinary saga from its first identifier, so a stale view costs one extra
hop and never attaches a contact to a merged-away customer. A root locked by a merge offer defers
the claim until the offer is answered, like any message.
"""

from __future__ import annotations

from prometheus_client import Counter

from processors.identity.graph.context import recalls_hash, remember_hash, token_hash
from processors.identity.graph.customer_node import Node, _route, on_apply
from processors.identity.graph.evidence import known_traits
from processors.identity.graph.limits import BANDS, claims_only, key_rank, member_rank, member_version, saga_rank, tells
from processors.identity.graph.login_leaves import on_household
from processors.identity.graph.messages.base import Saga
from processors.identity.graph.messages.steps import Apply, Fast, Shared, Visit
from processors.identity.graph.split_contacts import carried
from processors.identity.rules import UNTOLD_KINDS, kind_of

FAST_PATH = Counter(
    "omnibus_identity_fast_path_total",
    "Repeat contacts sent straight to their customer's root, by outcome (applied, sent the slow way, or a "
    "duplicate of one applied before, dropped).",
    ["outcome"],
)
# Each outcome's child bound once: ``labels()`` per repeat contact cost ~11,000 instructions of an event's ~1.3 M (#9).
_APPLIED, _SLOW, _DUPLICATE = (FAST_PATH.labels(outcome=outcome) for outcome in ("applied", "slow", "duplicate"))
# Copies of an input event come from re-deliveries (a batch taken again after a crash or a rebalance): close
# together. 8 × 6 bytes at most per customer state (the memory target of #9 counts every byte per identifier).
FAST_APPLIED = 8


def holds(ctx: Node, claims: dict[str, int], saga: Saga, rank: int) -> bool:
    """True when every ``{identifier key: assignment version}`` claim is true of this live root; ``rank``: the
    event's (``saga_rank``)."""
    state = ctx.state
    members, shared = state.members, state.shared
    typed = claims_only(saga)  # an account typed on a keypad and nothing else: ranks late (limits.key_rank)
    for key, version in claims.items():
        value = members.get(key)
        if value is None or member_version(value) != version or key in shared:
            return False
        # An older event goes the slow way: it may lower the rank on the node, or predate a release (release.stale).
        # Not an anonymous page view, which ranks no anonymous id (limits.tells): repeat page views stay fast.
        # Nor one that occurred before the member's rank whatever its band: a recycled member ranks from the instant
        # its holder took it over (``limits.held_from``), and a call that gave a supply point alone ranks it late.
        if member_rank(value) and (kind_of(key) not in UNTOLD_KINDS or tells(ctx.policy, saga, key)):
            held = member_rank(value)
            if key_rank(rank, saga.channel, key, typed, saga.member_line) < held or rank < held & BANDS:
                return False
    return bool(claims)


def on_fast(ctx: Node, message: Fast) -> None:
    """Apply a repeat contact here if its claims hold, else start its saga the ordinary way."""
    state, saga = ctx.state, message.saga
    live = state.created and not state.parent
    if live and state.lock:
        ctx.defer(message)  # a merge offer is out: decide once it is answered (and maybe merged away)
        return
    hashed = token_hash(saga.event_id)  # asked, then remembered: hashed once
    if live and recalls_hash(state.fast_applied, hashed):
        _DUPLICATE.inc()
        return  # applied here before: a re-delivered copy
    # A contact whose traits bring a value new to its customer (a household member on the family phone) goes
    # the slow way: its identifier nodes count its person towards ``shared_after`` (evidence.count_person).
    rank = saga_rank(saga)
    if live and holds(ctx, message.claims, saga, rank) and known_traits(ctx, saga.traits):
        _APPLIED.inc()
        state.fast_applied = remember_hash(state.fast_applied, hashed, FAST_APPLIED)
        own = [key for key in saga.ids if key not in saga.lookup_only]
        on_apply(ctx, Apply(saga.event_id, saga.started_at, saga.traits, saga.event, rank=rank,
                            channel=saga.channel, carried=carried(saga.event, own)))
        return
    _SLOW.inc()
    ctx.send(saga.ids[0], Visit(saga))


def on_shared(ctx: Node, message: Shared) -> None:
    """Member ``identifier`` became shared on its node: claims through it take the slow path from now on."""
    if not _route(ctx, message):
        return
    if message.household:  # two people's evidence on it: a login it placed alone leaves (logins.py)
        on_household(ctx, message)
    elif message.revoked:  # it links again (evidence.revoke_unsupported)
        ctx.state.shared = [key for key in ctx.state.shared if key != message.identifier]
    elif message.identifier in ctx.state.members:
        ctx.state.shared = sorted({*ctx.state.shared, message.identifier})
