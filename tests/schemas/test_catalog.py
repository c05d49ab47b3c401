"""The contract loads, follows its conventions, is fingerprinted correctly and round-trips in two libraries."""

from __future__ import annotations

import copy
import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import avro.io
import avro.schema
import fastavro
import fastavro.schema
import pytest

from processors.kpis.measures import Measure
from schemas.catalog import EventSchema, SchemaCatalog, crc64_avro, default_catalog
from schemas.errors import SchemaNotFound, SchemaParseError

CATALOG = default_catalog()
SCHEMA_ROOT = Path(CATALOG.root)
DOMAINS = {"common", "contact", "identity", "business", "handoff", "marketing", "deadletter", "kpi"}
NOT_EVENTS = {"omnibus.identity.IdentifierAssignment", "omnibus.deadletter.DeadLetter"}  # table row, DLQ record
# `long` fields that are neither instants nor durations.
PLAIN_LONGS = {"amount_minor", "source_offset", "value_size", "version"} | {m.value for m in Measure}  # counts, not times

EXPECTED_EVENTS = {
    "omnibus.contact." + n
    for n in ("IdentifiersObserved", "InteractionRecorded", "CallCompleted", "QueueTicketChanged", "CounterTransaction")
} | {
    "omnibus.identity." + n
    for n in ("CustomerCreated", "CustomerLinked", "CustomerMerged", "CustomerSplit", "LinkRefused",
              "MergeReviewRequested", "MergeReviewDecided", "ContactMoved")
} | {
    "omnibus.business." + n
    for n in ("AccountOpened", "AccountClosed", "ProductSubscribed", "ProductCancelled", "BillIssued",
              "PaymentOverdue", "OrderStatusChanged", "CardStatusChanged")
} | {
    "omnibus.handoff." + n
    for n in ("HandoffCreated", "HandoffRouted", "HandoffAcknowledged", "HandoffAccepted", "HandoffTransferred",
              "HandoffWaitingOnCustomer", "HandoffResumed", "HandoffResolved", "HandoffClosed", "HandoffReopened",
              "HandoffDeadlineWarning", "HandoffBreached", "HandoffEscalated", "HandoffUnacknowledgedAlarm",
              "CustomerNotification", "CustomerNotificationRecalled", "HandoffStatusChanged", "HandoffFollowedUp")
} | {"omnibus.marketing." + n for n in ("OfferDefined", "OfferPresented", "OfferResponded", "OfferWithdrawn",
                                     "OfferInstruction", "RetentionSignal")} | {
    "omnibus.kpi.KpiAggregate",
}


def _raw(schema: EventSchema) -> dict:
    return json.loads(schema.path.read_text(encoding="utf-8"))


def _referenced_names() -> set[str]:
    names: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, str) and node.startswith("omnibus."):
            names.add(node)
        elif isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, dict):
            for key in ("type", "items", "values"):
                walk(node.get(key))
            for fld in node.get("fields", []):
                walk(fld["type"])

    for schema in CATALOG:
        walk(_raw(schema))
    return names


REFERENCED = _referenced_names()
RECORDS = [s for s in CATALOG if s.schema["type"] == "record"]
EVENTS = [s for s in RECORDS if s.fullname not in REFERENCED | NOT_EVENTS]
TOP_LEVEL = EVENTS + [CATALOG.get(name) for name in sorted(NOT_EVENTS)]


def _ids(schemas: list[EventSchema]) -> list[str]:
    return [s.fullname for s in schemas]


def _named_types(schema: dict) -> dict[str, dict]:
    """Every named type defined inside a standalone schema, by full name."""
    found: dict[str, dict] = {}

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, dict):
            if node.get("type") in ("record", "enum", "fixed"):
                found[f"{node['namespace']}.{node['name']}"] = node
                for fld in node.get("fields", []):
                    walk(fld["type"])
            else:
                walk(node.get("items"))
                walk(node.get("values"))

    walk(schema)
    return found


def _fields(schema: dict):
    """(record full name, field) for every field of every record in a standalone schema."""
    for fullname, node in _named_types(schema).items():
        for fld in node.get("fields", []):
            yield fullname, fld


def _non_null(type_: Any) -> Any:
    if isinstance(type_, list):
        rest = [t for t in type_ if t != "null"]
        return rest[0] if len(rest) == 1 else type_
    return type_


# --- loading and lookup -------------------------------------------------------------------------------


def test_catalog_holds_every_file_and_named_type() -> None:
    files = sorted(SCHEMA_ROOT.rglob("*.avsc"))
    assert len(CATALOG) == len(files) > 0
    assert CATALOG.names() == sorted(CATALOG.names())
    for name in ("omnibus.common.Envelope", "omnibus.common.Identifier", "omnibus.common.Channel"):
        assert name in CATALOG
    assert [s.fullname for s in CATALOG] == CATALOG.names()


