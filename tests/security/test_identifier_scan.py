"""The scanner the demo-run scan relies on: it finds each kind, and allows phones and e-mails only where the
contract puts them (an identifier record's value, an identifier key), IBANs and account and customer numbers there
and in the fields that carry them."""

from __future__ import annotations

import pytest

from demo.people import customers
from tests.security.identifier_scan import (
    ACCOUNT_NUMBER,
    CARD,
    CUSTOMER_NUMBER,
    EMAIL,
    IBAN,
    NATIONAL_ID,
    PHONE,
    find_identifiers,
    scan_lines,
    scan_record,
)

PERSON = customers(1)[0]


def test_each_kind_is_found_in_free_text() -> None:
    text = (f"caller {PERSON.phone} wrote from {PERSON.email}, ID {PERSON.national_id}, paid with 4111 1111 1111 1111;"
            " at 1732912345678901 µs, 1732912345678 ms, order 2024-03-05, 127.0.0.1:9092")
    kinds = sorted(kind for kind, _ in find_identifiers(text))
    assert kinds == sorted([PHONE, EMAIL, NATIONAL_ID, CARD]), kinds


def test_tokens_and_masked_values_are_not_identifiers() -> None:
    text = "nid1:Zm9vYmFy card1:4f3c tok:9f8e7d6c5b +33 6•• •• •• 12 [national id] x***@example"
    assert list(find_identifiers(text)) == []


def test_an_event_id_whose_digits_pass_luhn_is_not_a_card_but_a_dashed_card_is() -> None:
    # found by CI: an event id's first three groups were all digits (3181…0116 passes Luhn) and were flagged
    event_id = "31812345-6789-0116-8a2b-0c9d4e5f6a7b"
    assert list(find_identifiers(f"event_id={event_id}")) == []
    assert [kind for kind, _ in find_identifiers("paid with 3181-2345-6789-0116 today")] == [CARD]


def test_an_event_id_after_its_avro_length_in_embedded_bytes_is_not_a_card() -> None:
    """A demo run: identity's graph message carried the event (Avro bytes), whose id's string length (36) is written
    ``H`` before it; the UUID was not blanked and ``59-5504-9557-988897`` (its digits, Luhn-valid) was a "card"."""
    embedded = [[b"\x00\x00\x00\x00\x0cH5cfa70db-bd59-5504-9557-988897fe394e\xf0\x06\x1ebranch-terminal"]]
    assert scan_record("g[0]@1", None, embedded, embedded_records=True) == []
    assert [kind for kind, _ in find_identifiers("card 59-5504-9557-988897 given")] == [CARD]


def test_a_phone_in_an_identifier_record_is_allowed_elsewhere_it_is_not() -> None:
    record = {"identifiers": [{"type": "PHONE", "value": PERSON.phone}, {"type": "EMAIL", "value": PERSON.email}],
              "note": f"call back on {PERSON.phone}"}
    findings = scan_record("t[0]@1", f"EMAIL:{PERSON.email}", record)
    assert [(f.kind, f.where) for f in findings] == [(PHONE, "t[0]@1 value.note")]
    assert PERSON.phone not in str(findings[0])  # the report itself is masked
    assert [f.kind for f in scan_record("t[0]@1", PERSON.email, {})] == [EMAIL]  # not in the identifier key form
    assert scan_record("t[0]@1", None, {"ids": [f"PHONE:{PERSON.phone}"]}) == []
    assert scan_record("t[0]@1", None, {"value": f"phone={PERSON.phone}"}, raw_paths={"value.value"}) == []


def test_a_national_id_is_allowed_nowhere() -> None:
    record = {"identifiers": [{"type": "NATIONAL_ID", "value": PERSON.national_id}]}
    assert [f.kind for f in scan_record("t[0]@1", None, record)] == [NATIONAL_ID]
    raw = {"value": f"id={PERSON.national_id}"}
    assert [f.kind for f in scan_record("t[0]@1", None, raw, raw_paths={"value.value"})] == [NATIONAL_ID]
    assert [f.kind for f in scan_lines([f"id={PERSON.national_id}"])] == [NATIONAL_ID]


