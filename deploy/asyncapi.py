"""The subscriber contract as an AsyncAPI 3.0 document, generated from ``bus/topics.py`` and ``schemas/``.

Every public topic becomes a channel (address = topic name with the default prefix, its key, its
Kafka binding: partitions, replicas, clean-up policy, retention) with one message per Avro record it
carries (``carries``), each with its standalone Avro schema from the catalog and a Kafka message binding
for the registry framing. Internal topics (``internal=True``) and faust's own topics are listed in the
description only, so a subscriber to ``omnibus.*`` knows to skip them. ``asyncapi validate`` checks the
result in CI (tests/deploy/test_asyncapi.py). Format: https://www.asyncapi.com/docs/reference/specification/v3.0.0
"""

from __future__ import annotations

import re
import textwrap
import tomllib
from pathlib import Path
from typing import Any

from bus.config import TopicSettings
from bus.topics import ALL_TOPICS, FAUST_INTERNAL_PATTERNS, TopicSpec
from schemas.catalog import default_catalog

ASYNCAPI_VERSION = "3.0.0"
KAFKA_BINDING_VERSION = "0.5.0"
AVRO_FORMAT = "application/vnd.apache.avro+json;version=1.9.0"
CONTENT_TYPE = "application/octet-stream"  # Avro binary behind one of the two framings below

FRAMING = """\
Every record value is one Avro record (the message's payload schema), framed in one of two ways:

* **with a schema registry** (`OMNIBUS_REGISTRY__URL` set): the Confluent wire format, magic byte `0x00`
  then the 4-byte big-endian schema id, then the Avro body. Subjects follow `TopicRecordNameStrategy`
  (`<topic>-<record full name>`), because one topic carries several record types. Any Confluent
  deserializer reads it.
* **registry-free** (the default): the Avro single-object encoding, `0xC3 0x01`, then the 8-byte
  little-endian CRC-64-AVRO fingerprint of the schema's Parsing Canonical Form, then the Avro body.
  Match the fingerprint against the schemas in this document (or the `.avsc` files) to pick the reader.

Keys are UTF-8 strings (see each channel); each key's records stay in order on one partition
(murmur2 partitioner, like the Java client). Producers are idempotent with `acks=all`;
delivery is at least once, so dedupe on `envelope.event_id`."""


def _channel_id(spec: TopicSpec) -> str:
    """``contact.events.v1`` -> ``contactEventsV1``."""
    words = re.split(r"[._-]", spec.suffix)
    return words[0] + "".join(word[:1].upper() + word[1:] for word in words[1:])


def _message_id(fullname: str) -> str:
    return fullname.removeprefix("omnibus.").replace(".", "_")


def _internal_note(settings: TopicSettings) -> str:
    internal = [f"`{spec.name(settings)}`" for spec in ALL_TOPICS if spec.internal]
    faust = [f"`{pattern.replace('<prefix>', settings.prefix)}`" for pattern in FAUST_INTERNAL_PATTERNS]
    return ("**Internal topics — skip them** when subscribing to `" + settings.prefix + ".*`: "
            + ", ".join(internal) + " (JSON between one processor's workers), and faust's own "
            + ", ".join(faust) + ". They are not part of this contract and may change at any time.")


def _channel(spec: TopicSpec, settings: TopicSettings) -> dict[str, Any]:
    return {
        "address": spec.name(settings),
        "title": spec.name(settings),
        "description": f"{spec.description} Key: {spec.key}.",
        "messages": {
            _message_id(name): {"$ref": f"#/components/messages/{_message_id(name)}"} for name in spec.carries
        },
        "bindings": {"kafka": {
            "topic": spec.name(settings),
            "partitions": spec.partition_count(settings),
            "replicas": settings.replication_factor,
            "topicConfiguration": {
                "cleanup.policy": ["compact" if spec.compacted else "delete"],
                "retention.ms": spec.retention_ms,
            },
            "bindingVersion": KAFKA_BINDING_VERSION,
        }},
    }


