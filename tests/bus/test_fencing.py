from __future__ import annotations

from bus.fencing import (
    FENCE_HEADER,
    UNVERSIONED,
    AssignmentFence,
    ChangelogFence,
    batch_version,
    fence_headers,
    fence_marker,
    is_marker,
    record_version,
)
from bus.metrics import PUBLISH_FENCED


def test_a_batch_may_not_publish_after_a_revocation_or_for_a_partition_it_lost() -> None:
    owned = {("graph", 0), ("graph", 1)}
    fence = AssignmentFence(lambda: owned, "test-fence")
    before = PUBLISH_FENCED.labels(component="test-fence")._value.get()  # noqa: SLF001
    stamp = fence.stamp()
    assert fence.allows(stamp, [("graph", 0), ("graph", 1)])
    fence.revoked()  # a rebalance while the batch ran: its decisions may be stale
    assert not fence.allows(stamp, [("graph", 0)])
    stamp = fence.stamp()
    owned.discard(("graph", 1))
    assert fence.allows(stamp, [("graph", 0)]) and not fence.allows(stamp, [("graph", 1)])
    assert PUBLISH_FENCED.labels(component="test-fence")._value.get() == before + 2  # noqa: SLF001


def test_a_changelog_record_below_the_highest_version_read_in_its_partition_is_skipped() -> None:
    fence = ChangelogFence()
    assert fence.admits(0, 0, fence_headers(3))
    assert fence.admits(0, 1, fence_headers(4))  # the new owner (a rebalance raised the generation)
    assert not fence.admits(0, 2, fence_headers(3))  # the paused worker's late write
    assert fence.admits(1, 3, fence_headers(3))  # another partition has its own order
    assert fence.admits(0, 3, fence_headers(4)) and fence.skipped == 1
    assert fence.highest(0) == 4 and fence.highest(7) == UNVERSIONED


def test_equal_versions_keep_offset_order_and_records_without_a_version_are_the_lowest() -> None:
    fence = ChangelogFence()
    assert fence.admits(0, 0, None) and fence.admits(0, 1, [("other", b"x")])  # written before versions
    assert fence.admits(0, 2, fence_headers(5)) and fence.admits(0, 3, fence_headers(5))  # same owner: in order
    assert not fence.admits(0, 4, None)  # an unversioned record after a versioned one
    assert not fence.admits(0, 5, [(FENCE_HEADER, b"not a number")])
    assert record_version([(FENCE_HEADER, b"12")]) == 12 and record_version(()) == UNVERSIONED


def test_reading_a_partition_again_from_the_start_starts_it_afresh() -> None:
    fence = ChangelogFence()
    assert fence.admits(0, 0, fence_headers(2)) and fence.admits(0, 1, fence_headers(9))
    assert fence.admits(0, 0, fence_headers(2))  # faust restores from the start after a reassignment
    assert list(fence.filter([(0, 1, 9), (0, 2, 4), (0, 3, 9)], lambda r: (r[0], r[1], fence_headers(r[2]), b"k"))) \
        == [(0, 1, 9), (0, 3, 9)]


def test_a_batch_writes_under_the_generation_its_records_were_fetched_in() -> None:
    assert batch_version([4, 4, None]) == 4
    assert batch_version([]) == UNVERSIONED and batch_version([-1]) == UNVERSIONED


def test_a_takeover_marker_orders_the_log_but_is_no_table_entry() -> None:
    key, value, headers = fence_marker(6)
    assert is_marker(key) and not is_marker(b"cus_1") and not is_marker(None) and value
    fence = ChangelogFence()
    records = [(b"EMAIL:a", 5), (key, 6), (b"EMAIL:b", 5)]  # the new owner's marker, then a late write of the old
    kept = list(fence.filter(enumerate(records), lambda r: (0, r[0], fence_headers(r[1][1]), r[1][0])))
    assert [r[1][0] for r in kept] == [b"EMAIL:a"] and fence.skipped == 1
