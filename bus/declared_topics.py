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

A broker lost while a worker declares its topics (the CreateTopics connection closed, no broker answering the
metadata request) used to end the worker at start: a broker killed as the processors started stopped both identity
and kpis with status 1 (tests/faults/test_broker.py, strike during start-up). The declaration is now tried again
with the producer's backoff (``bus.publish_retry``) while the error is retriable, for up to
``producer.give_up_after_s``, like any other publish: the worker rides out the outage and starts once the broker
is back. CreateTopics of a topic that exists is no error to faust, so a try the broker took before it died is safe.

A worker told to stop (SIGTERM) while its tables declare their changelogs stops its producer under the declaration:
faust's ``_ensure_producer`` then raises ``NotReady: Producer service not yet started`` and the worker ended with
status 1 instead of 0 (CI, ``tests/bus/test_app_ports.py``, 2026-12-05). Once the process's stop began
(``bus.shutdown``), that error cancels the declaration as the stop cancels the rest of the start.

A broker fenced for a moment (KIP-631: it missed its heartbeats to the controller for ``broker.session.timeout.ms``)
makes CreateTopics answer ``InvalidReplicationFactorError: ... All brokers are currently fenced``: CI's identity
worker, starved on 2 cores with its single-node broker, ended with status 1 at start. Such a refusal, and the other
answers of a cluster that cannot place a replica for now, are tried again too (``bus.admin_refusal``); faust's
``RuntimeError("Invalid controller: N")`` is tried again as the ``NotControllerError`` it stands for.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiokafka.errors import KafkaConnectionError, KafkaError
from faust.exceptions import NotReady

from bus import shutdown
from bus.admin_refusal import not_controller
from bus.errors import OmnibusError
from bus.logging import get_logger
from bus.publish_retry import Backoff, Retry, process_outage_retry, set_process_give_up

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
        try:
            metadata = await client.fetch_all_metadata()
        except KafkaError as exc:  # aiokafka's plain KafkaError: no broker answered, retriable (listed_after_create)
            raise KafkaConnectionError(f"no metadata while waiting for {topic!r}: {exc}") from exc
        partitions = metadata.partitions_for_topic(topic)
        if partitions:
            if asked > 1:
                log.info("created topic listed by the broker's metadata", topic=topic, requests=asked)
            return len(partitions)
        if time.monotonic() >= deadline:
            raise TopicNotListed(f"topic {topic!r} was created, but the broker's metadata did not list it within "
                                 f"{within_s:.0f} s ({asked} metadata requests): is a broker lagging behind the "
                                 "controller?")
        await asyncio.sleep(POLL_S)


def listed_after_create(original: Callable[..., Awaitable[None]], retry: Callable[[], Retry] | None = None,
                        ) -> Callable[..., Awaitable[None]]:
    """faust's aiokafka ``Producer.create_topic`` that returns once the topic is listed (``wait_until_listed``),
    tried again by ``retry()`` (default: ``Backoff`` with ``install``'s ``give_up_after_s``) while the error is
    retriable (``bus.publish_retry.retriable``, a cluster that cannot place a replica for now included); the last
    error is raised once it gives up (``ClusterRefused`` for such a refusal)."""

    async def create_topic(self: Any, topic: str, partitions: int, replication: int, **kwargs: Any) -> None:
        async def declare() -> None:
            try:
                await original(self, topic, partitions, replication, **kwargs)
            except RuntimeError as exc:
                if (kafka_error := not_controller(exc)) is None:
                    raise
                raise kafka_error from exc
            if self.app.conf.topic_allow_declare:  # faust creates nothing otherwise: nothing to wait for
                await wait_until_listed(self._ensure_producer().client, topic)

        try:
            await (retry or process_outage_retry)().run(declare, what="declare topic")
        except NotReady as exc:
            if not shutdown.stop_began():
                raise
            raise asyncio.CancelledError(f"declaring {topic!r}: the worker is stopping") from exc

    create_topic.omnibus_listed_after_create = True  # type: ignore[attr-defined]
    return create_topic


def install(give_up_after_s: float = Backoff().give_up_after_s) -> None:
    """Patch faust's aiokafka ``Producer.create_topic`` once per process; a declaration is tried again for up to
    ``give_up_after_s`` seconds (the ``producer.give_up_after_s`` setting)."""
    from faust.transport.drivers.aiokafka import Producer

    set_process_give_up(give_up_after_s)
    if not getattr(Producer.create_topic, "omnibus_listed_after_create", False):
        Producer.create_topic = listed_after_create(Producer.create_topic)  # type: ignore[method-assign,assignment]
