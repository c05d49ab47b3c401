"""The clear copy of refused input holds no phone, e-mail or free-text identifier readable: in a JSON value,
a form, a text line, the key and the headers, whatever the spelling."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl, urlencode

import pytest

from bus.dead_letter import OUTBOX_ID_HEADER
from bus.errors import RawRecord
from tests.bus.test_dead_letter_protect import clear_copy

SUMMARY = "llamar al 677 123 456 o marta.ruiz@example.es"
# A phone in the spellings a sender writes it, an e-mail, and a summary naming both.
READABLE = ("677123456", "677 123 456", "+34 677 12 34 56", "+34677123456", "677-123-456",
            "marta.ruiz@example.es", "marta.ruiz")
PHONES = ("677123456", "677 123 456", "+34 677 12 34 56", "+34677123456", "677-123-456")


def assert_unreadable(data: bytes | None) -> None:
    text = (data or b"").decode("utf-8", "replace")
    digits = "".join(c for c in text if c.isdigit())
    for value in READABLE:
        assert value not in text, (value, text)
    assert "677123456" not in digits.replace("34677123456", "")  # not even with its separators taken out


@pytest.mark.parametrize("phone", PHONES)
def test_a_json_body_keeps_its_structure_with_the_phone_and_e_mail_masked_and_the_summary_scrubbed(phone: str) -> None:
    body = {"messageId": "m-1", "traits": {"phone": phone, "email": "marta.ruiz@example.es", "name": "Marta"},
            "properties": {"omnibus_handoff_summary": SUMMARY, "note": f"call {phone}", "amount": 12},
            "identifiers": [{"type": "PHONE", "value": phone}, {"type": "EMAIL", "value": "marta.ruiz@example.es"}]}
    cleared = clear_copy().value(json.dumps(body).encode())
    assert_unreadable(cleared)
    shown = json.loads(cleared or b"")
    assert shown["messageId"] == "m-1" and shown["traits"]["name"] == "Marta" and shown["properties"]["amount"] == 12
    assert shown["traits"]["phone"].endswith("3456")  # the last four: enough to recognise it
    assert shown["traits"]["email"] == "m***@example.es" and shown["identifiers"][1]["value"] == "m***@example.es"
    assert shown["identifiers"][0] == {"type": "PHONE", "value": shown["identifiers"][0]["value"]}
    assert shown["properties"]["omnibus_handoff_summary"] == "llamar al [digits] o [email]"


def test_a_phone_given_as_a_number_is_masked_and_a_small_number_kept() -> None:
    shown = json.loads(clear_copy().value(b'{"phone": 677123456, "ref": 34677123456, "count": 3}') or b"")
    assert shown == {"phone": "*****3456", "ref": "[digits]", "count": 3}


def test_a_form_keeps_its_fields_with_json_inside_cleared() -> None:
    """A TaskRouter callback: a form whose ``TaskAttributes`` field holds JSON."""
    attributes = json.dumps({"from": "+34677123456", "omnibus_handoff_summary": SUMMARY, "omnibus_handoff_kind": "x"})
    body = urlencode({"TaskSid": "WT1", "TaskAttributes": attributes, "caller": "677 123 456"}).encode()
    cleared = clear_copy().value(body)
    assert_unreadable(cleared)
    fields = dict(parse_qsl((cleared or b"").decode()))
    assert fields["TaskSid"] == "WT1" and fields["caller"].endswith("3456")
    assert json.loads(fields["TaskAttributes"])["omnibus_handoff_kind"] == "x"


@pytest.mark.parametrize("phone", PHONES)
def test_a_text_line_is_scrubbed_as_free_text(phone: str) -> None:
    """A line of a file import, an Asterisk CDR: no field names to go by."""
    cleared = clear_copy().value(f'ZG-0003;{phone};marta.ruiz@example.es;"{SUMMARY}"'.encode())
    assert_unreadable(cleared)
    assert (cleared or b"").startswith(b"ZG-0003;")


def test_bytes_that_are_not_utf8_are_scrubbed_too() -> None:
    cleared = clear_copy().value("Müller;677123456;marta.ruiz@example.es".encode("latin-1"))
    assert_unreadable(cleared)
    assert (cleared or b"").startswith("Müller".encode("latin-1"))


@pytest.mark.parametrize(("key", "shown"), [
    (b"677123456", b"*****3456"), (b"+34 677 123 456", b"*******3456"), (b"PHONE:+34677123456", b"PHONE:+34*****3456"),
    (b"marta.ruiz@example.es", b"m***@example.es"), (b"T-0042", b"T-0042"), (b"1234", b"1234")])
def test_a_key_that_is_an_identifier_shows_its_mask(key: bytes, shown: bytes) -> None:
    """A legacy line keyed by its phone; a terminal id or a short row id stays as it is."""
    assert clear_copy().key(key) == shown


def test_headers_are_scrubbed_but_where_the_input_came_from() -> None:
    record = RawRecord(b"{}", key=b"677123456", headers=(
        ("x-caller", b"677 123 456"), ("x-mail", b"marta.ruiz@example.es"), (OUTBOX_ID_HEADER, b"12345678"),
        ("file", b"accounts_2026-12-01.csv")))
    cleared = clear_copy().record(record)
    for _, value in cleared.headers[:2]:
        assert_unreadable(value)
    kept = dict(cleared.headers)
    assert kept[OUTBOX_ID_HEADER] == b"12345678" and kept["file"] == b"accounts_2026-12-01.csv"
    assert kept["omnibus-clear-copy"] == b"masked" and cleared.key == b"*****3456"


def test_a_reference_and_a_token_are_kept() -> None:
    tokens = clear_copy()
    body = {"handoff_id": "SR-2026-0002", "dni": "nid1:" + "a" * 32, "customer_number": "C-770002"}
    shown = json.loads(tokens.value(json.dumps(body).encode()) or b"")
    assert shown["handoff_id"] == "SR-2026-0002"
    assert shown["dni"] == "nid1:" + "a" * 32 and shown["customer_number"].startswith("C-****")


def _adapters_refused_input() -> dict[str, RawRecord]:
    """Refused input as each adapter hands it to its dead-letter writer, naming a phone in national and spaced forms,
    an e-mail and a summary naming both (the shapes of ``adapters.*.ingress*``: a web message and a counter event
    as their JSON, a CTR, a TaskRouter form, an Asterisk CDR line, an outbox row keyed by its aggregate id, a polled
    row keyed by its primary key, a line of a file import)."""
    from datetime import UTC, datetime

    from adapters.legacy.ingress_outbox import _raw_row

    handoff = {"omnibus_handoff_kind": "line-repair", "omnibus_handoff_summary": SUMMARY}
    web = {"type": "identify", "messageId": "m-1", "traits": {"phone": "677123456", "email": "marta.ruiz@example.es"},
           "context": {"traits": {"mobile": "677 123 456"}}, "properties": handoff}
    ctr = {"ContactId": "c-1", "CustomerEndpoint": {"Type": "TELEPHONE_NUMBER", "Address": "677 123 456"},
           "Attributes": {**handoff, "callback": "677123456"}}
    form = urlencode({"TaskSid": "WT1", "TaskAttributes": json.dumps({"from": "677 123 456", **handoff})})
    cdr = f'"","677123456","600","from-internal","""Marta"" <677 123 456>",,,"{SUMMARY}"'
    counter = {"event_id": "e-1", "customer": {"phone": "677 123 456", "email": "marta.ruiz@example.es"},
               "handoff": {"kind": "line-repair", "summary": SUMMARY}}
    outbox = _raw_row((7, "customer", "677123456", "CaseOpened", {"phone": "677 123 456", "summary": SUMMARY},
                       datetime(2026, 12, 3, tzinfo=UTC)), "billing.outbox")
    polled = {"msisdn": "677123456", "contact_email": "marta.ruiz@example.es", "notes": SUMMARY}
    return {
        "web": RawRecord(json.dumps(web).encode(), headers=(("http.path", b"/v1/identify"),)),
        "call_center ctr": RawRecord(json.dumps(ctr).encode(), headers=(("http.path", b"/v1/connect/ctr"),)),
        "call_center taskrouter": RawRecord(form.encode(), headers=(("http.path", b"/v1/twilio/taskrouter"),)),
        "call_center asterisk": RawRecord(cdr.encode(), headers=(("http.path", b"/v1/asterisk/cdr"),)),
        "branch": RawRecord(json.dumps(counter).encode(), key=b"T-0042", headers=(("branch.terminal", b"T-0042"),)),
        "legacy outbox": outbox,
        "legacy poller": RawRecord(json.dumps(polled).encode(), key=b"677 123 456", headers=(("poller", b"lines"),)),
        "legacy file": RawRecord(f"ZG-0003;677 123 456;marta.ruiz@example.es;{SUMMARY}".encode(),
                                 headers=(("file", b"cases.csv"), ("file.line", b"3"))),
    }


