"""ACCOUNT: every spelling of one account is one value; IBAN check digits; placeholders decided on the normal form."""

from __future__ import annotations

import re
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum import iban, numdb

from bus.identifiers import Identifier, IdentifierNormaliser, Rejected
from bus.identifiers.account import contains_iban, iban_length, is_iban, normalise_account
from bus.identifiers.masking import mask
from bus.identifiers.model import NotAnIdentifier
from tests.bus.identifiers.support import identifier_settings, normaliser

MARC = "FR2117515900000800000000175"  # tester14 M1: spaced at the branch, compact from the call center
SOPHIE = "FR7630006000011234567890189"  # tester14 M1: the screen pop listed it twice, the lower-case lookup failed
RUN = "FR7430003012340001234567890"  # tester14 N1: a valid IBAN holding the run 1234567890


def spellings(compact: str) -> list[str]:
    grouped = " ".join(compact[i:i + 4] for i in range(0, len(compact), 4))
    return [compact, grouped, grouped.lower(), compact.lower(), grouped.replace(" ", "-"), f"  {grouped}\t",
            grouped.replace(" ", "."), grouped.replace(" ", "\u00a0"),  # no-break spaces
            "".join(chr(ord(c) + 0xFEE0) for c in compact[:2]) + compact[2:]]  # a full-width country code (NFKC)


@pytest.mark.parametrize("compact", [MARC, SOPHIE, RUN, "DE89370400440532013000", "GB29NWBK60161331926819",
                                     "FR1420041010050500013M02606"])
def test_every_spelling_of_an_iban_is_its_electronic_form(compact: str) -> None:
    assert is_iban(compact)
    for written in spellings(compact):
        assert normaliser().normalise("ACCOUNT", written) == Identifier("ACCOUNT", compact), written


def test_an_iban_is_an_account_under_its_own_name_too() -> None:
    assert normaliser().normalise("iban", "fr76 3000 6000 0112 3456 7890 189") == Identifier("ACCOUNT", SOPHIE)
    assert normaliser().normalise(" IBAN ", SOPHIE).key == f"ACCOUNT:{SOPHIE}"


def test_an_iban_with_wrong_check_digits_is_refused_never_a_second_account() -> None:
    mistyped = SOPHIE[:2] + "77" + SOPHIE[4:]
    result = normaliser().normalise("ACCOUNT", " ".join(mistyped[i:i + 4] for i in range(0, len(mistyped), 4)))
    assert isinstance(result, Rejected) and result.code == "iban-checksum" and result.rule == "invalid-identifier"
    assert mistyped not in result.masked and mistyped not in result.reason
    assert result.masked == "FR****0189"  # from the compact spelling, as the accepted value's mask
    with pytest.raises(NotAnIdentifier):
        normalise_account(SOPHIE[:-1] + "8")  # one digit of the account mistyped


@pytest.mark.parametrize(("written", "expected"), [
    (" ACC-1 ", "ACC-1"), ("acc-100 234", "ACC-100234"), ("0012 3456 789", "00123456789"), ("12.345.678", "12.345.678"),
    ("FR12", "FR12"),  # a country code and digits but no IBAN's length: an account number like any other
    ("FR00ABCDEFGHIJKLMNOPQRS", "FR00ABCDEFGHIJKLMNOPQRS"),  # no IBAN's structure whatever its check digits
    ("12/345", "12/345"),  # a slash may be part of a reference: kept
])
def test_other_account_numbers_lose_spaces_and_case_and_keep_dashes(written: str, expected: str) -> None:
    assert normaliser().normalise("ACCOUNT", written) == Identifier("ACCOUNT", expected)


def test_separators_alone_are_no_account() -> None:
    result = normaliser().normalise("ACCOUNT", " - . ")
    assert isinstance(result, Rejected) and result.code == "empty"


@given(st.sampled_from([MARC, SOPHIE, RUN]), st.lists(st.sampled_from([" ", "-", ".", ""]), min_size=34, max_size=34),
       st.lists(st.booleans(), min_size=34, max_size=34))
def test_normalising_is_spelling_free_and_idempotent(compact: str, separators: list[str], lower: list[bool]) -> None:
    written = "".join((c.lower() if low else c) + sep for c, sep, low in zip(compact, separators, lower, strict=False))
    once = normalise_account(written)
    assert once == compact and normalise_account(once) == once


