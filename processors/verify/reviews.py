"""Merge reviews in the verifier: customers a review keeps apart (or an operator joined) are not a difference.

Whether two customers merge, wait in a review or are refused can depend on the order in which their
evidence arrived (traits known when the pair was compared), and an operator's decision travels on the
graph topic, which the recomputation does not replay. So a customer kept apart as two while a review is
open, or joined by an accepted review, would differ from the recomputation although nothing is wrong.
Both sides are compared after joining the clusters that any review request links (the running
processor's, from ``identity.reviews.v1``, and the recomputation's own); what only differs before that
join is listed as awaiting review (or decided by an operator), not as a failure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from processors.identity.graph.outputs import ReviewRequested
from processors.identity.review import REQUESTED, identifier_key, open_reviews
from processors.replay import Replayed
from processors.replay.identity import Recomputed

AWAITING = "awaiting review"
DECIDED = "decided by an operator"
Pairs = dict[frozenset[str], str]  # the two identifiers a review links -> AWAITING or DECIDED


def review_pairs(recomputed: Recomputed, reviews: Iterable[Replayed],
                 survivors: Mapping[str, str] | None = None) -> Pairs:
    """Every pair of identifiers a review links: the recomputation's requests (never decided: decisions are
    not inputs) and the running processor's, open or decided.

    ``survivors`` (merged-away customer id -> survivor, ``verify.identity.merges``): the running processor's
    requests are read as ``identity review list`` reads them (``review.open_reviews``): a request of two
    customers whose pair, followed through merges, was decided under other ids, or who merged since, is
    decided, not awaiting review."""
    pairs: Pairs = {frozenset(d.identifiers): AWAITING for d in recomputed.graph.decisions
                    if isinstance(d, ReviewRequested)}
    events = [record.event for record in reviews if record.event is not None]
    still_open = {review.review_id for review in open_reviews(events, survivors)}
    for event in events:
        if event.schema == REQUESTED:
            pair = frozenset(identifier_key(i) for i in event.value["identifiers"])
            pairs[pair] = AWAITING if event.value["review_id"] in still_open else DECIDED
    return pairs


def joined(groups: Iterable[frozenset[str]], pairs: Pairs) -> dict[frozenset[str], frozenset[str]]:
    """Each group -> the union of the groups that review pairs connect to it (itself when none)."""
    groups = set(groups)
    parent = {group: group for group in groups}
    where = {key: group for group in groups for key in group}

    def root(group: frozenset[str]) -> frozenset[str]:
        while parent[group] != group:
            group = parent[group]
        return group

    for pair in pairs:
        ends = {root(where[key]) for key in pair if key in where}
        if len(ends) == 2:
            first, second = sorted(ends, key=min)
            parent[second] = first
    members: dict[frozenset[str], set[str]] = {}
    for group in groups:
        members.setdefault(root(group), set()).update(group)
    return {group: frozenset(members[root(group)]) for group in groups}


def by_review(clusters: Mapping[str, list[str]], pairs: Pairs) -> dict[str, list[str]]:
    """``{smallest member: sorted members}`` after joining the clusters that reviews link."""
    unions = set(joined((frozenset(members) for members in clusters.values()), pairs).values())
    return {min(union): sorted(union) for union in unions}


def status(union: Iterable[str], pairs: Pairs) -> str:
    """AWAITING when an open review links identifiers of ``union``, else DECIDED."""
    keys = set(union)
    found = [state for pair, state in pairs.items() if pair <= keys]
    return AWAITING if AWAITING in found or not found else DECIDED
