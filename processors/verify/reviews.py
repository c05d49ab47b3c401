"""Merge reviews in the verifier: customers an open review keeps apart (or an operator joined) are not a difference.

Whether two customers merge, wait in a review or are refused can depend on the order in which their
evidence arrived (traits known when the pair was compared), and an operator's decision of a review travels on the
graph topic, which the recomputation does not replay. So a customer kept apart as two while a review is
open, or joined by an accepted review, would differ from the recomputation although nothing is wrong.
Both sides are compared after joining the clusters that the running processor's reviews link (from
``identity.reviews.v1``, open or decided); what only differs before that join is listed as awaiting review
when an open review links two of the table's customers there, else as decided by an operator, not as a
failure. The recomputation's own review requests explain nothing: no operator can decide them (tester F9: a
pair the recomputation merged outright, kept apart in the table with no review open, was filed "awaiting
review" and verify said "all checks hold" over 503 such groups).

Operators' merges, splits, unmerges and releases travel on the graph topic too, but the recomputation replays them
from their announcements on ``customer.events.v1`` (``processors.replay.operators``), so they need no pair: one
identifier pair per command could not say what a chain of them joined and parted (a split of a mix of two merged
people's identifiers, a merge of a split-off customer: 12 of 260 random runs of such chains failed). Whatever the
recomputation groups, every announced split is checked against the running table (``check_splits``); one an
operator's merge joined again ended that split.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from processors.identity.review import REQUESTED, closed_reviews, identifier_key, open_reviews
from processors.replay import Replayed
from processors.replay.operators import OperatorSplit, announced_commands, operators_split
from processors.replay.releases import Release
from processors.verify.report import Check, Report, shown

AWAITING = "awaiting review"
DECIDED = "decided by an operator"
Pairs = dict[frozenset[str], str]  # the two identifiers a review links -> AWAITING or DECIDED


def review_pairs(reviews: Iterable[Replayed], survivors: Mapping[str, str] | None = None) -> Pairs:
    """Every pair of identifiers a review of the running processor links (``identity.reviews.v1``): AWAITING
    while it is open, DECIDED once an operator decided it.

    ``survivors`` (merged-away customer id -> survivor, ``verify.identity_outputs.merges``): the requests are read as
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


def announced_splits(customer_events: Iterable[Replayed]) -> dict[str, tuple[frozenset[str], str, str]]:
    """Every ``CustomerSplit`` once (by its event id: a batch replayed after a rebalance announces the same id):
    split event id -> (the moved identifier keys an operator left there, the source customer id, the new customer
    id). A moved identifier that a later split (an unmerge) or release took on is left out: it left the new customer
    by an operator's hand, so where it stands now says nothing of this split (a released e-mail a later event linked
    to the source again, an unmerge that gave a split-off customer merged into another back: the checks of these
    splits failed on legitimate chains of commands)."""
    records = list(customer_events)
    taken: dict[str, set[str]] = {}  # a split's new customer id -> its moved keys taken on since
    later: list[tuple[str, frozenset[str]]] = []  # (new customer id, moved keys) of the splits so far, in turn
    for command in announced_commands(records):
        gone = set(command.moved) if isinstance(command, OperatorSplit) else {command.identifier} \
            if isinstance(command, Release) else set()
        for new, moved in later:
            taken.setdefault(new, set()).update(moved & gone)
        if isinstance(command, OperatorSplit):
            later.append((command.new, frozenset(command.moved)))
    found: dict[str, tuple[frozenset[str], str, str]] = {}
    for record in records:
        if record.event is not None and operators_split(record):
            value = record.event.value
            moved = frozenset(identifier_key(i) for i in value["moved_identifiers"])
            found[value["envelope"]["event_id"]] = (
                moved - taken.get(value["new_customer_id"], set()), value["source_customer_id"],
                value["new_customer_id"])
    return found


def check_splits(customer_events: Iterable[Replayed], owner: Mapping[str, str], current: Callable[[str], str],
                 running: Mapping[str, list[str]], report: Report) -> None:
    """Splits stay split: for every announced split, no moved identifier is one customer in the running table
    (``running``: its clusters, ``replay.identity.running``) with an identifier its source customer holds now
    (``owner``: identifier -> customer id on ``customer.identifiers.v1``; ``current``: a customer id followed
    through merges), nor is it the source's again on the topic; the graph refuses every merge of the two since
    (``CustomerState.do_not_merge``, ``rules.SPLIT_DO_NOT_MERGE``). Checked whatever the recomputation groups
    (checked only where the recomputation grouped the moved identifiers with others, it counted 0 after
    an accepted review's wrong merge). At most one failure per split. A split whose two customers are one again was
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
            check.fail(f"{shown(key)} and {shown(other)}, split apart by an operator (customer {new} off {source}), "
                       f"are one customer in the table (now {current(owner[key]) if key in owner else 'unassigned'} "
                       "on customer.identifiers)")
        elif back:
            check.fail(f"{shown(back[0])}, split off customer {source} into {new} by an operator, is that customer's "
                       "again on customer.identifiers")


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
    return {name: len(groups) for name, groups in direction_groups(rebuilt, current).items()}


def overlapping_groups(*sides: Mapping[str, list[str]]) -> tuple[Callable[[str], str], dict[str, set[str]]]:
    """The groups of customers that overlap across ``sides`` (each: clusters, smallest member -> identifier keys),
    joined through the identifier keys they share (union-find). Returns ``root`` (a member's key -> its group's
    name) and each group's identifier keys by that name."""
    parent: dict[str, str] = {}

    def root(key: str) -> str:
        while parent.setdefault(key, key) != key:
            key = parent[key]
        return key

    clusters = [members for side in sides for members in side.values()]
    for members in clusters:
        for key in members[1:]:
            parent[root(key)] = root(members[0])
    groups: dict[str, set[str]] = {}
    for members in clusters:
        groups.setdefault(root(members[0]), set()).update(members)
    return root, groups


def direction_groups(rebuilt: Mapping[str, list[str]], current: Mapping[str, list[str]]) -> dict[str, list[list[str]]]:
    """The groups ``directions`` counts, each as its sorted identifier keys (every customer of either side that
    overlaps it), in order of their smallest key."""
    root, members_of = overlapping_groups(rebuilt, current)
    counted: dict[str, set[str]] = {TOGETHER_RECOMPUTED: set(), TOGETHER_IN_TABLE: set()}
    for name, mine, theirs in ((TOGETHER_RECOMPUTED, rebuilt, current), (TOGETHER_IN_TABLE, current, rebuilt)):
        theirs_of = {key: first for first, members in theirs.items() for key in members}
        for members in mine.values():
            if len({theirs_of[key] for key in members if key in theirs_of}) > 1:
                counted[name].add(root(members[0]))
    return {name: sorted((sorted(members_of[group]) for group in groups), key=lambda keys: keys[0])
            for name, groups in counted.items()}
