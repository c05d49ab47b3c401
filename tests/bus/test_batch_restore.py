from __future__ import annotations

from typing import Any

from bus.batch_restore import (
    BATCH_HEADER,
    BatchIds,
    ChangelogRecord,
    DoneBatches,
    Rollback,
    TailUndo,
    batch_header,
    done_batches,
    done_marker,
    done_of,
    record_batch,
    restored_changelog,
    take_back,
)
from bus.fencing import fence_headers, fence_marker, is_marker, record_version


def test_a_writers_batch_ids_count_from_one_and_read_back_from_the_header() -> None:
    ids = BatchIds("w1")
    first, second = ids.next(), ids.next()
    assert (first, second) == ("w1:1", "w1:2")
    assert record_batch([batch_header(second)]) == ("w1", 2)
    assert record_batch({BATCH_HEADER: b"w1:7"}) == ("w1", 7)
    assert BatchIds().writer != BatchIds().writer  # one token per store


def test_a_record_without_a_readable_batch_header_has_no_batch() -> None:
    assert record_batch(None) is None
    assert record_batch([("omnibus-fence", b"3")]) is None
    assert record_batch([(BATCH_HEADER, b"no-seq")]) is None
    assert record_batch([(BATCH_HEADER, b"w1:x")]) is None


def test_a_done_marker_is_a_fence_marker_to_every_reader_and_names_its_batch() -> None:
    key, value, headers = done_marker(("w1", 12), 5)
    assert is_marker(key) and record_version(headers) == 5
    assert done_of(key, value) == ("w1", 12)
    assert done_of(b"cus_1", b"12") is None
    assert done_of(key, None) is None


def test_done_batches_keep_the_highest_seq_per_writer_and_partition_and_forget_an_earlier_generation() -> None:
    done = DoneBatches()
    done.start(4)
    done.add(0, ("w1", 3))
    done.add(0, ("w1", 2))
    done.add(0, ("w2", 1))
    done.add(1, ("w1", 9))
    assert done.of(0) == {"w1": 3, "w2": 1}
    done.start(4)  # another table of the same restore
    assert done.of(1) == {"w1": 9}
    done.start(5)
    assert done.of(0) == {}


def test_a_batch_above_its_writers_done_marker_is_taken_back_with_every_later_batch_of_that_writer() -> None:
    tail = TailUndo()
    tail.applied(0, ("w1", 1), b"a", None)
    tail.applied(0, ("w1", 2), b"a", b"a1")
    tail.applied(0, ("w1", 2), b"b", b"b0")
    tail.applied(0, ("w1", 3), b"c", None)
    tail.applied(1, ("w1", 2), b"z", None)  # another partition: its own done markers
    rollback = tail.roll_back(0, {"w1": 1})
    assert rollback.values == {b"a": b"a1", b"b": b"b0", b"c": None}
    assert rollback.batches == [("w1", 2), ("w1", 3)] and not rollback.beyond
    assert tail.roll_back(0, {"w1": 3}).values == {}


def test_a_writer_without_any_done_marker_has_all_its_batches_taken_back() -> None:
    tail = TailUndo()
    tail.applied(0, ("w1", 4), b"a", b"before")
    assert tail.roll_back(0, {}).values == {b"a": b"before"}


def test_a_key_written_again_after_the_batch_by_a_record_not_taken_back_keeps_its_value() -> None:
    tail = TailUndo()
    tail.applied(0, ("old", 7), b"a", b"a0")
    tail.applied(0, ("old", 7), b"b", b"b0")
    tail.applied(0, None, b"a", b"a-taken-back-before")  # the owner's rewrite after an earlier take-back
    tail.applied(0, ("new", 1), b"b", b"b-old")
    rollback = tail.roll_back(0, {"new": 1})
    assert rollback.values == {} and rollback.kept == 2


def test_a_key_a_later_batch_not_done_wrote_after_the_rewrite_goes_back_to_the_rewrite() -> None:
    """Two stops in one partition: w1:7 cut and taken back, the owner's rewrite of its keys, then the owner's own
    batch w2:1 cut too. The next restore takes w2:1 back to the rewrite's value, not keeps w2:1's write."""
    tail = TailUndo()
    tail.applied(0, ("w1", 7), b"a", b"a0")
    tail.applied(0, None, b"a", b"a7")  # the rewrite after w1:7 was taken back: a0 again
    tail.applied(0, ("w2", 1), b"a", b"a0")
    tail.applied(0, ("w2", 1), b"b", None)
    rollback = tail.roll_back(0, {})
    assert rollback.values == {b"a": b"a0", b"b": None} and rollback.kept == 0
    assert rollback.batches == [("w1", 7), ("w2", 1)]
    tail.applied(0, None, b"a", b"a1")  # written again after w2:1 too: stays
    assert tail.roll_back(0, {}).values == {b"b": None} and tail.roll_back(0, {}).kept == 1