@pytest.mark.parametrize("adapter", sorted(_adapters_refused_input()))
def test_no_adapter_s_refused_input_keeps_a_phone_an_e_mail_or_a_summary_readable(adapter: str) -> None:
    """The kind: every adapter's dead letter, value, key and headers."""
    cleared = clear_copy().record(_adapters_refused_input()[adapter])
    for part in (cleared.value, cleared.key, *(value for _, value in cleared.headers)):
        assert_unreadable(part)


@pytest.mark.parametrize("body", [
    b"[" * 100_000 + b"]" * 100_000, b'{"a": "\\ud800 677123456"}', b'{"n": NaN, "phone": "677123456"}',
    "a=\ud800".encode("utf-8", "surrogatepass"), b"\xff\xfe677123456", b'{"a": ' * 3000 + b"1" + b"}" * 3000])
def test_hostile_input_never_breaks_the_clear_copy(body: bytes) -> None:
    """Refused input is hostile at times: the clear copy is written whatever it holds (the dead letter must be)."""
    cleared = clear_copy().value(body)
    assert cleared is not None and b"677123456" not in cleared


def test_a_counter_bodys_lower_case_identifier_records_show_their_masks() -> None:
    """The counter API's ``{"type": "phone", ...}`` (lower case) is an identifier record: its mask, not ``[digits]``."""
    body = json.dumps({"identifiers": [{"type": "phone", "value": "677 123 456"},
                                       {"type": "email", "value": "marta.ruiz@example.es"}]}).encode()
    cleared = json.loads(clear_copy().value(body) or b"")
    assert [item["value"] for item in cleared["identifiers"]] == ["*****3456", "m***@example.es"]
