"""The identity processor's checks: assignments, contacts, stale rows and the node table, against a recomputation.

Inputs are the records of identity's input topics (the ledger); outputs are read back from
``customer.identifiers.v1``, ``customer.events.v1``, ``customer.contacts.v1``, the node table's changelog
and ``deadletter.v1``. Customer ids are minted by the protocol, so assignments are compared by what they
mean: which identifiers belong together (a cluster), and for contacts which cluster the key leads to.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bus.serde import Event
from processors.identity.assignments import current_rows
from processors.identity.graph.engine import is_customer
from processors.identity.graph.outputs import Resolved, moved_contact_id
from processors.identity.graph.state import CustomerState, IdentifierState, NodeState
from processors.identity.review import identifier_key
from processors.identity.rules import EARLIEST_CLAIM, MANUAL_MOVE
from processors.profile.sections.recent_contacts import RecentContactsSection, contact_id
from processors.replay import Replayed
from processors.replay.compare import compare
from processors.replay.identity import Recomputed, clusters, running_nodes, running_profiles
from processors.replay.operators import MERGED, SPLIT
from processors.replay.releases import Release, announced_releases, held_then
from processors.verify.report import Check, Report, shown
from processors.verify.reviews import (
    CONTACT_MOVED,
    Pairs,
    by_review,
    check_splits,
    direction_groups,
    joined,
    review_pairs,
    status,
)
from processors.verify.split_sharing import check_split_sharing

LINKED = "omnibus.identity.CustomerLinked"
CREATED = "omnibus.identity.CustomerCreated"
CONTACT_SCHEMAS = RecentContactsSection.schemas  # the contacts a screen pop lists by a contact id
LEFT_BY_A_CLAIM = "contacts left by a claim"  # a figure (``_check_contacts``)
UNIDENTIFIED_CONTACTS = "contacts without an identifier"  # a figure (``_check_on_some_customer``)
THROUGH_SHARED_ONLY = "contacts through shared identifiers only"  # a figure (``_check_on_some_customer``)


@dataclass
class IdentityOutputs:
    """What the running processor wrote, each list in partition and offset order."""

    assignments: list[Replayed] = field(default_factory=list)  # customer.identifiers.v1
    customer_events: list[Replayed] = field(default_factory=list)  # customer.events.v1
    contacts: list[Replayed] = field(default_factory=list)  # customer.contacts.v1
    changelog: list[Replayed] = field(default_factory=list)  # the node table's changelog (raw)
    dead_lettered: set[tuple[str, int, int]] = field(default_factory=set)  # (topic, partition, offset)
    reviews: list[Replayed] = field(default_factory=list)  # identity.reviews.v1 (requests and decisions)
    profiles: list[Replayed] | None = None  # the profile table's changelog (raw); None: not read, names unchecked


def _key(record: Replayed) -> str:
    return record.key.decode(errors="replace") if record.key is not None else ""


def merges(customer_events: Iterable[Replayed]) -> dict[str, str]:
    """Merged-away customer id -> survivor id, from every ``CustomerMerged``."""
    return {r.event.value["merged_customer_id"]: r.event.value["survivor_customer_id"]
            for r in customer_events if r.event is not None and r.event.schema == MERGED}


def final_customer(customer: str, survivors: Mapping[str, str]) -> str:
    """Where a reader following ``CustomerMerged`` ends from ``customer`` (a cycle stops where it closes)."""
    seen = {customer}
    while customer in survivors and survivors[customer] not in seen:
        customer = survivors[customer]
        seen.add(customer)
    return customer


def reader_rows(assignments: Iterable[Replayed]) -> dict[str, Mapping[str, Any]]:
    """The compacted topic as a reader keeps it (``processors.identity.assignments``: highest version)."""
    rows: list[tuple[str, Mapping[str, Any] | None]] = []
    for record in assignments:
        if record.event is not None:
            rows.append((_key(record), record.event.value))
        elif record.value is None:
            rows.append((_key(record), None))
    return current_rows(rows)


def _groups(owner: Mapping[str, str]) -> dict[str, frozenset[str]]:
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
    ``none``: how a report names a group to the operator (ids, never identifier values: tester24 F7, a masked
    ``ACCOUNT:****0002`` named two customers)."""
    return ", ".join(sorted({owner[key] for key in keys if key in owner})) or "none"


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
    first_event: dict[str, str] = {}
    for event_id, keys in recomputed.identifiers_of.items():
        for key in keys:
            first_event.setdefault(key, event_id)
    for key in sorted(expected):
        if key not in rows:
            assigned.fail(f"{shown(key)} (first linked by event {first_event.get(key)}, recomputed customer "
                          f"{expected[key]}) has no row on customer.identifiers")
    report.count_items("lost", assigned.failures)

    topic_owner = {key: str(row["customer_id"]) for key, row in rows.items()}
    pairs = decided_pairs(outputs)
    wanted, found = _groups(expected), _groups({k: v for k, v in topic_owner.items() if k in expected})
    wanted_joined, found_joined = joined(wanted.values(), pairs), joined(found.values(), pairs)
    clusters_wanted = set(wanted_joined.values())
    together = report.add(Check("identity: identifiers are grouped as the recomputation groups them",
                                len(clusters_wanted)))
    for cluster in sorted(clusters_wanted, key=min):
        held = {found_joined[found[key]] for key in cluster if key in found}
        if held and held != {cluster}:
            outside = len(frozenset().union(*held) - cluster)
            together.fail(f"customer of {shown(min(cluster))}: {len(cluster)} identifier(s) recomputed "
                          f"({customer_ids(cluster, expected)}), on the topic spread over {len(held)} customer(s) "
                          f"({customer_ids(frozenset().union(*held), topic_owner)}) with {outside} other "
                          "identifier(s)")

    merged_away = set(survivors)
    stale = report.add(Check("identity: no current row names a merged-away customer", len(rows)))
    for key, row in sorted(rows.items()):
        if row["customer_id"] in merged_away:
            stale.fail(f"{shown(key)} -> {row['customer_id']} (merged away), version {row.get('version', 0)}")
    report.count_items("stale rows", stale.failures)

    table_nodes, undecodable = running_nodes(outputs.changelog)
    _check_contacts(recomputed, outputs, contacts_topic, survivors, topic_owner, table_nodes, report)

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
    for direction, groups in direction_groups(joined_rebuilt, joined_current).items():
        report.count_items(direction, [f"customer of {shown(min(group))}: {both(group)}" for group in groups])
    table.checked = comparison.same + len(comparison.differing) + len(comparison.only_rebuilt) \
        + len(comparison.only_running)
    if undecodable:
        table.fail(f"{undecodable} changelog value(s) could not be decoded")
    for member, mine, theirs in comparison.differing:
        table.fail(f"customer of {shown(member)}: {len(mine)} identifier(s) recomputed, {len(theirs)} in the table "
                   f"({both({*mine, *theirs})})")
    table.failures += [f"customer of {shown(m)} only in the recomputation ({both(joined_rebuilt[m])})"
                       for m in comparison.only_rebuilt]
    table.failures += [f"customer of {shown(m)} only in the table ({both(joined_current[m])})"
                       for m in comparison.only_running]


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
        line = (f"customer of {shown(first)}: {len(members)} identifier(s), {len(mine)} customer(s) recomputed, "
                f"{len(theirs)} in the table ({both(members)})")
        noted.setdefault(state, []).append(line)
        report.note(f"{line}: {state}")
    for state, lines in sorted(noted.items()):  # a figure per status: "awaiting review", "decided by an operator"
        report.count_items(state, lines)


