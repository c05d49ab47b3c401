"""The shared rules: tokens for secrets, the key's fallback, the other types, rejections that are never silent."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bus.identifiers import IDENTIFIER_TYPES, Identifier, IdentifierNormaliser, IdentifierSettings, Rejected
from bus.identifiers.metrics import REJECTED_IDENTIFIERS
from bus.identifiers.settings import IDENTITY_KEY_VARIABLE
from tests.bus.identifiers.support import TEST_KEY, identifier_settings

VALID_ID = "11010519491231002X"


def test_identifier_types_come_from_the_contract() -> None:
    import json
    from pathlib import Path

    contract = json.loads((Path("schemas/common/IdentifierType.avsc")).read_text())["symbols"]
    assert IDENTIFIER_TYPES == tuple(s for s in contract if s != "UNKNOWN")


def test_without_any_key_a_secret_is_rejected_never_published_raw(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(IDENTITY_KEY_VARIABLE, raising=False)
    for kind, raw in (("NATIONAL_ID", VALID_ID), ("CARD", "4111 1111 1111 1111")):
        result = IdentifierNormaliser(IdentifierSettings()).normalise(kind, raw)
        assert isinstance(result, Rejected) and result.code == "no-token-key"
        assert raw not in result.masked and raw not in result.reason
    issuer_token = IdentifierNormaliser(IdentifierSettings()).normalise("CARD", "tok_9f8e7d")
    assert issuer_token == Identifier("CARD", "tok_9f8e7d")


def test_the_key_falls_back_to_the_identity_processors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(IDENTITY_KEY_VARIABLE, TEST_KEY)
    fallback = IdentifierNormaliser(IdentifierSettings()).normalise("NATIONAL_ID", VALID_ID)
    assert fallback == IdentifierNormaliser(identifier_settings()).normalise("NATIONAL_ID", VALID_ID)
    assert fallback != IdentifierNormaliser(identifier_settings(hmac_key="another-key-0123456789")).normalise(
        "NATIONAL_ID", VALID_ID)


def test_cards_are_tokenised_after_luhn_and_issuer_tokens_kept() -> None:
    normaliser = IdentifierNormaliser(identifier_settings())
    token = normaliser.normalise("CARD", "4111-1111-1111-1111")
    assert isinstance(token, Identifier) and token.value.startswith("card1:") and "4111" not in token.value
    assert normaliser.normalise("CARD", token.value) == token
    failed = normaliser.normalise("CARD", "4111 1111 1111 1112")
    assert isinstance(failed, Rejected) and failed.code == "card-luhn" and "4111 1111" not in failed.masked


@pytest.mark.parametrize(("kind", "raw", "expected"), [
    ("ACCOUNT", " ACC-1 ", "ACC-1"), ("USER_ID", "u-1", "u-1"), ("ANONYMOUS_ID", "a-1", "a-1"),
    ("DEVICE", "6F9619FF-8B86-D011-B42D-00C04FC964FF", "6f9619ff-8b86-d011-b42d-00c04fc964ff"),
    ("ACCOUNT", "ＡＣＣ１", "ACC1"),  # full-width (NFKC)
    ("ACCOUNT", 42, "42"),
])
def test_other_types_are_trimmed(kind: str, raw: object, expected: str) -> None:
    assert IdentifierNormaliser(identifier_settings()).normalise(kind, raw) == Identifier(kind, expected)


@pytest.mark.parametrize("raw", ["C-5001", " c-5001 ", "c -5001", "Ｃ－５００１"])
def test_a_customer_number_is_one_however_it_is_typed_and_keeps_its_dashes(raw: str) -> None:
    """tester21 F5, F16: the system of record's customer number (not a web login's USER_ID, which is kept as given)."""
    normaliser = IdentifierNormaliser(identifier_settings())
    assert normaliser.normalise("CUSTOMER_NUMBER", raw) == Identifier("CUSTOMER_NUMBER", "C-5001")
    assert normaliser.normalise("CUSTOMER_NUMBER", "C5001") != normaliser.normalise("CUSTOMER_NUMBER", raw)
    assert normaliser.normalise("USER_ID", "Ob-Alice") == Identifier("USER_ID", "Ob-Alice")


@pytest.mark.parametrize(("kind", "raw", "code"), [
    ("ACCOUNT", "a\x00b", "malformed"), ("ACCOUNT", "x" * 300, "malformed"), ("ACCOUNT", "  ", "empty"),
    ("SHOE_SIZE", "42", "unknown-type"), ("ACCOUNT", {"nested": 1}, "not-text"), ("EMAIL", ["a@b.org"], "not-text"),
])
def test_bad_values_are_rejections_with_a_code_never_exceptions(kind: str, raw: object, code: str) -> None:
    before = REJECTED_IDENTIFIERS.labels("t", kind if kind in IDENTIFIER_TYPES else "UNKNOWN", code)._value.get()
    result = IdentifierNormaliser(identifier_settings(), component="t").normalise(kind, raw)
    assert isinstance(result, Rejected) and result.code == code and result.reason
    assert REJECTED_IDENTIFIERS.labels("t", result.type, code)._value.get() == before + 1


def test_placeholders_are_refused_only_where_values_are_linked() -> None:
    forwarded = IdentifierNormaliser(identifier_settings()).normalise("ACCOUNT", "0000000")
    assert forwarded == Identifier("ACCOUNT", "0000000")
    linking = IdentifierNormaliser(identifier_settings(), block_placeholders=True, blocked={"ACCOUNT": ["ACC-TEST"]})
    for raw in ("0000000", "unknown", "ACC-TEST"):
        result = linking.normalise("ACCOUNT", raw)
        assert isinstance(result, Rejected) and result.rule == "blocked-value"


@pytest.mark.parametrize(("kind", "raw"), [
    ("DEVICE", "00000000-0000-0000-0000-000000000000"),  # iOS's advertising id when the user limits tracking
    ("ANONYMOUS_ID", "00000000-0000-0000-0000-000000000000"), ("USER_ID", "xxxxx-xxxxx"), ("ACCOUNT", "AAAAAA"),
])
def test_one_character_repeated_between_separators_is_a_placeholder(kind: str, raw: str) -> None:
    result = IdentifierNormaliser(identifier_settings(), block_placeholders=True).normalise(kind, raw)
    assert isinstance(result, Rejected) and result.rule == "blocked-value"


@pytest.mark.parametrize(("kind", "raw"), [
    ("ANONYMOUS_ID", "00000000-0000-0000-0000-000000000001"), ("USER_ID", "aaaa"), ("DEVICE", "tab-7"),
])
def test_ids_with_two_characters_or_too_short_to_tell_are_kept(kind: str, raw: str) -> None:
    result = IdentifierNormaliser(identifier_settings(), block_placeholders=True).normalise(kind, raw)
    assert isinstance(result, Identifier)


def test_collect_skips_absent_values_and_repeats() -> None:
    found = IdentifierNormaliser(identifier_settings()).collect(
        [("EMAIL", " Ann@Example.COM "), ("EMAIL", "ann@example.com"), ("ACCOUNT", None), ("ACCOUNT", ""),
         ("PHONE", "12"), ("PHONE", "12")])
    assert found.records() == [{"type": "EMAIL", "value": "ann@example.com"}]
    assert [r["code"] for r in found.rejected_records()] == ["phone-invalid"]


@settings(max_examples=300, deadline=None)
@given(kind=st.sampled_from(IDENTIFIER_TYPES), raw=st.one_of(st.text(max_size=40), st.integers(), st.none()))
def test_anything_is_an_identifier_or_a_rejection_and_normalising_twice_changes_nothing(kind: str, raw: object) -> None:
    normaliser = IdentifierNormaliser(identifier_settings(default_region="FR"))
    result = normaliser.normalise(kind, raw)
    assert isinstance(result, Identifier | Rejected)
    if isinstance(result, Identifier):
        assert normaliser.normalise(kind, result.value) == result
        if kind in ("NATIONAL_ID", "CARD") and isinstance(raw, str) and raw.strip() and raw.strip().isdigit():
            assert raw.strip() not in result.value or result.value == raw.strip()


@pytest.mark.parametrize("kind", ["PHONE=+33612345678", "mail ann@x.org", "PHONE+33612345678", "PHONE33612345678"])
def test_an_unknown_type_holding_a_value_is_never_echoed(kind: str) -> None:
    result = IdentifierNormaliser(identifier_settings()).normalise(kind, "")
    assert isinstance(result, Rejected) and result.code == "unknown-type"
    assert "33612345678" not in result.reason and "ann@x.org" not in result.reason
    assert all(linked in result.reason for linked in IDENTIFIER_TYPES)


def test_an_unknown_type_name_is_named_with_the_linked_types() -> None:
    result = IdentifierNormaliser(identifier_settings()).normalise("mail", "ann@x.org")
    assert isinstance(result, Rejected)
    assert result.reason.startswith("identifier type MAIL is not linked (linked types: ")
    assert "EMAIL" in result.reason and "ann@x.org" not in result.reason


class _Text(str):
    """A str subclass: what a caller's own type for a kind or a value may be."""


@pytest.mark.parametrize("kind", ["PHONE", "USER_ID", "ANONYMOUS_ID", "ACCOUNT", "EMAIL"])
@pytest.mark.parametrize("raw", ["+33 6 12 34 56 78", "u-1842", "FR7630006000011234567890189", "a@example.org",
                                 612345678, "unknown", "", None, True, 1.5])
def test_a_kind_and_a_value_are_read_alike_however_they_are_typed(kind: str, raw: object) -> None:
    """The contract symbol as it is (the adapters' call), spelled otherwise (``" phone"``, ``iban``) or as a str
    subclass; the value as text, a str subclass or a number: one outcome (#9 build 6 reads a plain symbol and text
    first)."""
    normaliser = IdentifierNormaliser(identifier_settings(default_region="FR"), block_placeholders=True)
    outcome = normaliser.normalise(kind, raw)
    spellings = [f" {kind.lower()} ", _Text(kind)] + (["iban"] if kind == "ACCOUNT" else [])
    assert all(normaliser.normalise(spelled, raw) == outcome for spelled in spellings)
    if isinstance(raw, str):
        assert normaliser.normalise(kind, _Text(raw)) == outcome
