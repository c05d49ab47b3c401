"""One translator: every client kind gets the same connection from the same settings, for every protocol."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from faust.transport.drivers.aiokafka import credentials_to_aiokafka_auth

from bus.app import create_app
from bus.config import OmnibusSettings, load_settings
from bus.errors import ConfigError
from bus.kafka_client import connection_options, kafka_connection, producer_options
from tests.support.tls import make_tls_files

SASL_MECHANISMS = ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]
CASES: list[tuple[str, str | None]] = [
    ("PLAINTEXT", None),
    ("SSL", None),
    *[("SASL_PLAINTEXT", mechanism) for mechanism in SASL_MECHANISMS],
    *[("SASL_SSL", mechanism) for mechanism in SASL_MECHANISMS],
]


def _settings(protocol: str, mechanism: str | None, tls_dir: Path | None = None) -> OmnibusSettings:
    kafka: dict[str, Any] = {"bootstrap_servers": "broker-1:9093, broker-2:9093", "security_protocol": protocol}
    if mechanism:
        kafka |= {"sasl_mechanism": mechanism, "sasl_username": "svc", "sasl_password": "s3cret"}
    if tls_dir is not None:
        files = make_tls_files(tls_dir)
        kafka |= {"ssl_cafile": str(files.ca_cert), "ssl_certfile": str(files.client_cert),
                  "ssl_keyfile": str(files.client_key), "ssl_check_hostname": False}
    return load_settings(kafka=kafka, metrics={"enabled": False})


def _tls_summary(context: ssl.SSLContext | None) -> tuple[Any, ...] | None:
    if context is None:
        return None
    return (context.verify_mode, context.check_hostname, len(context.get_ca_certs()), context.minimum_version)


def _client_view(client: Any) -> dict[str, Any]:
    """What an aiokafka client (inside a producer, consumer or admin) will actually connect with."""
    return {
        "security_protocol": client._security_protocol,
        "sasl_mechanism": client._sasl_mechanism if client._security_protocol.startswith("SASL") else None,
        "sasl_plain_username": client._sasl_plain_username,
        "sasl_plain_password": client._sasl_plain_password,
        "tls": _tls_summary(client._ssl_context),
    }


def _auth_view(options: dict[str, Any]) -> dict[str, Any]:
    return {
        "security_protocol": options["security_protocol"],
        "sasl_mechanism": options.get("sasl_mechanism"),
        "sasl_plain_username": options.get("sasl_plain_username"),
        "sasl_plain_password": options.get("sasl_plain_password"),
        "tls": _tls_summary(options.get("ssl_context")),
    }


@pytest.mark.parametrize(("protocol", "mechanism"), CASES)
@pytest.mark.parametrize("with_files", [False, True], ids=["system-ca", "own-ca-mtls"])
async def test_every_client_kind_connects_the_same_way(
    protocol: str, mechanism: str | None, with_files: bool, tmp_path: Path
) -> None:
    settings = _settings(protocol, mechanism, tmp_path if with_files else None)
    options = connection_options(settings.kafka)
    producer = AIOKafkaProducer(**options)
    consumer = AIOKafkaConsumer(**options)
    admin = AIOKafkaAdminClient(**options)
    app = create_app("translator-test", settings, datadir=str(tmp_path / "faust"))
    # Exactly what faust's own consumer and producer pass to aiokafka (faust/transport/drivers/aiokafka.py).
    faust_auth = credentials_to_aiokafka_auth(app.conf.broker_credentials, app.conf.ssl_context)

    views = {
        "producer": _client_view(producer.client),
        "consumer": _client_view(consumer._client),
        "admin": _client_view(admin._client),
        "faust": _auth_view(dict(faust_auth)),
    }
    expected = views["producer"]
    assert all(view == expected for view in views.values()), views
    assert expected["security_protocol"] == protocol
    assert expected["sasl_mechanism"] == mechanism
    assert (expected["tls"] is not None) == protocol.endswith("SSL")
    if expected["tls"] is not None:
        assert expected["tls"][0] == ssl.CERT_REQUIRED
        assert expected["tls"][1] is (not with_files)  # check_hostname follows the setting
    assert [str(url) for url in app.conf.broker] == ["kafka://broker-1:9093", "kafka://broker-2:9093"]
    assert producer.client._bootstrap_servers == "broker-1:9093,broker-2:9093"
    await producer.stop()
    await consumer.stop()


def test_tls_without_sasl_reaches_faust(tmp_path: Path) -> None:
    """Issue #13 case 4: SSL and no SASL used to give the processors a plaintext connection."""
    settings = _settings("SSL", None)
    app = create_app("tls-only", settings, datadir=str(tmp_path))
    auth = credentials_to_aiokafka_auth(app.conf.broker_credentials, app.conf.ssl_context)
    assert auth["security_protocol"] == "SSL"
    assert isinstance(auth["ssl_context"], ssl.SSLContext)


@pytest.mark.parametrize(
    ("kafka", "message"),
    [
        ({"security_protocol": "SASL_SSL"}, "needs sasl_mechanism"),
        ({"security_protocol": "SASL_PLAINTEXT", "sasl_mechanism": "PLAIN", "sasl_username": "u"}, "needs"),
        ({"security_protocol": "SSL", "sasl_mechanism": "PLAIN"}, "does not use SASL"),
        ({"security_protocol": "SSL", "ssl_cafile": "/nonexistent/ca.pem"}, "TLS files"),
    ],
)
def test_inconsistent_settings_are_refused(kafka: dict[str, Any], message: str) -> None:
    settings = load_settings(kafka=kafka)
    with pytest.raises(ConfigError, match=message):
        kafka_connection(settings.kafka)


def test_the_password_never_shows_in_the_settings_repr() -> None:
    settings = _settings("SASL_SSL", "SCRAM-SHA-512")
    assert "s3cret" not in repr(settings.kafka)
    assert "s3cret" not in repr(kafka_connection(settings.kafka))


def test_the_producer_retries_a_batch_for_the_delivery_timeout_not_the_request_timeout() -> None:
    """aiokafka fails a batch once it is ``request_timeout_ms`` old: a partition 30 s without a leader stopped an
    identity worker (tests/processors/identity/test_poison.py). The producer gets the delivery timeout instead."""
    settings = load_settings(kafka={"request_timeout_ms": 30_000}, producer={"delivery_timeout_ms": 120_000})
    options = producer_options(settings)
    assert options["request_timeout_ms"] == 120_000
    assert options["acks"] == "all" and options["enable_idempotence"] is True
    assert {key: options[key] for key in connection_options(settings.kafka) if key != "request_timeout_ms"} == {
        key: value for key, value in connection_options(settings.kafka).items() if key != "request_timeout_ms"}
    shorter = load_settings(kafka={"request_timeout_ms": 40_000}, producer={"delivery_timeout_ms": 10_000})
    assert producer_options(shorter)["request_timeout_ms"] == 40_000  # never below the connection's
    assert connection_options(settings.kafka)["request_timeout_ms"] == 30_000  # consumers and admins keep theirs
