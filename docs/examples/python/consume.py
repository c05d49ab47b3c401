"""A CRM-side consumer of Omnibus topics, with nothing of Omnibus installed: confluent-kafka + fastavro + PyYAML.

It reads the Avro schemas from the AsyncAPI document (docs/asyncapi.yaml), subscribes to every public
topic (channel) of that document, decodes the registry-free framing (Avro single-object encoding: C3 01,
8-byte CRC-64-AVRO fingerprint, body) and prints one JSON line per record. Internal topics are not in the
document, so they are never subscribed to.

It also mirrors ``customer.identifiers.v1`` (compacted) in a local view, as a CRM's table of identifier owners
would: the latest ``IdentifierAssignment`` per key by ``version``, a tombstone (a record without a value: the
identifier belongs to nobody now) deleting the key (``View``; docs/subscribers.md, "Keys, and what a tombstone
means"). Every line about that topic says what the view did (``"view"``: kept, ignored or deleted).

    pip install confluent-kafka fastavro pyyaml
    python consume.py --bootstrap-servers localhost:9092 --asyncapi docs/asyncapi.yaml --group my-crm

With a schema registry (OMNIBUS_REGISTRY__URL set on the Omnibus side, as in ``omnibus demo``), the
records are in the Confluent wire format: pass ``--registry-url`` (the same URL) and confluent-kafka's
AvroDeserializer decodes them (``decode_confluent`` below).
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from collections.abc import Callable
from typing import Any

import fastavro
import yaml
from confluent_kafka import Consumer

SINGLE_OBJECT_MAGIC = b"\xc3\x01"
IDENTIFIERS_TOPIC = "customer.identifiers.v1"  # after the deployment's prefix and a dot
VERSION_HEADER = "omnibus-assignment-version"  # on a tombstone: the assignment version it ends (decimal ASCII)
Record = dict[str, Any]  # one decoded Avro record
Headers = list[tuple[str, str | bytes | None]] | dict[str, str | bytes | None] | None  # Message.headers()


class View:
    """The current customer of every identifier, from ``customer.identifiers.v1``: ``rows[key]`` is the latest
    ``IdentifierAssignment`` (key ``TYPE:value``, personal data).

    A row replaces the one held when its ``version`` is at least the held one's (a stale worker may write an older
    decision late); a tombstone deletes the key, and a row of the version it ends (its header
    ``omnibus-assignment-version``) or lower, arriving after it, does not bring the key back; a tombstone without
    the header deletes whatever is held (processors/identity/assignments.py is the rule Omnibus itself reads by).
    """

    def __init__(self) -> None:
        self.rows: dict[str, Record] = {}
        self.removed: dict[str, int] = {}  # key -> the highest version a tombstone ended

    def apply(self, key: str, record: Record | None, headers: Headers = None) -> str:
        """Apply one record (None: a tombstone): ``"kept"``, ``"ignored"`` (an older row) or ``"deleted"``."""
        if record is None:
            self.rows.pop(key, None)
            ended = tombstone_version(headers)
            if ended is not None:
                self.removed[key] = max(ended, self.removed.get(key, ended))
            return "deleted"
        version, held = int(record.get("version") or 0), self.rows.get(key)
        if (held is not None and version < int(held.get("version") or 0)) or version <= self.removed.get(key, -1):
            return "ignored"
        self.rows[key] = record
        return "kept"


def tombstone_version(headers: Headers) -> int | None:
    """The version a tombstone ends, from its ``omnibus-assignment-version`` header (None: none, or unreadable)."""
    found = dict(headers or {}).get(VERSION_HEADER)
    text = found.decode(errors="replace") if isinstance(found, bytes) else found
    return int(text) if text is not None and text.strip().isdigit() else None


def load_contract(path: str, prefix: str) -> tuple[list[str], dict[bytes, Any]]:
    """Topics to subscribe to, and ``{fingerprint: parsed schema}`` of every message of the document."""
    with open(path, encoding="utf-8") as handle:
        document = yaml.safe_load(handle)
    topics: list[str] = [channel["address"].replace("omnibus.", f"{prefix}.", 1)
                         for channel in document["channels"].values()]
    schemas: dict[bytes, Any] = {}  # fingerprint -> fastavro's parsed schema
    for message in document["components"]["messages"].values():
        parsed = fastavro.parse_schema(message["payload"]["schema"])
        fingerprint = fastavro.schema.fingerprint(fastavro.schema.to_parsing_canonical_form(parsed), "CRC-64-AVRO")
        schemas[bytes.fromhex(fingerprint)] = parsed
    return topics, schemas


def decode(value: bytes, schemas: dict[bytes, Any]) -> tuple[str, Record]:
    """(record full name, record) of one single-object-encoded value; ValueError if it is not one."""
    if value[:2] != SINGLE_OBJECT_MAGIC or len(value) < 10:
        raise ValueError("not Avro single-object encoding")
    schema = schemas.get(value[2:10])
    if schema is None:
        raise ValueError(f"unknown schema fingerprint {value[2:10].hex()}: update the AsyncAPI document")
    record = fastavro.schemaless_reader(io.BytesIO(value[10:]), schema)
    if not isinstance(record, dict):
        raise ValueError(f"{schema['name']} is not a record schema")
    return str(schema["name"]), record


def confluent_decoder(registry_url: str) -> Callable[[bytes, str], tuple[str, Record]]:
    """``decode(value)`` for the Confluent wire format (00, 4-byte schema id, body), through the registry."""
    from confluent_kafka.schema_registry import SchemaRegistryClient
    from confluent_kafka.schema_registry.avro import AvroDeserializer
    from confluent_kafka.serialization import MessageField, SerializationContext

    client = SchemaRegistryClient({"url": registry_url})
    deserializer = AvroDeserializer(client)
    names: dict[int, str] = {}

    def decode_confluent(value: bytes, topic: str) -> tuple[str, Record]:
        if value[:1] != b"\x00" or len(value) < 5:
            raise ValueError("not the Confluent wire format (is the registry URL right for this deployment?)")
        schema_id = int.from_bytes(value[1:5], "big")
        if schema_id not in names:
            schema_str = client.get_schema(schema_id).schema_str
            if schema_str is None:
                raise ValueError(f"the registry has no text for schema id {schema_id}")
            schema = json.loads(schema_str)
            names[schema_id] = f"{schema['namespace']}.{schema['name']}" if "namespace" in schema else schema["name"]
        return names[schema_id], deserializer(value, SerializationContext(topic, MessageField.VALUE))

    return decode_confluent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap-servers", required=True)
    parser.add_argument("--asyncapi", required=True, help="path to docs/asyncapi.yaml")
    parser.add_argument("--group", required=True, help="your consumer group")
    parser.add_argument("--prefix", default="omnibus", help="the deployment's OMNIBUS_TOPICS__PREFIX")
    parser.add_argument("--max-records", type=int, default=0, help="stop after this many (0: run until Ctrl-C)")
    parser.add_argument("--registry-url", default="", help="the deployment's OMNIBUS_REGISTRY__URL when it uses a "
                                                           "schema registry (omnibus demo does)")
    args = parser.parse_args()

    topics, schemas = load_contract(args.asyncapi, args.prefix)
    with_registry = confluent_decoder(args.registry_url) if args.registry_url else None
    consumer = Consumer({"bootstrap.servers": args.bootstrap_servers, "group.id": args.group,
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})
    consumer.subscribe(topics)
    identifiers_topic, view = f"{args.prefix}.{IDENTIFIERS_TOPIC}", View()
    seen = 0
    try:
        while not args.max_records or seen < args.max_records:
            message = consumer.poll(1.0)
            if message is None:
                continue
            if message.error():
                print(json.dumps({"error": str(message.error())}), file=sys.stderr)
                continue
            value, topic, key = message.value(), message.topic() or "", (message.key() or b"").decode()
            line: Record | None = None
            try:
                if value is None and topic == identifiers_topic:  # the identifier belongs to nobody now
                    line = {"topic": topic, "key": key, "view": view.apply(key, None, message.headers())}
                elif value is None:
                    raise ValueError("no value: Omnibus writes tombstones on customer.identifiers.v1 only")
                else:
                    name, record = with_registry(value, topic) if with_registry else decode(value, schemas)
                    # At-least-once: a CRM dedupes on envelope.event_id before applying the record.
                    line = {"topic": topic, "key": key, "type": name, "record": record}
                    if topic == identifiers_topic:
                        line["view"] = view.apply(key, record)
            except ValueError as error:
                print(json.dumps({"topic": topic, "offset": message.offset(), "skipped": str(error)}),
                      file=sys.stderr)
            if line is not None:
                print(json.dumps(line, default=str), flush=True)
            consumer.commit(message=message, asynchronous=False)  # after the record was handled
            seen += 1
    finally:
        consumer.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
