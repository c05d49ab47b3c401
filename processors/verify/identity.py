"""Identity's checks against a recomputation: assignments, grouping, stale rows, names and the node table.

Inputs are the records of identity's input topics (the ledger); outputs (``identity_outputs.IdentityOutputs``) are
read back from ``customer.identifiers.v1``, ``customer.events.v1``, ``customer.contacts.v1``, the node table's
changelog and ``deadletter.v1``. Customer ids are minted by the protocol, so assignments are compared by what they
mean: which identifiers belong together (a cluster). The contacts' checks are ``processors.verify.contacts``; the
contact records against their customers' indexes, ``processors.verify.contact_records``; a
split-off customer's shared identifiers, ``processors.verify.split_sharing``; what reviews excuse,
``processors.verify.reviews``. The node-table check is Kafka Streams' exactly-once system test (see
``processors.verify``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from bus.plural import counted
from processors.identity.assignments import current_rows
from processors.identity.graph.engine import is_customer
from processors.identity.graph.state import CustomerState, IdentifierState, NodeState
from processors.replay import Replayed
from processors.replay.compare import compare
from processors.replay.identity import Recomputed, clusters, done_in, running_nodes, running_profiles
from processors.replay.operators import MERGED as MERGED  # re-exported: operator commands import it from here
from processors.verify.arrival_order import ARRIVAL_ORDER, RuleKeys, explained, rule_keys
from processors.verify.contact_issuers import check_contact_issuers
from processors.verify.contact_records import check_contact_records
from processors.verify.contacts import check_contacts
from processors.verify.identity_outputs import IdentityOutputs, final_customer, merges, record_key
from processors.verify.report import Check, Report, shown
from processors.verify.reviews import (
    Pairs,
    by_review,
    check_splits,
    direction_groups,
    joined,
    review_pairs,
    status,
)
from processors.verify.split_sharing import check_split_sharing


def reader_rows(assignments: Iterable[Replayed]) -> dict[str, Mapping[str, Any]]:
    """Identifier key -> its current ``IdentifierAssignment`` value: ``customer.identifiers.v1`` as a reader keeps the
    compacted topic (``processors.identity.assignments.current_rows``: highest version; a tombstone removes it)."""
    rows: list[tuple[str, Mapping[str, Any] | None]] = []
    for record in assignments:
        if record.event is not None:
            rows.append((record_key(record), record.event.value))
        elif record.value is None:
            rows.append((record_key(record), None))
    return current_rows(rows)


def _groups(owner: Mapping[str, str]) -> dict[str, frozenset[str]]:
    """Identifier key -> every identifier key ``owner`` (identifier key -> customer id) gives the same customer."""
    members: dict[str, set[str]] = {}
    for identifier, customer in owner.items():
        members.setdefault(customer, set()).add(identifier)
    return {identifier: frozenset(members[customer]) for identifier, customer in owner.items()}


def owners(nodes: Mapping[str, NodeState]) -> dict[str, str]:
    """Identifier key -> the customer id (a root, followed through ``CustomerState.parent``) that holds it in
    ``nodes`` (a node table: the recomputation's or the running one's)."""
    found = {}
    for key, state in nodes.items():
        if isinstance(state, IdentifierState) and state.owner:
            owner, seen = state.owner, {state.owner}
            while isinstance(parent := nodes.get(owner), CustomerState) and parent.parent and parent.parent not in seen:
                owner = parent.parent
                seen.add(owner)
            found[key] = owner
    return found


def customer_ids(keys: Iterable[str], owner: Mapping[str, str]) -> str:
    """The customer ids ``owner`` (identifier key -> customer id) gives ``keys``, sorted and comma-separated, or
    ``none``: how a report names a group to the operator (ids, never identifier values: a masked
    ``ACCOUNT:****0002`` named two customers)."""
    return ", ".join(sorted({owner[key] for key in keys if key in owner})) or "none"


def customers_of_groups(groups: Iterable[Iterable[str]], owner: Mapping[str, str]) -> str:
    """``groups`` (each a set of identifier keys counted as one customer, the customers a review links joined:
    ``reviews.joined``) named by the customer ids ``owner`` gives their keys: ``2 customers (cus_a, cus_b)``, the
    count that of the ids listed, then the ids a review links, ``; a review links cus_a + cus_b``. A failure line said
    "spread over 1 customer(s)" of a group holding two reviewed customers, and listed both."""
    per_group = sorted({tuple(sorted({owner[key] for key in group if key in owner})) for group in groups})
    ids = sorted({customer for ids_of_group in per_group for customer in ids_of_group})
    linked = "; ".join(" + ".join(ids_of_group) for ids_of_group in per_group if len(ids_of_group) > 1)
    links = f"; a review links {linked}" if linked else ""
    return f"{counted(len(ids), 'customer')} ({', '.join(ids) or 'none'}{links})"


def decided_pairs(outputs: IdentityOutputs) -> Pairs:
    """Every pair of identifiers an open or decided review of the running processor links (``reviews.review_pairs``):
    what the recomputation cannot know, as operators decide reviews on the graph topic. Operators' merges, splits and
    releases need none: the recomputation replays them (``processors.replay.operators``). Reads
    ``outputs.customer_events`` and ``reviews``; ``omnibus replay identity`` compares through them too."""
    return review_pairs(outputs.reviews, merges(outputs.customer_events))


def check_identity(recomputed: Recomputed, outputs: IdentityOutputs, contacts_topic: str, report: Report) -> None:
    """Add identity's checks and figures to ``report`` (see the module docstring of ``processors.verify``)."""
    graph = recomputed.graph
    survivors = merges(outputs.customer_events)
    rows = reader_rows(outputs.assignments)
    report.count("events", recomputed.applied + len(recomputed.refused))

    refused = report.add(Check("identity: inputs the intake refuses are dead-lettered", len(recomputed.refused)))
    for record in recomputed.refused:
        if (record.topic, record.partition, record.offset) not in outputs.dead_lettered:
            refused.fail(f"{record.topic}[{record.partition}]@{record.offset} neither processed nor dead-lettered")

    linked = _linked(recomputed)
    expected = {key: owner for key in graph.store.nodes
                if key in linked and not is_customer(key) and (owner := graph.customer_of(key)) is not None}
    assigned = report.add(Check("identity: every identifier of an accepted input is assigned", len(expected)))
    pairs = decided_pairs(outputs)
    ruled = rule_keys(graph.decisions, outputs.customer_events, pairs)
    first_event: dict[str, str] = {}
    for event_id, keys in recomputed.identifiers_of.items():
        for key in keys:
            first_event.setdefault(key, event_id)
    for key in sorted(expected):
        if key not in rows and key in ruled.evicted:
            line = (f"{shown(key)}: taken off its customer by a limit in the table, kept by the recomputation "
                    f"(recomputed customer {expected[key]})")
            report.count_item(ARRIVAL_ORDER, line)
            report.note(f"{line}: depends on arrival order")
        elif key not in rows:
            assigned.fail(f"{shown(key)} (first linked by event {first_event.get(key)}, recomputed customer "
                          f"{expected[key]}) has no row on customer.identifiers")
    report.count_items("lost", assigned.failures)

    topic_owner = {key: str(row["customer_id"]) for key, row in rows.items()}
    wanted, found = _groups(expected), _groups({k: v for k, v in topic_owner.items() if k in expected})
    wanted_joined, found_joined = joined(wanted.values(), pairs), joined(found.values(), pairs)
    clusters_wanted = set(wanted_joined.values())
    table_nodes, undecodable = running_nodes(outputs.changelog)
    table_owner = owners(table_nodes)
    by_arrival = explained(_by_smallest(clusters_wanted), _by_smallest(found_joined.values()), ruled)
    together = report.add(Check("identity: identifiers are grouped as the recomputation groups them",
                                len(clusters_wanted)))
    for cluster in sorted(clusters_wanted, key=min):
        held = {found_joined[found[key]] for key in cluster if key in found}
        if held and held != {cluster} and not (cluster <= by_arrival and _as_table(cluster, topic_owner, table_owner)):
            outside = len(frozenset().union(*held) - cluster)
            together.fail(f"customer of {shown(min(cluster))}: {counted(len(cluster), 'identifier')} recomputed on "
                          f"{customers_of_groups([cluster], expected)}, on the topic (customer.identifiers) spread "
                          f"over {customers_of_groups(held, topic_owner)} with {counted(outside, 'other identifier')}")

    merged_away = set(survivors)
    stale = report.add(Check("identity: no current row names a merged-away customer", len(rows)))
    for key, row in sorted(rows.items()):
        if row["customer_id"] in merged_away:
            stale.fail(f"{shown(key)} -> {row['customer_id']} (merged away), version {row.get('version', 0)}")
    report.count_items("stale rows", stale.failures)

    check_contacts(recomputed, outputs, contacts_topic, survivors, topic_owner, table_nodes, report)
    check_contact_issuers(outputs.contacts, report)
    if outputs.contact_records is not None:
        check_contact_records(table_nodes, outputs.contact_records, recomputed.contacts, report,
                              done=done_in(outputs.changelog))

    _check_names(recomputed, outputs, table_nodes, report)

    table = report.add(Check("identity: node table equals the recomputation from its inputs"))
    current = clusters(table_nodes)
    check_splits(outputs.customer_events, topic_owner, lambda c: final_customer(c, survivors), current, report)
    check_split_sharing(graph.store.nodes, table_nodes, outputs.customer_events,
                        lambda c: final_customer(c, survivors), report)
    rebuilt = clusters(graph.store.nodes)
    joined_rebuilt, joined_current = by_review(rebuilt, pairs), by_review(current, pairs)
    comparison = compare(joined_rebuilt, joined_current)
    mine_of, theirs_of = owners(graph.store.nodes), owners(table_nodes)

    def both(keys: Iterable[str]) -> str:  # a group of identifiers by its customer ids on each side
        keys = list(keys)
        return f"recomputed {customer_ids(keys, mine_of)}; in the table {customer_ids(keys, theirs_of)}"

    _note_reviews(rebuilt, current, pairs, both, report)
    by_arrival = _note_arrival_order(joined_rebuilt, joined_current, ruled, both, report)
    for direction, groups in direction_groups(joined_rebuilt, joined_current).items():
        report.count_items(direction, [f"customer of {shown(min(group))}: {both(group)}" for group in groups
                                       if group[0] not in by_arrival])
    table.checked = comparison.same + len(comparison.differing) + len(comparison.only_rebuilt) \
        + len(comparison.only_running)
    if undecodable:
        table.fail(f"{counted(undecodable, 'changelog value')} could not be decoded")
    for member, mine, theirs in comparison.differing:
        if member not in by_arrival:
            table.fail(f"customer of {shown(member)}: {counted(len(mine), 'identifier')} recomputed, {len(theirs)} in "
                       f"the table ({both({*mine, *theirs})})")
    table.failures += [f"customer of {shown(m)} only in the recomputation ({both(joined_rebuilt[m])})"
                       for m in comparison.only_rebuilt if m not in by_arrival]
    table.failures += [f"customer of {shown(m)} only in the table ({both(joined_current[m])})"
                       for m in comparison.only_running if m not in by_arrival]


