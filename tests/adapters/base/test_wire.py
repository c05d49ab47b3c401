"""Reading untrusted JSON at the edge: depth, numbers and encoding refused with a reason, never raised."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.base import wire
from adapters.base.errors import RejectedInput


@pytest.mark.parametrize(("body", "code"), [
    (b"[" * 10_000 + b"]" * 10_000, "too_deep"),  # exhausts the C parser's recursion
    (b'{"a":' * 40 + b"1" + b"}" * 40, "too_deep"),  # parses, but deeper than MAX_DEPTH
    (b'{"messageId": "m\\ud800"}', "bad_encoding"),
    (b'{"m\\udc00": 1}', "bad_encoding"),  # in a key too
    (b"\xff\xfe{}", "bad_encoding"),
    (b'{"x": 1e400}', "bad_number"),
    (b'{"x": NaN}', "bad_number"),
    (b'{"x": -Infinity}', "bad_number"),
    (b'{"x": ' + b"9" * 60 + b"}", "bad_number"),
    (b'{"x": ', "bad_json"),
])
def test_hostile_json_is_refused_with_a_code(body: bytes, code: str) -> None:
    with pytest.raises(RejectedInput) as refused:
        wire.loads(body)
    assert refused.value.code == code and refused.value.reason


def test_a_bad_number_in_one_record_of_a_batch_costs_only_that_record() -> None:
    batch = wire.parse(b'[{"ok": 1.5}, {"bad": NaN}]')
    wire.check_tree(batch[0])
    with pytest.raises(RejectedInput, match="NaN"):
        wire.check_tree(batch[1])


def test_plain_json_and_a_bom_are_fine() -> None:
    assert wire.loads(b'\xef\xbb\xbf{"a": [1, 2.5, "\\u00e9t\\u00e9", {"b": null}]}') == {"a": [1, 2.5, "été", {"b": None}]}


@pytest.mark.parametrize("value", [42, 4.2, True, ["x"], {"a": "b"}])
def test_a_text_field_of_another_type_is_refused_naming_it(value: object) -> None:
    with pytest.raises(RejectedInput, match="field Username must be text"):
        wire.text({"Username": value}, "Username", "CTR Agent")


def test_numbers_may_stand_for_text_ids_when_allowed() -> None:
    assert wire.text({"id": 42}, "id", "x", numbers=True) == "42"
    assert wire.text({"id": ""}, "id", "x") is None


@pytest.mark.parametrize("value", ["1e400", float("nan"), "abc", None, True, -1, 10**9])
def test_finite_numbers_are_bounded(value: object) -> None:
    with pytest.raises(RejectedInput):
        wire.finite(value, "queue_time", "TaskRouter", low=0, high=86400)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-10**39, 10**39) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4),
    max_leaves=20,
)


@given(JSON_VALUES)
@settings(max_examples=300, deadline=None)
def test_check_tree_bounds_the_compact_json_size(value: object) -> None:
    """The bound a size limit trusts is never below the size ``json.dumps`` measures."""
    try:
        exact = len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())
    except UnicodeEncodeError:  # a lone surrogate from st.text(): refused by the check instead
        with pytest.raises(RejectedInput):
            wire.check_tree(value)
        return
    assert wire.check_tree(value) >= exact
    assert wire.check_tree(value, utf8=False) >= exact


def _refused_by_the_walk(value: object, max_depth: int) -> bool:
    try:
        wire._walk(value, 0, max_depth, False, "body")
    except RejectedInput:
        return True
    return False


@given(JSON_VALUES, st.integers(1, 4))
@settings(max_examples=300, deadline=None)
def test_the_encoded_check_refuses_what_the_walk_refuses(value: object, max_depth: int) -> None:
    """``check_tree`` without ``utf8`` answers from msgspec's text when it can: the same refusals as the walk."""
    try:
        wire.check_tree(value, max_depth=max_depth, utf8=False)
        refused = False
    except RejectedInput:
        refused = True
    assert refused == _refused_by_the_walk(value, max_depth)