def test_records_without_a_batch_before_any_with_one_are_not_kept() -> None:
    tail = TailUndo(runs=2)
    for index in range(100):  # a changelog written before batch ids: restored as before, nothing kept
        tail.applied(0, None, str(index).encode(), None)
    tail.applied(0, ("w1", 1), b"a", b"legacy")
    assert tail.roll_back(0, {}).values == {b"a": b"legacy"}


def test_a_batch_not_done_whose_first_runs_were_let_go_is_reported_beyond() -> None:
    tail = TailUndo(runs=2)
    tail.applied(0, ("w1", 1), b"a", None)
    tail.applied(0, ("w2", 1), b"b", None)
    tail.applied(0, ("w1", 1), b"c", None)  # a run of w1:1 again: the first one is let go
    rollback = tail.roll_back(0, {})
    assert rollback.beyond and b"a" not in rollback.values
    assert not tail.roll_back(0, {"w1": 1, "w2": 1}).beyond


def _record(offset: int, key: bytes, value: bytes | None, batch: str | None = None, version: int = 1,
            partition: int = 0) -> ChangelogRecord:
    headers = [*fence_headers(version), *([batch_header(batch)] if batch else [])]
    return ChangelogRecord(partition, offset, key, value, headers)


def _done(offset: int, batch: tuple[str, int], version: int = 1, partition: int = 0) -> ChangelogRecord:
    key, value, headers = done_marker(batch, version)
    return ChangelogRecord(partition, offset, key, value, list(headers))


def _fence(offset: int, version: int, partition: int = 0) -> ChangelogRecord:
    key, value, headers = fence_marker(version)
    return ChangelogRecord(partition, offset, key.encode(), value.encode(), list(headers))


def _read(records: list[ChangelogRecord], done: DoneBatches) -> dict[bytes, Any]:
    undecodable: list[int] = []
    table = restored_changelog(records, done, bytes.decode, lambda record, _: undecodable.append(record.offset),
                               (UnicodeDecodeError,))
    assert not undecodable
    return table


def test_a_reader_takes_back_a_batch_cut_by_a_stop_as_the_owners_restore_does() -> None:
    """``omnibus verify`` and ``replay identity`` read a changelog as its owner holds it: batch w1:2 was cut (no done
    marker before the new owner's fence marker; its marker, written late, is skipped), so its writes are taken
    back, w1:1's stay, and a tombstone of the cut batch gives its key back."""
    nodes = [_record(0, b"a", b"a1", "w1:1"), _record(1, b"gone", b"g1", "w1:1"), _done(2, ("w1", 1)),
             _record(3, b"a", b"a2", "w1:2"), _record(4, b"c", b"c2", "w1:2"), _record(5, b"gone", None, "w1:2"),
             _fence(6, 2),  # the new owner's fence marker
             _done(7, ("w1", 2), version=1)]  # the cut batch's marker, written late: skipped
    done = done_batches(nodes)
    assert done.of(0) == {"w1": 1}
    assert _read(nodes, done) == {b"a": "a1", b"gone": "g1"}


def test_the_reader_takes_back_in_each_partition_by_its_own_markers_and_keeps_a_key_written_again_later() -> None:
    records = [_record(0, b"a", b"a1", "w1:1"), _record(1, b"a", b"a2", "w1:2"), _record(2, b"b", b"b2", "w1:2"),
               _record(3, b"b", b"b3", "w2:1", version=2),  # the new owner's rewrite, done below
               _record(0, b"z", b"z2", "w1:2", partition=1)]
    done = done_batches([_done(0, ("w1", 1)), _done(1, ("w2", 1), version=2), _done(0, ("w1", 2), partition=1)])
    assert _read(records, done) == {b"a": "a1", b"b": "b3", b"z": "z2"}


def test_the_reader_reads_records_without_a_batch_record_by_record_and_counts_what_does_not_decode() -> None:
    records = [_record(0, b"a", b"a0"), _record(1, b"a", b"a1"), _record(2, b"b", b"\xff"),
               _record(3, b"c", b"c1", "w1:1")]
    bad: list[int] = []
    table = restored_changelog(records, DoneBatches(), bytes.decode, lambda record, _: bad.append(record.offset),
                               (UnicodeDecodeError,))
    assert table == {b"a": "a1"} and bad == [2]  # w1:1 has no done marker: taken back


def test_the_restore_and_the_reader_take_back_with_the_same_code() -> None:
    """One declaration: ``FencedTable`` and ``restored_changelog`` both give the keys their values through
    ``take_back``."""
    import inspect

    from bus import fenced_table

    assert "take_back(" in inspect.getsource(fenced_table.FencedTable._take_back_partial_batches)
    store = {b"a": b"a2", b"b": b"b2"}
    take_back(store, Rollback({b"a": b"a1", b"b": None}, [("w1", 2)]))
    assert store == {b"a": b"a1"}
