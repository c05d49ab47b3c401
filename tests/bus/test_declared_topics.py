"""``bus.declared_topics``: a topic faust creates is listed by the broker's metadata when ``create_topic`` returns
(the changelog the group leader counted as 0 partitions in CI's secured stack)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from aiokafka import AIOKafkaClient
from aiokafka.errors import (
    InvalidConfigurationError,
    InvalidReplicationFactorError,
    KafkaConnectionError,
    KafkaError,
)
from faust.exceptions import NotReady

from bus import admin_refusal, shutdown
from bus.app import create_app
from bus.declared_topics import TopicNotListed, listed_after_create, wait_until_listed
from bus.publish_retry import Backoff, Retry
from tests.support.settings import isolated_settings

TOPICS = 12  # a metadata request right after CreateTopics missed the topic 13 times in 40 on the test broker


class Unlisting:
    """A client whose metadata never lists the topic."""

    def __init__(self) -> None:
        self.asked = 0

    async def fetch_all_metadata(self) -> Any:
        self.asked += 1
        return SimpleNamespace(partitions_for_topic=lambda topic: None)


async def test_a_topic_never_listed_is_named_in_the_error() -> None:
    client = Unlisting()
    with pytest.raises(TopicNotListed, match="'app-state-changelog' was created"):
        await wait_until_listed(client, "app-state-changelog", within_s=0)
    assert client.asked == 1


class Listing:
    """A client whose metadata lists every topic once ``fails`` requests have failed (no broker answered)."""

    def __init__(self, fails: int = 0) -> None:
        self.fails = fails

    async def fetch_all_metadata(self) -> Any:
        if self.fails:
            self.fails -= 1
            raise KafkaError("Unable to get cluster metadata over all known brokers")  # what aiokafka raises
        return SimpleNamespace(partitions_for_topic=lambda topic: {0, 1})


def producer(client: Any) -> Any:
    """What ``create_topic`` reads of faust's aiokafka ``Producer``."""
    return SimpleNamespace(app=SimpleNamespace(conf=SimpleNamespace(topic_allow_declare=True)),
                           _ensure_producer=lambda: SimpleNamespace(client=client))


async def no_wait(_: float) -> None:
    return None


def retry(give_up_after_s: float = 600.0) -> Retry:
    return Retry(Backoff(give_up_after_s=give_up_after_s), sleep=no_wait)


async def test_no_metadata_while_waiting_is_a_retriable_error() -> None:
    with pytest.raises(KafkaConnectionError, match="no metadata while waiting for 'app-state-changelog'"):
        await wait_until_listed(Listing(fails=1), "app-state-changelog")


async def test_a_declaration_the_broker_dropped_is_tried_again_until_listed() -> None:
    """A broker lost while a worker declares its topics (#13 broker fault, struck at start-up: identity and kpis
    ended with status 1): CreateTopics' connection closed, then no metadata, then the broker is back."""
    tries: list[str] = []

    async def create(self: Any, topic: str, partitions: int, replication: int, **kwargs: Any) -> None:
        tries.append(topic)
        if len(tries) == 1:
            raise KafkaConnectionError("Connection at 127.0.0.1:9092 closed")

    create_topic = listed_after_create(create, lambda: retry())
    await create_topic(producer(Listing(fails=2)), "app-state-changelog", 2, 1)
    assert tries == ["app-state-changelog"] * 4  # closed; listed? no metadata (twice); created and listed


FENCED = ("Cannot create topic: f99dd80c2.identity-identity-nodes-changelog (38): Unable to replicate the partition 1 "
          "time(s): All brokers are currently fenced, or have all their log directories cordoned.")  # CI, 2026-12-06


def refusing(*errors: BaseException) -> tuple[Callable[..., Awaitable[None]], list[str]]:
    """faust's ``create_topic`` that raises ``errors`` in turn, then creates the topic; and the topics it was asked
    for."""
    tries: list[str] = []
    left = list(errors)

    async def create(self: Any, topic: str, partitions: int, replication: int, **kwargs: Any) -> None:
        tries.append(topic)
        if left:
            raise left.pop(0)

    return create, tries


async def test_a_declaration_refused_while_the_broker_is_fenced_is_tried_again(monkeypatch: pytest.MonkeyPatch,
                                                                               ) -> None:
    """CI's identity worker ended with status 1 at start: its single-node broker, starved on 2 cores, missed its
    heartbeats to its controller and was fenced; CreateTopics answered InvalidReplicationFactorError."""
    from structlog.testing import capture_logs

    from bus import publish_retry
    from bus.logging import get_logger

    monkeypatch.setattr(publish_retry, "log", get_logger(publish_retry.__name__))  # first used in capture_logs
    create, tries = refusing(InvalidReplicationFactorError(FENCED), InvalidReplicationFactorError(FENCED))
    with capture_logs() as lines:
        await listed_after_create(create, lambda: retry())(producer(Listing()), "app-state-changelog", 2, 1)
    assert tries == ["app-state-changelog"] * 3
    (warning,) = lines  # the first failure, then one line per window
    assert warning["log_level"] == "warning" and warning["reason"] == admin_refusal.FENCED
    assert warning["operation"] == "declare topic"


