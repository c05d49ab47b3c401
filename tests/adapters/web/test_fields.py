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


# -- an id in either spelling, number or text (a whole number is its decimal text) ---------------------------------


def test_a_whole_number_is_its_decimal_text_in_every_spelling_json_schema_calls_an_integer() -> None:
    """OpenAPI 3.1 (JSON Schema 2020-12) calls ``770002.0`` an integer: it is read as 770002, as ``1e3`` is 1000; a
    fraction, a boolean, a list, null or a double too large to hold its digits is no whole number."""
    assert [fields.whole_text(v) for v in ("770002", 770002, 770002.0, 1e3, -5.0, 0.0, 2.0**53 - 1)] == [
        "770002", "770002", "770002", "1000", "-5", "0", "9007199254740991"]
    assert [fields.whole_text(v) for v in (1.5, True, False, [1], {"a": 1}, None, 2.0**53, 1e25, -1e300)] == [None] * 9


def test_a_float_with_no_fraction_is_read_as_the_whole_number_by_every_reader_the_others_told_the_rule() -> None:
    import pytest

    from adapters.web.errors import MessageRejected

    assert fields.text_id({"userId": 770002.0}, "userId") == "770002"
    assert fields.first_text({"event": 12.0}, "event") == "12"
    assert fields.required_text({"event": 12.0}, "track", "event") == "12"
    assert fields.limited_text({"team": 7.0}, "team", limit=64) == "7"
    for read in (lambda v: fields.text_id({"userId": v}, "userId"),
                 lambda v: fields.required_text({"event": v}, "track", "event"),
                 lambda v: fields.limited_text({"team": v}, "team", limit=64)):
        for refused in (770002.5, 1e25, True):
            with pytest.raises(MessageRejected, match=r"must be a string or a whole number \(at most 40 digits"):
                read(refused)


def test_one_spelling_makes_every_id_text_and_leaves_a_message_of_text_ids_as_it_is() -> None:
    texts = {"messageId": "424242", "userId": "u-1", "properties": {"request_id": "REQ-1"}}
    assert fields.one_spelling(texts) is texts  # no copy: its digest is the one it always was
    for name in fields.TEXT_OR_NUMBER_FIELDS:
        assert fields.one_spelling({name: 424242, "other": 7}) == {name: "424242", "other": 7}
        assert fields.one_spelling({name: 424242.0}) == {name: "424242"}
    for name in fields.TEXT_OR_NUMBER_PROPERTIES:
        numeric = {"userId": 5, "properties": {name: 77, "amount": 12, "offer_version": 3}}
        assert fields.one_spelling(numeric) == {"userId": "5",
                                                "properties": {name: "77", "amount": 12, "offer_version": 3}}
        assert numeric["properties"][name] == 77  # the message itself is left as it came (its dead letter's value)
    # what is no whole number stays as it is, for the reader to refuse
    assert fields.one_spelling({"userId": 1.5, "messageId": True}) == {"userId": 1.5, "messageId": True}


def test_a_generated_message_id_is_one_whatever_the_spelling_of_the_ids() -> None:
    """A message without a messageId is named by a digest of its content: a re-send with its userId in the other
    spelling is the same message, not a new one published twice."""
    assert fields.message_id({"userId": 770002, "event": "Bill Viewed"}, "track") == fields.message_id(
        {"userId": "770002", "event": "Bill Viewed"}, "track")
    assert fields.message_id({"userId": 770002.0, "event": 3}, "track") == fields.message_id(
        {"userId": "770002", "event": "3"}, "track")
    assert fields.message_id({"userId": "770002"}, "track") != fields.message_id({"userId": "770003"}, "track")


def test_the_contract_and_the_adapter_agree_on_every_id_and_name_field() -> None:
    """tester48 F4: a 300-digit userId was valid by the served schema and refused ("at most 40" digits); a userId of
    300 characters likewise. Each value below valid by ``components.schemas.Message`` the adapter reads, for every field
    the contract types string-or-integer, and each it reads is valid but for the one kind the schema cannot tell apart
    from a double it refuses (tester50 F3: ``1e20``): an integer of 2^53 or more written in digits alone, which the
    description names, read up to 40 digits."""
    import jsonschema

    from adapters.base.wire import MAX_INT_DIGITS
    from adapters.web.errors import MessageRejected
    from adapters.web.openapi import OPENAPI

    message = OPENAPI["components"]["schemas"]["Message"]
    validator = jsonschema.Draft202012Validator(message)
    limit = 10**MAX_INT_DIGITS
    values: list[object] = [424242, "424242", 770002.0, limit - 1, -(limit - 1), limit, -limit, 10**300, 1.5, True,
                            "x" * fields.MAX_ID_CHARS, "x" * (fields.MAX_ID_CHARS + 1), "7" * 300, 1e20, 2.0**53,
                            2**53 - 1, 2**53, 9007199254740991.0]
    for name in fields.TEXT_OR_NUMBER_FIELDS:
        spec = message["properties"][name]
        assert "2^53" in spec["description"] and f"at most {MAX_INT_DIGITS} digits" in spec["description"]
        read_as_id = name not in ("event", "name")  # read by ``text_id``, held to MAX_ID_CHARS
        for value in values:
            valid = validator.is_valid({"userId": "u-1", name: value})
            if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= limit:
                # never read: the message holding it is refused (``adapters.base.wire``, bad_number)
                assert not valid, (name, value)
                continue
            try:
                text = fields.text_id({name: value}, name) if read_as_id else fields.required_text(
                    {name: value}, "track", name)
                accepted = text is not None
            except MessageRejected:
                accepted = False
            digits_alone = type(value) is int and abs(value) >= 2**53  # beyond the contract, read as the rule says
            assert valid == (accepted and not digits_alone), (name, str(value)[:20], valid, accepted)


def test_the_wire_refuses_a_body_with_an_integer_the_contract_calls_too_long() -> None:
    import pytest

    from adapters.base.errors import RejectedInput
    from adapters.base.wire import MAX_INT_DIGITS, loads

    assert loads(b'{"userId": ' + b"9" * MAX_INT_DIGITS + b"}")["userId"] == 10**MAX_INT_DIGITS - 1
    with pytest.raises(RejectedInput, match=f"at most {MAX_INT_DIGITS}"):
        loads(b'{"userId": ' + b"1" + b"0" * MAX_INT_DIGITS + b"}")
