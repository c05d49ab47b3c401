"""``omnibus topics apply``: make the cluster's topics match the registry, idempotently.

Missing topics are created; managed configs (clean-up policy, retention) that drifted are set back;
a topic with fewer partitions than declared is grown. Partitions are never shrunk and topics never
deleted: both would lose data or break key order, so they are reported for a human to decide.

A creation the cluster refuses because no broker can take a replica for now (every broker fenced, fewer registered
than the replication factor, the request on a node that is no longer the controller: ``bus.admin_refusal``) is tried
again with the producer's backoff for up to ``producer.give_up_after_s`` (``bus.publish_retry.outage_retry``), as
when a worker declares its own topics; only what is still missing is asked for again.
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

from bus.admin_client import admin_client
from bus.config import OmnibusSettings
from bus.plural import counted
from bus.publish_retry import outage_retry
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
    """One outcome per spec, in order. Every missing topic is created in one request and awaited together, and
    the configs of the existing ones are read in one request: one controller commit instead of one per topic
    (the 22 topics of a fresh prefix: 0.2 s instead of 4.4 s on a loaded 2-core machine)."""
    specs = list(specs)
    names = [spec.name(settings.topics) for spec in specs]
    admin = admin_client(settings.kafka)
    await admin.start()
    try:
        counts = await _partition_counts(admin, names)
        missing = [(spec, name) for spec, name in zip(specs, names, strict=True) if counts[name] is None]
        created: set[str] = set()
        if missing:
            async def create() -> None:
                response = await admin.create_topics([
                    NewTopic(name, spec.partition_count(settings.topics), settings.topics.replication_factor,
                             topic_configs=spec.configs())
                    for spec, name in missing if name not in created])
                _raise_for_errors(response.topic_errors, ignore_exists=True, created=created)

            await outage_retry(settings).run(create, what="create topics")
            # A topic created a moment ago (by us or a concurrent apply) may not be in the metadata yet.
            counts |= await _await_visible(admin, [name for _, name in missing])
        kept = {name: spec.configs() for spec, name in zip(specs, names, strict=True)
                if name not in created and counts[name] is not None}
        drifts = await _config_drifts(admin, kept) if kept else {}
        outcomes = []
        for spec, name in zip(specs, names, strict=True):
            if name in created:
                outcome = TopicOutcome(name, Action.CREATED,
                                       counted(spec.partition_count(settings.topics), "partition"))
            elif (existing := counts[name]) is None:
                outcome = TopicOutcome(name, Action.NEEDS_ATTENTION, "exists but is not visible in the metadata")
            else:
                outcome = await _reconcile(admin, settings, spec, name, existing, drifts[name])
            outcomes.append(outcome)
        return outcomes
    finally:
        await admin.close()


async def _reconcile(
    admin: AIOKafkaAdminClient, settings: OmnibusSettings, spec: TopicSpec, name: str, existing: int,
    drift: dict[str, str],
) -> TopicOutcome:
    """An existing topic: drifted configs (``drift``: wanted values that differ) set back, partitions grown (never
    shrunk)."""
    wanted_partitions = spec.partition_count(settings.topics)
    if existing > wanted_partitions:
        return TopicOutcome(
            name, Action.NEEDS_ATTENTION,
            f"has {counted(existing, 'partition')}, declared {wanted_partitions}; not shrunk"
        )
    changes = []
    if drift:
        await admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, name, configs=spec.configs())])
        changes.append(Action.CONFIG_UPDATED)
    if existing < wanted_partitions:
        async def grow() -> None:  # a try the controller committed before its answer was lost is not made twice
            if ((await _partition_counts(admin, [name]))[name] or 0) < wanted_partitions:
                await admin.create_partitions({name: NewPartitions(wanted_partitions)})

        await outage_retry(settings).run(grow, what="add partitions")
        changes.append(Action.PARTITIONS_ADDED)
    if not changes:
        return TopicOutcome(name, Action.UNCHANGED)
    detail = ", ".join(f"{k}={v}" for k, v in drift.items())
    return TopicOutcome(name, changes[0], detail if changes[0] is Action.CONFIG_UPDATED else str(wanted_partitions))


async def _partition_counts(admin: AIOKafkaAdminClient, names: list[str]) -> dict[str, int | None]:
    """Each topic's partition count, None for one the metadata does not show (UNKNOWN_TOPIC_OR_PARTITION)."""
    described = {topic["topic"]: topic for topic in await admin.describe_topics(names)}
    return {name: len(described[name]["partitions"]) if name in described and described[name]["error_code"] == 0
            else None for name in names}


async def _config_drifts(admin: AIOKafkaAdminClient, wanted: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    """Per topic, the wanted config values that differ from the cluster's (one request for every topic)."""
    responses = await admin.describe_configs(
        [ConfigResource(ConfigResourceType.TOPIC, name, configs=configs) for name, configs in wanted.items()])
    current: dict[str, dict[str, str]] = {name: {} for name in wanted}
    for response in responses:
        for resource in response.resources:
            error_code, error_message, name = resource[0], resource[1], resource[3]
            if error_code:
                raise for_code(error_code)(f"describe configs of {name}: {error_message}")
            for entry in resource[4]:
                current[name][entry[0]] = entry[1]
    return {name: {key: value for key, value in configs.items() if current[name].get(key) != value}
            for name, configs in wanted.items()}


async def _await_visible(admin: AIOKafkaAdminClient, names: list[str], timeout_s: float = 10.0,
                         ) -> dict[str, int | None]:
    """Each topic's partition count once the metadata shows them all (None for those it does not within
    ``timeout_s``)."""
    deadline = time.monotonic() + timeout_s
    while None in (counts := await _partition_counts(admin, names)).values() and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    return counts


def _raise_for_errors(topic_errors: Iterable[tuple], *, ignore_exists: bool, created: set[str]) -> None:
    """Adds the topics created to ``created`` (one that already existed, ``ignore_exists``, is left out), then raises
    the first refusal, if any, as its Kafka error: the others' creation is kept for the next try."""
    refusals = []
    for error in topic_errors:
        topic, code = error[0], error[1]
        message = error[2] if len(error) > 2 else ""
        if code == 36 and ignore_exists:  # TOPIC_ALREADY_EXISTS: a concurrent apply, or metadata not caught up
            continue
        if code:
            refusals.append(for_code(code)(f"create topic {topic}: {message}"))
        else:
            created.add(topic)
    if refusals:
        raise refusals[0]