@pytest.mark.parametrize("levels", [wire.MAX_DEPTH - 1, wire.MAX_DEPTH, wire.MAX_DEPTH + 1])
@pytest.mark.parametrize("in_strings", ["", "[[[{{{", "]]]}}}"])
def test_nesting_at_the_limit_is_judged_alike_with_brackets_in_strings(levels: int, in_strings: str) -> None:
    value: object = {"leaf": in_strings}
    for _ in range(levels - 1):
        value = {"next": value, "text": in_strings}
    too_deep = levels > wire.MAX_DEPTH
    assert _refused_by_the_walk(value, wire.MAX_DEPTH) is too_deep
    if too_deep:
        with pytest.raises(RejectedInput, match="nests deeper"):
            wire.check_tree(value, utf8=False)
    else:
        exact = len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())
        assert wire.check_tree(value, utf8=False) >= exact


@pytest.mark.parametrize(("body", "may"), [
    (b'{"a": "\\ud800"}', True), (b'{"a": "\\uDFFF"}', True), (b'{"a": "\\ud83d\\ude00"}', True),
    (b'{"a": "\\u00e9t\\u00e9"}', False), (b'{"a": "\xc3\xa9"}', False), (b'{"a": "ud800"}', False),
])
def test_only_a_surrogate_escape_needs_the_string_check(body: bytes, may: bool) -> None:
    assert wire.may_hold_surrogates(body) is may


def test_without_a_surrogate_escape_the_parsed_strings_are_utf8() -> None:
    body = '{"a": ["été", {"ü": "😀"}]}'.encode()
    assert not wire.may_hold_surrogates(body)
    wire.check_tree(wire.parse(body), utf8=False)
    "".join(json.dumps(wire.parse(body), ensure_ascii=False)).encode("utf-8")  # would raise on a surrogate


def test_subclasses_of_json_types_are_checked_as_their_base() -> None:
    from collections import OrderedDict

    class Text(str):
        pass

    value = OrderedDict(a=[Text("x\ud800")])
    with pytest.raises(RejectedInput):
        wire.check_tree(value)
    assert wire.check_tree(OrderedDict(a=[Text("x")])) >= len('{"a":["x"]}')


# -- parse: msgspec for plain bodies, json for the rest, the same outcome ------------------------------

def _outcome(parser: Any, body: bytes) -> tuple[Any, ...]:
    try:
        value = parser(body)
    except RejectedInput as error:
        return ("refused", error.code, error.reason)
    if body.count(b"[") > 100:  # a deep list of lists: its depth (walking it here would exhaust the stack)
        depth = 0
        while isinstance(value, list) and value:
            value, depth = value[0], depth + 1
        return ("parsed", depth)
    return ("parsed", _typed(value))


def _typed(value: Any) -> Any:
    """The value with every scalar's type (1 and 1.0 and True differ; so do 0.0 and -0.0)."""
    if isinstance(value, dict):
        return {key: _typed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_typed(item) for item in value]
    if isinstance(value, wire.BadNumber):
        return ("bad number", value.reason)
    return (type(value).__name__, repr(value))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**80), 2**80) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=5), children, max_size=5),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(json_values, st.booleans())
def test_parse_reads_every_body_as_the_json_path_does(value: Any, ascii_only: bool) -> None:
    body = json.dumps(value, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")
    assert _outcome(wire.parse, body) == _outcome(wire.parse_with_json, body)


@pytest.mark.parametrize("body", [
    b'{"a":"x\x01y"}', b"-0.0", b"1.", b"01", b".5", b"[1,]", b'{"a":1,}', b" {} ", b'"\\x"', b'{"a":NaN}',
    b"[Infinity]", b"[-Infinity]", b"1e400", b'"\xc3\x28"', b'{"\\ud83d\\ude00": 1}', b'"\\ud800"', b"[tru]", b"",
    b'{"a":1}{"b":2}', b"\xef\xbb\xbf{}", b"1" * 41, b"-" + b"1" * 45, b"[" * 995 + b"]" * 995,
    b"[" * 2000 + b"]" * 2000, b'{"a":' * 40 + b"1" + b"}" * 40, b'{"a":1,"a":2}',
    b"[1.7976931348623157e308, 5e-324, 2.2250738585072014e-308, 0.1e-400]",
])
def test_parse_refuses_and_reads_edge_cases_as_the_json_path_does(body: bytes) -> None:
    assert _outcome(wire.parse, body) == _outcome(wire.parse_with_json, body)