def test_the_contract_has_exactly_the_expected_events() -> None:
    assert {s.fullname for s in EVENTS} == EXPECTED_EVENTS


def test_lookup_by_name_and_fingerprint() -> None:
    schema = CATALOG.get("omnibus.contact.InteractionRecorded")
    assert CATALOG.by_fingerprint(schema.fingerprint) is schema
    with pytest.raises(SchemaNotFound):
        CATALOG.get("omnibus.contact.Nope")
    with pytest.raises(KeyError):  # SchemaNotFound is a KeyError, so dict-style callers work too
        CATALOG.get("omnibus.contact.Nope")
    with pytest.raises(SchemaNotFound):
        CATALOG.by_fingerprint(b"\x00" * 8)
    assert "omnibus.contact.Nope" not in CATALOG


def test_default_catalog_is_loaded_once() -> None:
    assert default_catalog() is default_catalog()


# --- conventions ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("schema", list(CATALOG), ids=_ids(list(CATALOG)))
def test_file_layout_and_namespace(schema: EventSchema) -> None:
    domain = schema.path.parent.name
    assert domain in DOMAINS
    assert schema.path.parent.parent == SCHEMA_ROOT
    assert schema.fullname == f"omnibus.{domain}.{schema.path.stem}"
    raw = _raw(schema)
    assert raw["namespace"] == f"omnibus.{domain}" and raw["name"] == schema.path.stem


@pytest.mark.parametrize("schema", list(CATALOG), ids=_ids(list(CATALOG)))
def test_every_type_and_field_has_a_doc(schema: EventSchema) -> None:
    raw = _raw(schema)
    assert raw.get("doc", "").strip(), f"{schema.fullname} has no doc"
    for fld in raw.get("fields", []):
        assert fld.get("doc", "").strip(), f"{schema.fullname}.{fld['name']} has no doc"


@pytest.mark.parametrize("schema", [s for s in CATALOG if s.schema["type"] == "enum"],
                         ids=_ids([s for s in CATALOG if s.schema["type"] == "enum"]))
def test_enums_have_an_unknown_default(schema: EventSchema) -> None:
    assert schema.schema["default"] == "UNKNOWN"
    assert "UNKNOWN" in schema.schema["symbols"]


@pytest.mark.parametrize("schema", RECORDS, ids=_ids(RECORDS))
def test_optional_fields_are_null_first_with_null_default(schema: EventSchema) -> None:
    for fld in _raw(schema)["fields"]:
        if isinstance(fld["type"], list):
            assert fld["type"][0] == "null" and len(fld["type"]) == 2, fld["name"]
            assert "default" in fld and fld["default"] is None, fld["name"]


@pytest.mark.parametrize("schema", RECORDS, ids=_ids(RECORDS))
def test_time_fields_use_logical_types(schema: EventSchema) -> None:
    for fld in _raw(schema)["fields"]:
        name, type_ = fld["name"], _non_null(fld["type"])
        logical = type_.get("logicalType") if isinstance(type_, dict) else None
        base = type_["type"] if isinstance(type_, dict) else type_
        assert logical != "timestamp-millis", f"{name}: use timestamp-micros"
        if name.endswith("_at") or name in ("valid_from", "valid_until"):
            assert type_ == {"type": "long", "logicalType": "timestamp-micros"}, name
        if name.endswith("_date"):
            assert type_ == {"type": "int", "logicalType": "date"}, name
        if base == "long" and logical is None:
            assert name.endswith("_ms") or name in PLAIN_LONGS, f"{name}: a bare long must be a *_ms duration"
        if name.endswith("_ms"):
            assert base == "long" and logical is None, name


@pytest.mark.parametrize("schema", EVENTS, ids=_ids(EVENTS))
def test_events_start_with_the_envelope(schema: EventSchema) -> None:
    first = _raw(schema)["fields"][0]
    assert first["name"] == "envelope" and first["type"] == "omnibus.common.Envelope"


@pytest.mark.parametrize("schema", list(CATALOG), ids=_ids(list(CATALOG)))
def test_standalone_schema_defines_each_named_type_once(schema: EventSchema) -> None:
    text = json.dumps(schema.schema)
    for fullname, node in _named_types(schema.schema).items():
        definitions = text.count(f'"name": "{node["name"]}", "namespace": "{node["namespace"]}"')
        assert definitions == 1, fullname
    fastavro.parse_schema(copy.deepcopy(schema.schema), named_schemas={})  # self-contained


# --- fingerprints ---------------------------------------------------------------------------------------

