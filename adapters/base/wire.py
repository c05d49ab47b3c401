"""Reading untrusted bytes at the edge: JSON, text and numbers checked for type, range, depth and encoding.

Every ingress reads its wire format through these functions before a value is used, so hostile input
becomes a ``RejectedInput`` (4xx + dead letter) instead of an exception deep inside a mapper (500), or a
value that is published and fails later in a processor. What is refused, and why:

- bytes that are not UTF-8, and JSON strings holding a lone UTF-16 surrogate (``"\\ud800"``): Avro
  strings and Kafka headers are UTF-8, which cannot carry them (RFC 8259 §8.2 calls them
  unpredictable);
- ``NaN``, ``Infinity`` and numbers that overflow a double (``1e400``): not JSON (RFC 8259 §6), and
  Python would publish them as the strings "NaN"/"Infinity";
- integers longer than ``MAX_INT_DIGITS`` digits;
- nesting deeper than ``MAX_DEPTH`` objects/arrays (no wire format we read nests more than a few levels;
  a 10,000-deep document exhausts the recursion of every JSON encoder downstream).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

import msgspec

from adapters.base.errors import BAD_ENCODING, BAD_JSON, RejectedInput

MAX_DEPTH = 32
MAX_INT_DIGITS = 40


def _refuse(reason: str, code: str) -> RejectedInput:
    return RejectedInput(reason, code=code)


class BadNumber:
    """Stands in for a number JSON cannot carry until ``check_tree`` refuses the record holding it, so
    one such number in a batch costs only its own record."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason


def _no_constants(name: str) -> BadNumber:
    return BadNumber(f"{name}, which is not a JSON number (RFC 8259 §6)")


def _finite(text: str) -> float | BadNumber:
    value = float(text)
    return value if math.isfinite(value) else BadNumber(f"the number {text[:40]}, which overflows a double")


def _bounded_int(text: str) -> int | BadNumber:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        return BadNumber(f"an integer of {len(text)} digits (at most {MAX_INT_DIGITS})")
    return int(text)


def decode_text(body: bytes, what: str = "body") -> str:
    """``body`` as UTF-8 text (a BOM is dropped); raise ``RejectedInput`` (``bad_encoding``) otherwise."""
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _refuse(f"{what} is not UTF-8 (byte {exc.start})", BAD_ENCODING) from exc


def loads(body: bytes | str, what: str = "body", *, max_depth: int = MAX_DEPTH) -> Any:
    """Parse JSON from the wire and check the whole tree (see the module doc); raise ``RejectedInput``.

    ``code`` of the refusal: ``bad_encoding`` (not UTF-8, lone surrogate), ``bad_json`` (syntax),
    ``bad_number`` (NaN, Infinity, overflow, too many digits), ``too_deep`` (nesting).
    """
    value = parse(body, what)
    check_tree(value, what, max_depth=max_depth)
    return value


def parse(body: bytes | str, what: str = "body") -> Any:
    """JSON syntax only, for a body that holds several records: each is then checked on its own with
    ``check_tree``. Refuses (the whole body) bytes that are not UTF-8, bad syntax, and nesting deep
    enough to exhaust the parser itself.

    Plain bodies are decoded by msgspec (about a third of ``json``'s CPU); whatever it refuses, and any
    body holding what it reads differently (a long run of digits, deep nesting), goes through ``json``
    with the hooks above, which words every refusal and yields the same values for everything else."""
    if isinstance(body, bytes | bytearray) and _msgspec_reads_it_alike(body):
        try:
            return _decode(body)
        except (msgspec.DecodeError, RecursionError):
            pass  # refused, or read differently: the json path decides and words it
    return parse_with_json(body, what)


def parse_with_json(body: bytes | str, what: str = "body") -> Any:
    """``parse`` through ``json`` alone (the reference ``parse`` is held to)."""
    text = decode_text(body, what) if isinstance(body, bytes | bytearray) else body
    try:
        return json.loads(text, parse_constant=_no_constants, parse_float=_finite, parse_int=_bounded_int)
    except RecursionError as exc:
        raise _refuse(f"{what} nests deeper than {MAX_DEPTH} levels", "too_deep") from exc
    except json.JSONDecodeError as exc:
        raise _refuse(f"{what} is not valid JSON: {exc}", BAD_JSON) from exc