def _as_table(keys: Iterable[str], topic_owner: Mapping[str, str], table_owner: Mapping[str, str]) -> bool:
    """Whether the topic's rows (``topic_owner``: identifier key -> customer id) group ``keys`` as the node table does
    (``table_owner``, from ``owners``): a group arrival order explains in the table (noted by the node-table check) is
    explained on the topic only where the topic agrees with the table."""
    pairs = {(topic_owner.get(key), table_owner.get(key)) for key in keys}
    return len(pairs) == len({topic for topic, _ in pairs}) == len({table for _, table in pairs})


def _by_smallest(groups: Iterable[frozenset[str]]) -> dict[str, list[str]]:
    """Groups of identifier keys as clusters: ``{smallest member: sorted members}``."""
    return {min(group): sorted(group) for group in groups if group}


def _note_arrival_order(rebuilt: Mapping[str, list[str]], current: Mapping[str, list[str]], ruled: RuleKeys,
                        both: Callable[[Iterable[str]], str], report: Report) -> frozenset[str]:
    """Note and count (figure ``ARRIVAL_ORDER``) each group of customers that differs between ``rebuilt`` and
    ``current`` (clusters, reviews joined) where a limit or match weight decided on both sides that keep customers
    apart (``processors.verify.arrival_order``); the identifier keys of those groups, which fail nothing."""
    by_arrival = explained(rebuilt, current, ruled)
    groups = direction_groups(rebuilt, current)
    seen: set[str] = set()
    for group in sorted((g for gs in groups.values() for g in gs), key=lambda keys: keys[0]):
        if group[0] in by_arrival and group[0] not in seen:
            seen.add(group[0])
            line = f"customer of {shown(group[0])}: {counted(len(group), 'identifier')} ({both(group)})"
            report.count_item(ARRIVAL_ORDER, line)
            report.note(f"{line}: grouped otherwise where a limit or match weight decided, in both; depends on "
                        "arrival order")
    return by_arrival


