"""Identity's contact records against their customers' indexes, in the running tables.

A customer keeps each contact event applied to it as its own entry of the ``identity-contacts`` table (key
``<customer id>/<12 hex digits>``, the 6-byte hash of the event id: ``graph/split_contacts.py`` ``contact_key``) and
names it in its node state's ``CustomerState.contact_index`` (per channel, those hashes). The two are written by one
graph batch, to two changelogs. A batch restored in part after a rebalance (a worker stopped while it sent the
changelogs: one table's records before the new owner's fence markers, the other's after) leaves a record no index
names, or an index entry without its record: a split or a merge then moves a contact that is not there, or leaves
one behind. ``LocalGraph.check_consistent`` checks the same in the harness (``test_partial_restore.py``).

Both tables are read as their owner holds them after a restore (``processors.replay.identity.latest_by_key``: the
fence skips a late write, a batch without its done marker is taken back). A merged-away customer's index is emptied
and its records deleted when its merge is done (``customer_merge.py``): one left behind fails here too. A state saved
before the index kept its records inline (``CustomerState.contact_records``): not in the table, not checked. Figures:
``UNINDEXED`` and ``MISSING``, listed by customer id and contact event id (or the table key, when no event id of the
run hashes to it): no identifier.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from bus.batch_restore import DoneBatches
from bus.plural import counted
from processors.identity.graph.contact_codec import decode_contact
from processors.identity.graph.context import token_hash
from processors.identity.graph.split_contacts import KEY_SEPARATOR, keys_of
from processors.identity.graph.state import CustomerState, NodeState
from processors.replay import Replayed
from processors.replay.identity import latest_by_key
from processors.verify.report import Check, Report

CONTACT_RECORDS = "identity: every contact record is named by its customer's index, and every entry has its record"
UNINDEXED = "contact records without an index entry"  # a figure (``check_contact_records``)
MISSING = "index entries without a contact record"  # a figure (``check_contact_records``)


def check_contact_records(nodes: Mapping[str, NodeState], changelog: Iterable[Replayed], event_ids: Iterable[str],
                          report: Report, *, done: DoneBatches) -> Check:
    """Every record of the contacts table (``changelog``: its changelog, raw) is named by the ``contact_index`` of
    the customer its key starts with, in ``nodes`` (the running node table: ``running_nodes``), and every entry of a
    customer's index has its record. ``event_ids``: the contact events of the run (``Recomputed.contacts``), to name
    an entry without a record by its event id; ``done``: the node changelog's done markers (``done_in``), so that a
    batch cut by a stop is taken back as the owner takes it back. Checked: records and entries, each key once; a value
    that does not decode fails. Failures count in ``UNINDEXED`` and ``MISSING``."""
    records, undecodable = latest_by_key(changelog, decode_contact, done)
    indexed = {key: customer for customer, state in nodes.items() if isinstance(state, CustomerState)
               for key in keys_of(customer, state.contact_index)}
    check = report.add(Check(CONTACT_RECORDS, len(set(records) | set(indexed))))
    if undecodable:
        check.fail(f"{counted(undecodable, 'contact record')} could not be decoded")
    unindexed = [f"contact {records[key].event_id}: record of {_customer(nodes, key)}, which does not name it"
                 for key in sorted(set(records) - set(indexed))]
    by_hash = {token_hash(event_id).hex(): event_id for event_id in event_ids}
    missing = [f"contact {_contact(key, by_hash)}: named by {_customer(nodes, key)}, no record"
               for key in sorted(set(indexed) - set(records))]
    check.failures += unindexed + missing
    report.count_items(UNINDEXED, unindexed)
    report.count_items(MISSING, missing)
    return check


def _customer(nodes: Mapping[str, NodeState], key: str) -> str:
    """The customer a contacts-table key starts with, as a failure names it: merged into whom, or not in the table."""
    customer = key.partition(KEY_SEPARATOR)[0]
    state = nodes.get(customer)
    if not isinstance(state, CustomerState):
        return f"customer {customer} (not in the node table)"
    return f"customer {customer}" + (f" (merged into {state.parent})" if state.parent else "")


def _contact(key: str, by_hash: Mapping[str, str]) -> str:
    """The contact event id whose hash ends ``key``, else the key itself (a hash and a customer id: no identifier)."""
    return by_hash.get(key.partition(KEY_SEPARATOR)[2], key)

