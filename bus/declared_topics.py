"""A topic faust creates (a table's changelog, the assignor's leader topic) is in the broker's metadata before
faust goes on.

faust creates its internal topics itself when a worker starts (``Topic.maybe_declare`` from the table's start and
from the conductor's subscription), and its consumer subscribes right after. Kafka answers CreateTopics before
the broker's metadata cache lists the new topic: on this project's KRaft test broker a metadata request made
right after the answer missed the topic 13 times in 40, for 0.1 to 0.8 s (``tests/bus/test_declared_topics.py``).
The consumer's subscription fetched its metadata in that window, the group leader built its partition-count
snapshot from it with the changelog at 0 partitions, and the table's first write failed faust's partition check
(``bus.partition_check`` has the rest of that story).

``install`` makes faust's ``Producer.create_topic`` return only once a metadata request lists the topic with
its partitions, asked again every ``POLL_S`` until ``LISTED_WITHIN_S``; past it, ``TopicNotListed`` names the
topic and the worker stops with it at start.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from bus.errors import OmnibusError
from bus.logging import get_logger

log = get_logger(__name__)
LISTED_WITHIN_S = 30.0  # faust's own CreateTopics timeout is 20 s; a broker that lags longer is unwell
POLL_S = 0.1  # aiokafka's retry_backoff_ms default


class TopicNotListed(OmnibusError, RuntimeError):
    """A topic was created (or already existed) but no metadata response listed its partitions in time."""


async def wait_until_listed(client: Any, topic: str, within_s: float = LISTED_WITHIN_S) -> int:
    """Ask the cluster for its metadata (``client.fetch_all_metadata``, a fresh ``ClusterMetadata``, the
    client's own left alone) until it lists ``topic`` with at least one partition.

    Returns the partition count listed. Raises ``TopicNotListed`` after ``within_s`` seconds."""
    deadline = time.monotonic() + within_s
    asked = 0
    while True:
        asked += 1
        partitions = (await client.fetch_all_metadata()).partitions_for_topic(topic)
        if partitions:
            if asked > 1:
                log.info("created topic listed by the broker's metadata", topic=topic, requests=asked)
            return len(partitions)
        if time.monotonic() >= deadline:
            raise TopicNotListed(f"topic {topic!r} was created, but the broker's metadata did not list it within "
                                 f"{within_s:.0f} s ({asked} metadata requests): is a broker lagging behind the "
                                 "controller?")
        await asyncio.sleep(POLL_S)


def listed_after_create(original: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
    """faust's aiokafka ``Producer.create_topic`` that returns once the topic is listed (``wait_until_listed``)."""

    async def create_topic(self: Any, topic: str, partitions: int, replication: int, **kwargs: Any) -> None:
        await original(self, topic, partitions, replication, **kwargs)
        if self.app.conf.topic_allow_declare:  # faust creates nothing otherwise: nothing to wait for
            await wait_until_listed(self._ensure_producer().client, topic)

    create_topic.omnibus_listed_after_create = True  # type: ignore[attr-defined]
    return create_topic


def install() -> None:
    """Patch faust's aiokafka ``Producer.create_topic`` once per process."""
    from faust.transport.drivers.aiokafka import Producer

    if not getattr(Producer.create_topic, "omnibus_listed_after_create", False):
        Producer.create_topic = listed_after_create(Producer.create_topic)  # type: ignore[method-assign,assignment]
