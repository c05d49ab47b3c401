"""Issue #14 item 1 and #13 case 4, end to end: producer, consumer, admin and a faust app all exchange a
record with a real broker over TLS only, and over SASL_SSL with SCRAM, from the same settings."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer

from bus.app import create_app
from bus.config import OmnibusSettings, load_settings
from bus.kafka_client import connection_options
from bus.producer import EventProducer, Outgoing
from bus.serde import SerdeContext, build_serde
from bus.stack.kafka import KafkaBroker
from bus.stack.security import BrokerSecurity
from bus.topic_admin import apply_topics
from bus.topics import CONTACT_EVENTS
from tests.support.samples import identifiers_observed
from tests.support.tls import TlsFiles, make_tls_files

pytestmark = pytest.mark.kafka
USER, PASSWORD = "omnibus", "scram-test-secret"


@pytest.fixture(scope="module")
def secured_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[KafkaBroker, TlsFiles]]:
    home = tmp_path_factory.mktemp("secured-broker")
    files = make_tls_files(home / "tls")
    broker = KafkaBroker(home, heap="384m", security=BrokerSecurity(
        cert_file=files.server_cert, key_file=files.server_key, ca_file=files.ca_cert, users={USER: PASSWORD}))
    broker.start()
    try:
        yield broker, files
    finally:
        broker.stop()


def _settings(broker: KafkaBroker, files: TlsFiles, protocol: str, mechanism: str | None) -> OmnibusSettings:
    kafka: dict[str, Any] = {"security_protocol": protocol, "ssl_cafile": str(files.ca_cert)}
    if protocol == "SSL":
        kafka |= {"bootstrap_servers": broker.ssl_bootstrap_servers,
                  "ssl_certfile": str(files.client_cert), "ssl_keyfile": str(files.client_key)}
    else:
        kafka |= {"bootstrap_servers": broker.sasl_ssl_bootstrap_servers, "sasl_mechanism": mechanism,
                  "sasl_username": USER, "sasl_password": PASSWORD}
    return load_settings(kafka=kafka, topics={"prefix": f"t{uuid.uuid4().hex[:8]}", "partitions": 1},
                         metrics={"enabled": False})


@pytest.mark.parametrize(("protocol", "mechanism"), [("SSL", None), ("SASL_SSL", "SCRAM-SHA-512"),
                                                     ("SASL_SSL", "SCRAM-SHA-256")])
async def test_every_client_kind_exchanges_a_record(
    secured_broker: tuple[KafkaBroker, TlsFiles], protocol: str, mechanism: str | None, tmp_path: Path
) -> None:
    broker, files = secured_broker
    settings = _settings(broker, files, protocol, mechanism)
    await apply_topics(settings, [CONTACT_EVENTS])  # the admin client
    topic = CONTACT_EVENTS.name(settings.topics)
    serializer, deserializer = build_serde(settings.registry)
    async with EventProducer(settings, serializer) as producer:  # the producer
        await producer.publish(Outgoing(topic, "k", identifiers_observed("+8613800000001", sequence=1)))

    consumer = AIOKafkaConsumer(topic, **connection_options(settings.kafka), auto_offset_reset="earliest",
                                group_id=None)  # the consumer
    await consumer.start()
    try:
        record = await asyncio.wait_for(consumer.getone(), 30)
    finally:
        await consumer.stop()
    assert record.key == b"k"

    app = create_app(f"secured-{protocol.lower()}", settings, datadir=str(tmp_path))  # faust
    seen = asyncio.Event()

    @app.agent(app.topic(topic))
    async def read(stream):  # type: ignore[no-untyped-def]
        async for value in stream:
            if value == record.value:
                seen.set()

    await app.start()
    try:
        await asyncio.wait_for(seen.wait(), 60)
    finally:
        await app.stop()
    assert deserializer(record.value, SerdeContext(topic=topic)).value["envelope"]["source_event_id"] == "seq-1"


async def test_a_wrong_scram_password_is_refused(secured_broker: tuple[KafkaBroker, TlsFiles]) -> None:
    broker, files = secured_broker
    settings = _settings(broker, files, "SASL_SSL", "SCRAM-SHA-512")
    wrong = load_settings(kafka={**settings.kafka.model_dump(), "sasl_password": "not-the-password"})
    with pytest.raises(Exception):  # noqa: B017 - aiokafka raises its own authentication error types
        await asyncio.wait_for(apply_topics(wrong, [CONTACT_EVENTS]), 30)
