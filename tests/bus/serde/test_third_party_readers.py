"""Subscribers who never saw our code can read us: the Apache ``avro`` library decodes what bus wrote.

The registry-free framing is the Avro specification's single-object encoding, so a subscriber needs
only the schema files: check the C3 01 marker, find the schema by its CRC-64-AVRO fingerprint, decode
the body. The Confluent framing is proven with confluent-kafka's AvroDeserializer in the registry tests.
"""

import io
import json

import avro.io
import avro.schema
import pytest

from bus.serde import Event, SerdeContext, SingleObjectSerializer
from schemas.catalog import crc64_avro, default_catalog
from tests.support.samples import identifiers_observed

CTX = SerdeContext(topic="omnibus.identity.observed.v1")


def canonical_form(schema: object) -> str:
    """The spec's Parsing Canonical Form, written here independently of fastavro and of our catalog."""
    keep = ("name", "type", "fields", "symbols", "items", "values", "size")

    def strip(node: object, namespace: str = "") -> object:
        if isinstance(node, str):
            return node if node in PRIMITIVES or "." in node else (f"{namespace}.{node}" if namespace else node)
        if isinstance(node, list):
            return [strip(item, namespace) for item in node]
        assert isinstance(node, dict)
        kind = node["type"]
        if isinstance(kind, str) and kind in PRIMITIVES:
            return kind  # also drops logicalType: {"type": "long", "logicalType": ...} -> "long"
        out: dict[str, object] = {}
        if "name" in node:
            name = node["name"]
            namespace = node.get("namespace", namespace) if "." not in name else name.rpartition(".")[0]
            out["name"] = name if "." in name else (f"{namespace}.{name}" if namespace else name)
        for key in keep:
            if key == "name" or key not in node:
                continue
            value = node[key]
            if key == "fields":
                out[key] = [{"name": f["name"], "type": strip(f["type"], namespace)} for f in value]
            elif key == "type" and value in COMPLEX:
                out[key] = value
            elif key in ("type", "items", "values"):
                out[key] = strip(value, namespace)
            else:
                out[key] = value
        return out

    return json.dumps(strip(schema), separators=(",", ":"))


PRIMITIVES = {"null", "boolean", "int", "long", "float", "double", "bytes", "string"}
COMPLEX = {"record", "enum", "array", "map", "fixed"}


@pytest.mark.parametrize("name", ["omnibus.contact.IdentifiersObserved", "omnibus.deadletter.DeadLetter"])
def test_fingerprint_follows_the_specification(name: str) -> None:
    schema = default_catalog().get(name)
    assert crc64_avro(canonical_form(schema.schema).encode()) == schema.fingerprint


def test_reference_avro_library_reads_single_object_encoding() -> None:
    event = identifiers_observed("+8613800138000", email="alice@example.com")
    data = SingleObjectSerializer(default_catalog())(event, CTX)

    # What a subscriber does with nothing but the .avsc files:
    assert data[:2] == b"\xc3\x01"
    by_fingerprint = {
        crc64_avro(canonical_form(s.schema).encode()): s.schema for s in default_catalog()
    }
    writer = avro.schema.parse(json.dumps(by_fingerprint[data[2:10]]))
    decoded = avro.io.DatumReader(writer).read(avro.io.BinaryDecoder(io.BytesIO(data[10:])))

    assert decoded["identifiers"] == event.value["identifiers"]
    assert decoded["envelope"]["event_id"] == event.value["envelope"]["event_id"]
    assert decoded["envelope"]["occurred_at"] == event.value["envelope"]["occurred_at"]
