"""``omnibus topics apply``: make the cluster's topics match the registry, idempotently.

Missing topics are created; managed configs (clean-up policy, retention) that drifted are set back;
a topic with fewer partitions than declared is grown. Partitions are never shrunk and topics never
deleted: both would lose data or break key order, so they are reported for a human to decide.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

from aiokafka.admin import AIOKafkaAdminClient, NewPartitions, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import for_code

from bus.config import OmnibusSettings
from bus.kafka_client import connection_options
from bus.topics import ALL_TOPICS, TopicSpec


class Action(str, Enum):
    CREATED = "created"
    UNCHANGED = "unchanged"
    CONFIG_UPDATED = "config updated"
    PARTITIONS_ADDED = "partitions added"
    NEEDS_ATTENTION = "needs attention"


@dataclass(frozen=True)
class TopicOutcome:
    topic: str
    action: Action
    detail: str = ""


async def apply_topics(
    settings: OmnibusSettings, specs: Iterable[TopicSpec] = ALL_TOPICS
) -> list[TopicOutcome]:
    admin = AIOKafkaAdminClient(**connection_options(settings.kafka))
    await admin.start()
    try:
        return [await _apply_one(admin, settings, spec) for spec in specs]
    finally:
        await admin.close()


async def _apply_one(admin: AIOKafkaAdminClient, settings: OmnibusSettings, spec: TopicSpec) -> TopicOutcome:
    name = spec.name(settings.topics)
    wanted_partitions = spec.partition_count(settings.topics)
    existing = await _partition_count(admin, name)
    if existing is None:
        response = await admin.create_topics(
            [NewTopic(name, wanted_partitions, settings.topics.replication_factor, topic_configs=spec.configs())]
        )
        created = _raise_for_errors(response.topic_errors, ignore_exists=True)
        # A topic created a moment ago (by us or a concurrent apply) may not be in the metadata yet.
        existing = await _await_visible(admin, name)
        if created:
            return TopicOutcome(name, Action.CREATED, f"{wanted_partitions} partitions")
        if existing is None:
            return TopicOutcome(name, Action.NEEDS_ATTENTION, "exists but is not visible in the metadata")
    if existing > wanted_partitions:
        return TopicOutcome(
            name, Action.NEEDS_ATTENTION, f"has {existing} partitions, declared {wanted_partitions}; not shrunk"
        )
    changes = []
    drift = await _config_drift(admin, name, spec.configs())
    if drift:
        await admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, name, configs=spec.configs())])
        changes.append(Action.CONFIG_UPDATED)
    if existing < wanted_partitions:
        await admin.create_partitions({name: NewPartitions(wanted_partitions)})
        changes.append(Action.PARTITIONS_ADDED)
    if not changes:
        return TopicOutcome(name, Action.UNCHANGED)
    detail = ", ".join(f"{k}={v}" for k, v in drift.items())
    return TopicOutcome(name, changes[0], detail if changes[0] is Action.CONFIG_UPDATED else str(wanted_partitions))


async def _partition_count(admin: AIOKafkaAdminClient, name: str) -> int | None:
    (described,) = await admin.describe_topics([name])
    if described["error_code"] != 0:
        return None  # UNKNOWN_TOPIC_OR_PARTITION
    return len(described["partitions"])


async def _config_drift(admin: AIOKafkaAdminClient, name: str, wanted: dict[str, str]) -> dict[str, str]:
    responses = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, name, configs=wanted)])
    current: dict[str, str] = {}
    for response in responses:
        for resource in response.resources:
            error_code, error_message = resource[0], resource[1]
            if error_code:
                raise for_code(error_code)(f"describe configs of {name}: {error_message}")
            for entry in resource[4]:
                current[entry[0]] = entry[1]
    return {key: value for key, value in wanted.items() if current.get(key) != value}


async def _await_visible(admin: AIOKafkaAdminClient, name: str, timeout_s: float = 10.0) -> int | None:
    """The topic's partition count once the metadata shows it (None if it does not within ``timeout_s``)."""
    deadline = time.monotonic() + timeout_s
    while (count := await _partition_count(admin, name)) is None and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    return count


def _raise_for_errors(topic_errors: Iterable[tuple], *, ignore_exists: bool) -> bool:
    """True when every topic was created; False when one already existed (``ignore_exists``)."""
    created = True
    for error in topic_errors:
        topic, code = error[0], error[1]
        message = error[2] if len(error) > 2 else ""
        if code == 36 and ignore_exists:  # TOPIC_ALREADY_EXISTS: a concurrent apply, or metadata not caught up
            created = False
            continue
        if code:
            raise for_code(code)(f"create topic {topic}: {message}")
    return created
