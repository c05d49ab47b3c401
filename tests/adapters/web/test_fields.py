"""``fields.text``: scalars rendered as ``json.dumps`` renders them (its fast path must not change a byte)."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.web import fields


@given(st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
       | st.lists(st.integers(), max_size=3) | st.dictionaries(st.text(max_size=3), st.floats(), max_size=2))
@settings(max_examples=300, deadline=None)
def test_a_value_renders_as_compact_json(value: object) -> None:
    assert fields.text(value) == json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=8,
)


@settings(max_examples=200, deadline=None)
@given(values=st.dictionaries(st.sampled_from("abcdefg"), _json_values, max_size=7),
       only=st.lists(st.sampled_from("abcdefgh"), max_size=8, unique=True),
       skip=st.lists(st.sampled_from("abcdefgh"), max_size=3))
def test_a_text_map_holds_the_wanted_keys_in_order_without_nulls(
        values: dict[str, object], only: list[str], skip: list[str]) -> None:
    """Each branch of ``text_map`` (every key, ``only`` alone, ``skip``) gives what its doc says."""
    def wanted(keys: list[str], skipped: list[str]) -> dict[str, str]:
        rendered = {key: fields.text(values[key]) for key in keys if key in values and key not in skipped}
        return {key: text for key, text in rendered.items() if text is not None}

    assert list(fields.text_map(values, only=only).items()) == list(wanted(only, []).items())
    assert list(fields.text_map(values, only=only, skip=skip).items()) == list(wanted(only, skip).items())
    assert fields.text_map(values, skip=skip) == wanted(list(values), skip)
    assert fields.text_map(values) == wanted(list(values), [])


def test_the_openapi_contract_says_which_fields_take_a_whole_number_and_the_reader_agrees() -> None:
    """A user id sent as a number was accepted (as its text) where the served OpenAPI said ``string``: the contract now
    says ``string`` or ``integer`` for every field read as an id or a name, and nothing else is read so."""
    import pytest

    from adapters.web.errors import MessageRejected
    from adapters.web.openapi import OPENAPI

    message = OPENAPI["components"]["schemas"]["Message"]["properties"]
    numeric = {"messageId", "userId", "anonymousId", "event", "name", "groupId", "previousId"}
    assert {name for name, spec in message.items() if spec.get("type") == ["string", "integer"]} == numeric
    for name in numeric:
        assert fields.first_text({name: 98765431}, name) == "98765431"
    assert fields.text_id({"userId": 98765431}, "userId") == "98765431"
    for refused in (1.5, True, [1], {"a": 1}):
        with pytest.raises(MessageRejected, match="must be a string"):
            fields.text_id({"userId": refused}, "userId")


def test_the_openapi_contract_names_a_service_requests_fields_and_their_limits() -> None:
    from adapters.web.openapi import OPENAPI
    from bus.handoff_limits import MAX_CASE_ID_CHARS, MAX_KIND_CHARS, MAX_SUMMARY_CHARS

    said = OPENAPI["components"]["schemas"]["Message"]["properties"]["properties"]["description"]
    assert all(name in said for name in ("request_id", "case_type", "team", "summary", "service_tier"))
    assert all(str(limit) in said for limit in (MAX_CASE_ID_CHARS, MAX_KIND_CHARS, MAX_SUMMARY_CHARS))
