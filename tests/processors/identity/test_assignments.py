from __future__ import annotations

from processors.identity.assignments import current_rows, supersedes


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
