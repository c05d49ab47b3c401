"""tester28 F4: the placeholder rule judges an account or customer number in its system of record's format by the
number that format writes (``bus.identifiers.normaliser``, ``NumberFormat.number``), not as typed: the contract
``123456`` is billing's ``EA-00123456`` under ``{"prefix": "EA-", "width": 8}``, and was dropped as a "placeholder"
(a screen-pop query answered "ACCOUNT value is a known placeholder or test value", a counter visit reached no one)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import SecretStr

from bus.identifiers import Identifier, IdentifierNormaliser, Rejected
from bus.identifiers.number_format import NumberFormat
from processors.identity.config import IdentitySettings
from processors.identity.normalize import IdentifierNormalizer
from tests.bus.identifiers.support import TEST_KEY, identifier_settings

UTILITY = {"prefix": "EA-", "width": 8}  # tester28's ACCOUNT_NUMBER_FORMAT
SETTINGS = {"ACCOUNT": "account_number_format", "CUSTOMER_NUMBER": "customer_number_format"}
KINDS = list(SETTINGS)


def normalised(kind: str, raw: str, system_format: dict[str, Any] | None) -> Identifier | Rejected:
    settings = identifier_settings(**{SETTINGS[kind]: system_format})
    return IdentifierNormaliser(settings, block_placeholders=True).normalise(kind, raw)  # as adapters and identity


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("raw", ["123456", "EA-123456", "ea 123 456", "00123456", "EA00123456", "EA 0012 3456"])
def test_tester28_f4_a_number_the_format_pads_is_judged_as_written_by_the_format(kind: str, raw: str) -> None:
    assert normalised(kind, raw, UTILITY) == Identifier(kind, "EA-00123456")


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("raw", "canonical"), [("98765", "EA-00098765"), ("12345", "EA-00012345")])
def test_other_counts_that_the_format_pads_are_somebodys(kind: str, raw: str, canonical: str) -> None:
    assert normalised(kind, raw, UTILITY) == Identifier(kind, canonical)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("raw", "system_format"), [
    ("0000000", {"prefix": "C-"}),  # the number zero: C-0
    ("C-000000", {"prefix": "C-"}),
    ("0", {"prefix": "C-", "width": 3}),  # C-000: zero padded shorter than a run
    ("00000000", UTILITY),
    ("123456789", {"prefix": "C-"}),  # a count as the format writes it
    ("1234567890", {"prefix": "CUST-"}),  # a long prefix hides no count
    ("unknown", UTILITY),  # not in the format: judged as spelled
    ("EA-99999999", UTILITY),
    ("12345678", UTILITY),  # a count that fills the width: typed to fill the field
    ("EA-87654321", UTILITY),
    ("1234567890", {"prefix": "CUST-", "width": 10}),
    ("11111111", UTILITY),
])
def test_a_placeholder_stays_one_in_the_formats_spelling(kind: str, raw: str, system_format: dict[str, Any]) -> None:
    result = normalised(kind, raw, system_format)
    assert isinstance(result, Rejected) and result.code == "placeholder", result


# A number short of the width, which the format's zeros pad into what reads as a count or a run: a contract the system
# of record's sequence issued (mends 1: ``1234567`` under width 8 is ``EA-01234567``, and ``01234567`` reads as a count).
PADDED = [
    ("1234567", UTILITY, "EA-01234567"),
    ("EA-1234567", UTILITY, "EA-01234567"),
    ("01234567", UTILITY, "EA-01234567"),
    ("ea 123 4567", UTILITY, "EA-01234567"),
    ("9876543", UTILITY, "EA-09876543"),
    ("123456789", {"prefix": "C-", "width": 10}, "C-0123456789"),
    ("987654321", {"prefix": "C-", "width": 10}, "C-0987654321"),
    ("11111", UTILITY, "EA-00011111"),
]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("raw", "system_format", "canonical"), PADDED)
def test_a_number_the_width_pads_is_never_a_count_or_a_run(
        kind: str, raw: str, system_format: dict[str, Any], canonical: str) -> None:
    assert normalised(kind, raw, system_format) == Identifier(kind, canonical)


def test_the_screen_pop_query_finds_the_padded_contract() -> None:
    """``omnibus identity pop ACCOUNT 1234567`` (identity's normaliser, lookups and channel data) under the
    utility's format: ``EA-01234567``, not "a known placeholder or test value"."""
    shared = identifier_settings(account_number_format=UTILITY, customer_number_format={"prefix": "C-", "width": 10})
    normalizer = IdentifierNormalizer(IdentitySettings(hmac_key=SecretStr(TEST_KEY)), shared)
    for lookup in (True, False):
        assert normalizer.normalize({"type": "ACCOUNT", "value": "1234567"}, lookup=lookup) == \
            Identifier("ACCOUNT", "EA-01234567")
        assert normalizer.normalize({"type": "CUSTOMER_NUMBER", "value": "123456789"}, lookup=lookup) == \
            Identifier("CUSTOMER_NUMBER", "C-0123456789")


def test_a_number_pads_when_it_is_digits_short_of_the_width() -> None:
    utility = NumberFormat(**UTILITY)
    assert utility.padded("01234567") and utility.padded("00000001")
    assert not utility.padded("12345678") and not utility.padded("123456789")
    assert not NumberFormat(prefix="C-").padded("0123") and not utility.padded("0012AB45")


@pytest.mark.parametrize("kind", KINDS)
def test_without_a_format_the_count_is_a_placeholder_and_another_systems_number_is_judged_whole(kind: str) -> None:
    for raw in ("123456", "EA-123456"):
        result = normalised(kind, raw, None)
        assert isinstance(result, Rejected) and result.code == "placeholder", raw
    assert normalised(kind, "CB-770002", UTILITY) == Identifier(kind, "CB-770002")  # another system's: as spelled


def test_the_screen_pop_query_and_identitys_own_check_find_the_contract() -> None:
    """The tester's ``omnibus identity pop ACCOUNT 123456``: identity's normaliser (lookups and channel data)."""
    shared = identifier_settings(account_number_format=UTILITY)
    normalizer = IdentifierNormalizer(IdentitySettings(hmac_key=SecretStr(TEST_KEY)), shared)
    for lookup in (True, False):
        assert normalizer.normalize({"type": "ACCOUNT", "value": "123456"}, lookup=lookup) == \
            Identifier("ACCOUNT", "EA-00123456")


def test_the_number_of_a_value_in_the_format() -> None:
    utility = NumberFormat(**UTILITY)
    assert utility.number("EA-00123456") == "00123456" and utility.number("CB-1") is None
    assert NumberFormat(prefix="CUST-").number("CUST-1234567890") == "1234567890"