def _note_reviews(rebuilt: Mapping[str, list[str]], current: Mapping[str, list[str]], pairs: Pairs,
                  both: Callable[[Iterable[str]], str], report: Report) -> None:
    """List the customers that differ only until their reviews are decided, or as an operator decided
    (``processors.verify.reviews``): awaiting review only when an open review links two of the table's customers;
    ``both``: a group's customer ids on each side."""
    joined_current = by_review(current, pairs)
    noted: dict[str, list[str]] = {}  # AWAITING / DECIDED -> one line per group
    for first, members in sorted(by_review(rebuilt, pairs).items()):
        inside = set(members)
        mine = sorted(cluster for cluster in rebuilt.values() if set(cluster) <= inside)
        theirs = sorted(cluster for cluster in current.values() if set(cluster) <= inside)
        if joined_current.get(first) != members or mine == theirs:
            continue  # a real difference (failed by the check) or none at all
        state = status(members, pairs, theirs)
        line = (f"customer of {shown(first)}: {counted(len(members), 'identifier')}, "
                f"{counted(len(mine), 'customer')} recomputed, "
                f"{len(theirs)} in the table ({both(members)})")
        noted.setdefault(state, []).append(line)
        report.note(f"{line}: {state}")
    for state, lines in sorted(noted.items()):  # a figure per status: "awaiting review", "decided by an operator"
        report.count_items(state, lines)


