"""The memory bench's workload: a contact history is each person's repeat contacts, later, after every first one."""

from __future__ import annotations

from tests.bench.identity_memory import _people, build_tables, parts_of


def _ids(event: object) -> list[tuple[str, str]]:
    return [(item["type"], item["value"]) for item in event.value["customer_identifiers"]]  # type: ignore[attr-defined]


def test_each_person_comes_back_with_the_same_identifiers_after_every_first_contact() -> None:
    once, thrice = list(_people(6)), list(_people(6, contacts=3))
    assert len(thrice) == 3 * len(once) == 9
    assert [_ids(event) for event in thrice] == [_ids(event) for event in once] * 3
    assert len({event.value["interaction_id"] for event in thrice}) == 9  # each a contact of its own


def test_a_history_is_held_by_the_customer_nodes_not_by_more_nodes() -> None:
    once, thrice = build_tables(_people(6)), build_tables(_people(6, contacts=3))
    (before, after) = parts_of(once[0]), parts_of(thrice[0])
    nodes = ("identifier", "customer", "blocking")
    assert {part: before[part][0] for part in nodes} == {part: after[part][0] for part in nodes}
    assert after["contact"][0] == 3 * before["contact"][0] > 0  # their contact records (split_contacts.py)


def test_the_contact_records_are_held_compressed() -> None:
    from processors.identity.graph.contact_codec import CONTACT_ZSTD_V1, decode_contact

    nodes, _ = build_tables(_people(40))
    records = [value for key, value in nodes.items() if b"/" in key]
    assert len(records) == 20 and all(value[0] == CONTACT_ZSTD_V1 for value in records)
    assert sum(map(len, records)) / len(records) < 300  # ~390 bytes each as plain msgpack (1 M identifiers: ~63 B less)
    assert all(decode_contact(value).ids for value in records)