def test_bytes_of_an_embedded_record_may_hold_contact_identifiers_but_never_a_national_id() -> None:
    message = [["PHONE:+33611223344", [b"\x00\x00\x00\x00\x07" + PERSON.email.encode()]]]
    assert [f.kind for f in scan_record("g[0]@1", None, message)] == [EMAIL]
    assert scan_record("g[0]@1", None, message, embedded_records=True) == []
    secret = [[b"id " + PERSON.national_id.encode()]]
    assert [f.kind for f in scan_record("g[0]@1", None, secret, embedded_records=True)] == [NATIONAL_ID]


def test_a_customer_id_whose_hex_is_a_luhn_valid_digit_run_is_not_a_card() -> None:
    """The final CI run of a session: 109 "card numbers", every one a customer id (``cus_`` + a birth time in hex +
    a digest) whose hex happened to be a long run of decimal digits passing Luhn."""
    from stdnum import luhn

    digits = "4111111111111"  # 13 digits, first 4: a card network's range
    digits += luhn.calc_check_digit(digits)
    customer_id = f"cus_{digits}abcdefabcd"  # the digit run ends at a hex letter, as in the ids CI flagged
    assert len(customer_id) == 28 and luhn.is_valid(digits)
    assert list(find_identifiers(f'"customer_id": "{customer_id}"')) == []
    assert [kind for kind, _ in find_identifiers(f"paid with {digits} today")] == [CARD]


def test_a_late_band_rank_in_identitys_state_is_not_a_card_a_digit_string_there_is() -> None:
    """A final CI run flagged identity's node state: a rank ``rank | LATE_BAND`` (``limits.key_rank``: a web claim
    on a business record's account) of 19 digits starting with 6 passed Luhn."""
    from stdnum import luhn

    from processors.identity.graph.limits import LATE_BAND

    rank = LATE_BAND + 2_000_000_000_000_000_000
    while not luhn.is_valid(str(rank)):
        rank += 1
    state = [["ACCOUNT:ACC-100002", ["cus_x", rank]]]
    assert scan_record("n[0]@1", None, state, embedded_records=True) == []
    assert [f.kind for f in scan_record("n[0]@1", None, [[str(rank)]], embedded_records=True)] == [CARD]


# tester27 F4 (batchkey's note): an account value inside an event id or a log line passed the scan.
SOPHIE_IBAN = "FR7630006000011234567890189"
SPELLED_IBANS = [SOPHIE_IBAN, "FR76 3000 6000 0112 3456 7890 189", "fr76-3000-6000-0112-3456-7890-189",
                 "DE89370400440532013000", "GB82 WEST 1234 5698 7654 32"]
ACCOUNT = "ACC-100234"
CUSTOMER = "C-770002"
NUMBERS = {"accounts": [ACCOUNT], "customer_numbers": [CUSTOMER]}


@pytest.mark.parametrize("iban", SPELLED_IBANS)
def test_an_iban_in_any_spelling_is_found_in_an_event_id_and_in_a_log_line(iban: str) -> None:
    event = {"envelope": {"event_id": f"batch:holders:{iban}|2", "source_event_id": f"core:{iban}"}}
    assert [(f.kind, f.where) for f in scan_record("t[0]@1", None, event)] == [
        (IBAN, "t[0]@1 value.envelope.event_id"), (IBAN, "t[0]@1 value.envelope.source_event_id")]
    assert [f.kind for f in scan_lines([f"published line {iban} (2 events)"])] == [IBAN]
    assert [f.kind for f in scan_record("t[0]@1", iban, {})] == [IBAN]  # a key that is not an identifier key