async def test_faust_s_invalid_controller_is_tried_again() -> None:
    create, tries = refusing(RuntimeError("Invalid controller: 1"))
    await listed_after_create(create, lambda: retry())(producer(Listing()), "app-state-changelog", 2, 1)
    assert tries == ["app-state-changelog"] * 2


class Clock:
    """A monotonic clock that moves only when the retry sleeps."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


async def test_a_broker_fenced_for_longer_than_the_give_up_time_ends_the_declaration_naming_why() -> None:
    clock = Clock()
    create, tries = refusing(*[InvalidReplicationFactorError(FENCED)] * 1000)
    fenced_retry = Retry(Backoff(first_s=1.0, max_s=4.0, give_up_after_s=30.0), sleep=clock.sleep, clock=clock)
    with pytest.raises(admin_refusal.ClusterRefused, match="refused to declare topic for 2[0-9] s: every broker is "
                                                           "fenced") as raised:
        await listed_after_create(create, lambda: fenced_retry)(producer(Listing()), "app-state-changelog", 2, 1)
    assert isinstance(raised.value.__cause__, InvalidReplicationFactorError) and not raised.value.retriable
    assert 5 < len(tries) < 30 and clock.now <= 30.0


@pytest.mark.parametrize("error", [
    InvalidReplicationFactorError("Invalid replication factor 0: the replication factor must be positive."),
    InvalidConfigurationError("Invalid value x for configuration cleanup.policy"),
    RuntimeError("Controller node is None"),
], ids=lambda e: type(e).__name__)
async def test_a_declaration_retrying_cannot_mend_is_raised_at_once(error: BaseException) -> None:
    create, tries = refusing(error)
    with pytest.raises(type(error)):
        await listed_after_create(create, lambda: retry())(producer(Listing()), "app-state-changelog", 2, 1)
    assert tries == ["app-state-changelog"]


def stopped_producer() -> Any:
    """faust's aiokafka ``Producer`` after its stop: ``_ensure_producer`` raises ``NotReady``."""

    def ensure() -> Any:
        raise NotReady("Producer service not yet started")

    return SimpleNamespace(app=SimpleNamespace(conf=SimpleNamespace(topic_allow_declare=True)), _ensure_producer=ensure)


async def created(self: Any, topic: str, partitions: int, replication: int, **kwargs: Any) -> None:
    return None


async def test_a_declaration_the_worker_s_stop_interrupts_is_cancelled(monkeypatch: pytest.MonkeyPatch) -> None:
    """SIGTERM while the tables declare their changelogs: the producer stopped under the declaration; the worker
    ended with status 1 (CI, tests/bus/test_app_ports.py) where a stop is status 0."""
    deadline = shutdown.StopDeadline(3600, exit=lambda status: None)
    monkeypatch.setattr(shutdown, "_process_deadline", deadline)
    deadline.arm()
    try:
        with pytest.raises(asyncio.CancelledError, match="the worker is stopping"):
            await listed_after_create(created, lambda: retry())(stopped_producer(), "app-state-changelog", 2, 1)
    finally:
        deadline.disarm()


@pytest.mark.parametrize("installed", [False, True], ids=["no-deadline", "deadline-not-armed"])
async def test_a_producer_not_started_while_no_stop_began_is_an_error(monkeypatch: pytest.MonkeyPatch,
                                                                      installed: bool) -> None:
    deadline = shutdown.StopDeadline(3600, exit=lambda status: None) if installed else None
    monkeypatch.setattr(shutdown, "_process_deadline", deadline)
    with pytest.raises(NotReady, match="not yet started"):
        await listed_after_create(created, lambda: retry())(stopped_producer(), "app-state-changelog", 2, 1)


@pytest.mark.kafka
@pytest.mark.timeout(240)
async def test_a_topic_faust_created_is_in_the_next_metadata_response(bootstrap_servers: str, tmp_path: Path) -> None:
    """Each topic faust's producer creates is listed by a metadata request another client makes right after
    (the consumer's subscription, in a worker). Without the wait, about one in three was missing."""
    settings = isolated_settings(bootstrap_servers, partitions=2)
    app = create_app("declared-topics-test", settings, datadir=str(tmp_path))
    other = AIOKafkaClient(bootstrap_servers=bootstrap_servers)
    await other.bootstrap()
    await app.producer.start()
    missing = []
    try:
        for _ in range(TOPICS):
            topic = f"{settings.topics.prefix}.declared-{uuid.uuid4().hex[:8]}-changelog"
            await app.producer.create_topic(topic, 2, 1, compacting=True)
            if not (await other.fetch_all_metadata()).partitions_for_topic(topic):
                missing.append(topic)
    finally:
        await app.producer.stop()
        await other.close()
    assert not missing, f"{len(missing)} of {TOPICS} created topics not in the next metadata response"
