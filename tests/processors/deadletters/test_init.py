"""Dead letters selected and shown: filters, the original decoded (Avro, JSON, hex), identifier values masked."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import typer

from adapters.legacy.ingress_outbox import _raw_row
from bus.dead_letter import POLLER_HEADER, POLLER_TABLE_HEADER, dead_letter_event
from bus.errors import RawRecord
from bus.serde import Event, SerdeContext, SingleObjectDeserializer, SingleObjectSerializer
from processors.deadletters import HIDDEN, DeadLetter, original, select
from processors.deadletters.cli import _refused_at_http, parse_since
from schemas.catalog import default_catalog
from tests.support.references import declared_references

CATALOG = default_catalog()
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
EMAIL, PHONE = "ana.lima@example.org", "+33612345678"


def letter(record: RawRecord, *, reason: str = "bad", error_type: str = "E", component: str = "adapter.web",
           at: datetime = T0, offset: int = 0) -> DeadLetter:
    fields = dict(dead_letter_event(record, reason=reason, error_type=error_type, component=component).value)
    fields["failed_at"] = at
    return DeadLetter("p.deadletter.v1", 0, offset, fields)


def observed() -> bytes:
    event = Event("omnibus.contact.IdentifiersObserved", {
        "envelope": {"event_id": "e-1", "occurred_at": T0, "received_at": T0, "source_system": "web",
                     "channel": "WEB", "site": None, "correlation_id": "e-1", "causation_id": None,
                     "source_event_id": None},
        "identifiers": [{"type": "EMAIL", "value": EMAIL},
                        {"type": "PHONE", "value": PHONE}],
    })
    return SingleObjectSerializer(CATALOG)(event, SerdeContext(topic="p.identity.observed.v1"))


def test_filters_select_by_reason_error_type_source_component_and_time() -> None:
    http = letter(RawRecord(value=b"{}"), reason="missing field 'event'", error_type="RejectedInput.missing_field")
    topic = letter(RawRecord(value=b"x", topic="p.handoff.events.v1", partition=1, offset=7), reason="nobody created it",
                   error_type="IllegalTransition:unknown_handoff", component="handoffs", at=T0 + timedelta(hours=2))
    both = [http, topic]
    assert select(both, reason="NOBODY") == [topic]
    assert select(both, error_type="missing_field") == [http]
    assert select(both, source_topic="http") == [http]
    assert select(both, source_topic="handoff.events.v1") == select(both, source_topic="p.handoff.events.v1") == [topic]
    assert select(both, component="adapter.web") == [http]
    assert select(both, since=T0 + timedelta(hours=1)) == [topic]
    assert select(both, ids=[topic.id]) == [topic] and select(both, ids=[topic.id], reason="missing") == []
    assert (http.source, topic.source) == ("http", "p.handoff.events.v1/1/7")


def test_since_takes_a_duration_or_an_iso_time() -> None:
    now = T0
    assert parse_since("90m", now) == T0 - timedelta(minutes=90) and parse_since("7d", now) == T0 - timedelta(days=7)
    assert parse_since("2026-11-01T08:00", now) == datetime(2026, 11, 1, 8, tzinfo=UTC)
    assert parse_since(None) is None
    with pytest.raises(typer.BadParameter):
        parse_since("yesterday", now)


def test_an_avro_original_is_decoded_by_its_schema_with_identifier_values_masked_unless_revealed() -> None:
    dead = letter(RawRecord(value=observed(), key=f"EMAIL:{EMAIL}".encode(), topic="p.identity.observed.v1",
                            partition=0, offset=3, headers=(("h", b"v"),)))
    deserializer = SingleObjectDeserializer(CATALOG)
    masked = original(dead, deserializer)
    assert masked["format"] == "avro" and masked["schema"] == "omnibus.contact.IdentifiersObserved"
    assert EMAIL not in repr(masked) and PHONE not in repr(masked)
    assert masked["key"].startswith("EMAIL:a***@") and masked["value"]["identifiers"][1]["value"].endswith("5678")
    revealed = original(dead, deserializer, reveal=True)
    assert [i["value"] for i in revealed["value"]["identifiers"]] == [EMAIL, PHONE]
    assert revealed["key"] == f"EMAIL:{EMAIL}" and revealed["headers"] == {"h": "v"}


def test_a_json_body_is_decoded_and_free_text_is_scrubbed_unless_revealed() -> None:
    body = (b'{"userId": "u-1", "traits": {"email": "%s", "phone": "%s", "note": "call %s"}}'
            % (EMAIL.encode(), PHONE.encode(), PHONE.encode()))
    dead = letter(RawRecord(value=body))
    masked = original(dead, SingleObjectDeserializer(CATALOG))
    assert masked["format"] == "json" and masked["source"] == "http" and masked["size"] == len(body)
    assert EMAIL not in repr(masked) and PHONE not in repr(masked) and PHONE[-4:] in masked["value"]["traits"]["phone"]
    assert original(dead, SingleObjectDeserializer(CATALOG), reveal=True)["value"]["traits"]["email"] == EMAIL


def test_a_refused_bodys_phone_written_without_its_country_code_shows_its_last_four_only() -> None:
    """A web identify refused with its traits as sent (a Spanish portal writes ``622111222``, no ``+34``): ``show``
    printed ``622**1222``, 7 of 9 digits, where a counter's or a call's dead letter shows ``[digits]``."""
    body = (b'{"messageId": "m-bad-0002", "traits": {"email": "pedro.nokey@example.es", "phone": "622111222",'
            b' "mobile": "+34 622 333 444", "telephone": "622-111-222", "firstName": "Pedro"}}')
    traits = original(letter(RawRecord(value=body)), SingleObjectDeserializer(CATALOG))["value"]["traits"]
    assert (traits["phone"], traits["mobile"], traits["telephone"]) == ("*****1222", "*******3444", "*****1222")
    assert traits["email"] == "p***@example.es" and "622" not in repr(traits) and "nokey" not in repr(traits)


def test_a_counter_bodys_typed_identifiers_and_camel_case_traits_show_by_the_one_mask_rule() -> None:
    """Reported: ``show`` printed a counter body's ``{"type": "phone", "value": ...}`` as ``[digits]`` and its e-mail
    as ``[email]`` (its types are lower case), a ``traits.nationalId`` and a token inside a summary whole: the README's
    rule shows a phone by its last four, an e-mail by its first letter and domain, a token by its end."""
    nid, card = "nid1:" + "c2e79fbf64897e7364b3023291aae823", "card1:" + "187c08aa36c124f4c051f5f8ea55a952"
    body = json.dumps({"identifiers": [{"type": "national_id", "value": nid}, {"type": "phone", "value": "622 111 222"},
                                       {"type": "email", "value": "marta.ruiz@example.es"}, {"type": "card", "value": card}],
                       "traits": {"nationalId": nid, "phoneNumber": "622111222"},
                       "summary": f"DNI {nid}, tarjeta {card}"}).encode()
    shown = original(letter(RawRecord(value=body)), SingleObjectDeserializer(CATALOG))["value"]
    assert [item["value"] for item in shown["identifiers"]] == ["nid1:…e823", "*****1222", "m***@example.es",
                                                                "card1:…a952"]
    assert shown["traits"] == {"nationalId": "nid1:…e823", "phoneNumber": "*****1222"}
    assert shown["summary"] == "DNI nid1:…e823, tarjeta card1:…a952"


def test_opaque_bytes_are_hex_shown_only_when_revealed_and_a_cut_body_says_so() -> None:
    dead = letter(RawRecord(value=b"\xff\xfe" + PHONE.encode(), value_cut=True, value_size=5_000_000))
    masked = original(dead, SingleObjectDeserializer(CATALOG))
    assert (masked["format"], masked["value"], masked["truncated"], masked["size"]) == ("hex", HIDDEN, True, 5_000_000)
    assert original(dead, SingleObjectDeserializer(CATALOG), reveal=True)["value"] == (b"\xff\xfe" + PHONE.encode()).hex()
    assert original(letter(RawRecord(value=None)), SingleObjectDeserializer(CATALOG))["format"] == "none"


def file_line(name: str = "accounts_2026-12-01.csv", line: bytes = b"ELEC-5009;x;31/02/2022;Ana;Lima;" + EMAIL.encode(),
              **headers: bytes) -> DeadLetter:
    """A line refused by ``import-batch``, with the headers ``adapters.legacy.ingress_batch`` gives it."""
    given = {"file": name.encode(), "file.line": b"9", "layout": b"util-accounts", **headers}
    return letter(RawRecord(value=line, headers=tuple(given.items())), component="adapter.legacy",
                  reason=f"{name} line 9: field opened_on is malformed (expected date %d/%m/%Y, got '31/02/2022')",
                  error_type="RejectedInput.malformed_field")


def test_a_refused_file_line_keeps_its_file_name_and_says_it_came_from_the_file() -> None:
    """tester13 S3: the nightly ``accounts_2026-12-01.csv`` was listed as ``accounts_.csv``/``accounts_[digits].csv``
    (its date scrubbed as a possible phone) and as coming from ``http``."""
    refused = file_line()
    row = refused.summary()
    assert row["source"] == "file accounts_2026-12-01.csv line 9"
    assert row["reason"].startswith("accounts_2026-12-01.csv line 9: field opened_on is malformed")
    assert select([refused], source_topic="file") == [refused] and select([refused], source_topic="http") == []
    shown = original(refused, SingleObjectDeserializer(CATALOG))
    assert shown["headers"]["file"] == "accounts_2026-12-01.csv" and shown["headers"]["file.line"] == "9"
    assert shown["format"] == "text" and shown["value"] == HIDDEN and EMAIL not in str(shown)


def test_a_refused_file_line_is_shown_as_its_text_with_reveal() -> None:
    revealed = original(file_line(), SingleObjectDeserializer(CATALOG), reveal=True)
    assert revealed["format"] == "text" and revealed["value"] == f"ELEC-5009;x;31/02/2022;Ana;Lima;{EMAIL}"
    # a line an older release kept in its Latin-1 file's bytes: read, the byte not valid in UTF-8 as its escape (it
    # was a hex blob); a release that reads the line by its layout keeps it as UTF-8 (bus.dead_letter_lines)
    latin1 = original(file_line(line="Hélène".encode("latin-1")), SingleObjectDeserializer(CATALOG), reveal=True)
    assert latin1["format"] == "text" and latin1["value"] == "H\\xe9l\\xe8ne"
    hidden = original(file_line(line="Hélène".encode("latin-1")), SingleObjectDeserializer(CATALOG))
    assert hidden["format"] == "text" and hidden["value"] == HIDDEN
    body = letter(RawRecord(value="Hélène".encode("latin-1")))  # a body that is not UTF-8: no file, its bytes
    assert original(body, SingleObjectDeserializer(CATALOG), reveal=True)["format"] == "hex"


@pytest.mark.parametrize(("field", "value", "shown"), [
    ("due_date", "32/11/2026", "'32/11/2026'"),  # not personal: the operator sees what was wrong
    ("opened_on", "2026-13-01", "'2026-13-01'"),
    ("birth_date", "31/02/1980", "'[date dd/dd/dddd]'"),  # personal (a trait): its shape only, as before
    ("date_of_birth", "31/02/1980", "'[date dd/dd/dddd]'"),
    ("due_date", "0612345678", "'[digits]'"),  # a phone in a shifted column is still scrubbed
    ("due_date", EMAIL[:30], "'[email]'"),
])
def test_tester17_n2_a_refused_date_is_shown_for_a_field_declared_not_personal(field: str, value: str,
                                                                                shown: str) -> None:
    """tester17 N2: ``field due_date is malformed (..., got '[date dd/dd/dddd]')``: a due date is not personal data,
    a birth date is. By the field's declared kind (``bus.redact.is_personal_field``), only calendar dates are kept."""
    refused = file_line(name="bills.csv")
    refused.fields["reason"] = f"bills.csv line 9: field {field} is malformed (expected date %d/%m/%Y, got {value!r})"
    assert refused.summary()["reason"] == f"bills.csv line 9: field {field} is malformed (expected date %d/%m/%Y, got " \
        f"{shown})"