@pytest.mark.parametrize(("kind", "spelled"), [
    (ACCOUNT_NUMBER, ACCOUNT), (ACCOUNT_NUMBER, "acc100234"), (ACCOUNT_NUMBER, "ACC 100 234"),
    (CUSTOMER_NUMBER, CUSTOMER), (CUSTOMER_NUMBER, "c770002"), (CUSTOMER_NUMBER, "C-770-002"),
])
def test_a_known_account_or_customer_number_in_any_spelling_is_found_in_an_id_and_in_a_log_line(
        kind: str, spelled: str) -> None:
    event = {"envelope": {"source_event_id": f"batch:holders:{spelled}"}}
    assert [(f.kind, f.where) for f in scan_record("t[0]@1", None, event, **NUMBERS)] == [
        (kind, "t[0]@1 value.envelope.source_event_id")]
    assert [f.kind for f in scan_lines([f"line of {spelled} published"], **NUMBERS)] == [kind]
    finding = scan_lines([f"key={spelled}"], **NUMBERS)[0]
    assert spelled not in str(finding)  # the report itself is masked


def test_a_number_only_looks_like_a_known_one_is_not_found() -> None:
    text = (f"ACC-1002345 XACC-100234 C-7700021 BILL-2024-10 INV-3 {SOPHIE_IBAN[:-1]}8 "  # another number, a typo
            "ref GB82WEST12345698765431 version v2.10.0, sent FR76 3000")  # and too short for any IBAN
    assert list(find_identifiers(text, **NUMBERS)) == []


def test_the_fields_that_carry_account_numbers_may_hold_them() -> None:
    """A business event's ``account_number`` (and any field named for an account or a customer number), an
    identifier record, an identifier key, a key the caller names (``business.events.v1`` is keyed by account), a
    dead letter's raw input and a record embedded in an internal message: nowhere else."""
    business = {"account_number": SOPHIE_IBAN, "customer_identifiers": [
        {"type": "ACCOUNT", "value": ACCOUNT}, {"type": "CUSTOMER_NUMBER", "value": CUSTOMER}],
        "holder": {"iban": "FR76 3000 6000 0112 3456 7890 189", "customer_number": CUSTOMER}}
    assert scan_record("business[0]@1", SOPHIE_IBAN, business, number_paths={"key"}, **NUMBERS) == []
    assert scan_record("identifiers[0]@1", f"ACCOUNT:{SOPHIE_IBAN}", {"customer_id": "cus_x"}, **NUMBERS) == []
    assert scan_record("g[0]@1", None, [[f"ACCOUNT:{ACCOUNT}", f"CUSTOMER_NUMBER:{CUSTOMER}"]], **NUMBERS) == []
    raw = {"value": f"account={SOPHIE_IBAN}; customer={CUSTOMER}"}
    assert scan_record("dlq[0]@1", None, raw, raw_paths={"value.value"}, **NUMBERS) == []
    embedded = [[b"\x00\x02" + f"{SOPHIE_IBAN} {ACCOUNT}".encode()]]
    assert scan_record("g[0]@1", None, embedded, embedded_records=True, **NUMBERS) == []
    # the same values anywhere else are found: the key of another topic, a note, the account field's neighbour
    misplaced = {"account_number": SOPHIE_IBAN, "note": f"refund to {SOPHIE_IBAN} for {ACCOUNT}",
                 "summary": f"customer {CUSTOMER}"}
    found = scan_record("business[0]@1", SOPHIE_IBAN, misplaced, **NUMBERS)
    assert sorted((f.kind, f.where) for f in found) == sorted([
        (ACCOUNT_NUMBER, "business[0]@1 value.note"), (CUSTOMER_NUMBER, "business[0]@1 value.summary"),
        (IBAN, "business[0]@1 key"), (IBAN, "business[0]@1 value.note")])


def test_a_national_id_in_an_account_field_is_still_found() -> None:
    assert [f.kind for f in scan_record("t[0]@1", None, {"account_number": PERSON.national_id})] == [NATIONAL_ID]
