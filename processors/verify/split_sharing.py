"""A split-off customer is named by the shared identifiers its own events carried.

The person an operator split off was kept apart, before a merge or as her own events made her, from an identifier's
keeper through the shared identifiers they carried (a flat's landline: ``IdentifierState.kept_apart``). After the
split the table must place her the same way: the identifier's node names her new customer (its screen pop counts her
among ``customer_ids``, not "without a customer of their own"), ``graph/elsewhere.py``. The recomputation replays the
split (``processors.replay.operators``), so its split-off customer is kept apart through what the split recorded;
where it could not split the same (it grouped the moved identifiers with others) its customer of the moved
identifiers says what their events carried (``carried_by``). A split an operator's merge undid is not checked.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from processors.identity.graph.state import CustomerState, IdentifierState, NodeState
from processors.replay import Replayed
from processors.verify.report import Check, Report, shown
from processors.verify.reviews import announced_splits

SPLIT_SHARING = "identity: a split-off customer is named by the shared identifiers its events carried"


def _root(nodes: Mapping[str, NodeState], customer: str) -> str:
    state = nodes.get(customer)
    while isinstance(state, CustomerState) and state.parent:
        customer = state.parent
        state = nodes.get(customer)
    return customer


def kept_apart_through(nodes: Mapping[str, NodeState]) -> dict[str, set[str]]:
    """Customer (root) -> the identifiers its owner was kept apart from it through, in ``nodes``."""
    through: dict[str, set[str]] = {}
    for key, state in nodes.items():
        if isinstance(state, IdentifierState):
            for customer in state.kept_apart:
                through.setdefault(_root(nodes, customer), set()).add(key)
    return through


def carried_by(nodes: Mapping[str, NodeState], customer: str, through: Iterable[str],
               moved: frozenset[str]) -> set[str]:
    """Of the identifiers ``through`` which ``customer`` (a root of ``nodes``) is kept apart through, those the events
    of the ``moved`` identifiers carried: all of them when every member of ``customer`` moved (it is the split-off
    person's own customer), else those whose record (``CustomerState.elsewhere_with``: the members the events that
    carried it carried too) names a moved member, the rule of the split itself (``graph/elsewhere.py`` ``at_split``).
    A customer the recomputation grouped with others (a browser's anonymous id joined to a tenant by her traits) is
    kept apart through what the others' events carried (the flat's landline), which the split-off part never
    carried (F7)."""
    state = nodes.get(customer)
    if not isinstance(state, CustomerState) or set(state.members) <= moved:
        return set(through)
    return {key for key in through if moved.intersection(state.elsewhere_with.get(key, ()))}


def check_split_sharing(rebuilt: Mapping[str, NodeState], table: Mapping[str, NodeState],
                        customer_events: Iterable[Replayed], current: Callable[[str], str], report: Report) -> None:
    """For each announced split (``reviews.announced_splits``) not undone: every identifier the recomputation
    (``rebuilt``: its nodes) keeps the moved identifiers' customers apart through, that the split did not move, names
    the new customer in the table (``table``: the running nodes), as its keeper or in ``kept_apart``; ``current``:
    a customer id followed through merges. At most one failure per split."""
    splits = announced_splits(customer_events)
    check = report.add(Check(SPLIT_SHARING, len(splits)))
    if not splits:
        return
    through = kept_apart_through(rebuilt)
    owner_of = {key: state.owner for key, state in rebuilt.items() if isinstance(state, IdentifierState)}
    for moved, source, new in sorted(splits.values(), key=lambda split: min(split[0], default="")):
        if current(new) == current(source):
            continue
        sides = {_root(rebuilt, owner) for key in moved if (owner := owner_of.get(key))}
        wanted = sorted(set().union(*(carried_by(rebuilt, side, through.get(side, set()), moved)
                                      for side in sides)) - moved)
        for key in wanted:
            node = table.get(key)
            named = {current(c) for c in node.kept_apart} | ({current(node.owner)} if node.owner else set()) \
                if isinstance(node, IdentifierState) else set()
            if current(new) not in named:
                check.fail(f"{shown(key)}: the events of customer {current(new)} (split off {current(source)} by an "
                           "operator) carried it, but its node does not name that customer (its screen pop counts "
                           "her among the people without a customer of their own)")
                break
