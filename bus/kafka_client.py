"""The one translator from ``KafkaSettings`` to client options.

Every Kafka client Omnibus opens — the aiokafka producer, consumer and admin client, and the faust app
(whose own consumer, producer and admin are aiokafka clients too) — gets its connection from
``kafka_connection``, so a setting means the same thing for all of them: TLS without SASL is TLS for the
processors as much as for the adapters (issue #13, case 4). Modelled on redpanda-data/connect's single
translator (``internal/impl/kafka/``).

Shapes: ``connection_options`` gives aiokafka keyword arguments
(``bootstrap_servers``, ``client_id``, ``security_protocol``, ``request_timeout_ms``, and when relevant
``sasl_mechanism``, ``sasl_plain_username``, ``sasl_plain_password``, ``ssl_context``);
``producer_options`` adds what every ``bus.producer.EventProducer`` sends with (acks=all, idempotence, batching,
and the delivery timeout, see there); ``faust_broker_options`` gives ``faust.App`` settings (``broker``,
``broker_credentials``, ``broker_client_id``) that faust turns back into the same aiokafka arguments. faust keeps
its own request timeout, which must exceed its consumer session timeout.
"""

from __future__ import annotations

import os
import ssl
from dataclasses import dataclass, field
from typing import Any

from bus.config import KafkaSettings, OmnibusSettings
from bus.errors import ConfigError

TLS_PROTOCOLS = frozenset({"SSL", "SASL_SSL"})
SASL_PROTOCOLS = frozenset({"SASL_PLAINTEXT", "SASL_SSL"})


@dataclass(frozen=True, slots=True)
class KafkaConnection:
    """Everything a client needs to reach and authenticate to the brokers, decided once."""

    bootstrap_servers: tuple[str, ...]
    client_id: str
    security_protocol: str
    request_timeout_ms: int
    sasl_mechanism: str | None = None
    sasl_username: str | None = None
    sasl_password: str | None = field(default=None, repr=False)
    ssl_context: ssl.SSLContext | None = None


def tls_context(settings: KafkaSettings) -> ssl.SSLContext:
    """A client TLS context from the ``ssl_*`` settings (system CAs when ``ssl_cafile`` is unset).

    Raises ``ConfigError`` when a CA, certificate or key file cannot be read.
    """
    from aiokafka.helpers import create_ssl_context

    password = settings.ssl_key_password.get_secret_value() if settings.ssl_key_password else None
    for name in ("ssl_cafile", "ssl_certfile", "ssl_keyfile"):
        path = getattr(settings, name)
        if path is not None and not os.access(path, os.R_OK):
            raise ConfigError(f"Kafka TLS files could not be loaded: {name} {path} cannot be read")
    try:
        context = create_ssl_context(
            cafile=settings.ssl_cafile, certfile=settings.ssl_certfile, keyfile=settings.ssl_keyfile,
            password=password,
        )
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"Kafka TLS files could not be loaded: {exc}") from exc
    context.check_hostname = settings.ssl_check_hostname
    return context


def kafka_connection(settings: KafkaSettings) -> KafkaConnection:
    """Translate settings into one ``KafkaConnection``; raises ``ConfigError`` on an inconsistent set."""
    protocol = settings.security_protocol
    sasl = protocol in SASL_PROTOCOLS
    if sasl and (not settings.sasl_mechanism or settings.sasl_username is None or settings.sasl_password is None):
        raise ConfigError(f"security_protocol {protocol} needs sasl_mechanism, sasl_username and sasl_password")
    if not sasl and settings.sasl_mechanism:
        raise ConfigError(f"sasl_mechanism is set but security_protocol {protocol} does not use SASL")
    return KafkaConnection(
        bootstrap_servers=tuple(server.strip() for server in settings.bootstrap_servers.split(",") if server.strip()),
        client_id=settings.client_id,
        security_protocol=protocol,
        request_timeout_ms=settings.request_timeout_ms,
        sasl_mechanism=settings.sasl_mechanism if sasl else None,
        sasl_username=settings.sasl_username if sasl else None,
        sasl_password=settings.sasl_password.get_secret_value() if sasl and settings.sasl_password else None,
        ssl_context=tls_context(settings) if protocol in TLS_PROTOCOLS else None,
    )


def connection_options(settings: KafkaSettings | KafkaConnection) -> dict[str, Any]:
    """aiokafka keyword arguments (producer, consumer and admin alike)."""
    connection = settings if isinstance(settings, KafkaConnection) else kafka_connection(settings)
    options: dict[str, Any] = {
        "bootstrap_servers": ",".join(connection.bootstrap_servers),
        "client_id": connection.client_id,
        "security_protocol": connection.security_protocol,
        "request_timeout_ms": connection.request_timeout_ms,
    }
    if connection.sasl_mechanism:
        options["sasl_mechanism"] = connection.sasl_mechanism
        options["sasl_plain_username"] = connection.sasl_username
        options["sasl_plain_password"] = connection.sasl_password
    if connection.ssl_context is not None:
        options["ssl_context"] = connection.ssl_context
    return options


def producer_options(settings: OmnibusSettings) -> dict[str, Any]:
    """``connection_options`` for an ``AIOKafkaProducer`` that waits for every in-sync replica (``acks=all``,
    idempotent), with the ``producer`` section's batching.

    aiokafka has no ``delivery.timeout.ms``: a batch a broker refused for a transient reason (no leader for its
    partition, a request timed out) is retried in order, without copies, until it is older than the producer's
    ``request_timeout_ms``, then failed. At 30 s a partition briefly without a leader under load failed an
    identity worker's dead letter (``NotLeaderForPartitionError``, tests/processors/identity/test_poison.py).
    So the producer's ``request_timeout_ms`` is ``producer.delivery_timeout_ms`` (never below the connection's),
    as faust sets its own producer's (``producer_request_timeout``, 20 min: "this is also the time when producer
    batches expire"). The cost: a produce request to a silently unreachable broker is given up that much later.
    """
    options = connection_options(settings.kafka)
    options["request_timeout_ms"] = max(options["request_timeout_ms"], settings.producer.delivery_timeout_ms)
    return options | {
        "acks": "all",
        "enable_idempotence": True,
        "compression_type": settings.producer.compression_type,
        "linger_ms": settings.producer.linger_ms,
        "max_batch_size": settings.producer.max_batch_size,
    }


def faust_broker_options(settings: KafkaSettings | KafkaConnection, *, client_suffix: str) -> dict[str, Any]:
    """``faust.App`` settings for the same connection; the client id becomes ``<client_id>-<client_suffix>``."""
    import faust

    connection = settings if isinstance(settings, KafkaConnection) else kafka_connection(settings)
    credentials: Any = None
    if connection.sasl_mechanism:
        credentials = faust.SASLCredentials(
            username=connection.sasl_username, password=connection.sasl_password,
            mechanism=connection.sasl_mechanism, ssl_context=connection.ssl_context,
        )
    elif connection.ssl_context is not None:
        credentials = faust.SSLCredentials(connection.ssl_context)
    return {
        "broker": [f"kafka://{server}" for server in connection.bootstrap_servers],
        "broker_credentials": credentials,
        "broker_client_id": f"{connection.client_id}-{client_suffix}",
    }
