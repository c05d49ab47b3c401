"""The verifier's contact records check: the contacts table and the customers' contact indexes name the same
contacts (``processors.verify.contact_records``), read from built changelog records."""

from __future__ import annotations

from bus.batch_restore import DoneBatches, batch_header, done_marker
from bus.fencing import fence_headers
from processors.identity.graph.contact_codec import encode_contact
from processors.identity.graph.context import token_hash
from processors.identity.graph.local import MemoryStore
from processors.identity.graph.messages.base import ContactRecord, EventRef
from processors.identity.graph.split_contacts import contact_key
from processors.identity.graph.state import CustomerState, IdentifierState, NodeState, encode_state
from processors.profile.book import ProfileBook
from processors.replay import Replayed
from processors.replay.identity import contacts_changelog, done_in, recompute, running_nodes
from processors.verify.contact_records import CONTACT_RECORDS, MISSING, UNINDEXED, check_contact_records
from processors.verify.identity_outputs import IdentityOutputs
from processors.verify.report import Report
from tests.processors.identity.support import interaction, observed, unlimited_settings
from tests.processors.verify.support import CONTACTS_IN, INPUT, SETTINGS, Run, checked, record

NODES = "v.identity-identity-nodes-changelog"
CONTACTS = contacts_changelog().name(SETTINGS.topics)
PHONE = "PHONE:+33612345678"


def contact(event_id: str, channel: str = "CALL_CENTER") -> ContactRecord:
    return ContactRecord(event_id, 1_000, channel, [PHONE],
                         EventRef("v.contact.events.v1", "omnibus.contact.CallCompleted", b"avro"))


def customer(*event_ids: str, parent: str = "") -> CustomerState:
    index: dict[str, bytes] = {}
    for event_id in event_ids:
        index["CALL_CENTER"] = index.get("CALL_CENTER", b"") + token_hash(event_id)
    return CustomerState(created=True, members={} if parent else {PHONE: (1, 0)}, parent=parent or None,
                         contact_index=index)


def nodes_changelog(nodes: dict[str, NodeState]) -> list[Replayed]:
    return [Replayed(NODES, 0, i, key.encode(), None, encode_state(state))
            for i, (key, state) in enumerate(nodes.items())]


def records_changelog(records: dict[str, list[str]], offset: int = 0) -> list[Replayed]:
    """Customer id -> the event ids of its records in the contacts table."""
    return [Replayed(CONTACTS, 0, offset + i, contact_key(owner, token_hash(event_id)).encode(), None,
                     encode_contact(contact(event_id)))
            for i, (owner, event_id) in enumerate((o, e) for o, ids in records.items() for e in ids)]


def checked_records(nodes: dict[str, NodeState], changelog: list[Replayed],
                    event_ids: tuple[str, ...] = ()) -> Report:
    report = Report()
    table, undecodable = running_nodes(nodes_changelog(nodes))
    assert undecodable == 0
    check_contact_records(table, changelog, event_ids, report, done=done_in(nodes_changelog(nodes)))
    return report


def consistent() -> dict[str, NodeState]:
    return {PHONE: IdentifierState(owner="cus_a"), "cus_a": customer("call-1", "call-2")}


def test_a_consistent_set_passes() -> None:
    report = checked_records(consistent(), records_changelog({"cus_a": ["call-1", "call-2"]}))
    check = report.check(CONTACT_RECORDS)
    assert check.ok and check.checked == 2
    assert report.figures[UNINDEXED] == 0 and report.figures[MISSING] == 0


def test_a_record_its_customer_does_not_index_fails() -> None:
    report = checked_records(consistent(), records_changelog({"cus_a": ["call-1", "call-2", "call-3"]}))
    assert report.check(CONTACT_RECORDS).failures == [
        "contact call-3: record of customer cus_a, which does not name it"]
    assert report.figures[UNINDEXED] == 1 and report.items[UNINDEXED] == report.check(CONTACT_RECORDS).failures