def _check_names(recomputed: Recomputed, outputs: IdentityOutputs, table: Mapping[str, NodeState],
                 report: Report) -> None:
    """Each customer's screen-pop name (given name and surname, case aside) is the one the recomputation shows for
    the customer of the same identifiers (tester12 S1: a housemate's name on the family phone's keeper, in some
    arrival orders only). Customers grouped differently are the grouping checks' business; no names are printed."""
    if outputs.profiles is None:
        return
    book = recomputed.graph.graph.book
    running, undecodable = running_profiles(outputs.profiles)
    wanted = _names(recomputed.graph.store.nodes, recomputed.graph.store.profiles, book)
    found = _names(table, running, book)
    both = sorted(set(wanted) & set(found))
    names = report.add(Check("identity: each screen pop shows the name the recomputation shows", len(both)))
    if undecodable:
        names.fail(f"{undecodable} profile changelog value(s) could not be decoded")
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


def _check_contacts(recomputed: Recomputed, outputs: IdentityOutputs, contacts_topic: str,
                    survivors: Mapping[str, str], topic_owner: Mapping[str, str], table: Mapping[str, NodeState],
                    report: Report) -> None:
    """Every contact the recomputation resolves is on ``customer.contacts``, keyed by the current customer of its
    identifiers (of one an operator released since the contact occurred: the customer it was released from,
    ``releases.held_then``) or by a customer kept apart from it through one of them (``_housemates``): by the
    recomputation, or by the running node table (``table``), where a claim's giver is noted
    (``claim_node.on_give``), or by the customer an operator moved it to (``operator_moves``). A contact a split or a
    claim moved is re-published under its new customer (``_moved_copies``). One that is still only under a claim's
    giver (a processor before contacts followed claims, or a contact beyond the giver's contact records) is counted as
    ``LEFT_BY_A_CLAIM`` and listed by ids (``Report.items``); it does not fail."""
    expected = {d.triggering_event_id for d in recomputed.graph.decisions
                if isinstance(d, Resolved) and d.event_ref and d.event_ref.topic == contacts_topic}
    released: dict[str, list[Release]] = {}  # identifier -> its releases
    for release in announced_releases(outputs.customer_events):
        released.setdefault(release.identifier, []).append(release)
    published: dict[str, set[str]] = {}
    events: dict[str, Event] = {}  # a contact's event id -> its event as published (its screen-pop contact id)
    copy_of = _moved_copies(outputs, expected)
    moved_to = operator_moves(outputs, expected, survivors)
    for record in outputs.contacts:
        if record.event is not None and record.event.schema != MERGED:
            event_id = record.event.value["envelope"]["event_id"]
            event_id = copy_of.get(event_id, event_id)
            published.setdefault(event_id, set()).add(final_customer(_key(record), survivors))
            events.setdefault(event_id, record.event)
    reflected = report.add(Check("identity: every resolved contact is on customer.contacts", len(expected)))
    rekeyed = report.add(Check("identity: each contact is keyed by its identifiers' customer or a housemate",
                               len(expected)))
    for event_id in sorted(expected):
        if event_id not in published:
            reflected.fail(f"contact {event_id} is not on customer.contacts")
            continue
        keys = recomputed.identifiers_of.get(event_id, [])
        occurred = recomputed.occurred_at.get(event_id, 0)
        owners = {owner for key in keys
                  if (owner := _owner_then(key, occurred, released, topic_owner, survivors)) is not None}
        if not owners or published[event_id] & (owners | moved_to.get(event_id, set())
                                                | _housemates(recomputed.graph.store.nodes, keys, survivors)):
            continue
        if published[event_id] & _housemates(table, keys, survivors):
            report.count_item(LEFT_BY_A_CLAIM, _left_contact(events[event_id], event_id, published[event_id], owners))
            continue
        rekeyed.fail(f"contact {event_id} is under {len(published[event_id])} customer(s), none of them "
                     f"the current customer of its identifiers" + (
                         _moved_cause(moved_to[event_id]) if event_id in moved_to
                         else _split_cause(recomputed, event_id, outputs)))
    report.count_items("lost", reflected.failures)
    _check_on_some_customer(recomputed, expected, published, report)


