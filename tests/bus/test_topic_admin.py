import asyncio

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from bus.topic_admin import Action, apply_topics
from bus.topics import ALL_TOPICS, CUSTOMER_IDENTIFIERS, DEAD_LETTERS
from tests.support.settings import isolated_settings

pytestmark = pytest.mark.kafka


async def test_apply_creates_every_topic_then_is_a_no_op(bootstrap_servers: str) -> None:
    settings = isolated_settings(bootstrap_servers, partitions=4)
    first = await apply_topics(settings)
    assert [o.action for o in first] == [Action.CREATED] * len(ALL_TOPICS)
    second = await apply_topics(settings)
    assert [o.action for o in second] == [Action.UNCHANGED] * len(ALL_TOPICS)

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        described = {t["topic"]: t for t in await admin.describe_topics([s.name(settings.topics) for s in ALL_TOPICS])}
        assert len(described[CUSTOMER_IDENTIFIERS.name(settings.topics)]["partitions"]) == 4
        assert len(described[DEAD_LETTERS.name(settings.topics)]["partitions"]) == DEAD_LETTERS.partitions
        responses = await admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, CUSTOMER_IDENTIFIERS.name(settings.topics))]
        )
        configs = {entry[0]: entry[1] for r in responses for res in r.resources for entry in res[4]}
        assert configs["cleanup.policy"] == "compact"
    finally:
        await admin.close()


async def test_apply_repairs_drifted_config_and_grows_partitions(bootstrap_servers: str) -> None:
    settings = isolated_settings(bootstrap_servers, partitions=2)
    spec = CUSTOMER_IDENTIFIERS
    await apply_topics(settings, [spec])
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        await admin.alter_configs(
            [ConfigResource(ConfigResourceType.TOPIC, spec.name(settings.topics), configs={"cleanup.policy": "delete"})]
        )
    finally:
        await admin.close()
    (repaired,) = await apply_topics(settings, [spec])
    assert repaired.action is Action.CONFIG_UPDATED and "cleanup.policy=compact" in repaired.detail

    grown_settings = settings.model_copy(update={"topics": settings.topics.model_copy(update={"partitions": 5})})
    (grown,) = await apply_topics(grown_settings, [spec])
    assert grown.action is Action.PARTITIONS_ADDED
    (shrunk,) = await apply_topics(settings, [spec])
    assert shrunk.action is Action.NEEDS_ATTENTION


async def test_apply_creates_every_missing_topic_in_one_request(
    bootstrap_servers: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One CreateTopics request for all missing topics (one controller commit), not one per topic: `topics apply`
    # and every broker test's set-up took seconds per apply on a loaded machine with one request per topic.
    settings = isolated_settings(bootstrap_servers)
    await apply_topics(settings, [CUSTOMER_IDENTIFIERS])
    requests: list[list[str]] = []
    create_topics = AIOKafkaAdminClient.create_topics

    async def counted(self: AIOKafkaAdminClient, new_topics: list, *args: object, **kwargs: object) -> object:
        requests.append([topic.name for topic in new_topics])
        return await create_topics(self, new_topics, *args, **kwargs)

    monkeypatch.setattr(AIOKafkaAdminClient, "create_topics", counted)
    outcomes = await apply_topics(settings)
    missing = [spec.name(settings.topics) for spec in ALL_TOPICS if spec is not CUSTOMER_IDENTIFIERS]
    assert requests == [missing]
    assert {o.topic: o.action for o in outcomes} == {
        **dict.fromkeys(missing, Action.CREATED), CUSTOMER_IDENTIFIERS.name(settings.topics): Action.UNCHANGED}
    assert [o.topic for o in outcomes] == [spec.name(settings.topics) for spec in ALL_TOPICS]


async def test_two_concurrent_applies_create_each_topic_once(bootstrap_servers: str) -> None:
    settings = isolated_settings(bootstrap_servers)
    first, second = await asyncio.gather(apply_topics(settings), apply_topics(settings))
    for mine, theirs in zip(first, second, strict=True):
        assert {mine.action, theirs.action} == {Action.CREATED, Action.UNCHANGED}, (mine, theirs)
