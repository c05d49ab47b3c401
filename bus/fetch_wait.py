"""A worker's fetch waits at most Kafka's default 500 ms for records, not faust's 1.5 s: a worker starts 2–3 s sooner.

A fetch request is a long poll: the broker holds it until records arrive or ``fetch_max_wait_ms`` passed. faust 0.15
builds a worker's consumer with ``fetch_max_wait_ms=1500`` written into ``AIOKafkaConsumerThread
._create_worker_consumer`` (``faust/transport/drivers/aiokafka.py``; no setting reaches it). A broker answers the
requests of one connection in order, so at the end of every rebalance a worker waits twice for such a poll to run
out (seen in ``tests/bench/worker_start.py``'s traces, the broker's responses 1.50 s apart):

1. the seek to the committed offsets (``bus.seek_before_resume``) asks the broker for the partitions' offsets
   (``ListOffsets``: a partition never committed starts at its beginning) behind a fetch already waiting on the
   same connection;
2. the next fetch leaves with the positions from before the seek; its answer is discarded and the records are
   fetched again after it.

Every worker start and every rebalance hands its first record on 3 s late, in about half the starts measured (the
others had no fetch in flight then). ``install`` makes faust's consumer wait at most ``FETCH_MAX_WAIT_MS``, the Java
client's default (``fetch.max.wait.ms``, https://kafka.apache.org/documentation/#consumerconfigs_fetch.max.wait.ms)
and aiokafka's, which every other Omnibus consumer (``bus.consume``) already uses. An idle worker sends two fetches
a second instead of 0.67.
"""

from __future__ import annotations

from typing import Any

FETCH_MAX_WAIT_MS = 500  # longest a fetch request waits for records at the broker (Kafka's and aiokafka's default)


def install() -> None:
    """Patch faust's aiokafka consumer thread once per process: every worker consumer it builds from now on waits at
    most ``FETCH_MAX_WAIT_MS`` per fetch (read when the consumer is built)."""
    from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread

    create = AIOKafkaConsumerThread._create_worker_consumer  # noqa: SLF001
    if getattr(create, "omnibus_fetch_wait", False):
        return

    def create_worker_consumer(self: Any, transport: Any) -> Any:
        consumer = create(self, transport)
        consumer._fetch_max_wait_ms = FETCH_MAX_WAIT_MS  # noqa: SLF001 - handed to aiokafka's Fetcher at start()
        return consumer

    create_worker_consumer.omnibus_fetch_wait = True  # type: ignore[attr-defined]
    AIOKafkaConsumerThread._create_worker_consumer = create_worker_consumer  # type: ignore[method-assign]  # noqa: SLF001