def _check_on_some_customer(recomputed: Recomputed, expected: set[str], published: Mapping[str, set[str]],
                            report: Report) -> None:
    """Every contact identity took from its input with an identifier is on ``customer.contacts`` under some customer,
    whether or not the recomputation resolves it (tester18 F5: a late call from a released number, unresolved by
    both, passed the check above, which fails a resolved one; each counts once in ``lost``). One with no usable
    identifier (number withheld) can reach no customer: counted as ``UNIDENTIFIED_CONTACTS``, not failed; nor can
    one whose identifiers are all shared (past ``shared_after``: they link nobody, the screen pop's ``links: false``)
    and that the recomputation leaves unresolved too: counted as ``THROUGH_SHARED_ONLY``, not failed (a call with no
    IVR traits from a landline four tenants' records carried failed as lost)."""
    contacts = list(dict.fromkeys(recomputed.contacts))
    identified = [event_id for event_id in contacts if recomputed.identifiers_of.get(event_id)]
    # a figure only when there are some (the usual report stays as it was); listed by event id (tester25 F8)
    unidentified = [f"contact {event_id}" for event_id in contacts if not recomputed.identifiers_of.get(event_id)]
    if unidentified:
        report.count_items(UNIDENTIFIED_CONTACTS, unidentified)
    somewhere = report.add(Check("identity: every contact with an identifier is on some customer", len(identified)))
    nodes, through_shared = recomputed.graph.store.nodes, []
    for event_id in identified:
        if event_id not in published and event_id not in expected:
            if all(isinstance(node := nodes.get(key), IdentifierState) and node.shared
                   for key in recomputed.identifiers_of[event_id]):
                through_shared.append(f"contact {event_id}")
                continue
            somewhere.fail(f"contact {event_id} carried {len(recomputed.identifiers_of[event_id])} identifier(s) and "
                           "is on no customer (not on customer.contacts)")
    if through_shared:
        report.count_items(THROUGH_SHARED_ONLY, through_shared)
    report.count_items("lost", somewhere.failures)


