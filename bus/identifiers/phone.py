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


def may_be_phone(text: str, region: str | None) -> bool:
    """False when ``normalise_phone(text, region)`` refuses for sure, told without parsing (a parse costs 10 to 70
    µs): no region, no plus sign (``+``, ``＋``: libphonenumber's ``PLUS_CHARS``) and no ``00`` prefix.
    libphonenumber reads a number without a region only from its plus sign (``parse`` raises
    ``INVALID_COUNTRY_CODE``); ``normalise_phone`` reads ``00CC`` as ``+CC``."""
    return region is not None or "+" in text or "\uff0b" in text or text.strip().startswith("00")


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
