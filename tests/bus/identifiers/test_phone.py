"""PHONE: E.164 from every written form (issue #10 case 2)."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bus.identifiers import Identifier, IdentifierNormaliser, IdentifierSettings, Rejected
from bus.identifiers.metrics import REJECTED_IDENTIFIERS
from bus.identifiers.model import NotAnIdentifier
from bus.identifiers.phone import is_fixed_line, may_be_phone, normalise_phone

REGIONS = sorted(r for r in phonenumbers.SUPPORTED_REGIONS if phonenumbers.example_number(r) is not None)


def test_the_issue_sample_an_00_international_prefix_parses_with_default_settings() -> None:
    assert IdentifierNormaliser(IdentifierSettings()).normalise("PHONE", "0031612345678") == Identifier(
        "PHONE", "+31612345678")


def test_a_national_number_takes_the_region_of_the_source_else_the_deployment() -> None:
    assert IdentifierNormaliser(IdentifierSettings(), region="FR").normalise("PHONE", "06 12 34 56 78") == Identifier(
        "PHONE", "+33612345678")
    deployment = IdentifierNormaliser(IdentifierSettings(default_region="NL"))
    assert deployment.normalise("PHONE", "06 12345678") == Identifier("PHONE", "+31612345678")
    assert deployment.with_region("FR").normalise("PHONE", "06 12 34 56 78").value == "+33612345678"
    assert deployment.normalise("PHONE", "06 12 34 56 78", region="FR").value == "+33612345678"


def test_a_region_whose_international_prefix_is_not_00_still_reads_00_numbers() -> None:
    american = IdentifierNormaliser(IdentifierSettings(), region="US")
    assert american.normalise("PHONE", "011 33 6 12 34 56 78").value == "+33612345678"
    assert american.normalise("PHONE", "0033 6 12 34 56 78").value == "+33612345678"


def test_an_unparseable_number_is_kept_as_a_rejection_with_its_reason_and_counted() -> None:
    before = REJECTED_IDENTIFIERS.labels("adapter", "PHONE", "phone-invalid")._value.get()
    result = IdentifierNormaliser(IdentifierSettings()).normalise("PHONE", "06 12 34 56 78")
    assert isinstance(result, Rejected) and result.code == "phone-invalid" and "region" in result.reason
    assert "12 34 56" not in result.masked
    assert REJECTED_IDENTIFIERS.labels("adapter", "PHONE", "phone-invalid")._value.get() == before + 1


@pytest.mark.parametrize("raw", ["12", "anonymous", "Restricted", "+999 1234567", "0" * 30])
def test_what_is_not_a_phone_is_rejected(raw: str) -> None:
    assert isinstance(IdentifierNormaliser(IdentifierSettings(), region="FR").normalise("PHONE", raw), Rejected)


@settings(max_examples=200, deadline=None)
@given(home=st.sampled_from(REGIONS), caller=st.sampled_from(REGIONS))
def test_every_written_form_of_a_number_is_one_e164(home: str, caller: str) -> None:
    """International, 00-international and (with its region) national forms of a region's example number agree."""
    number = phonenumbers.example_number(home)
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    international = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    normaliser = IdentifierNormaliser(IdentifierSettings())
    assert normaliser.normalise("PHONE", international).value == e164  # type: ignore[union-attr]
    assert normaliser.normalise("PHONE", "00" + e164[1:]).value == e164  # type: ignore[union-attr]
    assert normaliser.normalise("PHONE", national, region=home).value == e164  # type: ignore[union-attr]
    assert normaliser.normalise("PHONE", international, region=caller).value == e164  # type: ignore[union-attr]
    assert normaliser.normalise("PHONE", e164).value == e164  # idempotent  # type: ignore[union-attr]


@pytest.mark.parametrize("number,fixed", [("+33147001122", True), ("+33144556677", True), ("+33611001822", False),
                                          ("+14155550123", False), ("+33", False), ("", False)])
def test_a_fixed_line_by_its_number_type(number: str, fixed: bool) -> None:
    """A French landline is a fixed line; a mobile, a North American number (either) and no number are not."""
    assert is_fixed_line(number) is fixed


@pytest.mark.parametrize(("text", "region"), [("0033612345678", None), ("+33612345678", None), ("x+33 6 12", None),
                                              ("\uff0b33612345678", None), (" 0044 7911 123456", None),
                                              ("0612345678", "FR"), ("123", "FR")])
def test_a_text_that_may_be_a_phone_is_parsed(text: str, region: str | None) -> None:
    assert may_be_phone(text, region)


@settings(max_examples=500)
@given(text=st.text("0123456789 -./()x", max_size=22).filter(lambda text: not text.strip().startswith("00")))
def test_without_a_region_a_text_with_no_plus_sign_or_00_is_no_phone(text: str) -> None:
    """``may_be_phone`` says no only where ``normalise_phone`` refuses (the reference scan skips the parse)."""
    assert not may_be_phone(text, None)
    with pytest.raises(NotAnIdentifier):
        normalise_phone(text, None)
