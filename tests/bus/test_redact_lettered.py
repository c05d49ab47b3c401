"""tester29 F12's nit and F5's: identifiers with letters are scrubbed whole; the tokens and ids Omnibus issues pass.

Before: ``DNI 12345678Z`` became ``DNI [digits]Z`` (the check letter left), ``X1234567L`` ``X[digits]L``, a
codice fiscale was not touched at all (no run of seven digits), and a dead letter's ``nid1:`` token was mangled
(``nid1:8ead8fb[digits]a40e…``), so it could not be compared with identity's tokens.
"""

from __future__ import annotations

import pytest

from bus.identifiers.tokens import token as secret_token
from bus.issued_ids import CUSTOMER_ID_HEX_DIGITS, CUSTOMER_ID_PREFIX, ISSUED
from bus.redact import free_text, free_text_masked, scrub_text, token

LETTERED = [
    ("DNI 12345678Z", "DNI [digits]"),  # Spanish DNI: 8 digits and a check letter
    ("dni 12345678-z presentado", "dni [digits] presentado"),  # written with a dash, lower case
    ("NIE X1234567L", "NIE [digits]"),  # Spanish NIE: a letter, 7 digits, a check letter
    ("IBAN ES91 2100 0418 4502 0005 1332 abonado", "IBAN [digits] abonado"),  # country and check digits too
    ("IBAN FR7630006000011234567890189", "IBAN [digits]"),
    ("IBAN GB29 NWBK 6016 1331 9268 19 ok", "IBAN [digits] ok"),  # letters in the account part (ISO 13616)
    ("CF RSSMRA85T10A562S grazie", "CF [digits] grazie"),  # codice fiscale: no run of 7 digits at all
    ("CUPS ES0021000000000000AA", "CUPS [digits]"),  # Spanish supply point
    ("POD IT001E12345678 attivo", "POD [digits] attivo"),  # Italian supply point
    ("beneficiary: DNI 12345678E, thanks", "beneficiary: DNI [digits], thanks"),  # tester29 F12's own note
    # UK National Insurance numbers: six digits only, one fewer than the digit rule scrubs (HMRC NIM39110)
    ("NI number AB123456C on file", "NI number [digits] on file"),
    ("NINO: AB 12 34 56 C.", "NINO: [digits]."),  # HMRC's printed form
    ("ni no jk123456d please", "ni no [digits] please"),  # lower case, as a customer types it
    ('{"nino": "ZX 123456 A"}', '{"nino": "[digits]"}'),
]

# Six-digit texts that are no National Insurance number: kept as written.
NOT_NINO = [
    "order AB123456 shipped",  # no suffix letter
    "ref AB123456E",  # suffix beyond A-D
    "code DA123456A",  # first prefix letter D is never issued
    "code AO123456A",  # O is never a second prefix letter
    "INC123456A opened",  # a longer word: three letters before the digits
    "build AB1234567",  # a run of seven digits: scrubbed as digits, by the digit rule, not this one
]


@pytest.mark.parametrize(("text", "scrubbed"), LETTERED)
def test_an_identifier_with_letters_is_scrubbed_whole(text: str, scrubbed: str) -> None:
    assert scrub_text(text) == scrubbed
    assert free_text(text) == scrubbed


def test_what_was_masked_is_named_as_a_number() -> None:
    assert free_text_masked("DNI 12345678Z") == ("DNI [digits]", ("number",))


@pytest.mark.parametrize("issued", [
    secret_token(b"k" * 32, "NATIONAL_ID", "12345678Z"),
    secret_token(b"k" * 32, "CARD", "4111111111111111"),
    "nid1:8ead8fb1234567a40e7a287fc9d9a1b2",  # tester29 F5: the token of a refused CTR's "dni" attribute
    "card1:00000000000000000000000000000001",
    token("+34612345678"),
    token("0612345678"),
    CUSTOMER_ID_PREFIX + "6617eb225f7708740bb60f80",
], ids=["nid1", "card1", "nid1-f5", "card1-zeros", "tok-phone", "tok-digits", "cus"])  # tok: a per-process key
def test_tokens_and_ids_omnibus_issues_pass_untouched(issued: str) -> None:
    text = f'{{"Attributes": {{"dni": "{issued}"}}}} and {issued}.'
    assert scrub_text(text) == text
    assert ISSUED.fullmatch(issued)


def test_a_token_inside_a_longer_word_or_too_long_is_not_one() -> None:
    """Only the whole shape passes: ``xnid1:…`` or a token with more digits is scrubbed as any text."""
    assert scrub_text("xnid1:8ead8fb1234567a40e7a287fc9d9a1b2") != "xnid1:8ead8fb1234567a40e7a287fc9d9a1b2"
    assert "[digits]" in scrub_text("nid1:8ead8fb1234567a40e7a287fc9d9a1b2ff")


def test_the_customer_id_shape_is_identitys() -> None:
    """``bus.issued_ids`` declares the shape ``processors.identity.graph`` issues (the graph's own prefix)."""
    from processors.identity.graph.context import CUSTOMER_PREFIX
    from processors.identity.graph.saga import customer_id

    assert CUSTOMER_PREFIX == CUSTOMER_ID_PREFIX
    customer = customer_id(1_764_000_000_000_000, "PHONE:+34612345678")
    assert len(customer) == len(CUSTOMER_ID_PREFIX) + CUSTOMER_ID_HEX_DIGITS and ISSUED.fullmatch(customer)


@pytest.mark.parametrize("kept", [
    "offset 12345678", "SKU12345", "HTTP/1.1 200", "v3.11.10", "a1b2c3", "2026-11-30T09:48:12.376616+00:00",
    "0d9b84a7-1234-5678-9abc-def012345678", "T-0101 at 10.0.0.12:9092", "ab12 this that",
])
def test_text_without_an_identifier_is_kept(kept: str) -> None:
    assert scrub_text(kept) == kept


@pytest.mark.parametrize("text", NOT_NINO[:-1])
def test_six_digits_with_letters_that_are_no_national_insurance_number_are_kept(text: str) -> None:
    assert scrub_text(text) == text
    assert free_text(text) == text


def test_seven_digits_after_two_letters_are_scrubbed_by_the_digit_rule() -> None:
    assert scrub_text(NOT_NINO[-1]) == "build [digits]"


def test_a_national_insurance_number_is_masked_as_a_number_in_what_an_operator_typed() -> None:
    assert free_text_masked("customer gave AB 12 34 56 C") == ("customer gave [digits]", ("number",))