def identity_side() -> IdentifierNormaliser:
    return IdentifierNormaliser(identifier_settings(), block_placeholders=True)


@pytest.mark.parametrize("written", spellings(RUN))
def test_a_valid_iban_is_never_a_placeholder_whatever_its_spelling(written: str) -> None:
    """tester14 N1: compact it was refused as a run of digits, spaced it was linked."""
    assert identity_side().normalise("ACCOUNT", written) == Identifier("ACCOUNT", RUN)


@pytest.mark.parametrize("written", ["123456789", "1234 5678 9", "123-456-789", "000 000 000", "unknown", "N/A"])
def test_an_account_placeholder_is_refused_whatever_its_spelling(written: str) -> None:
    result = identity_side().normalise("ACCOUNT", written)
    assert isinstance(result, Rejected) and result.code == "placeholder" and result.rule == "blocked-value"


def test_a_configured_test_iban_is_blocked_in_any_spelling() -> None:
    blocking = IdentifierNormaliser(identifier_settings(), block_placeholders=True, blocked={"ACCOUNT": {SOPHIE}})
    assert isinstance(blocking.normalise("ACCOUNT", "fr76 3000 6000 0112 3456 7890 189"), Rejected)


def test_one_account_has_one_mask() -> None:
    """tester14 M1: one IBAN was shown as ``**** 189`` and ``****0189``."""
    masks = {mask("ACCOUNT", normalise_account(written)) for written in spellings(SOPHIE)}
    assert masks == {"FR****0189"}


IBAN_COUNTRIES = sorted(part for part, props in (numdb.get("iban").info(a + b)[0] for a in string.ascii_uppercase
                                                 for b in string.ascii_uppercase) if props)


@pytest.mark.parametrize("country", IBAN_COUNTRIES)
def test_an_iban_of_each_registry_country_has_the_country_s_length_and_is_found_in_text(country: str) -> None:
    bban = "".join({"n": "0", "a": "A", "c": "0"}[kind] * int(size)
                   for size, kind in re.findall(r"(\d+)!([nac])", numdb.get("iban").info(country)[0][1]["bban"]))
    number = country + iban.calc_check_digits(country + "00" + bban) + bban
    assert is_iban(number) and len(number) == iban_length(country)
    assert contains_iban(f"ref-{number.lower()}/7") and not contains_iban(f"ref-{number[:-1]}")


def test_a_country_outside_the_registry_has_no_iban() -> None:
    assert "ZZ" not in IBAN_COUNTRIES and iban_length("ZZ") == 0
    assert not contains_iban("ZZ7630006000011234567890189")
    assert contains_iban("BILL-FR7630006000011234567890189-2024") and not contains_iban("BILL-2024-04-000123")


def _iban_anywhere(text: str) -> bool:
    """``contains_iban`` as first written: every IBAN length at every place two letters and two digits start."""
    compact = re.sub(r"[^A-Z0-9]", "", text.upper())
    return any(is_iban(compact[start.start():start.start() + length])
               for start in re.finditer(r"(?=[A-Z]{2}\d{2})", compact) for length in range(15, 35))


@st.composite
def _texts_around_an_iban(draw: st.DrawFn) -> str:
    country = draw(st.sampled_from(IBAN_COUNTRIES))
    bban = "".join(draw(st.text({"n": string.digits, "a": string.ascii_uppercase,
                                 "c": string.digits + string.ascii_uppercase}[kind], min_size=int(size),
                                max_size=int(size)))
                   for size, kind in re.findall(r"(\d+)!([nac])", numdb.get("iban").info(country)[0][1]["bban"]))
    number = country + iban.calc_check_digits(country + "00" + bban) + bban
    spelled = draw(st.sampled_from([number, number.lower(), number[:-1], number[:2] + "ı" + number[2:]]))
    around = st.text(st.sampled_from("ABLZ0129 -./ßıﬁé"), max_size=8)
    return draw(around) + spelled + draw(around)


@settings(max_examples=500, deadline=None)
@given(st.one_of(_texts_around_an_iban(), st.text(st.sampled_from("ABFRLZ0179 -ßıﬁ"), max_size=40), st.text()))
def test_an_iban_is_found_where_trying_every_length_at_every_start_finds_one(text: str) -> None:
    assert contains_iban(text) == _iban_anywhere(text)
