"""Merge reviews in the verifier: customers an open review keeps apart (or an operator joined) are not a difference.

Whether two customers merge, wait in a review or are refused can depend on the order in which their
evidence arrived (traits known when the pair was compared), and an operator's decision travels on the
graph topic, which the recomputation does not replay. So a customer kept apart as two while a review is
open, or joined by an accepted review, would differ from the recomputation although nothing is wrong.
Both sides are compared after joining the clusters that the running processor's reviews link (from
``identity.reviews.v1``, open or decided); what only differs before that join is listed as awaiting review
when an open review links two of the table's customers there, else as decided by an operator, not as a
failure. The recomputation's own review requests explain nothing: no operator can decide them (tester F9: a
pair the recomputation merged outright, kept apart in the table with no review open, was filed "awaiting
review" and verify said "all checks hold" over 503 such groups).

An operator's split (``omnibus identity split``, announced as ``CustomerSplit`` on ``customer.events.v1``) travels
on the graph topic too: the recomputation keeps the moved identifiers with the ones the customer kept, the
running processor holds two customers. Each split is a decided pair (``split_pairs``): one moved identifier and
one identifier the recomputation groups with it that did not move (new-user finding 2: verify failed after every
split). An operator's merge (``omnibus identity merge``, a ``CustomerMerged`` of rule ``manual-merge``) likewise:
one identifier it moved and one of its survivor's (``merge_pairs``); one that joins a split's two customers again
ends that split (``check_splits``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from processors.identity.review import REQUESTED, closed_reviews, identifier_key, open_reviews
from processors.identity.rules import MANUAL_MERGE, MANUAL_SPLIT
from processors.replay import Replayed
from processors.replay.identity import Recomputed, clusters
from processors.verify.report import Check, Report, shown

SPLIT = "omnibus.identity.CustomerSplit"
CONTACT_MOVED = "omnibus.identity.ContactMoved"  # an operator moved one contact (identity move-contact)
AWAITING = "awaiting review"
DECIDED = "decided by an operator"
Pairs = dict[frozenset[str], str]  # the two identifiers a review links -> AWAITING or DECIDED


def review_pairs(reviews: Iterable[Replayed], survivors: Mapping[str, str] | None = None) -> Pairs:
    """Every pair of identifiers a review of the running processor links (``identity.reviews.v1``): AWAITING
    while it is open, DECIDED once an operator decided it.

    ``survivors`` (merged-away customer id -> survivor, ``verify.identity.merges``): the requests are read as
    ``identity review list`` reads them (``review.open_reviews``): a request of two customers whose pair, followed
    through merges, was decided under other ids is decided, not awaiting review. A request whose two customers
    merged since with no decision (``review.closed_reviews``: later evidence merged them) links nothing: no
    operator joined them."""
    events = [record.event for record in reviews if record.event is not None]
    still_open = {review.review_id for review in open_reviews(events, survivors)}
    closed = {review.review_id for review in closed_reviews(events, survivors or {})}
    pairs: Pairs = {}
    for event in events:
        if event.schema == REQUESTED and event.value["review_id"] not in closed:
            pair = frozenset(identifier_key(i) for i in event.value["identifiers"])
            pairs[pair] = AWAITING if event.value["review_id"] in still_open else DECIDED
    return pairs


def operators_split(record: Replayed) -> bool:
    """Whether ``record`` is a ``CustomerSplit`` an operator made (rule ``manual-split``: a split, an unmerge), not
    one the processor made itself (a login leaving a household's mailbox, rule ``match-review``: the recomputation
    holds it apart too, and an accepted review joins the two again: ``processors/identity/graph/logins.py``)."""
    event = record.event
    return (event is not None and event.schema == SPLIT
            and (event.value.get("lineage") or {}).get("rule") == MANUAL_SPLIT)


def split_pairs(recomputed: Recomputed, customer_events: Iterable[Replayed], owner: Mapping[str, str],
                current: Callable[[str], str]) -> Pairs:
    """A DECIDED pair per ``CustomerSplit`` whose moved identifiers the recomputation keeps with others: the
    smallest moved identifier and the smallest of the others in its recomputed customer that the split's source
    customer holds now (``owner``: identifier -> customer id on ``customer.identifiers.v1``; ``current``: a
    customer id followed through merges). None when the recomputation already holds the moved ones apart."""
    cluster_of = {key: members for members in clusters(recomputed.graph.store.nodes).values() for key in members}
    pairs: Pairs = {}
    for record in customer_events:
        if record.event is None or not operators_split(record):
            continue
        moved = {identifier_key(i) for i in record.event.value["moved_identifiers"]}
        source = current(record.event.value["source_customer_id"])
        kept = sorted(key for key in set(cluster_of.get(min(moved), ())) - moved
                      if key in owner and current(owner[key]) == source) if moved else []
        if kept:
            pairs[frozenset({min(moved), kept[0]})] = DECIDED
    return pairs


def operator_decisions(customer_events: Iterable[Replayed]) -> int:
    """How many operators' decisions ``customer.events.v1`` holds: every ``CustomerSplit`` (a split, an unmerge)
    and every ``CustomerMerged`` of rule ``manual-merge``."""
    from processors.verify.identity import MERGED

    found = 0
    for record in customer_events:
        event = record.event
        if event is not None and (operators_split(record) or (
                event.schema == MERGED and (event.value.get("lineage") or {}).get("rule") == MANUAL_MERGE)):
            found += 1
    return found


def merge_pairs(customer_events: Iterable[Replayed], owner: Mapping[str, str], current: Callable[[str], str]) -> Pairs:
    """A DECIDED pair per operator's merge (``CustomerMerged``, rule ``manual-merge``): the smallest identifier it
    moved and the smallest other one its survivor holds now, both still the survivor's (``owner``: identifier ->
    customer id on ``customer.identifiers.v1``; ``current``: a customer id followed through merges). None when a
    later split or claim took every moved one away: that customer's grouping is then compared as it is."""
    from processors.verify.identity import MERGED

    held: dict[str, list[str]] = {}
    for key, holder in sorted(owner.items()):
        held.setdefault(current(holder), []).append(key)
    pairs: Pairs = {}
    for record in customer_events:
        value = record.event.value if record.event is not None and record.event.schema == MERGED else None
        if value is None or (value.get("lineage") or {}).get("rule") != MANUAL_MERGE:
            continue
        moved = {identifier_key(i) for i in value["moved_identifiers"]}
        survivor = held.get(current(value["survivor_customer_id"]), [])
        still = [key for key in survivor if key in moved]
        kept = [key for key in survivor if key not in moved]
        if still and kept:
            pairs[frozenset({still[0], kept[0]})] = DECIDED
    return pairs


