"""CARD: a payment card number (PAN) is checked with the Luhn algorithm (ISO/IEC 7812-1, stdnum ``luhn``) and
never kept: the caller turns it into a token. Anything that is not a PAN (an issuer's own token such as
``tok_9f8e7d``, a ``card1:`` token) is kept as written.
"""

from __future__ import annotations

import re

from stdnum import luhn

from bus.identifiers.model import NotAnIdentifier

_SEPARATORS = re.compile(r"[\s-]")
PAN_DIGITS = range(12, 20)  # ISO/IEC 7812: 8-19 digits; below 12 no scheme issues cards


def luhn_valid(digits: str) -> bool:
    return luhn.is_valid(digits)


def card_number(value: str) -> str | None:
    """The digits of a PAN written in ``value`` (spaces and dashes allowed), or None if it is not one.

    Raises ``NotAnIdentifier`` (code ``card-luhn``) for a PAN that fails the Luhn check.
    """
    digits = _SEPARATORS.sub("", value)
    if not (digits.isascii() and digits.isdigit() and len(digits) in PAN_DIGITS):
        return None
    if not luhn_valid(digits):
        raise NotAnIdentifier("card-luhn", "card number fails the Luhn check")
    return digits