def test_an_index_entry_without_its_record_fails_by_its_event_id() -> None:
    report = checked_records(consistent(), records_changelog({"cus_a": ["call-1"]}), ("call-1", "call-2"))
    assert report.check(CONTACT_RECORDS).failures == ["contact call-2: named by customer cus_a, no record"]
    assert report.figures[MISSING] == 1 and report.figures[UNINDEXED] == 0


def test_an_entry_no_event_of_the_run_hashes_to_is_named_by_its_table_key() -> None:
    report = checked_records(consistent(), records_changelog({"cus_a": ["call-1"]}))
    key = contact_key("cus_a", token_hash("call-2"))
    assert report.check(CONTACT_RECORDS).failures == [f"contact {key}: named by customer cus_a, no record"]


def test_a_deleted_record_is_missing() -> None:
    """A tombstone removes the record, as a restore does."""
    changelog = records_changelog({"cus_a": ["call-1", "call-2"]})
    changelog.append(Replayed(CONTACTS, 0, len(changelog), changelog[1].key, None, None))
    report = checked_records(consistent(), changelog, ("call-2",))
    assert report.check(CONTACT_RECORDS).failures == ["contact call-2: named by customer cus_a, no record"]


def test_a_merged_away_customer_keeps_neither_records_nor_index() -> None:
    nodes = {**consistent(), "cus_c": customer(parent="cus_a")}
    assert checked_records(nodes, records_changelog({"cus_a": ["call-1", "call-2"]})).ok


def test_records_a_merged_away_customer_left_behind_fail() -> None:
    nodes = {**consistent(), "cus_c": customer(parent="cus_a")}
    report = checked_records(nodes, records_changelog({"cus_a": ["call-1", "call-2"], "cus_c": ["call-0"]}))
    assert report.check(CONTACT_RECORDS).failures == [
        "contact call-0: record of customer cus_c (merged into cus_a), which does not name it"]


def test_a_merged_away_customer_still_indexing_its_contacts_fails() -> None:
    nodes = {**consistent(), "cus_c": customer("call-0", parent="cus_a")}
    report = checked_records(nodes, records_changelog({"cus_a": ["call-1", "call-2"]}), ("call-0",))
    assert report.check(CONTACT_RECORDS).failures == [
        "contact call-0: named by customer cus_c (merged into cus_a), no record"]


def test_a_record_of_a_customer_not_in_the_node_table_fails() -> None:
    report = checked_records(consistent(), records_changelog({"cus_a": ["call-1", "call-2"], "cus_z": ["call-9"]}))
    assert report.check(CONTACT_RECORDS).failures == [
        "contact call-9: record of customer cus_z (not in the node table), which does not name it"]


def test_an_undecodable_record_fails() -> None:
    changelog = records_changelog({"cus_a": ["call-1", "call-2"]})
    changelog.append(Replayed(CONTACTS, 0, 9, changelog[0].key, None, b"\x01not zstd"))
    changelog.append(Replayed(CONTACTS, 0, 10, changelog[0].key, None, encode_contact(contact("call-1"))))
    report = checked_records(consistent(), changelog)
    assert report.check(CONTACT_RECORDS).failures == ["1 contact record could not be decoded"]


def test_no_identifier_value_in_the_failures() -> None:
    report = checked_records(consistent(), records_changelog({"cus_a": ["call-3"]}), ("call-1", "call-2"))
    assert len(report.check(CONTACT_RECORDS).failures) == 3
    assert not any("+33612345678" in line for lines in report.items.values() for line in lines)


def table_changelog(store: MemoryStore) -> list[Replayed]:
    return [Replayed(CONTACTS, 0, i, key.encode(), None, encode_contact(record))
            for i, (key, record) in enumerate(store.contacts.items())]