def announced_splits(customer_events: Iterable[Replayed]) -> dict[str, tuple[frozenset[str], str, str]]:
    """Every ``CustomerSplit`` once (by its event id: a batch replayed after a rebalance announces the same id):
    split event id -> (the moved identifier keys, the source customer id, the new customer id)."""
    found: dict[str, tuple[frozenset[str], str, str]] = {}
    for record in customer_events:
        if record.event is not None and operators_split(record):
            value = record.event.value
            found[value["envelope"]["event_id"]] = (
                frozenset(identifier_key(i) for i in value["moved_identifiers"]), value["source_customer_id"],
                value["new_customer_id"])
    return found


def check_splits(customer_events: Iterable[Replayed], owner: Mapping[str, str], current: Callable[[str], str],
                 running: Mapping[str, list[str]], report: Report) -> None:
    """Splits stay split: for every announced split, no moved identifier is one customer in the running table
    (``running``: its clusters, ``replay.identity.running``) with an identifier its source customer holds now
    (``owner``: identifier -> customer id on ``customer.identifiers.v1``; ``current``: a customer id followed
    through merges), nor is it the source's again on the topic; the graph refuses every merge of the two since
    (``CustomerState.do_not_merge``, ``rules.SPLIT_DO_NOT_MERGE``). Checked whatever the recomputation groups:
    ``split_pairs`` only holds the splits it would have grouped, and counted 0 when an accepted review had made
    the wrong merge (tester10 #6). At most one failure per split. A split whose two customers are one again was
    undone by an operator's merge (``omnibus identity merge``: no other merge passes the do-not-merge)."""
    splits = announced_splits(customer_events)
    check = report.add(Check("identity: what an operator split apart stays apart", len(splits)))
    if not splits:
        return
    customer = {key: first for first, members in running.items() for key in members}
    held: dict[str, list[str]] = {}
    for key, holder in sorted(owner.items()):
        held.setdefault(current(holder), []).append(key)
    for moved, source, new in sorted(splits.values(), key=lambda split: min(split[0], default="")):
        if current(new) == current(source):
            continue
        kept = [key for key in held.get(current(source), ()) if key not in moved]
        together = [(key, other) for key in sorted(moved) if key in customer
                    for other in kept if customer.get(other) == customer[key]]
        back = [key for key in sorted(moved) if key in owner and current(owner[key]) == current(source)]
        if together:
            key, other = together[0]
            check.fail(f"{shown(key)} and {shown(other)}, split apart by an operator, are one customer in the table")
        elif back:
            check.fail(f"{shown(back[0])}, split off customer {source} by an operator, is that customer's again on "
                       "customer.identifiers")


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


def status(union: Iterable[str], pairs: Pairs, table: Iterable[Iterable[str]]) -> str:
    """AWAITING when an open review links two of the table's customers (``table``: their members) inside ``union``,
    else DECIDED (an operator's decision or split joined or parted them)."""
    keys = set(union)
    customer = {key: position for position, members in enumerate(table) for key in members if key in keys}
    between = [state for pair, state in pairs.items()
               if pair <= keys and len({customer.get(key) for key in pair}) == 2]
    return AWAITING if AWAITING in between else DECIDED


TOGETHER_RECOMPUTED = "groups merged in the recomputation, apart in the table"
TOGETHER_IN_TABLE = "groups apart in the recomputation, merged in the table"


def directions(rebuilt: Mapping[str, list[str]], current: Mapping[str, list[str]]) -> dict[str, int]:
    """How many groups of identifiers differ in each direction: ``TOGETHER_RECOMPUTED`` (a recomputed customer
    spans two or more of the table's) and ``TOGETHER_IN_TABLE`` (the reverse); a group of customers that overlap
    may count in both. ``rebuilt``, ``current``: clusters (``by_review``: after joining what reviews link)."""
    parent: dict[str, str] = {}

    def root(key: str) -> str:
        while parent.setdefault(key, key) != key:
            key = parent[key]
        return key

    for members in (*rebuilt.values(), *current.values()):
        for key in members[1:]:
            parent[root(key)] = root(members[0])
    counted: dict[str, set[str]] = {TOGETHER_RECOMPUTED: set(), TOGETHER_IN_TABLE: set()}
    for name, mine, theirs in ((TOGETHER_RECOMPUTED, rebuilt, current), (TOGETHER_IN_TABLE, current, rebuilt)):
        theirs_of = {key: first for first, members in theirs.items() for key in members}
        for members in mine.values():
            if len({theirs_of[key] for key in members if key in theirs_of}) > 1:
                counted[name].add(root(members[0]))
    return {name: len(groups) for name, groups in counted.items()}