def test_a_date_elsewhere_in_a_reason_keeps_its_shape_only() -> None:
    """Only the refused value of a layout's field named at the start of the reason is read by its field's kind."""
    refused = file_line(name="bills.csv")
    refused.fields["reason"] = "bills.csv line 9: bad line near 31/02/1980 (field due_date is malformed (expected " \
        "date %d/%m/%Y, got '32/11/2026'))"
    assert "31/02/1980" not in refused.summary()["reason"] and "32/11/2026" not in refused.summary()["reason"]
    no_layout = letter(RawRecord(value=b"x", headers=(("file", b"Master.csv"), ("file.line", b"9"))),
                       reason="Master.csv line 9: field due_date is malformed (expected date %d/%m/%Y, got '32/11/2026')")
    assert "32/11/2026" not in no_layout.summary()["reason"]


def test_only_the_file_name_is_kept_identifiers_in_the_reason_are_still_scrubbed() -> None:
    refused = file_line(name="export_0612345678.csv")  # a file name is kept as is, whatever its digits
    refused.fields["reason"] = f"export_0612345678.csv line 9: bad e-mail {EMAIL} or phone 06 12 34 56 78"
    reason = refused.summary()["reason"]
    assert reason.startswith("export_0612345678.csv line 9: bad e-mail ")
    assert EMAIL not in reason and "06 12 34 56 78" not in reason
    cdr = letter(RawRecord(value=b"x", headers=(("file", b"/var/log/asterisk/Master.csv"), ("file.offset", b"4096"))))
    assert cdr.source == "file /var/log/asterisk/Master.csv offset 4096"


