"""``content_id``: a business id from a reusable source id, named with the record's content; ``content_digest``."""

from __future__ import annotations

import hashlib
import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.base.mapper import CONTENT_ID_HEX, _msgspec_writes_it_alike, content_digest, content_id


def test_a_content_id_is_the_record_id_and_the_digests_first_hex_digits() -> None:
    digest = content_digest({"event": "Service Request Submitted", "messageId": "m-1"})
    assert digest is not None
    assert content_id("web:portal-web:m-1", digest) == f"web:portal-web:m-1:{digest.hex()[:CONTENT_ID_HEX]}"
    assert CONTENT_ID_HEX == 8  # the suffix users see in the CRM and in `omnibus handoffs show`: kept short


def test_another_content_gets_another_id_and_the_same_content_the_same() -> None:
    one, other = ({"event": name, "messageId": "m-1"} for name in ("Bill Viewed", "Bill Paid"))
    assert content_id("r", content_digest(one)) == content_id("r", content_digest(dict(reversed(one.items()))))
    assert content_id("r", content_digest(one)) != content_id("r", content_digest(other))


def test_without_a_digest_the_record_id_is_kept() -> None:
    assert content_id("counter:T1:e-1", None) == "counter:T1:e-1"


# --- the digest's text: json.dumps's bytes, whichever encoder writes them (event ids derive from it) ------------------

def _reference(native: dict, leave_out: tuple[str, ...] = (), kind: str | None = None) -> bytes:
    """``content_digest`` as every earlier release computed it: ``json.dumps``, sorted keys."""
    content = {name: value for name, value in native.items() if name not in leave_out}
    text = json.dumps([kind, content] if kind else content, ensure_ascii=False, sort_keys=True,
                      separators=(",", ":"), default=repr)
    return hashlib.sha256(text.encode("utf-8", "backslashreplace")).digest()


_SCALARS = (st.none() | st.booleans() | st.integers() | st.integers(min_value=-2**80, max_value=2**80)
            | st.floats(allow_nan=True, allow_infinity=True) | st.text() | st.text(alphabet=st.characters(
                min_codepoint=0, max_codepoint=0x10FFFF)))
_TREES = st.recursive(_SCALARS, lambda children: st.lists(children, max_size=4)
                      | st.dictionaries(st.text(max_size=5), children, max_size=4), max_leaves=20)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(st.text(max_size=8), _TREES, max_size=6), st.sampled_from([None, "track", "page"]))
def test_the_digest_is_json_dumps_sorted_whatever_the_tree_holds(native: dict, kind: str | None) -> None:
    assert content_digest(native, kind=kind) == _reference(native, kind=kind)
    left_out = tuple(list(native)[:1])
    assert content_digest(native, leave_out=left_out, kind=kind) == _reference(native, left_out, kind)


@pytest.mark.parametrize("value", [
    0.0, -0.0, 1e-4, 0.00009999999999999999, 1e16, 9999999999999998.0, 1e-5, 1e300, 5e-324, 123.456, -49.9,
    math.nan, math.inf, -math.inf, 2**63, 2**64, -2**63 - 1, 10**40, "\ud800", "é\u2028\x7f\x00\"\\", (1, 2),
    {"nested": [1.5e20, {"a": None}]}, {3: "int key"},
])
def test_the_digest_of_the_values_where_encoders_differ_is_json_dumps(value: object) -> None:
    """A float in exponent form (``1e+16``, written ``1e16`` by msgspec), a non-finite one (``NaN``, null for msgspec),
    a lone surrogate, a tuple, a key that is not text: each still digested as ``json.dumps`` writes it."""
    native = {"messageId": "m-1", "properties": {"value": value}}
    assert content_digest(native, kind="track") == _reference(native, kind="track")


def test_the_digest_of_a_segment_track_call_is_unchanged() -> None:
    """Pinned: the event ids of everything published so far derive from these bytes."""
    native = {"type": "track", "event": "Invoice Downloaded", "userId": "user-1", "messageId": "m-1",
              "properties": {"invoice_id": "BILL-2024-04-000001", "format": "pdf", "amount": 49.9}}
    assert content_digest(native, leave_out=("type",), kind="track").hex() == _reference(
        native, ("type",), "track").hex()


def _alike_by_recursion(node: object, depth: int = 0) -> bool:
    """The walk choosing msgspec as written before it went a level at a time (#9 build 6): the reference."""
    kind = type(node)
    if kind in (str, int, bool, type(None)):
        return True
    if kind is float:
        return node == 0 or (math.isfinite(node) and 1e-4 <= abs(node) < 1e16)  # type: ignore[arg-type]
    if depth >= 64:
        return False
    if kind is dict:
        return all(type(key) is str and _alike_by_recursion(value, depth + 1)
                   for key, value in node.items())  # type: ignore[attr-defined]
    if kind is list:
        return all(_alike_by_recursion(value, depth + 1) for value in node)  # type: ignore[attr-defined]
    return False


class _Text(str):
    pass


_ODD_TREES = st.recursive(
    _SCALARS | st.tuples(st.integers()) | st.builds(_Text, st.text(max_size=3)),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(
        st.text(max_size=5) | st.integers(max_value=9), children, max_size=4), max_leaves=20)


def _nested(depth: int, leaf: object, *, in_dicts: bool) -> object:
    tree = leaf
    for _ in range(depth):
        tree = {"a": tree} if in_dicts else [tree]
    return tree


@settings(max_examples=600, deadline=None)
@given(_ODD_TREES)
def test_the_walk_chooses_msgspec_as_the_recursive_walk_did(tree: object) -> None:
    assert _msgspec_writes_it_alike(tree) == _alike_by_recursion(tree)


@pytest.mark.parametrize("depth", [62, 63, 64, 65, 66])
@pytest.mark.parametrize("leaf", [1, 1.5, 1e20, (1,), [], {}])
@pytest.mark.parametrize("in_dicts", [False, True])
def test_the_walk_refuses_containers_as_deep_as_the_recursive_walk_did(depth: int, leaf: object,
                                                                        in_dicts: bool) -> None:
    tree = _nested(depth, leaf, in_dicts=in_dicts)
    assert _msgspec_writes_it_alike(tree) == _alike_by_recursion(tree)
    native = {"messageId": "m-1", "properties": tree}
    assert content_digest(native, kind="track") == _reference(native, kind="track")