def _check_names(recomputed: Recomputed, outputs: IdentityOutputs, table: Mapping[str, NodeState],
                 report: Report) -> None:
    """Each customer's screen-pop name (given name and surname, case aside) is the one the recomputation shows for
    the customer of the same identifiers (a housemate's name on the family phone's keeper, in some
    arrival orders only). Customers grouped differently are the grouping checks' business; no names are printed."""
    if outputs.profiles is None:
        return
    book = recomputed.graph.graph.book
    running, undecodable = running_profiles(outputs.profiles, outputs.changelog)
    wanted = _names(recomputed.graph.store.nodes, recomputed.graph.store.profiles, book)
    found = _names(table, running, book)
    both = sorted(set(wanted) & set(found))
    names = report.add(Check("identity: each screen pop shows the name the recomputation shows", len(both)))
    if undecodable:
        names.fail(f"{counted(undecodable, 'profile changelog value')} could not be decoded")
    mine_of, theirs_of = owners(recomputed.graph.store.nodes), owners(table)
    for members in both:
        if wanted[members] != found[members]:
            names.fail(f"customer of {shown(min(members))}: its screen pop's name is not the recomputation's "
                       f"(recomputed {customer_ids(members, mine_of)}; in the table "
                       f"{customer_ids(members, theirs_of)})")


def _names(nodes: Mapping[str, NodeState], profiles: Mapping[str, Any],
           book: Any) -> dict[frozenset[str], tuple[str, str]]:
    """Members of each current customer -> the (given name, surname) its screen pop shows, casefolded."""
    found = {}
    for key, state in nodes.items():
        if is_customer(key) and isinstance(state, CustomerState) and state.created and not state.parent \
                and state.members:
            name = book.render(profiles.get(key)).get("name") or {}
            found[frozenset(state.members)] = (str(name.get("given_name") or "").casefold(),
                                               str(name.get("family_name") or "").casefold())
    return found


def _linked(recomputed: Recomputed) -> set[str]:
    return {key for keys in recomputed.identifiers_of.values() for key in keys}
