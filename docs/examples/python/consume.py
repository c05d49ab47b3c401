"""A CRM-side consumer of Omnibus topics, with nothing of Omnibus installed: confluent-kafka + fastavro + PyYAML.

It reads the Avro schemas from the AsyncAPI document (docs/asyncapi.yaml), subscribes to every public
topic (channel) of that document, decodes the registry-free framing (Avro single-object encoding: C3 01,
8-byte CRC-64-AVRO fingerprint, body) and prints one JSON line per record. Internal topics are not in the
document, so they are never subscribed to.

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
Record = dict[str, Any]  # one decoded Avro record


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
    seen = 0
    try:
        while not args.max_records or seen < args.max_records:
            message = consumer.poll(1.0)
            if message is None:
                continue
            if message.error():
                print(json.dumps({"error": str(message.error())}), file=sys.stderr)
                continue
            value, topic = message.value(), message.topic() or ""
            try:
                if value is None:
                    raise ValueError("no value (a tombstone)")
                if with_registry is not None:
                    name, record = with_registry(value, topic)
                else:
                    name, record = decode(value, schemas)
            except ValueError as error:
                print(json.dumps({"topic": topic, "offset": message.offset(), "skipped": str(error)}),
                      file=sys.stderr)
            else:
                # At-least-once: a CRM dedupes on envelope.event_id before applying the record.
                print(json.dumps({"topic": topic, "key": (message.key() or b"").decode(), "type": name,
                                  "record": record}, default=str), flush=True)
            consumer.commit(message=message, asynchronous=False)  # after the record was handled
            seen += 1
    finally:
        consumer.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
