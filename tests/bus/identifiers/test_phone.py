"""PHONE: E.164 from every written form (issue #10 case 2)."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bus.identifiers import Identifier, IdentifierNormaliser, IdentifierSettings, Rejected
from bus.identifiers.metrics import REJECTED_IDENTIFIERS
from bus.identifiers.model import NotAnIdentifier
from bus.identifiers.phone import is_fixed_line, may_be_phone, normalise_phone, takes_sms

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


@pytest.mark.parametrize("number,sms", [("+33611001822", True), ("+393480000001", True), ("+14155550123", True),
                                        ("+33147001122", False), ("+34912345678", False), ("+448001234567", False),
                                        ("+33", False), ("", False)])
def test_an_sms_reaches_a_mobile_or_a_north_american_number_not_a_landline(number: str, sms: bool) -> None:
    """mends32: by libphonenumber's number type, MOBILE and FIXED_LINE_OR_MOBILE (the US and Canada) take an SMS; a
    French or Spanish landline, a UK freephone and no number do not."""
    assert takes_sms(number) is sms


@pytest.mark.parametrize(("text", "region"), [("0033612345678", None), ("+33612345678", None), ("x+33 6 12", None),
                                              ("\uff0b33612345678", None), (" 0044 7911 123456", None),
                                              ("0612345678", "FR"), ("612345678", "FR"), ("33612345678", "FR"),
                                              ("00 44 7911 123456", "FR"), ("011 44 7911 123456", "US")])
def test_a_text_that_may_be_a_phone_is_parsed(text: str, region: str | None) -> None:
    assert may_be_phone(text, region)


@pytest.mark.parametrize(("text", "region"), [("2024-04-000123", "FR"), ("04-000123", "FR"), ("061234567890", "FR"),
                                              ("0612345678", None), ("2024-04-000123", "US")])
def test_a_run_of_too_few_or_too_many_digits_for_the_region_is_not_parsed(text: str, region: str | None) -> None:
    """The bench's invoice_id groups (``BILL-2024-04-000123``): 12 and 8 digits, a French number has 9 after its 0."""
    assert not may_be_phone(text, region)


@settings(max_examples=500)
@given(text=st.text("0123456789 -./()x", max_size=22).filter(lambda text: not text.strip().startswith("00")))
def test_without_a_region_a_text_with_no_plus_sign_or_00_is_no_phone(text: str) -> None:
    """``may_be_phone`` says no only where ``normalise_phone`` refuses (the reference scan skips the parse)."""
    assert not may_be_phone(text, None)
    with pytest.raises(NotAnIdentifier):
        normalise_phone(text, None)


def _written_forms(region: str) -> list[str]:
    """Each example number of ``region`` (every number type) as a person may write it: national format, national
    significant number, E.164 without its plus, with its international prefix, in groups joined by dashes."""
    forms = []
    for kind in phonenumbers.PhoneNumberType.values():
        number = phonenumbers.example_number_for_type(region, kind)
        if number is None:
            continue
        national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
        significant = phonenumbers.national_significant_number(number)
        e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)[1:]
        forms += [national, significant, e164, "00" + e164, "011" + e164,
                  "-".join(significant[i:i + 3] for i in range(0, len(significant), 3))]
    return forms


@pytest.mark.parametrize("region", sorted(phonenumbers.SUPPORTED_REGIONS))
def test_no_example_number_of_any_region_is_told_no_phone(region: str) -> None:
    """``may_be_phone`` says no only where ``normalise_phone`` refuses: every written form of every example number
    libphonenumber has, read with every region of its own country code and with FR, US and BR."""
    for text in _written_forms(region):
        for reader in {region, "FR", "US", "BR", *phonenumbers.COUNTRY_CODE_TO_REGION_CODE[
                phonenumbers.country_code_for_region(region)]}:
            try:
                normalise_phone(text, reader)
            except NotAnIdentifier:
                continue
            assert may_be_phone(text, reader), (text, reader)


def _prefixed_after_country_code(region: str) -> list[str]:
    """The country code of ``region`` written without a plus sign, then none, one or two national prefixes (the
    region's and its country code's main region's), then each example number's national significant number."""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    if metadata is None or metadata.country_code is None:
        return []
    main = phonenumbers.PhoneMetadata.metadata_for_region(phonenumbers.region_code_for_country_code(
        metadata.country_code))
    prefixes = {"", metadata.national_prefix or "", main.national_prefix or "" if main is not None else ""}
    significant = {phonenumbers.national_significant_number(number) for kind in phonenumbers.PhoneNumberType.values()
                   if (number := phonenumbers.example_number_for_type(region, kind)) is not None}
    return [f"{metadata.country_code}{first}{second}{number}"
            for first in prefixes for second in prefixes for number in significant]


@pytest.mark.parametrize("region", REGIONS)
def test_a_country_code_without_plus_then_two_national_prefixes_is_not_told_no_phone(region: str) -> None:
    """libphonenumber strips, after a country code written without a plus sign, the region's national prefix and
    then its country code's main region's (``1 1 1 201 200 0000`` is ``+12012000000`` in AG and in the US):
    ``may_be_phone`` says yes wherever ``normalise_phone`` reads such a text."""
    for text in _prefixed_after_country_code(region):
        try:
            normalise_phone(text, region)
        except NotAnIdentifier:
            continue
        assert may_be_phone(text, region), (text, region)


@settings(max_examples=600)
@example(region="AG", text="1112012000000", separator="")  # parses as +12012000000: two national prefixes stripped
@given(region=st.sampled_from(sorted(phonenumbers.SUPPORTED_REGIONS)),
       text=st.text("0123456789", min_size=1, max_size=18), separator=st.sampled_from(["", "-", ".", " "]))
def test_a_text_told_no_phone_in_a_region_does_not_parse_there(region: str, text: str, separator: str) -> None:
    written = separator.join(text[i:i + 2] for i in range(0, len(text), 2))
    if not may_be_phone(written, region):
        with pytest.raises(NotAnIdentifier):
            normalise_phone(written, region)
