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
class _NationalPrefix:
    """A region's ``national_prefix_for_parsing`` and ``national_prefix_transform_rule`` (libphonenumber's
    ``_maybe_strip_national_prefix_carrier_code``: the prefix is stripped, or the match rewritten by the rule)."""

    pattern: re.Pattern[str]
    rule: str  # "" when the region has no transform rule

    def readings(self, digits: str) -> tuple[str, ...]:
        """What parsing may leave of ``digits``: themselves (libphonenumber keeps them when stripping would leave a
        number its patterns do not describe) and, when the prefix matches, the stripped or rewritten digits."""
        match = self.pattern.match(digits)
        if match is None:
            return (digits,)
        if self.rule and match.groups() and match.groups()[-1] is not None:
            return digits, self.pattern.sub(self.rule, digits, count=1)
        return digits, digits[match.end():]

    def fewest_left(self, digits: str) -> int:
        """The fewest digits ``readings`` leaves: no more than what the match leaves (a rule adds to it)."""
        match = self.pattern.match(digits)
        return len(digits) - match.end() if match is not None else len(digits)


def _national_prefix(metadata: phonenumbers.PhoneMetadata | None) -> _NationalPrefix | None:
    if metadata is None or not metadata.national_prefix_for_parsing:
        return None
    rule = metadata.national_prefix_transform_rule or ""
    return _NationalPrefix(re.compile(metadata.national_prefix_for_parsing), rule)


def _shortest_after_both(digits: str, first: _NationalPrefix | None, second: _NationalPrefix | None) -> int:
    """The fewest digits left of ``digits`` once parsing has applied ``first`` and then ``second``."""
    readings = first.readings(digits) if first is not None else (digits,)
    if second is None:
        return min(map(len, readings))
    return min(second.fewest_left(reading) for reading in readings)


@dataclass(frozen=True, slots=True)
class _NationalForm:
    """What libphonenumber makes of a number written for ``region`` without an international prefix (its
    ``metadata`` for the region and the regions sharing its country code)."""

    idd: re.Pattern[str]  # the region's international prefix: a number starting with it may be of any country
    country_code: str
    national_prefix: _NationalPrefix | None  # the region's, stripped when it matches
    # The country code's main region's (``region_code_for_country_code``): after a country code written without
    # a plus sign, ``parse`` strips the region's national prefix, then this one again (``1 1 268 ...`` in AG).
    main_national_prefix: _NationalPrefix | None
    fewest: int  # the fewest digits a national number written so may have (possible lengths, less transforms')
    most: int  # the most digits of a national significant number of the country code's regions

    def may_hold(self, digits: str) -> bool:
        """Whether ``digits``, read as a national number, may become a valid number's national significant number:
        no fewer than ``fewest``, and no more than ``most`` once the national prefix is stripped."""
        prefix = self.national_prefix
        return self.fewest <= len(digits) and (
            prefix.fewest_left(digits) if prefix is not None else len(digits)) <= self.most

    def may_hold_after_country_code(self, digits: str) -> bool:
        """``may_hold`` for the digits after the country code: the region's national prefix, then the main
        region's, may both be stripped."""
        return self.fewest <= len(digits) and _shortest_after_both(
            digits, self.national_prefix, self.main_national_prefix) <= self.most


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
    main = phonenumbers.PhoneMetadata.metadata_for_region_or_calling_code(
        metadata.country_code, phonenumbers.region_code_for_country_code(metadata.country_code))
    prefix, main_prefix = _national_prefix(metadata), _national_prefix(main)
    added = sum(len(rule.rule) for rule in (prefix, main_prefix) if rule is not None)
    return _NationalForm(re.compile(metadata.international_prefix), str(metadata.country_code), prefix, main_prefix,
                         min(lengths) - added, max(lengths))


def may_be_phone(text: str, region: str | None) -> bool:
    """False when ``normalise_phone(text, region)`` refuses for sure, told without parsing (a parse costs 10 to 70
    µs). Without a region: no plus sign and no ``00`` prefix (libphonenumber reads a number without a region only
    from its plus sign, ``parse`` raising ``INVALID_COUNTRY_CODE``; ``normalise_phone`` reads ``00CC`` as ``+CC``).
    With one, for a text of digits and punctuation that starts with neither ``00`` nor the region's international
    prefix: its digits, or those after the region's country code, are too few or too many for a national number of
    the country (libphonenumber's metadata: a valid number's national significant number has one of its regions'
    possible lengths; parsing strips at most what the national prefix pattern matches, and after a country code
    written without a plus sign what the country code's main region's matches too; a transform rule adds at most its
    own length). Checked for every region by tests/bus/identifiers/test_phone.py."""
    if region is None:
        return any(sign in text for sign in _PLUS_SIGNS) or text.strip().startswith("00")
    form = _national_form(region)
    if form is None or not _DIGITS_AND_PUNCTUATION.fullmatch(text):
        return True
    digits = _NOT_DIGIT.sub("", text)
    if digits.startswith("00") or form.idd.match(digits):
        return True
    return form.may_hold(digits) or (digits.startswith(form.country_code)
                                     and form.may_hold_after_country_code(digits[len(form.country_code):]))


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


# libphonenumber's number types an SMS reaches: a mobile, and a number that may be one (``FIXED_LINE_OR_MOBILE``: the
# North American plan numbers landlines and mobiles alike, and the SMS gateway finds out). A landline, VoIP, toll-free,
# premium-rate, shared-cost or pager number, or one whose type is unknown, does not.
SMS_CAPABLE_TYPES = frozenset({phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE})


@lru_cache(maxsize=4096)
def number_type(e164: str) -> int | None:
    """libphonenumber's ``PhoneNumberType`` of the E.164 number ``e164`` (``normalise_phone``'s form); None for one
    that does not parse."""
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return None
    return phonenumbers.number_type(parsed)


def is_fixed_line(e164: str) -> bool:
    """Whether the E.164 number ``e164`` (``normalise_phone``'s form) is a fixed line by libphonenumber's number type
    (``FIXED_LINE``: a home's or an office's landline, several people's); a mobile, a number that may be either
    (``FIXED_LINE_OR_MOBILE``: the North American plan), VoIP or one that does not parse is not."""
    return number_type(e164) == phonenumbers.PhoneNumberType.FIXED_LINE


def takes_sms(e164: str) -> bool:
    """Whether an SMS can be sent to the E.164 number ``e164``: its libphonenumber number type is in
    ``SMS_CAPABLE_TYPES`` (a mobile, or a North American number that may be one); a landline, or a number that does
    not parse, cannot."""
    return number_type(e164) in SMS_CAPABLE_TYPES