# Published CRC-64-AVRO vectors (Apache Avro share/test/data/schema-tests.txt), as the signed 64-bit
# integers the Java implementation prints.
KNOWN_FINGERPRINTS = [
    ('"null"', 7195948357588979594),
    ('"boolean"', -6970731678124411036),
    ('"int"', 8247732601305521295),
    ('"long"', -3434872931120570953),
    ('"string"', -8142146995180207161),
    ('{"name":"foo","type":"fixed","size":15}', 1756455273707447556),
    ('{"name":"foo","type":"record","fields":[{"name":"f1","type":"boolean"}]}', 7843277075252814651),
]


@pytest.mark.parametrize(("canonical", "expected"), KNOWN_FINGERPRINTS)
def test_crc64_avro_matches_published_vectors(canonical: str, expected: int) -> None:
    assert crc64_avro(canonical.encode()) == expected.to_bytes(8, "little", signed=True)


def test_fingerprint_byte_order_is_single_object_encoding() -> None:
    # Avro spec, single-object encoding example: "int" fingerprint 0x7275d51a3f395c8f is written little-endian.
    assert crc64_avro(b'"int"') == bytes.fromhex("8f5c393f1ad57572")


@pytest.mark.parametrize("schema", list(CATALOG), ids=_ids(list(CATALOG)))
def test_fingerprint_matches_fastavro(schema: EventSchema) -> None:
    assert len(schema.fingerprint) == 8
    assert schema.canonical == fastavro.schema.to_parsing_canonical_form(schema.schema)
    assert fastavro.schema.fingerprint(schema.canonical, "CRC-64-AVRO") == schema.fingerprint.hex()


def _strip_logical_types(node: Any) -> Any:
    if isinstance(node, list):
        return [_strip_logical_types(n) for n in node]
    if isinstance(node, dict):
        if "logicalType" in node and node.get("type") in ("int", "long", "string", "bytes"):
            return node["type"]
        return {k: _strip_logical_types(v) for k, v in node.items()}
    return node


@pytest.mark.parametrize("schema", list(CATALOG), ids=_ids(list(CATALOG)))
def test_canonical_form_and_fingerprint_match_the_avro_library(schema: EventSchema) -> None:
    # The `avro` library writes a logical-typed long as {"type":"long"} in canonical form, where the spec
    # ([STRIP] then [PRIMITIVES]), Java and fastavro write "long"; compare on the logical-type-free schema.
    parsed = avro.schema.parse(json.dumps(_strip_logical_types(schema.schema)))
    assert parsed.canonical_form == schema.canonical
    assert parsed.fingerprint("CRC-64-AVRO") == schema.fingerprint


# --- round trips ----------------------------------------------------------------------------------------

_UTC_INSTANT = dt.datetime(2024, 5, 17, 9, 30, 15, 123456, tzinfo=dt.timezone.utc)


def sample(type_: Any, named: dict[str, dict]) -> Any:
    """A minimal valid datum for ``type_``, choosing the non-null branch of unions so every field is exercised."""
    if isinstance(type_, list):
        return sample(_non_null(type_) if len(type_) == 2 else type_[0], named)
    if isinstance(type_, str):
        if type_ in named:
            return sample(named[type_], named)
        return {"null": None, "boolean": True, "int": 7, "long": 42, "float": 1.5, "double": 2.5,
                "bytes": b"\x00\xffraw", "string": "text"}[type_]
    logical = type_.get("logicalType")
    if logical == "timestamp-micros":
        return _UTC_INSTANT
    if logical == "date":
        return dt.date(2024, 5, 31)
    kind = type_["type"]
    if kind == "record":
        return {fld["name"]: sample(fld["type"], named) for fld in type_["fields"]}
    if kind == "enum":
        return type_["symbols"][0]
    if kind == "array":
        return [sample(type_["items"], named)]
    if kind == "map":
        return {"key": sample(type_["values"], named)}
    return sample(kind, named)


def _avro_write(schema: EventSchema, datum: Any) -> bytes:
    buffer = io.BytesIO()
    avro.io.DatumWriter(avro.schema.parse(json.dumps(schema.schema))).write(datum, avro.io.BinaryEncoder(buffer))
    return buffer.getvalue()


def _avro_read(schema: EventSchema, data: bytes) -> Any:
    parsed = avro.schema.parse(json.dumps(schema.schema))
    return avro.io.DatumReader(parsed, parsed).read(avro.io.BinaryDecoder(io.BytesIO(data)))


