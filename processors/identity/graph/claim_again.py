"""A claim made again after its dissolving merge was refused (``customer_merge.on_offer``, rule ``earliest-claim``),
and the claim token's parts it needs (``claim_node.claim_token``: ``claim~<event>~<node digest>~<attempt>~<version>``).
"""

from __future__ import annotations

from processors.identity.graph.context import node_digest
from processors.identity.graph.customer_steps import Node
from processors.identity.graph.messages.base import Saga
from processors.identity.graph.messages.claims import Claim
from processors.identity.matching.traits import Summary


def claim_again(ctx: Node, saga: Saga, claimant: str, traits: Summary | None) -> None:
    """The owner of a claimed identifier holds more than it by the time its merge into the claimant is decided (it
    merged with its person's other customer meanwhile): the claimant claims it again, after the release
    (``proceed``), and the owner gives it like any member (draw 2660: else it stayed with the later record's
    customer). The dissolve saga's ``event_id`` is the claim's token (``claim_node.claim_token``)."""
    key = saga.lookup_only[0]
    rank = saga.node_ranks.get(key)
    if rank is None:
        return  # a dissolve decided by an earlier version carries no rank
    ctx.send(key, Claim(claimant, rank, claimed_event(saga.event_id, key), saga.channel, claim_attempt(saga) + 1,
                        traits))


def claim_attempt(saga: Saga) -> int:
    """The attempt of the claim whose token (``claim_node.claim_token``) is the dissolve saga's ``event_id``."""
    return int(saga.event_id.rsplit("~", 2)[1])


def claimed_event(token: str, key: str) -> str:
    """The event id in claim token ``token`` (``claim_node.claim_token``) of identifier ``key``: ``claim~`` + event
    id + ``~`` + the key's ``node_digest`` (a token an earlier version made: the key itself) + attempt and version.
    An event id may hold ``~`` (an alias's late link, ``saga.alias_saga``), and so may a key: cut by their length."""
    head = token.rsplit("~", 2)[0].partition("~")[2]
    for part in (node_digest(key), key):
        if head.endswith("~" + part):
            return head[:-len(part) - 1]
    return head.rpartition("~")[0]