_decode = msgspec.json.Decoder().decode
# msgspec reads integers of any length, where ``_bounded_int`` refuses more than MAX_INT_DIGITS digits; a
# body with a run of this many digits goes through json. NaN/Infinity and overflowing doubles msgspec refuses.
# (Every digit made "0", then one search for the run: a regular expression scans a body ten times slower.)
_LONG_DIGITS = b"0" * (MAX_INT_DIGITS // 2)
# Both parsers give up near Python's recursion limit (about 993 levels for json, 998 for msgspec from
# the same frame), so between the two they would disagree: a body with this many brackets or more, which
# alone could nest that deep, goes through json only.
_MAX_OPENERS = 900


# One translation serves both tests: digits become "0" and "{" becomes "[", so the opening brackets are one count
# (three passes over the body instead of four: 1.3 -> 1.0 µs per 670-byte message of a batch, #9 build 6).
_SHAPE = bytes.maketrans(b"0123456789{", b"0000000000[")


def _msgspec_reads_it_alike(body: bytes | bytearray) -> bool:
    shape = body.translate(_SHAPE)
    return shape.count(b"[") < _MAX_OPENERS and _LONG_DIGITS not in shape


# A JSON escape that may stand for a lone surrogate (``\\ud800``..``\\udfff``); text decoded from UTF-8
# cannot hold one otherwise. (``\\\\ud800``, an escaped backslash, also matches: a check too many, never
# one too few.)
SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
# Bounds of one value's compact JSON (``separators=(",", ":")``, ``ensure_ascii=False``) in UTF-8 bytes:
# a character at most 6 (``\\u001f``); a number at most 41 (an int of MAX_INT_DIGITS digits and its sign,
# or a float's repr, at most 24); ``false``/``null`` 5.
MAX_BYTES_PER_CHAR = 6
MAX_SCALAR_BYTES = MAX_INT_DIGITS + 1


def may_hold_surrogates(body: bytes) -> bool:
    """Whether JSON parsed from the UTF-8 ``body`` may hold a lone surrogate (it holds a ``\\uD8..``-
    ``\\uDF..`` escape): when not, ``check_tree(..., utf8=False)`` skips encoding every string."""
    return SURROGATE_ESCAPE.search(body) is not None


def check_tree(value: Any, what: str = "body", *, max_depth: int = MAX_DEPTH, utf8: bool = True) -> int:
    """Refuse a parsed JSON tree nesting deeper than ``max_depth`` or holding a string UTF-8 cannot carry;
    return an upper bound of its compact JSON size in UTF-8 bytes (see ``MAX_BYTES_PER_CHAR``), so a
    caller holding it to a size limit serialises it only when the bound exceeds the limit.

    ``utf8=False`` skips the string check, for a tree parsed from UTF-8 bytes without a surrogate escape
    (``may_hold_surrogates``). Recursive but bounded: a container at ``max_depth`` is refused before
    its children are visited, so a hostile depth cannot exhaust Python's recursion here.
    """
    if not utf8:
        bound = _bound_from_encoding(value, max_depth)
        if bound is not None:
            return bound
    return _walk(value, 0, max_depth, utf8, what)


_encode = msgspec.json.Encoder().encode
# Bytes a float's repr (what ``json.dumps`` writes) may take beyond msgspec's text of it: msgspec writes the
# same shortest digits, at most an exponent's sign and zero shorter (``1e16`` for ``1e+16``), and a repr is
# at most 24 characters ("-2.2250738585072014e-308").
MAX_FLOAT_REPR = 24


def _bound_from_encoding(value: Any, max_depth: int) -> int | None:
    """``check_tree``'s answer from msgspec's compact JSON of ``value`` (C speed, about a quarter of the
    walk), or None when it cannot tell and the walk must decide.

    Depth: a container at depth ``d`` lies inside ``d`` others, so a tree whose text holds at most
    ``max_depth`` opening brackets (brackets inside strings counted too) has none at ``max_depth``. Size: the
    text's length, plus ``MAX_FLOAT_REPR`` for every ``.``, ``e`` or ``E`` in it (each float msgspec writes
    holds one; strings are escaped alike by both encoders), and for every opening bracket too: the bound is
    then a little looser, and the text is scanned once for all five (``_NOT_MARKS`` deletes the rest) instead of
    once per character (0.6 of 1.7 µs on a 670-byte message). Anything msgspec cannot encode (``BadNumber``,
    integers beyond 64 bits) goes to the walk. Non-finite floats, which msgspec writes as null, do not come
    out of ``parse`` (it refuses them or makes them a ``BadNumber``), the only source of a tree checked
    without ``utf8``.
    """
    try:
        text = _encode(value)
    except (TypeError, OverflowError, ValueError, RecursionError):
        return None
    marks = text.translate(None, _NOT_MARKS)  # only the brackets and float characters, in one pass
    if marks.count(b"{") + marks.count(b"[") > max_depth:
        return None
    return len(text) + MAX_FLOAT_REPR * len(marks)


_NOT_MARKS = bytes(sorted(set(range(256)) - set(b"{[.eE")))  # what ``bytes.translate`` deletes


def _walk(node: Any, depth: int, max_depth: int, utf8: bool, what: str) -> int:
    kind = type(node)
    if kind is str:
        if utf8:
            _utf8(node, what)
        return 2 + MAX_BYTES_PER_CHAR * len(node)
    if kind is dict or kind is list:
        if depth >= max_depth:
            raise _refuse(f"{what} nests deeper than {max_depth} levels", "too_deep")
        size = 2
        if kind is dict:
            children = node.values()
            for key in node:
                if utf8:
                    _utf8(key, what)
                size += 4 + MAX_BYTES_PER_CHAR * len(key)  # quotes, colon, comma
        else:
            children = node
            size += len(node)  # commas
        depth += 1
        for child in children:
            child_kind = type(child)
            if child_kind is str and not utf8:  # the common leaf, without a call
                size += 2 + MAX_BYTES_PER_CHAR * len(child)
            elif child_kind is int or child_kind is bool or child is None:
                size += MAX_SCALAR_BYTES
            else:
                size += _walk(child, depth, max_depth, utf8, what)
        return size
    if isinstance(node, BadNumber):
        raise _refuse(f"{what} holds {node.reason}", "bad_number")
    if isinstance(node, float) and not math.isfinite(node):
        raise _refuse(f"{what} holds a number that is not finite", "bad_number")
    if isinstance(node, str):  # a subclass: checked as its base type
        return _walk(str(node), depth, max_depth, utf8, what)
    if isinstance(node, dict):
        return _walk(dict(node), depth, max_depth, utf8, what)
    if isinstance(node, list):
        return _walk(list(node), depth, max_depth, utf8, what)
    return MAX_SCALAR_BYTES


def _utf8(text: str, what: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise _refuse(f"{what} holds a lone UTF-16 surrogate ({exc.object[exc.start]!a})", BAD_ENCODING) from exc


def text(container: Mapping[str, Any], field: str, source: str, *, max_chars: int = 1024,
         numbers: bool = False) -> str | None:
    """An optional text field: ``None`` when absent or empty; a number only when ``numbers`` (ids some
    senders write as numbers); anything else, or longer than ``max_chars``, is refused naming the field."""
    value = container.get(field)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int if numbers else str):
        raise _refuse(f"{source}: field {field} must be text, not {json_type(value)}", "malformed_field")
    result = str(value)
    _utf8(result, f"{source} field {field}")
    if len(result) > max_chars:
        raise _refuse(f"{source}: field {field} is longer than {max_chars} characters", "malformed_field")
    return result


def json_type(value: Any) -> str:
    """The JSON name of a parsed value's type, for reasons a sender reads (``number``, not ``int``)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def finite(value: Any, field: str, source: str, *, low: float, high: float) -> float:
    """A number (or numeric text) within ``[low, high]``; refused naming the field otherwise."""
    try:
        number = float(value) if not isinstance(value, bool) else math.nan
    except (TypeError, ValueError, OverflowError):
        number = math.nan
    if not math.isfinite(number) or not low <= number <= high:
        raise _refuse(f"{source}: field {field} must be a number from {low:g} to {high:g}", "malformed_field")
    return number