def _left_contact(event: Event, event_id: str, under: set[str], owners: set[str]) -> str:
    """A contact left by a claim, by ids only: what ``omnibus identity move-contact`` needs to move it (its screen-pop
    contact id, the customer it is under, the one its identifiers lead to)."""
    contact = f"contact {contact_id(event)} " if event.schema in CONTACT_SCHEMAS else ""
    return (f"{contact}(event {event_id}) under {', '.join(sorted(under))}; its identifiers lead to "
            f"{', '.join(sorted(owners))}")


def _owner_then(key: str, occurred: int, released: Mapping[str, list[Release]], topic_owner: Mapping[str, str],
                survivors: Mapping[str, str]) -> str | None:
    """The customer ``key`` led to when an event that occurred at ``occurred`` (epoch µs) carried it: the one an
    operator released it from since (``releases.held_then``), else its current one on the topic."""
    then = held_then(released[key], key, occurred) if key in released else None
    return final_customer(then, survivors) if then is not None else topic_owner.get(key)


def _moved_copies(outputs: IdentityOutputs, expected: set[str]) -> dict[str, str]:
    """Event id of a contact an operator's split or contact move, or a claim, moved, re-published under the new
    customer -> the contact's own (``graph/split_contacts.py``, ``graph/move_contact.py``): the copy names the contact
    as its cause and its id derives from a split or a move, or a claim's ``CustomerLinked`` (rule ``earliest-claim``),
    announced on ``customer.events.v1`` (``outputs.moved_contact_id``)."""
    splits = [record.event.value["envelope"]["event_id"] for record in outputs.customer_events
              if record.event is not None and (record.event.schema in (SPLIT, CONTACT_MOVED) or _claimed(record))]
    copies: dict[str, str] = {}
    for record in outputs.contacts if splits else ():
        envelope = record.event.value["envelope"] if record.event is not None else {}
        cause, event_id = envelope.get("causation_id"), envelope.get("event_id")
        if isinstance(event_id, str) and cause in expected \
                and any(moved_contact_id(split, cause) == event_id for split in splits):
            copies[event_id] = cause
    return copies


