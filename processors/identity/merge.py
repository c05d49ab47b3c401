"""An operator's merge of two customers (``omnibus identity merge``): which two identifiers its saga looks up, and
what is refused before anything is published.

The graph links the customers of two identifiers, not two customer ids (``review.linking_identifiers``): the merge
sends ``saga.merge_saga`` with one identifier each customer holds now. Its ``CustomerMerged`` (rule
``manual-merge``) names who and why; the merge overrides the pair's do-not-merge (a split, a rejected review:
``customer_merge.overrides``), so it undoes a split or a refused match, and a later split is still possible.
"""

from __future__ import annotations

from collections.abc import Mapping

from bus.errors import OmnibusError
from processors.identity.graph.customer_steps import waived
from processors.identity.graph.limits import conflict_kind
from processors.identity.graph.messages.base import Saga
from processors.identity.graph.saga import merge_saga
from processors.identity.rules import LinkPolicy


class MergeRefused(OmnibusError):
    """A merge that must not be sent: ``str(exc)`` says why (customer ids and identifier types only, no values)."""


def merge_plan(first: str, second: str, owners: Mapping[str, str], survivors: Mapping[str, str],
               policy: LinkPolicy) -> tuple[str, str, list[str]]:
    """The two customers as they are now and the two identifiers (``TYPE:value`` keys, one of each, its highest
    priority: ``LinkPolicy.plan_order``) a merge's saga looks up.

    ``owners``: identifier key -> customer id (``customer.identifiers.v1``); ``survivors``: merged-away customer id
    -> survivor (``CustomerMerged`` on ``customer.events.v1``): a customer merged already is followed to the one it
    is now. Raises ``MergeRefused`` for a customer no identifier is held by (unknown, or all its identifiers moved
    on), for two ids that are one customer already, and for two customers holding two identifiers of a type limited
    to one (two national IDs: two people, the graph refuses it as ``max-per-customer``; release the wrong one first)."""
    from processors.verify.identity import final_customer

    held: dict[str, list[str]] = {}
    for key, owner in owners.items():
        held.setdefault(final_customer(owner, survivors), []).append(key)
    now = [final_customer(customer, survivors) for customer in (first, second)]
    for given, current in zip((first, second), now, strict=True):
        if current not in held:
            merged = f" (merged into {current})" if current != given else ""
            raise MergeRefused(f"no current customer {given}{merged} holds an identifier on customer.identifiers.v1 "
                               "(unknown, or every identifier moved on): look it up in the screen pop")
    if now[0] == now[1]:
        raise MergeRefused(f"{first} and {second} are one customer already ({now[0]})")
    keys = [policy.plan_order(held[customer])[0] for customer in now]
    kind = conflict_kind(policy, dict.fromkeys(held[now[0]], (0, 0)), dict.fromkeys(held[now[1]]),
                         waived(_probe(keys)))
    if kind is not None:
        raise MergeRefused(f"{now[0]} and {now[1]} hold two different {kind} identifiers (one per person): two "
                           f"people. If one {kind} is wrong, release it first (omnibus identity release)")
    return now[0], now[1], keys


def _probe(keys: list[str]) -> Saga:
    """A merge saga, for the types the graph waives on it (``customer_steps.waived``)."""
    return merge_saga("probe", sorted(keys), "", "")
