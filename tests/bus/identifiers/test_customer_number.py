"""A customer number written in two systems' house styles is one key (F9, a fresh tester of session 20: the call
center keypad's ``770002`` never matched billing's ``C-770002``)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from bus.identifiers import Identifier, IdentifierNormaliser, Rejected
from bus.identifiers.customer_number import UNSTABLE_FORMAT, CustomerNumberFormat, normalise_customer_number
from bus.identifiers.normaliser import load_identifier_settings
from tests.bus.identifiers.support import identifier_settings

BILLING = {"prefix": "C-"}  # billing's numbers: C-770002


def number(raw: str, system_format: dict[str, Any] | None = None, *, block: bool = False) -> Identifier | Rejected:
    normaliser = IdentifierNormaliser(identifier_settings(customer_number_format=system_format),
                                      block_placeholders=block)
    return normaliser.normalise("CUSTOMER_NUMBER", raw)


@pytest.mark.parametrize("raw", [
    "770002",  # the tester's: typed on the call center's keypad (a Connect contact attribute)
    "C-770002",  # billing's export, the tester's other sample
    "c770002", "C 770002", " c-770002 ", "C-0770002", "000770002", "C-770-002", "C.770.002", "C_770002",
    "Ｃ－７７０００２",  # full width
])
def test_every_house_style_of_one_number_is_the_system_of_records_spelling(raw: str) -> None:
    assert number(raw, BILLING) == Identifier("CUSTOMER_NUMBER", "C-770002")


@pytest.mark.parametrize(("system_format", "raw", "expected"), [
    ({"prefix": "C", "width": 8}, "770002", "C00770002"),  # zero-padded core-banking numbers
    ({"prefix": "C", "width": 8}, "C-000770002", "C00770002"),
    ({"prefix": "C", "width": 8}, "c00770002", "C00770002"),
    ({"width": 10}, "CUST 770002", "CUST 770002".replace(" ", "")),  # not digits: kept as spelled
    ({"width": 10}, "770-002", "0000770002"),
    # a pattern for numbers with a letter group, the prefix taken off first (CIF-AB-001234 and ab1234 are one)
    ({"prefix": "CIF-", "pattern": "(?P<number>[A-Z]{2}[0-9]+)"}, "ab-001234", "CIF-AB001234"),
    ({"prefix": "CIF-", "pattern": "(?P<number>[A-Z]{2}[0-9]+)"}, "CIF AB001234", "CIF-AB001234"),
])
def test_prefix_width_and_pattern(system_format: dict[str, Any], raw: str, expected: str) -> None:
    assert number(raw, system_format) == Identifier("CUSTOMER_NUMBER", expected)


def test_another_system_of_records_prefixed_numbers_are_kept_apart() -> None:
    """Two systems of record whose numbers overlap make them distinct by a prefix in the export: a number with the
    other system's prefix does not match billing's format and keeps its own spelling, so C-770002 and CB-770002 stay
    two customers' numbers (docs/legacy-batch.md)."""
    assert number("CB-770002", BILLING) == Identifier("CUSTOMER_NUMBER", "CB-770002")
    assert number("cb 770002", BILLING) == Identifier("CUSTOMER_NUMBER", "CB770002")
    assert number("CB-770002", BILLING) != number("770002", BILLING)


def test_without_a_format_numbers_keep_todays_spelling() -> None:
    """The default: spaces removed, upper case; dashes and leading zeros kept (they may tell two numbers apart)."""
    assert number("c 770002") == Identifier("CUSTOMER_NUMBER", "C770002")
    assert number("C-770002") == Identifier("CUSTOMER_NUMBER", "C-770002")
    assert number("0770002") != number("770002")
    assert identifier_settings().customer_number_format is None


@pytest.mark.parametrize("raw", ["0000000", "C-000000", "000-000-000", "123456789"])
def test_a_placeholder_stays_one_when_the_format_drops_its_zeros(raw: str) -> None:
    """``0000000`` in the format's spelling is ``C-0``: the written value is checked too."""
    result = number(raw, BILLING, block=True)
    assert isinstance(result, Rejected) and result.code == "placeholder"


def test_a_pattern_that_reads_its_own_output_as_another_number_is_refused_never_a_second_key() -> None:
    result = number("X12123", {"prefix": "X", "pattern": "(?:12)?(?P<number>[0-9]+)"})
    assert isinstance(result, Rejected) and result.code == UNSTABLE_FORMAT
    assert "12123" not in result.reason


@pytest.mark.parametrize(("given", "message"), [
    ({"pattern": "[0-9]+"}, "no group named 'number'"),
    ({"pattern": "(?P<number>[0-9+"}, "not a regular expression"),
    ({"prefix": "C -"}, "whitespace"),
    ({"width": -1}, "greater than or equal to 0"),
    ({"prefx": "C-"}, "Extra inputs"),
])
def test_a_bad_format_is_refused_at_start_up(given: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        CustomerNumberFormat(**given)


def test_the_format_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMNIBUS_IDENTIFIERS__CUSTOMER_NUMBER_FORMAT", '{"prefix": "c-", "width": 7}')
    loaded = load_identifier_settings().customer_number_format
    assert loaded == CustomerNumberFormat(prefix="C-", width=7)
    assert normalise_customer_number("770002", loaded) == "C-0770002"


FORMATS = st.sampled_from([None, CustomerNumberFormat(prefix="C-"), CustomerNumberFormat(prefix="C", width=8),
                           CustomerNumberFormat(pattern="(?P<number>[A-Z]{2}[0-9]+)", prefix="CIF-"),
                           CustomerNumberFormat(prefix="Ǆ", separators="-ǰ")])


@settings(max_examples=400, deadline=None)
@given(raw=st.text(max_size=20) | st.from_regex(r"\A[cC]?[ -]?0*[0-9]{1,9}\Z"), system_format=FORMATS)
def test_normalising_twice_changes_nothing(raw: str, system_format: CustomerNumberFormat | None) -> None:
    normaliser = IdentifierNormaliser(identifier_settings(customer_number_format=system_format))
    result = normaliser.normalise("CUSTOMER_NUMBER", raw)
    if isinstance(result, Identifier):
        assert normaliser.normalise("CUSTOMER_NUMBER", result.value) == result