def _message(fullname: str, keys: list[str]) -> dict[str, Any]:
    schema = default_catalog().get(fullname)
    return {
        "name": fullname,
        "title": fullname.rsplit(".", 1)[-1],
        "summary": schema.schema.get("doc", fullname),
        "contentType": CONTENT_TYPE,
        "payload": {"schemaFormat": AVRO_FORMAT, "schema": schema.schema},
        "bindings": {"kafka": {
            "key": {"type": "string", "description": " or ".join(sorted(set(keys)))},
            "schemaIdLocation": "payload",
            "schemaIdPayloadEncoding": "confluent",
            "schemaLookupStrategy": "TopicRecordNameStrategy",
            "bindingVersion": KAFKA_BINDING_VERSION,
        }},
        "x-omnibus-fingerprint-crc64-avro": schema.fingerprint_hex,
    }


def render(settings: TopicSettings | None = None) -> dict[str, Any]:
    """The AsyncAPI document for a deployment with ``settings`` (default prefix ``omnibus``)."""
    settings = settings or TopicSettings()
    public = [spec for spec in ALL_TOPICS if not spec.internal]
    keys: dict[str, list[str]] = {}
    for spec in public:
        for name in spec.carries:
            keys.setdefault(name, []).append(spec.key)
    channels = {_channel_id(spec): _channel(spec, settings) for spec in public}
    operations = {
        f"receive{cid[:1].upper()}{cid[1:]}": {
            "action": "receive",
            "title": f"Subscribe to {channel['address']}",
            "channel": {"$ref": f"#/channels/{cid}"},
            "messages": [{"$ref": f"#/channels/{cid}/messages/{mid}"} for mid in channel["messages"]],
        }
        for cid, channel in channels.items()
    }
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "id": "urn:omnibus:events",
        "info": {
            "title": "Omnibus events",
            "version": _project_version(),
            "description": ("What Omnibus publishes on Kafka for CRMs and other subscribers: one channel per "
                            "topic, one message per Avro record type.\n\n" + FRAMING + "\n\n"
                            + _internal_note(settings)),
            "license": {"name": "Apache-2.0", "url": "https://www.apache.org/licenses/LICENSE-2.0"},
        },
        "defaultContentType": CONTENT_TYPE,
        "servers": {"cluster": {
            "host": "omnibus-kafka-bootstrap:9093",
            "protocol": "kafka-secure",
            "description": "Your Kafka cluster (OMNIBUS_KAFKA__BOOTSTRAP_SERVERS); SASL SCRAM-SHA-512 over TLS.",
            "security": [{"$ref": "#/components/securitySchemes/scram"}],
        }},
        "channels": channels,
        "operations": operations,
        "components": {
            "messages": {_message_id(name): _message(name, keys[name]) for name in sorted(keys)},
            "securitySchemes": {"scram": {"type": "scramSha512",
                                          "description": "One KafkaUser per subscriber, Read on the topics it needs."}},
        },
    }


def _project_version() -> str:
    return tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())["project"]["version"]


def topics_table(settings: TopicSettings | None = None) -> str:
    """The public topics as a Markdown table, and the internal ones to skip (for docs/subscribers.md), that note's
    prose in lines of at most 120 characters, as the user documents' (tests/docs/test_prose_width.py)."""
    settings = settings or TopicSettings()
    rows = ["| topic | key | records | what |", "|---|---|---|---|"]
    for spec in ALL_TOPICS:
        if not spec.internal:
            records = ", ".join(f"`{name.rsplit('.', 1)[-1]}`" for name in spec.carries)
            key = spec.key.replace("|", "&#124;")
            rows.append(f"| `{spec.name(settings)}` | {key} | {records} | {spec.description} |")
    note = textwrap.fill(_internal_note(settings), 120, break_long_words=False, break_on_hyphens=False)
    return "\n".join(rows) + "\n\n" + note + "\n"
