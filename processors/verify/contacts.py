"""Identity's contact checks: every contact identity took is on ``customer.contacts.v1``, under the right customer.

A contact is an event of identity's contact input (a call, a counter visit, a web message) that carried identifiers.
The recomputation (``processors.replay.identity``) resolves it to a customer; the running processor re-publishes it
on ``customer.contacts.v1`` keyed by the customer it placed it on. It may rightly stand elsewhere than its
identifiers' current customer: under the customer that held an identifier when the contact occurred, where a release
or a claim moved it since (``processors.replay.holders``), a housemate kept apart through a shared identifier
(``graph/seek.py``), where an operator moved it (``omnibus identity move-contact``), or as a copy a split or a claim
re-published (``graph/split_contacts.py``, ``graph/claim_node.py``). Figures: ``LEFT_BY_A_CLAIM``,
``UNIDENTIFIED_CONTACTS``, ``THROUGH_SHARED_ONLY``, and ``lost``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from bus.plural import counted
from bus.serde import Event
from processors.identity.graph.outputs import Resolved, moved_contact_id
from processors.identity.graph.state import IdentifierState, NodeState
from processors.identity.review import identifier_key
from processors.identity.rules import MANUAL_MOVE
from processors.profile.sections.recent_contacts import RecentContactsSection, contact_id
from processors.replay.holders import HolderHistory, claimed, holder_history
from processors.replay.identity import Recomputed
from processors.replay.operators import MERGED, SPLIT
from processors.verify.identity_outputs import IdentityOutputs, final_customer, record_key
from processors.verify.report import Check, Report

# The announcements on ``customer.events.v1`` after which a contact may stand elsewhere (besides ``SPLIT`` and a
# claim's ``CustomerLinked``, ``holders.claimed``).
CONTACT_MOVED = "omnibus.identity.ContactMoved"  # an operator moved one contact (``omnibus identity move-contact``)
CONTACT_SCHEMAS = RecentContactsSection.schemas  # the contacts a screen pop lists by a contact id
REFLECTED = "identity: every resolved contact is on customer.contacts"
REKEYED = "identity: each contact is keyed by its identifiers' customer or a housemate"
SOMEWHERE = "identity: every contact with an identifier is on some customer"
LEFT_BY_A_CLAIM = "contacts left by a claim"  # a figure (``check_contacts``)
UNIDENTIFIED_CONTACTS = "contacts without an identifier"  # a figure (``_check_on_some_customer``)
THROUGH_SHARED_ONLY = "contacts through shared identifiers only"  # a figure (``_check_on_some_customer``)


def check_contacts(recomputed: Recomputed, outputs: IdentityOutputs, contacts_topic: str,
                   survivors: Mapping[str, str], topic_owner: Mapping[str, str], table: Mapping[str, NodeState],
                   report: Report) -> None:
    """Every contact the recomputation resolves is on ``customer.contacts``, keyed by the current customer of its
    identifiers (of one a release or a claim moved since the contact occurred: the customer that held it then,
    ``holders.holder_history``) or by a customer kept apart from it through one of them (``_housemates``): by the
    recomputation, or by the running node table (``table``), where a claim's giver is noted
    (``claim_node.on_give``), or by the customer an operator moved it to (``operator_moves``). A contact a split or a
    claim moved is re-published under its new customer (``_moved_copies``). One that is still only under a claim's
    giver (a processor before contacts followed claims, or a contact beyond the giver's contact records) is counted as
    ``LEFT_BY_A_CLAIM`` and listed by ids (``Report.items``); it does not fail. Then every contact with an identifier
    must be on some customer (``_check_on_some_customer``); both count their misses in ``lost``.

    ``contacts_topic``: identity's contact input topic; ``survivors``: merged-away customer id -> survivor
    (``identity_outputs.merges``); ``topic_owner``: identifier key -> its customer id on ``customer.identifiers``."""
    expected = {d.triggering_event_id for d in recomputed.graph.decisions
                if isinstance(d, Resolved) and d.event_ref and d.event_ref.topic == contacts_topic}
    holders = holder_history(outputs.customer_events, recomputed.occurred_at)
    published: dict[str, set[str]] = {}
    events: dict[str, Event] = {}  # a contact's event id -> its event as published (its screen-pop contact id)
    copy_of = _moved_copies(outputs, expected)
    moved_to = operator_moves(outputs, expected, survivors)
    for record in outputs.contacts:
        if record.event is not None and record.event.schema != MERGED:
            event_id = record.event.value["envelope"]["event_id"]
            event_id = copy_of.get(event_id, event_id)
            published.setdefault(event_id, set()).add(final_customer(record_key(record), survivors))
            events.setdefault(event_id, record.event)
    reflected = report.add(Check(REFLECTED, len(expected)))
    rekeyed = report.add(Check(REKEYED, len(expected)))
    for event_id in sorted(expected):
        if event_id not in published:
            reflected.fail(f"contact {event_id} is not on customer.contacts")
            continue
        keys = recomputed.identifiers_of.get(event_id, [])
        occurred = recomputed.occurred_at.get(event_id, 0)
        owners = {owner for key in keys
                  if (owner := _owner_then(key, occurred, holders, topic_owner, survivors)) is not None}
        if not owners or published[event_id] & (owners | moved_to.get(event_id, set())
                                                | _housemates(recomputed.graph.store.nodes, keys, survivors)):
            continue
        if published[event_id] & _housemates(table, keys, survivors):
            report.count_item(LEFT_BY_A_CLAIM, _left_contact(events[event_id], event_id, published[event_id], owners))
            continue
        rekeyed.fail(f"contact {event_id} is under {counted(len(published[event_id]), 'customer')}, none of them "
                     f"the current customer of its identifiers" + (
                         _moved_cause(moved_to[event_id]) if event_id in moved_to
                         else _split_cause(recomputed, event_id, outputs)))
    report.count_items("lost", reflected.failures)
    _check_on_some_customer(recomputed, expected, published, report)


def _check_on_some_customer(recomputed: Recomputed, expected: set[str], published: Mapping[str, set[str]],
                            report: Report) -> None:
    """Every contact identity took from its input with an identifier is on ``customer.contacts`` under some customer,
    whether or not the recomputation resolves it (a late call from a released number, unresolved by
    both, passed the check above, which fails a resolved one; each counts once in ``lost``). One with no usable
    identifier (number withheld) can reach no customer: counted as ``UNIDENTIFIED_CONTACTS``, not failed; nor can
    one whose identifiers are all shared (past ``shared_after``: they link nobody, the screen pop's ``links: false``)
    and that the recomputation leaves unresolved too: counted as ``THROUGH_SHARED_ONLY``, not failed (a call with no
    IVR traits from a landline four tenants' records carried failed as lost)."""
    contacts = list(dict.fromkeys(recomputed.contacts))
    identified = [event_id for event_id in contacts if recomputed.identifiers_of.get(event_id)]
    # a figure only when there are some (the usual report stays as it was); listed by event id
    unidentified = [f"contact {event_id}" for event_id in contacts if not recomputed.identifiers_of.get(event_id)]
    if unidentified:
        report.count_items(UNIDENTIFIED_CONTACTS, unidentified)
    somewhere = report.add(Check(SOMEWHERE, len(identified)))
    nodes, through_shared = recomputed.graph.store.nodes, []
    for event_id in identified:
        if event_id not in published and event_id not in expected:
            if all(isinstance(node := nodes.get(key), IdentifierState) and node.shared
                   for key in recomputed.identifiers_of[event_id]):
                through_shared.append(f"contact {event_id}")
                continue
            carried = counted(len(recomputed.identifiers_of[event_id]), "identifier")
            somewhere.fail(f"contact {event_id} carried {carried} and is on no customer (not on customer.contacts)")
    if through_shared:
        report.count_items(THROUGH_SHARED_ONLY, through_shared)
    report.count_items("lost", somewhere.failures)


def _left_contact(event: Event, event_id: str, under: set[str], owners: set[str]) -> str:
    """A contact left by a claim, by ids only: what ``omnibus identity move-contact`` needs to move it (its screen-pop
    contact id, the customer it is under, the one its identifiers lead to)."""
    contact = f"contact {contact_id(event)} " if event.schema in CONTACT_SCHEMAS else ""
    return (f"{contact}(event {event_id}) under {', '.join(sorted(under))}; its identifiers lead to "
            f"{', '.join(sorted(owners))}")


def _owner_then(key: str, occurred: int, holders: HolderHistory, topic_owner: Mapping[str, str],
                survivors: Mapping[str, str]) -> str | None:
    """The customer ``key`` led to when an event that occurred at ``occurred`` (epoch µs) carried it: the one that
    held it then where a release or a claim moved it since (``HolderHistory.held_then``), else its current one on the
    topic; followed through merges."""
    then = holders.held_then(key, occurred)
    return final_customer(then, survivors) if then is not None else topic_owner.get(key)


def _moved_copies(outputs: IdentityOutputs, expected: set[str]) -> dict[str, str]:
    """Event id of a contact an operator's split or contact move, or a claim, moved, re-published under the new
    customer -> the contact's own (``graph/split_contacts.py``, ``graph/move_contact.py``): the copy names the contact
    as its cause and its id derives from a split or a move, or a claim's ``CustomerLinked`` (rule ``earliest-claim``),
    announced on ``customer.events.v1`` (``graph.outputs.moved_contact_id``)."""
    # the event ids of the announcements that move contacts: splits, contact moves, claims
    movers = [record.event.value["envelope"]["event_id"] for record in outputs.customer_events
              if record.event is not None and (record.event.schema in (SPLIT, CONTACT_MOVED) or claimed(record))]
    copies: dict[str, str] = {}
    for record in outputs.contacts if movers else ():
        envelope = record.event.value["envelope"] if record.event is not None else {}
        cause, event_id = envelope.get("causation_id"), envelope.get("event_id")
        if isinstance(event_id, str) and cause in expected \
                and any(moved_contact_id(mover, cause) == event_id for mover in movers):
            copies[event_id] = cause
    return copies


def operator_moves(outputs: IdentityOutputs, expected: set[str], survivors: Mapping[str, str]) -> dict[str, set[str]]:
    """Event id of a contact -> the customers (followed through merges) operators moved it to with ``omnibus identity
    move-contact`` (``ContactMoved`` of rule ``manual-move`` on ``customer.events.v1``): each event its
    ``moved_event_ids`` lists, and each of ``expected`` re-published under an id the move derives
    (``graph.outputs.moved_contact_id``: an event of the contact that reached the source after the move,
    ``graph/move_contact.py`` ``follow``).

    The recomputation replays no contact move (it replays merges, splits and releases), and a contact stays where an
    operator moved it when a later split moves the identifiers it carried (``split_contacts.leaving``: the source no
    longer records it), so its identifiers' customer no longer says where it belongs: F4, merge then move-contact then
    split failed with "did not follow"."""
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
