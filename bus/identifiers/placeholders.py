"""Values that are not anybody's identifier although they parse: ``unknown``, ``N/A``, ``0000000``, ``123456789``.

Checked on the normalised value (so ``123 456 789`` and ``123456789`` are one decision) by every adapter, which
reports the value (masked) in ``rejected_identifiers`` and its answer's ``dropped_identifiers``, and again by
identity before linking, both with rule ``blocked-value`` (``IdentifierNormaliser(block_placeholders=True)``).
A filler that its type's parser refuses (phone ``000000000``, e-mail ``unknown``) is checked as written and gets
the same code ``placeholder``, not the parser's.

A run of digits is a placeholder only when it is the whole number: a phone's national significant number
(``+33 1 23 45 67 89``, ``+1 555 555 5555``; ITU-T E.164, as python-phonenumbers splits it), every digit of any
other value (``123456789``, ``000 000 000``). A real number that merely ends in a run (the contract account
``4000 1234 5678``, New York's ``+1 212 345 6789``) is somebody's.

A count after a letter prefix whose digits are zero-padded is a number a system of record's sequence issued
(``B012345``, ``D-0123456``), not a filler: kept (a billing system's ``B012345`` was dropped and its
customer never found by number). It is the rule of a configured number format (``IdentifierNormaliser.
_placeholder_in_format``: a number the format's width pads is never a count), read from the value itself: the
leading zero is the padding. A count that fills its digits after the prefix (``C123456``, ``EA-123456``) and a digit
repeated after it (``A000000``, the number zero; ``X111111``) stay placeholders, as they are under a format.
"""

from __future__ import annotations

import re

import phonenumbers

from bus.identifiers import kinds

PLACEHOLDERS = frozenset({
    "unknown", "null", "none", "nil", "n/a", "na", "undefined", "test", "-", "0", "anonymous", "guest",
    "default", "xxx", "empty", "notset", "not set", "no", "void",
})
PLACEHOLDER_CODE = "placeholder"  # the reason code of a refused placeholder or test value, whichever check saw it
_NOT_DIGITS = re.compile(r"\D")
_SEPARATORS = re.compile(r"[\W_]")
# whole value: letters, maybe separators, then zero-padded digits only (``B012345``)
_PADDED_AFTER_LETTERS = re.compile(r"[^\W\d_]+[\W_]*0\d+")
MIN_REPEATED = 5  # characters: "00000000-0000-0000-0000-000000000000" (a zeroed advertising id), "xxxxx"
MIN_DIGITS = 5  # a shorter run ("1234") is too common in real short ids to call a filler
COUNTING_UP, COUNTING_DOWN = "01234567890123456789", "98765432109876543210"
# The ASCII bytes ``_SEPARATORS`` matches (all but letters and digits: ``\w`` is ``str.isalnum`` or ``_``) and
# ``ASCII_DIGITS``: an ASCII value's rules run on its bytes with ``bytes.translate``, about a third of the
# cost of the two ``re.sub`` (an SDK's new ``anonymousId`` per web event, #9 build 6).
_ASCII_SEPARATORS = bytes(byte for byte in range(128) if not chr(byte).isalnum())
ASCII_DIGITS = b"0123456789"  # the digits of an ASCII text (``\d``), as bytes for ``bytes.translate``


def significant_digits(kind: str, value: str) -> str:
    """The digits a placeholder rule looks at: a phone's national significant number (without its country code),
    else every digit of ``value``."""
    if kind == kinds.PHONE and value.startswith("+"):
        try:
            return str(phonenumbers.parse(value, None).national_number)
        except phonenumbers.NumberParseException:
            pass
    return _NOT_DIGITS.sub("", value)


def looks_like_placeholder(value: str, kind: str) -> bool:
    """True for a known filler word, a value of one character repeated between separators (the all-zero UUID that
    iOS gives as the advertising id when the user limits tracking, ``Apple ASIdentifierManager``), or a mostly-digit
    value whose significant digits (``significant_digits(kind, value)``) are all one digit or a count up or down."""
    if value.casefold() in PLACEHOLDERS:
        return True
    if value.isascii():  # the rules below on bytes: casefold is lower, no character outside _ASCII_* is a digit
        encoded = value.encode()
        characters_ascii = encoded.translate(None, _ASCII_SEPARATORS).lower()
        if len(characters_ascii) >= MIN_REPEATED and characters_ascii == characters_ascii[:1] * len(characters_ascii):
            return True
        if len(encoded.translate(None, ASCII_DIGITS)) > 3:  # not mostly digits
            return False
        return _digits_are_a_filler(kind, value)
    characters = _SEPARATORS.sub("", value)
    if len(characters) >= MIN_REPEATED and len(set(characters.casefold())) == 1:
        return True
    if len(_NOT_DIGITS.sub("", value)) < len(value) - 3:  # not mostly digits
        return False
    return _digits_are_a_filler(kind, value)


def _digits_are_a_filler(kind: str, value: str) -> bool:
    """Whether the significant digits of a mostly-digit ``value`` are one digit repeated, or a count up or down that
    is not a zero-padded number after a letter prefix (the module)."""
    digits = significant_digits(kind, value)
    if len(digits) < MIN_DIGITS:
        return False
    if len(set(digits)) == 1:
        return True
    return (digits in COUNTING_UP or digits in COUNTING_DOWN) and not _PADDED_AFTER_LETTERS.fullmatch(value)
