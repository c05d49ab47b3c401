"""Grouping differences that arrival order explains: where a per-customer limit, the shared-identifier threshold or a
match weight decided, the outcome still depends on the order the events were processed in (issue #8 point 5).

The recomputation reads its inputs topic by topic and partition by partition, each record run to rest
(``processors.replay.identity.recompute``); the running processor took them as its partitions delivered them, its graph
messages interleaved. Under the default identity settings the two can group the identifiers of a busy customer
otherwise with nothing lost or written wrong: the starved-worker workload (600 events over 150 identifiers of a kind,
seed 70) replayed in one process, no broker and no fencing, in one interleaving of its 4 partitions, differed from the
recomputation in 7 of 78 customers, like the broker run (7 of 80).

A group of customers that differs (the customers of either side that overlap, ``reviews.direction_groups``) is told
apart from lost or stale state by one rule: each side that keeps apart what the other joins must have decided it by
such a rule on one of the group's identifiers, the running processor by an announcement (``LinkRefused`` of rule
``ORDER_RULES`` on ``customer.events.v1``, a review request on ``identity.reviews.v1``), the recomputation by a decision
of its own (``graph.outputs.Refused``, not a review request: ``REFUSING_RULES``). A group an operator's command
or review decision named is never put down to arrival order. A table that lost a merge, or kept a merge a fenced-out
worker undid, announced no refusal for it, and still fails. An identifier with no row that the running processor
evicted by a limit (``LinkRefused`` with ``evicted``) is not lost: it was taken off its customer on purpose.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from processors.identity.graph.outputs import Output, Refused
from processors.identity.review import identifier_key
from processors.identity.rules import (
    MANUAL_MERGE,
    MANUAL_MOVE,
    MANUAL_RELEASE,
    MANUAL_SPLIT,
    MATCH_REVIEW,
    MATCH_WEIGHT,
    MAX_PER_CUSTOMER,
    REVIEW_ACCEPTED,
    REVIEW_REJECTED,
    SHARED_IDENTIFIER,
)
from processors.replay import Replayed
from processors.verify.reviews import overlapping_groups

ORDER_RULES = frozenset({MAX_PER_CUSTOMER, SHARED_IDENTIFIER, MATCH_WEIGHT, MATCH_REVIEW})
# The recomputation's side: a refusal only. Its own review requests explain nothing: no operator can decide them, and a
# pair it keeps for review that the table merged with no review on the topic is the reverse sample of tester F9
# (``processors.verify.reviews``).
REFUSING_RULES = ORDER_RULES - {MATCH_REVIEW}
# Operators' commands and review decisions: a group one of them named is never put down to arrival order (the
# recomputation replays the commands: a difference there is theirs to explain, ``processors.replay.operators``).
OPERATORS_RULES = frozenset({MANUAL_MERGE, MANUAL_MOVE, MANUAL_RELEASE, MANUAL_SPLIT, REVIEW_ACCEPTED, REVIEW_REJECTED})
REFUSED = "omnibus.identity.LinkRefused"
# The figure (and note) of the groups that differ where such a rule decided on both sides that keep customers apart.
ARRIVAL_ORDER = "groups a limit or match weight decided otherwise (arrival order)"


@dataclass(frozen=True)
class RuleKeys:
    """Identifier keys an order-dependent rule decided on: ``recomputed`` refused in the recomputation, ``table`` in
    the running processor (announced), ``evicted`` the running processor took off their customer by one (announced)."""

    recomputed: frozenset[str]
    table: frozenset[str]
    evicted: frozenset[str]
    operated: frozenset[str] = frozenset()  # named by an operator's command: a recomputation replays those, in turn


def rule_keys(
    decisions: Iterable[Output], customer_events: Iterable[Replayed], review_pairs: Iterable[frozenset[str]]
) -> RuleKeys:
    """``decisions``: the recomputation's (``LocalGraph.decisions``); ``customer_events``: ``customer.events.v1``;
    ``review_pairs``: the identifier pairs the running processor's reviews link (``reviews.review_pairs``)."""
    recomputed = {
        decision.identifier
        for decision in decisions
        if isinstance(decision, Refused) and decision.lineage.rule in REFUSING_RULES
    }
    table = {key for pair in review_pairs for key in pair}
    evicted, operated = set(), set()
    for record in customer_events:
        if record.event is None:
            continue
        value = record.event.value
        if (value.get("lineage") or {}).get("rule") in OPERATORS_RULES:
            operated.update(_named(value))
        elif record.event.schema == REFUSED and (value.get("lineage") or {}).get("rule") in ORDER_RULES:
            key = identifier_key(value["identifier"])
            table.add(key)
            if value.get("evicted"):
                evicted.add(key)
    return RuleKeys(frozenset(recomputed), frozenset(table), frozenset(evicted), frozenset(operated))


def _named(value: Mapping[str, Any]) -> set[str]:
    """The identifier keys an announcement names (``identifier``, ``identifiers``, ``moved_identifiers``)."""
    records = [value["identifier"]] if isinstance(value.get("identifier"), Mapping) else []
    for field in ("identifiers", "moved_identifiers"):
        records += [record for record in value.get(field) or () if isinstance(record, Mapping)]
    return {identifier_key(record) for record in records}


def explained(rebuilt: Mapping[str, list[str]], current: Mapping[str, list[str]], keys: RuleKeys) -> frozenset[str]:
    """The identifier keys of every group of customers that differs between ``rebuilt`` (the recomputation's
    clusters: smallest member -> members) and ``current`` (the table's, or the topic's) where arrival order explains
    it (the module docstring): a group in which the table keeps apart (or unassigned) identifiers the recomputation
    joins needs a ``keys.table`` key, one in which the recomputation keeps apart what the table joins a
    ``keys.recomputed`` key."""
    root, groups = overlapping_groups(rebuilt, current)
    table_apart, recomputed_apart = _apart(rebuilt, current, root), _apart(current, rebuilt, root)
    found: set[str] = set()
    for group, keys_of_group in groups.items():
        if group not in table_apart and group not in recomputed_apart or keys_of_group & keys.operated:
            continue
        if group in table_apart and not keys_of_group & keys.table:
            continue
        if group in recomputed_apart and not keys_of_group & keys.recomputed:
            continue
        found.update(keys_of_group)
    return frozenset(found)


def _apart(joining: Mapping[str, list[str]], other: Mapping[str, list[str]], root: Callable[[str], str]) -> set[str]:
    """The groups (by ``root`` of a member) in which a customer of ``joining`` is two or more of ``other``'s, or
    holds an identifier ``other`` gives no customer."""
    other_of = {key: first for first, members in other.items() for key in members}
    found = set()
    for members in joining.values():
        if len({other_of.get(key) for key in members}) > 1 or any(key not in other_of for key in members):
            found.add(root(members[0]))
    return found
