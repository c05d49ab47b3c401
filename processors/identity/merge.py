"""An operator's merge of two customers (``omnibus identity merge``): which two identifiers its saga looks up, and
what is refused before anything is published.

The graph links the customers of two identifiers (``review.linking_identifiers``): the merge sends
``saga.merge_saga`` with one identifier each customer holds now. A customer that holds none (every identifier
released, a call's own customer, ``seek.own_customer``) is still a customer with a history (contacts, products, a
name); the two are then linked by customer id, as blocking links two customers (``merge_send``: a ``link`` to the
larger id). Its ``CustomerMerged`` (rule ``manual-merge``) names who and why; the merge overrides the pair's
do-not-merge (a split, a rejected review: ``customer_merge.overrides``), so it undoes a split or a refused match, and
a later split is still possible.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from bus.errors import OmnibusError
from processors.identity.config import MAX_PER_CUSTOMER_SETTING
from processors.identity.graph.messages.steps import Link, Visit
from processors.identity.graph.outputs import Send
from processors.identity.graph.saga import merge_saga
from processors.identity.rules import LinkPolicy, kind_of


class MergeRefused(OmnibusError):
    """A merge that must not be sent: ``str(exc)`` says why (customer ids and identifier types only, no values)."""


def merge_plan(first: str, second: str, owners: Mapping[str, str], survivors: Mapping[str, str],
               policy: LinkPolicy, current: Collection[str] = ()) -> tuple[str, str, list[str]]:
    """The two customers as they are now and the two identifiers (``TYPE:value`` keys, one of each, its highest
    priority: ``LinkPolicy.plan_order``) a merge's saga looks up; no keys when one of them holds no identifier
    (``merge_send`` links the two by id).

    ``owners``: identifier key -> customer id (``customer.identifiers.v1``); ``survivors``: merged-away customer id
    -> survivor (``CustomerMerged`` on ``customer.events.v1``): a customer merged already is followed to the one it
    is now; ``current``: the customers ``customer.events.v1`` names that no merge ended
    (``review_sides.customer_sides``), with or without identifiers. Raises ``MergeRefused`` for a customer neither
    topic knows, for two ids that are one customer already, and for two customers holding two identifiers of a type
    limited to one (two national IDs, two user ids: two people, the graph refuses it as ``max-per-customer``; release
    the wrong one first, then merge: the customer left without it is merged by id), or more of a type together than
    its limit allows (``over_limit``)."""
    from processors.verify.identity import final_customer

    held = held_by(owners, survivors)
    now = [final_customer(customer, survivors) for customer in (first, second)]
    for given, customer in zip((first, second), now, strict=True):
        if customer not in held and customer not in current:
            merged = f" (merged into {customer})" if customer != given else ""
            raise MergeRefused(f"no current customer {given}{merged} on customer.events.v1 or "
                               "customer.identifiers.v1 (unknown): look it up in the screen pop")
    if now[0] == now[1]:
        raise MergeRefused(f"{first} and {second} are one customer already ({now[0]})")
    if not all(customer in held for customer in now):
        return now[0], now[1], []
    keys = [policy.plan_order(held[customer])[0] for customer in now]
    over = over_limit(policy, held[now[0]], held[now[1]])
    if over is not None:
        raise MergeRefused(over.refusal(now[0], now[1]))
    return now[0], now[1], keys


def held_by(owners: Mapping[str, str], survivors: Mapping[str, str]) -> dict[str, list[str]]:
    """Current customer id -> the identifier keys it holds (``owners`` followed through ``survivors``)."""
    from processors.verify.identity import final_customer

    held: dict[str, list[str]] = {}
    for key, owner in owners.items():
        held.setdefault(final_customer(owner, survivors), []).append(key)
    return held


@dataclass(frozen=True, slots=True)
class OverLimit:
    """Two customers that would hold together ``count`` identifiers of ``kind``, more than its per-customer
    ``limit`` (``OMNIBUS_PROCESSOR_IDENTITY__MAX_PER_CUSTOMER``)."""

    kind: str
    count: int
    limit: int

    def refusal(self, first: str, second: str) -> str:
        """Why an operator's merge (or accept) of ``first`` and ``second`` is refused: the type, the counts and the
        setting, never a value."""
        if self.limit == 1:
            return two_people(self.kind, first, second)
        return (f"{first} and {second} would hold {self.count} {self.kind} identifiers together, more than the "
                f"{self.limit} per customer {MAX_PER_CUSTOMER_SETTING} allows for {self.kind}: release those that are "
                f"not this person's (omnibus identity release {self.kind} VALUE --customer ...), or raise the limit, "
                "then merge")


def over_limit(policy: LinkPolicy, first: Collection[str], second: Collection[str]) -> OverLimit | None:
    """The first type (by name) of which customers holding ``first`` and ``second`` (``TYPE:value`` keys) would hold
    more together than its per-customer limit allows (``LinkPolicy.limit``), and more than either holds alone (a
    customer over a since-lowered limit keeps what it has, ``limits.give_way``); None if none.

    The same check for every limited type and for every operator decision (``identity merge``, ``identity review
    accept``): the graph refuses a second identifier of a type limited to one on an operator's link as on any other
    (``customer_steps.waived``: two portal logins were merged), and would evict what exceeds a larger
    limit from the merged customer, which an operator did not ask for. Not for ``identity review reject``: it merges
    nothing, and the graph records it whatever the two hold."""
    mine, theirs = set(first), set(second)
    for kind in sorted({kind_of(key) for key in mine | theirs}):
        limit = policy.limit(kind)
        if limit is None:
            continue
        together = {key for key in mine | theirs if kind_of(key) == kind}
        alone = max(sum(1 for key in side if kind_of(key) == kind) for side in (mine, theirs))
        if len(together) > max(limit, alone):
            return OverLimit(kind, len(together), limit)
    return None


def two_people(kind: str, first: str, second: str) -> str:
    """Why an operator's merge of ``first`` and ``second`` is refused, and the commands that merge them if one of
    their two ``kind`` identifiers was mistyped (a national ID two digits off that keeps its check
    character): release it, which leaves its customer without it, then merge (by customer id, ``merge_send``)."""
    return (f"{first} and {second} hold two different {kind} identifiers (one per person, {MAX_PER_CUSTOMER_SETTING} "
            f"{kind} 1): two people. If one {kind} was mistyped, release it (omnibus identity release {kind} VALUE "
            f"--customer ...; the customer keeps its contacts), then omnibus identity merge {first} {second}; to move "
            "one contact only, omnibus identity move-contact CONTACT_ID --from ... --to ...")


def merge_send(command_id: str, first: str, second: str, keys: list[str], operator: str, reason: str) -> Send:
    """The graph message that carries out ``merge_plan``'s merge: the saga's visit of the first of ``keys``, or, with
    none (a customer without identifiers), a ``link`` of the two customer ids sent to the larger (the loser), whose
    root offers itself to the other's (``customer_merge.on_link``); the id ``command_id`` makes a redelivery a copy."""
    saga = merge_saga(command_id, sorted(keys), operator, reason)
    if keys:
        return Send(saga.ids[0], Visit(saga))
    low, high = sorted((first, second))
    return Send(high, Link(low, False, None, f"{command_id}#0", saga))
