"""A worker whose partitions are revoked fences its batches and waits for its changelog in flight before it rejoins
(``processors/identity/lifecycle.py``, ``StateWrites.drained``): a new owner's fence markers then land after the
whole of each batch's changelog, and its restore applies a batch whole, not in part."""

from __future__ import annotations

import asyncio
from typing import Any

from bus.config import OmnibusSettings
from bus.fencing import AssignmentFence
from processors.identity.lifecycle import Lifecycle
from processors.identity.state_writes import StateWrites


class Signal:
    def __init__(self) -> None:
        self.receivers: list[Any] = []

    def connect(self, receiver: Any) -> None:
        self.receivers.append(receiver)


class App:
    """The two signals ``Lifecycle`` connects to (faust's ``App.on_before_shutdown``, ``on_partitions_revoked``)."""

    def __init__(self) -> None:
        self.on_before_shutdown, self.on_partitions_revoked = Signal(), Signal()


async def test_a_revocation_fences_the_batches_and_waits_for_the_changelog_in_flight() -> None:
    app, writes = App(), StateWrites()
    fence = AssignmentFence(lambda: [("graph", 0)], "identity")
    lifecycle = Lifecycle(app, OmnibusSettings(), None, None, fence, "graph",  # type: ignore[arg-type]
                          default_partitions=1, writes=writes)
    assert lifecycle.graph_partitions() == 1
    stamp = fence.stamp()
    changelog: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    writes.settled(changelog)
    (revoked,) = app.on_partitions_revoked.receivers
    rejoin = asyncio.create_task(revoked(app, set()))
    await asyncio.sleep(0.01)
    assert not fence.allows(stamp, [("graph", 0)])  # a batch running now publishes and writes nothing
    assert not rejoin.done()  # the worker rejoins only once its changelog landed
    changelog.set_result(None)
    await asyncio.wait_for(rejoin, 1)
