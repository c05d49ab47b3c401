"""``bus.admin_refusal``: which refusals of a topic's creation mean "no broker can take a replica for now"."""

from __future__ import annotations

import pytest
from aiokafka.errors import (
    BrokerNotAvailableError,
    InvalidConfigurationError,
    InvalidPartitionsError,
    InvalidReplicationFactorError,
    NotControllerError,
    TopicAuthorizationFailedError,
)

from bus.admin_refusal import FENCED, NO_BROKER, NOT_CONTROLLER, TOO_FEW, not_controller, transient_reason

# faust's words around Kafka's message (``Cannot create topic: <name> (<code>): <message>``), as CI's identity worker
# ended with them; then the other placements' words in Kafka 3.x to 4.4 and in ZooKeeper mode.
CI_SAMPLE = ("Cannot create topic: f99dd80c2.identity-identity-nodes-changelog (38): Unable to replicate the partition "
             "1 time(s): All brokers are currently fenced, or have all their log directories cordoned.")
REFUSED_FOR_NOW = {
    CI_SAMPLE: FENCED,
    "Unable to replicate the partition 3 time(s): All brokers are currently fenced.": FENCED,
    "Unable to replicate the partition 1 time(s): All brokers are currently fenced or in controlled shutdown.":
        FENCED,
    "Unable to replicate the partition 3 time(s): The target replication factor of 3 cannot be reached because only "
    "1 broker(s) are registered.": TOO_FEW,
    "Unable to replicate the partition 3 time(s): The target replication factor of 3 cannot be reached because only "
    "2 broker(s) are registered or some brokers have all their log directories cordoned.": TOO_FEW,
    "Replication factor: 3 larger than available brokers: 2.": TOO_FEW,
}


@pytest.mark.parametrize("message", list(REFUSED_FOR_NOW), ids=["ci-sample", "3x", "controlled-shutdown",
                                                                 "too-few", "too-few-4x", "zookeeper"])
def test_a_replication_factor_refused_for_want_of_brokers_names_its_reason(message: str) -> None:
    assert transient_reason(InvalidReplicationFactorError(message)) == REFUSED_FOR_NOW[message]


@pytest.mark.parametrize("error", [
    InvalidReplicationFactorError("Invalid replication factor 0: the replication factor must be positive."),
    InvalidReplicationFactorError(), InvalidPartitionsError("Number of partitions is below 1."),
    InvalidConfigurationError("Invalid value x for configuration cleanup.policy"), TopicAuthorizationFailedError(),
    RuntimeError("Invalid controller: 1"), ValueError("a bug"),
], ids=lambda e: f"{type(e).__name__}:{str(e)[:20]}")
def test_a_request_that_is_wrong_has_no_transient_reason(error: BaseException) -> None:
    assert transient_reason(error) is None


def test_a_broker_away_and_a_moved_controller_are_refusals_for_now() -> None:
    assert transient_reason(BrokerNotAvailableError()) == NO_BROKER
    assert transient_reason(NotControllerError()) == NOT_CONTROLLER


def test_faust_s_invalid_controller_is_kafka_s_not_controller() -> None:
    error = not_controller(RuntimeError("Invalid controller: 1"))
    assert isinstance(error, NotControllerError) and "Invalid controller: 1" in str(error)
    assert not_controller(RuntimeError("Controller node is None")) is None
    assert not_controller(ValueError("Invalid controller: 1")) is None


def test_no_reason_holds_a_topic_name_or_an_identifier() -> None:
    reasons = [transient_reason(InvalidReplicationFactorError(message)) for message in REFUSED_FOR_NOW]
    assert all(reason and "f99dd80c2" not in reason and "changelog" not in reason for reason in reasons)
