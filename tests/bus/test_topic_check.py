"""tester24 F8: a topic the broker's metadata does not list is configuration, not an outage (``bus.topic_check``)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

import pytest
from aiokafka.errors import (
    KafkaConnectionError,
    KafkaTimeoutError,
    TopicAuthorizationFailedError,
    UnknownTopicOrPartitionError,
)

from bus import topic_check
from bus.errors import ConfigError, MissingTopicError, PublishError
from bus.publish_retry import Backoff, retriable
from bus.topic_check import missing_after_failure, missing_topics, require_topics

LISTED = {"omnibus.business.events.v1", "omnibus.deadletter.v1"}


def _listing(*names: str):  # noqa: ANN202 - a ``ListTopics``
    async def list_topics() -> Iterable[str]:
        return names
    return list_topics


async def _no_broker() -> Iterable[str]:
    raise KafkaConnectionError("Unable to bootstrap from [('127.0.0.1', 1)]")


def test_the_missing_topics_are_named_in_the_order_asked_once_each() -> None:
    asked = ["staging.business.events.v1", "omnibus.deadletter.v1", "staging.identity.observed.v1",
             "staging.business.events.v1"]
    assert asyncio.run(missing_topics(_listing(*LISTED), asked)) == [
        "staging.business.events.v1", "staging.identity.observed.v1"]


def test_the_tester_s_sample_a_missing_topic_at_start_up_names_it_and_the_fix() -> None:
    with pytest.raises(MissingTopicError) as raised:
        asyncio.run(require_topics(_listing(*LISTED), ["staging.business.events.v1"]))
    assert str(raised.value) == ("topic staging.business.events.v1 does not exist: run `omnibus topics apply` "
                                 "(or check OMNIBUS_TOPICS__PREFIX)")
    assert raised.value.topics == ("staging.business.events.v1",)


def test_several_missing_topics_are_named_in_one_error() -> None:
    with pytest.raises(MissingTopicError, match=r"^topics s\.a\.v1, s\.b\.v1 do not exist: run `omnibus topics apply`"):
        asyncio.run(require_topics(_listing(), ["s.a.v1", "s.b.v1"]))


def test_every_topic_listed_passes_and_no_broker_is_the_outage_it_is() -> None:
    asyncio.run(require_topics(_listing(*LISTED), sorted(LISTED)))
    with pytest.raises(KafkaConnectionError):  # status 69 (``bus.bootstrap.startup_failure_exit``), as before
        asyncio.run(require_topics(_no_broker, sorted(LISTED)))


def test_a_missing_topic_is_a_config_error_never_retried() -> None:
    """A ``ConfigError`` (a command: status 2), a ``PublishError`` (every handler of a failed publish sees it), and
    not retriable: the producer's and the import's retries give up at once instead of after 600 s."""
    error = MissingTopicError(["staging.business.events.v1"])
    assert isinstance(error, ConfigError) and isinstance(error, PublishError)
    assert not error.retriable and not retriable(error)
    assert Backoff().delay_s(error, attempt=0, elapsed_s=0.0) is None


@pytest.mark.parametrize("error", [UnknownTopicOrPartitionError(), KafkaTimeoutError()],
                         ids=["no-metadata-for-the-topic", "produce-expired"])
def test_an_outage_looking_failure_whose_topic_the_broker_does_not_list_is_a_missing_topic(error: Exception) -> None:
    """What aiokafka raises for a topic deleted (or never created) while a process publishes, after its retries."""
    found = asyncio.run(missing_after_failure(error, _listing(*LISTED), ["omnibus.business.events.v1", "x.gone.v1"]))
    assert isinstance(found, MissingTopicError) and found.topics == ("x.gone.v1",)


@pytest.mark.parametrize("error", [UnknownTopicOrPartitionError(), KafkaTimeoutError()],
                         ids=["no-metadata-for-the-topic", "produce-expired"])
def test_the_same_failure_with_every_topic_listed_or_no_broker_answering_stays_an_outage(error: Exception) -> None:
    assert asyncio.run(missing_after_failure(error, _listing(*LISTED), sorted(LISTED))) is None
    assert asyncio.run(missing_after_failure(error, _no_broker, ["x.gone.v1"])) is None


def test_a_broker_that_does_not_answer_the_check_in_time_stays_an_outage(monkeypatch: pytest.MonkeyPatch) -> None:
    """A paused broker (SIGSTOP) keeps its sockets open and answers nothing: the check gives up after
    ``CHECK_TIMEOUT_S`` and the failure is the outage it looked like."""
    monkeypatch.setattr(topic_check, "CHECK_TIMEOUT_S", 0.05)

    async def hanging() -> Iterable[str]:
        await asyncio.sleep(10)
        return ()

    assert asyncio.run(missing_after_failure(KafkaTimeoutError(), hanging, ["x.gone.v1"])) is None


def test_a_failure_that_is_no_outage_is_left_as_it_is() -> None:
    """Not retriable (an authorization refusal) or not Kafka's: nothing to re-classify, no metadata asked."""
    asked: list[bool] = []

    async def listing() -> Iterable[str]:
        asked.append(True)
        return ()

    assert asyncio.run(missing_after_failure(TopicAuthorizationFailedError(), listing, ["x.v1"])) is None
    assert asyncio.run(missing_after_failure(ValueError("bug"), listing, ["x.v1"])) is None
    assert asked == []