@pytest.mark.parametrize("schema", TOP_LEVEL, ids=_ids(TOP_LEVEL))
def test_round_trip_through_fastavro_and_avro(schema: EventSchema) -> None:
    named = {name: node for name, node in _named_types(schema.schema).items()}
    datum = sample(schema.schema, named)

    buffer = io.BytesIO()
    fastavro.schemaless_writer(buffer, schema.parsed, datum)
    data = buffer.getvalue()

    assert fastavro.schemaless_reader(io.BytesIO(data), schema.parsed, None) == datum
    assert _avro_read(schema, data) == datum  # a subscriber on the reference library reads our bytes
    assert _avro_write(schema, datum) == data  # and both libraries encode identically


# --- loader errors -----------------------------------------------------------------------------------


def _write(root: Path, rel: str, body: Any) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body if isinstance(body, str) else json.dumps(body), encoding="utf-8")
    return path


def _record(namespace: str, name: str, *fields: tuple[str, Any]) -> dict:
    return {"type": "record", "name": name, "namespace": namespace, "doc": "d",
            "fields": [{"name": n, "type": t, "doc": "d"} for n, t in fields]}


def test_cross_file_references_resolve_whatever_the_order(tmp_path: Path) -> None:
    # a/Zeta.avsc sorts before z/Alpha.avsc but needs it; Alpha refers to Zeta's namespace-relative sibling.
    _write(tmp_path, "a/Zeta.avsc", _record("t.a", "Zeta", ("alpha", "t.z.Alpha"), ("again", "t.z.Alpha")))
    _write(tmp_path, "z/Alpha.avsc", _record("t.z", "Alpha", ("kind", "Kind"), ("kinds", {"type": "array", "items": "Kind"})))
    _write(tmp_path, "z/Kind.avsc", {"type": "enum", "name": "Kind", "namespace": "t.z", "symbols": ["A"], "default": "A"})
    catalog = SchemaCatalog.load(tmp_path)
    zeta = catalog.get("t.a.Zeta").schema
    assert zeta["fields"][0]["type"]["name"] == "Alpha" and zeta["fields"][0]["type"]["namespace"] == "t.z"
    assert zeta["fields"][1]["type"] == "t.z.Alpha"
    assert zeta["fields"][0]["type"]["fields"][1]["type"] == {"type": "array", "items": "t.z.Kind"}
    avro.schema.parse(json.dumps(zeta))
    assert catalog.get("t.a.Zeta").fingerprint == crc64_avro(catalog.get("t.a.Zeta").canonical.encode())


def test_recursive_types_load(tmp_path: Path) -> None:
    _write(tmp_path, "n/Node.avsc", _record("t.n", "Node", ("next", ["null", "Node"])))
    node = SchemaCatalog.load(tmp_path).get("t.n.Node")
    assert node.schema["fields"][0]["type"] == ["null", "t.n.Node"]


@pytest.mark.parametrize(
    ("rel", "body", "message"),
    [
        ("x/Broken.avsc", "{not json", "cannot read JSON"),
        ("x/Wrong.avsc", _record("t.x", "Right"), "must be named Right.avsc"),
        ("x/Lonely.avsc", _record("t.x", "Lonely", ("other", "t.x.Missing")), "unknown type"),
        ("x/Nested.avsc", _record("t.x", "Nested", ("e", {"type": "enum", "name": "E", "symbols": ["A"]})),
         "nested definition"),
        ("x/Prim.avsc", {"type": "string"}, "named type"),
        ("x/Wrapped.avsc", {"type": {"type": "record", "name": "Wrapped", "fields": []}}, "named type"),
        ("x/NoList.avsc", {"type": "record", "name": "NoList", "fields": 3}, "fields must be a list"),
        ("x/Bad.avsc", _record("t.x", "Bad", ("f", "strin")), "unknown type"),
    ],
)
def test_invalid_files_raise_schema_parse_error_with_the_path(tmp_path: Path, rel: str, body: Any, message: str) -> None:
    path = _write(tmp_path, rel, body)
    with pytest.raises(SchemaParseError) as info:
        SchemaCatalog.load(tmp_path)
    assert info.value.path == path
    assert message in str(info.value)


def test_duplicate_full_names_are_rejected(tmp_path: Path) -> None:
    _write(tmp_path, "a/Same.avsc", _record("t.s", "Same"))
    _write(tmp_path, "b/Same.avsc", _record("t.s", "Same"))
    with pytest.raises(SchemaParseError, match="already defined"):
        SchemaCatalog.load(tmp_path)


def test_invalid_avro_is_reported_as_schema_parse_error(tmp_path: Path) -> None:
    path = _write(tmp_path, "x/BadDefault.avsc", {"type": "enum", "name": "BadDefault", "namespace": "t.x",
                                                  "symbols": ["A"], "default": "B"})
    with pytest.raises(SchemaParseError) as info:
        SchemaCatalog.load(tmp_path)
    assert info.value.path == path