def operator_moves(outputs: IdentityOutputs, expected: set[str], survivors: Mapping[str, str]) -> dict[str, set[str]]:
    """Event id of a contact -> the customers (followed through merges) operators moved it to with ``omnibus identity
    move-contact`` (``ContactMoved`` of rule ``manual-move`` on ``customer.events.v1``): each event its
    ``moved_event_ids`` lists, and each of ``expected`` re-published under an id the move derives
    (``outputs.moved_contact_id``: an event of the contact that reached the source after the move,
    ``graph/move_contact.py`` ``follow``).

    The recomputation replays no contact move (it replays merges, splits and releases), and a contact stays where an
    operator moved it when a later split
    moves the identifiers it carried (``split_contacts.leaving``: the source no longer records it), so its
    identifiers' customer no longer says where it belongs: F4, merge then move-contact then split failed with "did not
    follow"."""
    moves: dict[str, str] = {}  # the move's announcement id -> its target now
    targets: dict[str, set[str]] = {}
    for record in outputs.customer_events:
        value = record.event.value if record.event is not None and record.event.schema == CONTACT_MOVED else None
        if value is not None and (value.get("lineage") or {}).get("rule") == MANUAL_MOVE:
            target = moves[value["envelope"]["event_id"]] = final_customer(value["target_customer_id"], survivors)
            for event_id in value["moved_event_ids"]:
                targets.setdefault(event_id, set()).add(target)
    for record in outputs.contacts if moves else ():
        envelope = record.event.value["envelope"] if record.event is not None else {}
        cause, event_id = envelope.get("causation_id"), envelope.get("event_id")
        if cause in expected:
            for move, target in moves.items():
                if moved_contact_id(move, cause) == event_id:
                    targets.setdefault(cause, set()).add(target)
    return targets


def _moved_cause(targets: set[str]) -> str:
    """Why a contact an operator moved may be under the wrong customer: it is not where the operator put it."""
    return f" (an operator moved it to {', '.join(sorted(targets))}, where it is not)"


def _claimed(record: Replayed) -> bool:
    """Whether a customer event is the ``CustomerLinked`` of a claim (``graph/claim_node.py``): contacts may follow."""
    event = record.event
    lineage = (event.value.get("lineage") or {}) if event is not None and event.schema == LINKED else {}
    return lineage.get("rule") == EARLIEST_CLAIM


def _housemates(nodes: Mapping[str, NodeState], keys: Iterable[str], survivors: Mapping[str, str]) -> set[str]:
    """The customers kept apart from the owner through one of ``keys`` (``IdentifierState.kept_apart`` in ``nodes``):
    a contact from a shared identifier goes to the housemate its caller's traits fit (``graph/seek.py``: a new
    user's calls and counter visits on a family phone, rightly under the housemate, failed this check)."""
    return {final_customer(customer, survivors) for key in keys
            if isinstance(state := nodes.get(key), IdentifierState) for customer in state.kept_apart}


def _split_cause(recomputed: Recomputed, event_id: str, outputs: IdentityOutputs) -> str:
    """Why a contact may be under the wrong customer: every identifier it carried was moved by an operator's split,
    and the contact did not follow them (#8 point 7, ``graph/split_contacts.py``: a contact follows while its
    customer's contact record holds it, the latest per channel; a processor before that version moved none)."""
    moved = {identifier_key(i) for record in outputs.customer_events if record.event is not None
             and record.event.schema == SPLIT for i in record.event.value["moved_identifiers"]}
    keys = set(recomputed.identifiers_of.get(event_id, ()))
    if keys and keys <= moved:
        return " (an operator split its identifiers off and the contact did not follow them)"
    return ""
