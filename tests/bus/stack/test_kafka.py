"""``bus.stack.kafka``'s server properties, read without starting a broker."""

from __future__ import annotations

from pathlib import Path

from bus.stack import kafka

KAFKA_SESSION_DEFAULT_MS, KAFKA_HEARTBEAT_DEFAULT_MS, KAFKA_REGISTRATION_DEFAULT_MS = 9_000, 2_000, 60_000


def properties(broker: kafka.KafkaBroker) -> dict[str, str]:
    lines = broker._server_properties().splitlines()  # noqa: SLF001 - the file the broker is started with
    return dict(line.split("=", 1) for line in lines)


def test_the_broker_s_lease_outlasts_a_starved_machine_s_pauses(tmp_path: Path) -> None:
    """CI: starved on 2 cores, the broker missed its heartbeats to its controller for longer than Kafka's 9 s default,
    was fenced, and identity's CreateTopics at start was refused ("All brokers are currently fenced")."""
    written = properties(kafka.KafkaBroker(tmp_path, port=19092, controller_port=19093))
    session = int(written["broker.session.timeout.ms"])
    assert session == kafka.SESSION_TIMEOUT_MS >= 2 * KAFKA_SESSION_DEFAULT_MS
    assert "broker.heartbeat.interval.ms" not in written and session // KAFKA_HEARTBEAT_DEFAULT_MS >= 10
    # a restart after kill -9 waits up to one lease to register; the broker exits if its first registration takes longer
    registration = int(written["initial.broker.registration.timeout.ms"])
    assert registration >= KAFKA_REGISTRATION_DEFAULT_MS + session

