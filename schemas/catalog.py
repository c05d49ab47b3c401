"""Load the Avro contract (``schemas/<domain>/*.avsc``) into standalone, fingerprinted schemas.

Each ``.avsc`` file holds exactly one named type and refers to types of other files by full name.
The catalog turns every file into a *standalone* schema (referenced types inlined at first use), which
is what a schema registry stores and what any Avro library can parse on its own.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import fastavro
import fastavro.schema

from schemas.errors import SchemaNotFound, SchemaParseError

PRIMITIVE_TYPES = frozenset({"null", "boolean", "int", "long", "float", "double", "bytes", "string"})
NAMED_TYPES = frozenset({"record", "error", "enum", "fixed"})


@dataclass(frozen=True)
class EventSchema:
    fullname: str
    path: Path
    schema: dict
    parsed: object
    canonical: str
    fingerprint: bytes

    @property
    def fingerprint_hex(self) -> str:
        return self.fingerprint.hex()


# --- fingerprints -------------------------------------------------------------------------------


def crc64_avro(data: bytes) -> bytes:
    """CRC-64-AVRO (the Avro spec's Rabin fingerprint) of a UTF-8 parsing canonical form, as 8 bytes in
    little-endian order: the order the single-object encoding writes. Computed by fastavro, whose hex
    digest already lists the bytes in that order (``"int"`` gives ``8f5c393f1ad57572``)."""
    return bytes.fromhex(fastavro.schema.fingerprint(data.decode("utf-8"), "CRC-64-AVRO"))


# --- name resolution and inlining ---------------------------------------------------------------


@dataclass(frozen=True)
class _Definition:
    fullname: str
    namespace: str
    path: Path
    raw: dict


def _is_named(node: dict) -> bool:
    kind = node.get("type")
    return isinstance(kind, str) and kind in NAMED_TYPES


def _split_name(name: str, namespace: str) -> tuple[str, str]:
    """(fullname, namespace) of a name written inside ``namespace``, per the Avro naming rules."""
    if "." in name:
        return name, name.rpartition(".")[0]
    return (f"{namespace}.{name}" if namespace else name), namespace


def _read_definition(path: Path) -> _Definition:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SchemaParseError(path, f"cannot read JSON: {exc}") from exc
    if not isinstance(raw, dict) or not _is_named(raw) or not isinstance(raw.get("name"), str):
        raise SchemaParseError(path, "top level must be a named type (record, enum or fixed)")
    fullname, namespace = _split_name(raw["name"], raw.get("namespace") or "")
    simple = fullname.rpartition(".")[2]
    if path.stem != simple:
        raise SchemaParseError(path, f"file must be named {simple}.avsc after the type it defines")
    _reject_nested_definitions(path, raw, top=True)
    return _Definition(fullname, namespace, path, raw)


def _reject_nested_definitions(path: Path, node: Any, *, top: bool = False) -> None:
    """Enforce one named type per file, so every named type is reachable by its file name."""
    if isinstance(node, list):
        for branch in node:
            _reject_nested_definitions(path, branch)
    elif isinstance(node, dict):
        kind = node.get("type")
        if _is_named(node) and not top:
            raise SchemaParseError(path, f"nested definition of {node.get('name')!r}: give it its own file")
        children = [node.get("items"), node.get("values")]
        if isinstance(node.get("fields"), list):
            children += [f.get("type") for f in node["fields"] if isinstance(f, dict)]
        if isinstance(kind, (dict, list)):
            children.append(kind)  # {"type": {...}} wraps another declaration
        for child in children:
            _reject_nested_definitions(path, child)


class _Inliner:
    """Builds one standalone schema: each referenced named type is inlined at its first use."""

    def __init__(self, definitions: dict[str, _Definition], root: _Definition) -> None:
        self._definitions = definitions
        self._root = root
        self._seen: set[str] = set()

    def build(self) -> dict:
        return self._define(self._root)

    def _define(self, definition: _Definition) -> dict:
        self._seen.add(definition.fullname)
        out: dict[str, Any] = {}
        for key, value in definition.raw.items():
            if key == "name":
                out["name"] = definition.fullname.rpartition(".")[2]
                # Explicit namespace: an inlined type must not inherit its host's namespace.
                out["namespace"] = definition.namespace
            elif key == "namespace":
                continue
            elif key == "fields":
                if not isinstance(value, list):
                    raise SchemaParseError(definition.path, "fields must be a list")
                out["fields"] = [self._field(field, definition) for field in value]
            else:
                out[key] = copy.deepcopy(value)
        return out

    def _field(self, field: Any, definition: _Definition) -> dict:
        if not isinstance(field, dict) or "type" not in field:
            raise SchemaParseError(definition.path, f"invalid field declaration {field!r}")
        return {
            key: self._expand(value, definition.namespace, definition.path) if key == "type" else copy.deepcopy(value)
            for key, value in field.items()
        }

    def _expand(self, node: Any, namespace: str, path: Path) -> Any:
        if isinstance(node, list):
            return [self._expand(branch, namespace, path) for branch in node]
        if isinstance(node, dict):
            kind = node.get("type")
            if kind == "array":
                return {**node, "items": self._expand(node.get("items"), namespace, path)}
            if kind == "map":
                return {**node, "values": self._expand(node.get("values"), namespace, path)}
            if isinstance(kind, str) and kind in PRIMITIVE_TYPES:
                return copy.deepcopy(node)  # e.g. a logical type
            # {"type": "some.Name"} or {"type": {...}} is just a wrapped type.
            return self._expand(kind, namespace, path)
        if isinstance(node, str):
            if node in PRIMITIVE_TYPES:
                return node
            fullname, _ = _split_name(node, namespace)
            if fullname in self._seen:
                return fullname
            if fullname not in self._definitions:
                raise SchemaParseError(path, f"unknown type {node!r} (resolved as {fullname!r})")
            return self._define(self._definitions[fullname])
        raise SchemaParseError(path, f"invalid type declaration {node!r}")


# --- the catalog --------------------------------------------------------------------------------


def _build(definition: _Definition, definitions: dict[str, _Definition]) -> EventSchema:
    standalone = _Inliner(definitions, definition).build()
    try:
        # parse_schema adds private keys to what it is given; keep `standalone` pristine.
        parsed = fastavro.parse_schema(copy.deepcopy(standalone))
        canonical = fastavro.schema.to_parsing_canonical_form(standalone)
    except Exception as exc:  # fastavro raises a mix of SchemaParseException, UnknownType, ValueError...
        raise SchemaParseError(definition.path, f"invalid Avro schema: {exc}") from exc
    return EventSchema(
        fullname=definition.fullname,
        path=definition.path,
        schema=standalone,
        parsed=parsed,
        canonical=canonical,
        fingerprint=crc64_avro(canonical.encode("utf-8")),
    )


class SchemaCatalog:
    """Every named type of the contract, by full name and by CRC-64-AVRO fingerprint."""

    def __init__(self, root: Path, schemas: list[EventSchema]) -> None:
        self.root = root
        self._by_name = {s.fullname: s for s in sorted(schemas, key=lambda s: s.fullname)}
        self._by_fingerprint = {s.fingerprint: s for s in schemas}

    @classmethod
    def load(cls, root: Path | None = None) -> SchemaCatalog:
        root = Path(root) if root is not None else Path(__file__).resolve().parent
        if not root.is_dir():
            raise SchemaParseError(root, "schema directory does not exist")
        definitions: dict[str, _Definition] = {}
        for path in sorted(root.rglob("*.avsc")):
            definition = _read_definition(path)
            if (other := definitions.get(definition.fullname)) is not None:
                raise SchemaParseError(path, f"{definition.fullname} is already defined in {other.path}")
            definitions[definition.fullname] = definition
        schemas = [_build(d, definitions) for d in definitions.values()]
        by_fingerprint: dict[bytes, EventSchema] = {}
        for schema in schemas:
            if (clash := by_fingerprint.get(schema.fingerprint)) is not None:
                raise SchemaParseError(schema.path, f"same parsing canonical form as {clash.fullname}")
            by_fingerprint[schema.fingerprint] = schema
        return cls(root, schemas)

    def get(self, fullname: str) -> EventSchema:
        try:
            return self._by_name[fullname]
        except KeyError:
            raise SchemaNotFound(f"no schema named {fullname!r}") from None

    def by_fingerprint(self, fingerprint: bytes) -> EventSchema:
        try:
            return self._by_fingerprint[bytes(fingerprint)]
        except KeyError:
            raise SchemaNotFound(f"no schema with fingerprint {bytes(fingerprint).hex()}") from None

    def names(self) -> list[str]:
        return list(self._by_name)

    def __iter__(self) -> Iterator[EventSchema]:
        return iter(self._by_name.values())

    def __len__(self) -> int:
        return len(self._by_name)

    def __contains__(self, fullname: object) -> bool:
        return fullname in self._by_name


@functools.cache
def default_catalog() -> SchemaCatalog:
    """The catalog of the installed ``schemas`` package, loaded once per process."""
    return SchemaCatalog.load()
