"""A consumer group's state on the real broker, for tests that wait until a rebalance has settled."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from bus.config import OmnibusSettings

POLL_S = 0.25


async def group_state(admin: AIOKafkaAdminClient, group: str) -> tuple[str, int]:
    """(state, number of members) of consumer group ``group``, as the group coordinator describes it
    (``Stable``, ``PreparingRebalance``, ...); ``("unknown", 0)`` while the group's coordinator is not formed yet."""
    try:
        (response,) = await admin.describe_consumer_groups([group])
        _, _, state, _, _, members, *_ = response.groups[0]
    except KafkaError:
        return "unknown", 0
    return state, len(members)


async def until_stable(bootstrap_servers: str, group: str, members: int, *, within_s: float,
                       check: Callable[[], None] = lambda: None) -> None:
    """Until ``group`` is ``Stable`` with exactly ``members`` members (a killed member's session expired, every
    live one joined and was given its partitions). ``check`` runs on every poll (e.g. that the workers are alive);
    TimeoutError after ``within_s`` seconds."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        deadline = time.monotonic() + within_s
        while True:
            check()
            state, found = await group_state(admin, group)
            if state == "Stable" and found == members:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"group {group} is {state} with {found} members, not {members}, after {within_s} s")
            await asyncio.sleep(POLL_S)
    finally:
        await admin.close()


async def commit_to_end(settings: OmnibusSettings, group: str, topic: str) -> None:
    """Commit ``group``'s offsets on every partition of ``topic`` at its end, as a consumer that read them all."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka.bootstrap_servers, group_id=group,
                                enable_auto_commit=False)
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in range(settings.topics.partitions)]
        consumer.assign(tps)
        await consumer.commit(dict(await consumer.end_offsets(tps)))
    finally:
        await consumer.stop()


async def caught_up(settings: OmnibusSettings, processors: tuple[str, ...]) -> None:
    """Each of ``processors``' consumer groups committed at the end of every topic ``omnibus verify`` judges it on
    (``processors.verify.run.readers``): what a processor that read everything leaves, for a test that runs verify
    on records no worker of it consumed (verify leaves unread records unjudged, exit 75)."""
    from processors.profile.book import ProfileBook
    from processors.verify.run import readers

    book = ProfileBook.from_registry(identifiers=settings.identifiers)
    for reader in readers(settings, processors, book):
        for topic in reader.topics:
            await commit_to_end(settings, reader.group, topic)
