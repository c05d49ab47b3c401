"""TLS and SASL/SCRAM listeners for the local broker, so the clients' secured connections can be tested
against a real Kafka (``KafkaBroker(security=BrokerSecurity(...))``).

Beside its PLAINTEXT listener (kept for the readiness probe and as the inter-broker listener) the broker
then opens an ``SSL`` listener and a ``SASL_SSL`` listener accepting SCRAM-SHA-256, SCRAM-SHA-512 and
PLAIN. With ``plaintext=False`` there is no PLAINTEXT listener at all: the broker's own port is the SSL
listener, and the broker reaches itself and its KRaft controller over TLS (its certificate must then also
allow client authentication), so any component that ignored the TLS settings could not connect.
Certificates are PEM, given inline (``ssl.keystore.type=PEM``, KIP-651), so the key needs no password;
SCRAM users are created when the storage is formatted (``kafka-storage format --add-scram``), as KRaft
requires.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SCRAM_MECHANISMS = ("SCRAM-SHA-256", "SCRAM-SHA-512")
_SCRAM_MODULE = "org.apache.kafka.common.security.scram.ScramLoginModule required;"
_PLAIN_MODULE = "org.apache.kafka.common.security.plain.PlainLoginModule required"


@dataclass(frozen=True)
class BrokerSecurity:
    """The broker's certificate and key (PEM; the key PKCS#8, unencrypted), the CA it trusts for client
    certificates, and the SASL users (name -> password) for SCRAM and PLAIN."""

    cert_file: Path
    key_file: Path
    ca_file: Path
    users: Mapping[str, str] = field(default_factory=dict)
    client_auth: str = "requested"  # mutual TLS when a client offers a certificate; "required" to insist
    plaintext: bool = True  # False: no PLAINTEXT listener; inter-broker and controller traffic over TLS too


def _inline(path: Path) -> str:
    """A PEM file as one ``.properties`` value (``\\n`` escapes, which java.util.Properties reads back)."""
    return path.read_text().strip().replace("\n", "\\n")


def listener_properties(security: BrokerSecurity) -> dict[str, str]:
    """``server.properties`` entries for the SSL and SASL_SSL listeners (merged over the plaintext ones)."""
    plain_users = " ".join(f'user_{name}="{password}"' for name, password in security.users.items())
    properties = {
        "ssl.keystore.type": "PEM",
        "ssl.keystore.certificate.chain": _inline(security.cert_file),
        "ssl.keystore.key": _inline(security.key_file),
        "ssl.truststore.type": "PEM",
        "ssl.truststore.certificates": _inline(security.ca_file),
        "ssl.client.auth": security.client_auth,
        "sasl.enabled.mechanisms": ",".join((*SCRAM_MECHANISMS, "PLAIN")),
        "listener.name.sasl_ssl.plain.sasl.jaas.config": f"{_PLAIN_MODULE} {plain_users};",
    }
    for mechanism in SCRAM_MECHANISMS:
        properties[f"listener.name.sasl_ssl.{mechanism.lower()}.sasl.jaas.config"] = _SCRAM_MODULE
    return properties


def listeners(
    host: str, port: int, controller_port: int, ssl_port: int, sasl_ssl_port: int, *, plaintext: bool = True
) -> dict[str, str]:
    """The listener entries with the secured listeners added (``plaintext=False``: only secured ones)."""
    if not plaintext:
        secured = f"SSL://{host}:{ssl_port},SASL_SSL://{host}:{sasl_ssl_port}"
        return {
            "listeners": f"{secured},CONTROLLER://{host}:{controller_port}",
            "advertised.listeners": secured,
            "listener.security.protocol.map": "SSL:SSL,SASL_SSL:SASL_SSL,CONTROLLER:SSL",
            "inter.broker.listener.name": "SSL",
        }
    return {
        "listeners": f"PLAINTEXT://{host}:{port},SSL://{host}:{ssl_port},SASL_SSL://{host}:{sasl_ssl_port},"
                     f"CONTROLLER://{host}:{controller_port}",
        "advertised.listeners": f"PLAINTEXT://{host}:{port},SSL://{host}:{ssl_port},SASL_SSL://{host}:{sasl_ssl_port}",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT",
    }


def probe_options(security: BrokerSecurity | None) -> dict[str, Any]:
    """aiokafka options for the broker's readiness probe on its own port (TLS when it has no plaintext one)."""
    if security is None or security.plaintext:
        return {}
    from aiokafka.helpers import create_ssl_context

    return {"security_protocol": "SSL", "ssl_context": create_ssl_context(cafile=str(security.ca_file))}


def format_arguments(security: BrokerSecurity) -> list[str]:
    """``kafka-storage format`` arguments creating every user for both SCRAM mechanisms."""
    arguments = []
    for name, password in security.users.items():
        for mechanism in SCRAM_MECHANISMS:
            arguments += ["--add-scram", f"{mechanism}=[name={name},password={password}]"]
    return arguments
