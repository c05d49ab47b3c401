from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from aiokafka import TopicPartition

from bus import faust_partitions


async def test_a_partition_no_stream_takes_now_is_sought_but_not_put_back_into_the_fetch_set() -> None:
    """CI's broker-down test: the KPI agents were restarting when the watchdog revived a partition; faust then
    fetched a record nobody routes, and its fetcher crashed with ``KeyError(tp)``. Such a partition is only
    sought; it is fetched again once faust routes it."""
    tp = TopicPartition("t.customer.contacts.v1", 0)
    sought: list[tuple[Any, int]] = []

    async def seek(partition: Any, offset: int) -> None:
        sought.append((partition, offset))

    active: set[Any] = set()
    consumer = SimpleNamespace(_paused_partitions=set(), _buffered_partitions=set(),
                               _get_active_partitions=lambda: active, seek=seek)
    app = SimpleNamespace(topics=SimpleNamespace(_tp_to_callback={}))
    routed = faust_partitions.routed_by(app, tp)
    assert not routed
    assert await faust_partitions.revive(consumer, tp, 7, routed=routed) == 7
    assert sought == [(tp, 7)] and active == set()
    app.topics._tp_to_callback[tp] = object()
    assert await faust_partitions.revive(consumer, tp, 7, routed=faust_partitions.routed_by(app, tp)) == 7
    assert active == {tp}
