from __future__ import annotations

from bus.fencing import AssignmentFence
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
