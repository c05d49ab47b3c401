"""PHONE: any written form of a number → E.164 (``+33612345678``), with Google's libphonenumber rules.

Parsing order (source: ITU-T E.164 and E.123; libphonenumber's ``parse``):

1. ``+CC...`` is international whatever the region;
2. a national form (``06 12 34 56 78``) is read with the region of the site, source or adapter
   (``phone_region``), else the deployment's ``OMNIBUS_IDENTIFIERS__DEFAULT_REGION``;
3. ``00CC...`` — the international call prefix of most of the world (ITU-T E.164 Annex) — is read as
   ``+CC...`` when the region does not make it national (no region given, or a region whose own
   international prefix differs and under which the number is not valid).

A number that still does not parse, or is not a valid number for its country, raises ``NotAnIdentifier``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers

from bus.identifiers.model import NotAnIdentifier

MAX_DIGITS = 17  # E.164 allows 15; a little slack for extensions typed in, which libphonenumber drops


def _parse(text: str, region: str | None) -> phonenumbers.PhoneNumber | None:
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    return parsed if phonenumbers.is_valid_number(parsed) else None


_PLUS_SIGNS = "+\uff0b"  # libphonenumber's PLUS_CHARS
# Digits and the punctuation libphonenumber skips in a number: the texts whose digits alone decide a parse.
_DIGITS_AND_PUNCTUATION = re.compile(r"[0-9 ().\-/]*")
_NOT_DIGIT = re.compile(r"[^0-9]")


@dataclass(frozen=True, slots=True)
class _NationalForm:
    """What libphonenumber makes of a number written for ``region`` without an international prefix (its
    ``metadata`` for the region and the regions sharing its country code)."""

    idd: re.Pattern[str]  # the region's international prefix: a number starting with it may be of any country
    country_code: str
    national_prefix: re.Pattern[str] | None  # national_prefix_for_parsing, stripped when it matches
    fewest: int  # the fewest digits a national number written so may have (possible lengths, less a transform's)
    most: int  # the most digits of a national significant number of the country code's regions

    def may_hold(self, digits: str) -> bool:
        """Whether ``digits``, read as a national number, may become a valid number's national significant number:
        no fewer than ``fewest``, and no more than ``most`` once what the national prefix matches is stripped."""
        stripped = self.national_prefix.match(digits) if self.national_prefix else None
        return self.fewest <= len(digits) and len(digits) - (stripped.end() if stripped else 0) <= self.most


@lru_cache(maxsize=256)
def _national_form(region: str) -> _NationalForm | None:
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    if metadata is None or not metadata.international_prefix or metadata.country_code is None:
        return None
    lengths: set[int] = set()
    for sharing in phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(metadata.country_code, ()):
        other = phonenumbers.PhoneMetadata.metadata_for_region(sharing)
        described = other.general_desc if other is not None else None
        if described is None or not described.possible_length:
            return None  # a region without possible lengths: its numbers are not bounded here
        lengths.update(described.possible_length)
    if not lengths:
        return None
    rule = metadata.national_prefix_transform_rule or ""
    prefix = metadata.national_prefix_for_parsing
    return _NationalForm(re.compile(metadata.international_prefix), str(metadata.country_code),
                         re.compile(prefix) if prefix else None, min(lengths) - len(rule), max(lengths))


def may_be_phone(text: str, region: str | None) -> bool:
    """False when ``normalise_phone(text, region)`` refuses for sure, told without parsing (a parse costs 10 to 70
    µs). Without a region: no plus sign and no ``00`` prefix (libphonenumber reads a number without a region only
    from its plus sign, ``parse`` raising ``INVALID_COUNTRY_CODE``; ``normalise_phone`` reads ``00CC`` as ``+CC``).
    With one, for a text of digits and punctuation that starts with neither ``00`` nor the region's international
    prefix: its digits, or those after the region's country code, are too few or too many for a national number of
    the country (libphonenumber's metadata: a valid number's national significant number has one of its regions'
    possible lengths; parsing strips at most what the national prefix pattern matches, and a transform rule adds at
    most its own length). Checked for every region by tests/bus/identifiers/test_phone.py."""
    if region is None:
        return any(sign in text for sign in _PLUS_SIGNS) or text.strip().startswith("00")
    form = _national_form(region)
    if form is None or not _DIGITS_AND_PUNCTUATION.fullmatch(text):
        return True
    digits = _NOT_DIGIT.sub("", text)
    if digits.startswith("00") or form.idd.match(digits):
        return True
    return form.may_hold(digits) or (digits.startswith(form.country_code)
                                     and form.may_hold(digits[len(form.country_code):]))


def normalise_phone(value: str, region: str | None) -> str:
    """E.164 form of ``value``; ``NotAnIdentifier`` (codes ``phone-no-digits``, ``phone-invalid``) if none."""
    digits = sum(ch.isdigit() for ch in value)
    if not digits:
        raise NotAnIdentifier("phone-no-digits", "phone number has no digits")
    if digits > MAX_DIGITS + 4:
        raise NotAnIdentifier("phone-invalid", "phone number has too many digits for E.164")
    text = value.strip()
    parsed = _parse(text, region)
    if parsed is None and text.startswith("00"):
        parsed = _parse("+" + text[2:], None)
    if parsed is None:
        where = f"region {region}" if region else "no default region (write +country or 00country)"
        raise NotAnIdentifier("phone-invalid", f"not a valid phone number ({where})")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


@lru_cache(maxsize=4096)
def is_fixed_line(e164: str) -> bool:
    """Whether the E.164 number ``e164`` (``normalise_phone``'s form) is a fixed line by libphonenumber's number type
    (``FIXED_LINE``: a home's or an office's landline, several people's); a mobile, a number that may be either
    (``FIXED_LINE_OR_MOBILE``: the North American plan), VoIP or one that does not parse is not."""
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.number_type(parsed) == phonenumbers.PhoneNumberType.FIXED_LINE