def test_the_reason_a_layout_gives_a_bad_due_date_is_read_by_its_fields_kind() -> None:
    """The reason's wording is ``adapters.legacy.layout_fields``'s: a change there must keep the due date readable."""
    from adapters.base.errors import RejectedInput
    from adapters.legacy.layout import load_layout
    from tests.adapters.legacy.support import EXAMPLES

    bills = load_layout(EXAMPLES / "bills_layout.yaml")
    header, line = (EXAMPLES / "bills.csv").read_text().splitlines()[:2]
    bad = line.replace(line.split(";")[5], "32/11/2026")  # ECHEANCE: the due date
    assert "32/11/2026" in bad
    with pytest.raises(RejectedInput) as refused:
        bills.parse(bad, bills.columns_from(header))
    letter_ = file_line(name="bills.csv")
    letter_.fields["reason"] = f"bills.csv line 9: {refused.value.reason}"
    assert letter_.summary()["reason"].startswith("bills.csv line 9: field due_date is malformed")
    assert letter_.summary()["reason"].endswith("got '32/11/2026')"), letter_.summary()["reason"]


def test_tester26_f10_an_id_shaped_reference_is_shown_as_the_adapters_keep_it_and_identifiers_are_still_masked() -> None:
    """``deadletters show`` of a handoff's dead letter showed ``"handoff_id": "SR-[digits]"``: a field named as a
    reference keeps a value with a letter that holds no identifier, a declared reference its value, as in a property;
    a phone under a reference's name, and one in free text, are still masked."""
    body = (b'{"handoff_id": "SR-2026-0002", "event_id": "ev-2026-12-02-000123", "invoice_id": "0612345678", '
            b'"summary": "case SR-2026-0002, call %s", "meter_point_id": "14500000000001"}' % PHONE.encode())
    dead = letter(RawRecord(value=body))
    shown = original(dead, SingleObjectDeserializer(CATALOG))["value"]
    assert shown["handoff_id"] == "SR-2026-0002" and shown["event_id"] == "ev-2026-12-02-000123"
    assert shown["invoice_id"] == "[digits]" and shown["meter_point_id"] == "[digits]"
    assert shown["summary"] == "case SR-[digits], call [digits]"
    with declared_references("meter_point_id"):
        assert original(dead, SingleObjectDeserializer(CATALOG))["value"]["meter_point_id"] == "14500000000001"


def test_a_row_the_legacy_relay_or_a_poller_refused_says_where_it_came_from_not_http() -> None:
    """``deadletters list`` and ``redrive`` said ``source http`` for an outbox row: an operator could not tell a row
    of the legacy database from a request refused at HTTP ingress."""
    row = (1, "ticket", "T-77", "HandoffCreated", {"summary": "Portabilidad bloqueada"}, T0)
    outbox = letter(_raw_row(row, "omnibus_outbox"), component="adapter.legacy")
    polled = letter(RawRecord(value=b"{}", headers=((POLLER_HEADER, b"pedidos"), (POLLER_TABLE_HEADER, b"pedidos"))),
                    component="adapter.legacy")
    http = letter(RawRecord(value=b"{}"))
    assert (outbox.summary()["source"], polled.source, http.source) == (
        "outbox omnibus_outbox row 1", "poller pedidos table pedidos", "http")
    both = [outbox, polled, http]
    assert (select(both, source_topic="outbox"), select(both, source_topic="poller")) == ([outbox], [polled])
    assert select(both, source_topic="http") == [http]
    assert all(_refused_at_http(each) for each in both)  # each re-submitted from its sealed body
