"""A writer of Avro binary bodies compiled once per schema, for the values fastavro would write the same.

fastavro's C writer walks the schema's dictionaries for every value (about 1.3 µs a string field and
4 µs a nullable one on the project's 2-core machine, 20 µs for an ``InteractionRecorded``); this one
turns a parsed schema into nested closures once, then writes a value in a third of that. It covers
only the plain case and never decides a hard one: a value whose every part has exactly the expected
Python type (``str`` for a string, ``int`` for a long, a timezone-aware ``datetime`` or an ``int`` for a
``timestamp-micros``...), a record with exactly its schema's fields, a union of ``null`` and one type.
Anything else — a missing field that takes its default, a ``bool`` where a long is due, an unknown enum
symbol, a wrong type — raises ``Defer``, and the caller writes the value with fastavro instead, which
then encodes it or refuses it exactly as before. A schema using what is not covered (fixed, decimal,
unions of several types, recursion) compiles to ``None``: fastavro writes all of its values.

The bytes are the Avro specification's binary encoding (https://avro.apache.org/docs/1.11.1/specification/
#binary-encoding) as fastavro writes it: zig-zag varints, one block per non-empty array or map then a
zero count, a union's branch index before the value. ``tests/bus/serde/test_avro_writer.py`` holds it
to fastavro byte for byte over every schema in ``schemas/``.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from typing import Any

from bus.errors import OmnibusError

_SMALL = 1 << 14  # zig-zag values whose varint is precomputed (two bytes at most)
_LONG_MIN, _LONG_MAX = -(1 << 63), (1 << 63) - 1
_INT_MIN, _INT_MAX = -(1 << 31), (1 << 31) - 1
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_DAY = date(1970, 1, 1)
_DOUBLE = struct.Struct("<d").pack
_FLOAT = struct.Struct("<f").pack


class Defer(OmnibusError):  # noqa: N818 - not an error: "let fastavro write this value"
    """The value is not one this writer is sure to write as fastavro does (never leaves ``bus.serde``)."""


class Unsupported(OmnibusError):  # noqa: N818 - internal to compiling
    """The schema uses something this writer does not cover (never leaves ``compile_writer``)."""


def _varint(zigzag: int) -> bytes:
    out = bytearray()
    while zigzag > 0x7F:
        out.append((zigzag & 0x7F) | 0x80)
        zigzag >>= 7
    out.append(zigzag)
    return bytes(out)


_VARINTS = [_varint(z) for z in range(_SMALL)]


def _long_bytes(n: int) -> bytes:
    zigzag = (n << 1) ^ (n >> 63)
    return _VARINTS[zigzag] if zigzag < _SMALL else _varint(zigzag)


def _count_bytes(n: int) -> bytes:
    """A non-negative count or length."""
    return _VARINTS[n << 1] if n < _SMALL >> 1 else _varint(n << 1)


class _Source:
    """Python source of one function writing a value of the schema, every node inlined (a call per
    field would cost as much as fastavro's own walk)."""

    def __init__(self, named: Mapping[str, Any]) -> None:
        self._named = named
        self._compiling: set[str] = set()
        self.lines: list[str] = []
        self.constants: dict[str, Any] = {}
        self._count = 0

    def name(self, prefix: str) -> str:
        self._count += 1
        return f"{prefix}{self._count}"

    def constant(self, value: Any) -> str:
        name = self.name("k")
        self.constants[name] = value
        return name

    def emit(self, depth: int, *lines: str) -> None:
        self.lines.extend("    " * depth + line for line in lines)

    def long(self, value: str, depth: int, low: int = _LONG_MIN, high: int = _LONG_MAX) -> None:
        zigzag = self.name("z")
        self.emit(depth, f"if type({value}) is not int or not {low} <= {value} <= {high}: raise Defer",
                  f"{zigzag} = ({value} << 1) ^ ({value} >> 63)",
                  f"add(VARINTS[{zigzag}] if {zigzag} < {_SMALL} else varint({zigzag}))")

    def length(self, value: str, depth: int) -> None:
        size = self.name("n")
        self.emit(depth, f"{size} = len({value}) << 1",
                  f"add(VARINTS[{size}] if {size} < {_SMALL} else varint({size}))")

    def string(self, value: str, depth: int) -> None:
        data = self.name("b")
        # a lone surrogate makes encode() raise: fastavro then refuses it in its own words
        self.emit(depth, f"if type({value}) is not str: raise Defer", f"{data} = {value}.encode()")
        self.length(data, depth)
        self.emit(depth, f"add({data})")

    def node(self, schema: Any, value: str, depth: int) -> None:  # noqa: C901 - one branch per Avro type
        if isinstance(schema, str):
            if schema in self._named and schema not in self._compiling:
                return self.node(self._named[schema], value, depth)
            if schema not in ("string", "bytes", "long", "int", "boolean", "double", "float", "null"):
                raise Unsupported(schema)  # unknown, or recursive
            schema = {"type": schema}
        if isinstance(schema, list):
            return self.union(schema, value, depth)
        kind, logical = schema.get("type"), schema.get("logicalType")
        if isinstance(kind, list | dict):
            return self.node(kind, value, depth)
        if logical == "timestamp-micros" and kind == "long":
            micros, delta = self.name("t"), self.name("d")
            self.emit(depth, f"if type({value}) is datetime and {value}.tzinfo is not None:",
                      f"    {delta} = {value} - EPOCH",  # fastavro's prepare_timestamp_micros, same arithmetic
                      f"    {micros} = ({delta}.days * 86400 + {delta}.seconds) * 1000000 + {delta}.microseconds",
                      f"else: {micros} = {value}")
            return self.long(micros, depth)
        if logical == "date" and kind == "int":
            days = self.name("t")
            self.emit(depth, f"{days} = ({value} - EPOCH_DAY).days if type({value}) is date else {value}")
            return self.long(days, depth, _INT_MIN, _INT_MAX)
        if logical is not None:
            raise Unsupported(f"{kind}/{logical}")
        if kind == "string":
            self.string(value, depth)
        elif kind == "long":
            self.long(value, depth)
        elif kind == "int":
            self.long(value, depth, _INT_MIN, _INT_MAX)
        elif kind == "bytes":
            self.emit(depth, f"if type({value}) is not bytes: raise Defer")
            self.length(value, depth)
            self.emit(depth, f"add({value})")
        elif kind == "boolean":
            self.emit(depth, f"if type({value}) is not bool: raise Defer", f"add(TRUE if {value} else FALSE)")
        elif kind == "double" or kind == "float":
            pack = "DOUBLE" if kind == "double" else "FLOAT"
            self.emit(depth, f"if type({value}) is not float: raise Defer", f"add({pack}({value}))")
        elif kind == "null":
            self.emit(depth, f"if {value} is not None: raise Defer")
        elif kind == "enum":
            indexes = self.constant({symbol: _long_bytes(i) for i, symbol in enumerate(schema["symbols"])})
            self.emit(depth, f"if type({value}) is not str: raise Defer", f"add({indexes}[{value}])")
        elif kind == "record":
            self.record(schema, value, depth)
        elif kind == "array":
            item = self.name("i")
            self.emit(depth, f"if type({value}) is not list: raise Defer", f"if {value}:")
            self.length(value, depth + 1)
            self.emit(depth + 1, f"for {item} in {value}:")
            self.node(schema["items"], item, depth + 2)
            self.emit(depth, "add(ZERO)")
        elif kind == "map":
            key, item = self.name("m"), self.name("i")
            self.emit(depth, f"if type({value}) is not dict: raise Defer", f"if {value}:")
            self.length(value, depth + 1)
            self.emit(depth + 1, f"for {key}, {item} in {value}.items():")
            self.string(key, depth + 2)
            self.node(schema["values"], item, depth + 2)
            self.emit(depth, "add(ZERO)")
        else:
            raise Unsupported(str(kind))
        return None

    def union(self, branches: list[Any], value: str, depth: int) -> None:
        if len(branches) != 2 or "null" not in branches:
            raise Unsupported("a union other than null and one type")
        null_index = branches.index("null")
        self.emit(depth, f"if {value} is None: add({_long_bytes(null_index)!r})", "else:",
                  f"    add({_long_bytes(1 - null_index)!r})")
        self.node(branches[1 - null_index], value, depth + 1)

    def record(self, schema: Mapping[str, Any], value: str, depth: int) -> None:
        name = schema["name"]
        self._compiling.add(name)
        # exactly the schema's fields: a missing one (its default) or an extra one is fastavro's call
        self.emit(depth, f"if type({value}) is not dict or len({value}) != {len(schema['fields'])}: raise Defer")
        for field in schema["fields"]:
            item = self.name("f")
            self.emit(depth, f"{item} = {value}[{field['name']!r}]")
            self.node(field["type"], item, depth)
        self._compiling.discard(name)


def compile_writer(parsed_schema: Mapping[str, Any]) -> Callable[[Any], bytes] | None:
    """A function from a value to its Avro binary body (raising ``Defer`` when fastavro must write it),
    or ``None`` when the schema uses what this writer does not cover. ``parsed_schema``: fastavro's
    ``parse_schema`` output (named types under ``__named_schemas``)."""
    source = _Source(parsed_schema.get("__named_schemas", {}))
    try:
        source.node(dict(parsed_schema), "value", 2)
    except Unsupported:
        return None
    text = "\n".join([
        "def encode(value):",
        "    out = []",
        "    add = out.append",
        "    try:",
        *source.lines,
        "    except Defer:",
        "        raise",
        "    except Exception as exc:",  # a type this writer did not expect: fastavro decides
        "        raise Defer from exc",
        "    return b''.join(out)",
    ])
    scope: dict[str, Any] = {
        "Defer": Defer, "VARINTS": _VARINTS, "varint": _varint, "EPOCH": _EPOCH, "EPOCH_DAY": _EPOCH_DAY,
        "datetime": datetime, "date": date, "DOUBLE": _DOUBLE, "FLOAT": _FLOAT, "TRUE": b"\x01", "FALSE": b"\x00",
        "ZERO": b"\x00", **source.constants,
    }
    exec(compile(text, f"<avro writer of {parsed_schema.get('name')}>", "exec"), scope)  # noqa: S102 - our own source
    encode: Callable[[Any], bytes] = scope["encode"]
    return encode
