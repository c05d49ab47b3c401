from __future__ import annotations

from processors.identity.assignments import VERSION_HEADER, current_rows, supersedes, tombstone_headers, tombstone_version


def row(customer: str, version: int) -> dict:
    return {"customer_id": customer, "version": version}


def test_a_stale_row_written_last_is_ignored() -> None:
    """#13 case 1: a paused worker resumes and writes its old row after the new owner's."""
    rows = [("EMAIL:a", row("cus_1", 1)), ("EMAIL:a", row("cus_0", 2)), ("EMAIL:a", row("cus_1", 1))]
    assert current_rows(rows)["EMAIL:a"]["customer_id"] == "cus_0"


def test_equal_versions_take_the_later_offset_and_tombstones_remove() -> None:
    assert supersedes(2, 2) and supersedes(1, None) and not supersedes(1, 2)
    kept = current_rows([("k", row("a", 3)), ("k", row("b", 3)), ("gone", row("x", 1)), ("gone", None)])
    assert kept == {"k": row("b", 3)}


def test_unversioned_rows_give_way_to_versioned_ones() -> None:
    assert current_rows([("k", {"customer_id": "old"}), ("k", row("new", 1))])["k"]["customer_id"] == "new"


def test_a_versioned_tombstone_removes_the_row_and_keeps_older_rows_out() -> None:
    """An evicted identifier: the tombstone ends version 3; a stale version-3 row written after it stays
    out, a later assignment (version 4) brings the identifier back."""
    assert tombstone_version(tombstone_headers(3)) == 3
    assert tombstone_version([("other", b"1")]) is None and tombstone_version([(VERSION_HEADER, b"x")]) is None
    evicted = [("k", row("a", 2)), ("k", None, 3), ("k", row("a", 3)), ("k", row("a", 2))]
    assert current_rows(evicted) == {}
    assert current_rows([*evicted, ("k", row("b", 4))]) == {"k": row("b", 4)}