def test_a_settled_merge_of_two_customers_with_contacts_passes() -> None:
    """The recomputation's own tables: two customers, a call each, merged by a third observation; the loser's index
    emptied and its records deleted (``customer_merge.py``)."""
    inputs = [record(INPUT, "a", observed([("EMAIL", "a@example.org")], event_id="e1"), 0),
              record(CONTACTS_IN, "a", interaction([("EMAIL", "a@example.org")], minutes=1), 0),
              record(INPUT, "c", observed([("EMAIL", "c@example.org")], event_id="e2", minutes=2), 1),
              record(CONTACTS_IN, "c", interaction([("EMAIL", "c@example.org")], minutes=3), 1),
              record(INPUT, "b", observed([("EMAIL", "a@example.org"), ("EMAIL", "c@example.org")], event_id="e3",
                                          minutes=4), 2)]
    recomputed = recompute(inputs, SETTINGS, unlimited_settings(), ProfileBook([]))
    store = recomputed.graph.store
    assert len(store.contacts) == 2 and any(isinstance(s, CustomerState) and s.parent for s in store.nodes.values())
    report = Report()
    check_contact_records(store.nodes, table_changelog(store), recomputed.contacts, report, done=DoneBatches())
    assert report.check(CONTACT_RECORDS).ok and report.check(CONTACT_RECORDS).checked == 2


def test_the_identity_checks_run_it_on_the_contacts_changelog() -> None:
    run = Run()
    store = run.recomputed.graph.store
    changelog = table_changelog(store)
    assert changelog
    report = checked(run, IdentityOutputs(**{**vars(run.outputs()), "contact_records": changelog}))
    assert report.check(CONTACT_RECORDS).ok and report.check(CONTACT_RECORDS).checked == len(store.contacts)
    broken = checked(run, IdentityOutputs(**{**vars(run.outputs()), "contact_records": changelog[1:]}))
    key = changelog[0].key.decode()  # type: ignore[union-attr]
    assert broken.check(CONTACT_RECORDS).failures == [
        f"contact {store.contacts[key].event_id}: named by customer {key.split('/')[0]}, no record"]
    assert report.figures[MISSING] == 0 and broken.figures[MISSING] == 1


def test_without_the_contacts_changelog_the_check_does_not_run() -> None:
    run = Run()
    report = checked(run, run.outputs())
    assert CONTACT_RECORDS not in [check.name for check in report.checks]


def _in_batch(topic: str, offset: int, key: str, value: bytes, batch: str) -> Replayed:
    return Replayed(topic, 0, offset, key.encode(), None, value, (*fence_headers(1), batch_header(batch)))


def _done(offset: int, seq: int) -> Replayed:
    key, value, headers = done_marker(("w1", seq), 1)
    return Replayed(NODES, 0, offset, key, None, value, headers)


def test_a_batch_cut_by_a_stop_is_read_as_its_owner_took_it_back_in_both_tables() -> None:
    """Batch w1:2 (contact e2 and its index entry) has no done marker: its owner took it back in both tables after
    its restore, whichever of its two changelogs it reached; verify reads it the same, so the part that landed fails
    nothing (read record by record, the record without its entry, or the entry without its record, would)."""
    first = [_in_batch(NODES, 0, "cus_1", encode_state(customer("e1")), "w1:1"), _done(1, 1)]
    cut_index = _in_batch(NODES, 2, "cus_1", encode_state(customer("e1", "e2")), "w1:2")
    records = [_in_batch(CONTACTS, 0, contact_key("cus_1", token_hash("e1")), encode_contact(contact("e1")), "w1:1")]
    cut_record = _in_batch(CONTACTS, 1, contact_key("cus_1", token_hash("e2")), encode_contact(contact("e2")), "w1:2")
    for nodes, contacts in (([*first], [*records, cut_record]), ([*first, cut_index], records)):
        table, _ = running_nodes(nodes)
        assert set(table) == {"cus_1"} and table["cus_1"].contact_index == customer("e1").contact_index
        report = Report()
        check_contact_records(table, contacts, ("e1", "e2"), report, done=done_in(nodes))
        assert report.check(CONTACT_RECORDS).ok and report.check(CONTACT_RECORDS).checked == 1
        finished = [*nodes, _done(9, 2)]  # the same batch with its done marker: kept whole
        report = Report()
        check_contact_records(running_nodes(finished)[0], contacts, ("e1", "e2"), report, done=done_in(finished))
        assert not report.check(CONTACT_RECORDS).ok
