"""``gb.nino``: the UK National Insurance number as a national ID scheme, with python-stdnum's module interface
(``compact``, ``validate``, ``is_valid``, ``format``) and exceptions, since python-stdnum has no module for it.

The format is HMRC's (``bus.nino_format``, NIM39110). There is no check character, so a mistyped digit is not
caught; a wrong letter or an unallocated prefix is. Temporary reference numbers (``TN`` + birth date) are refused:
they are not unique to a person.

>>> validate("qq 12 34 56 c")
Traceback (most recent call last):
    ...
stdnum.exceptions.InvalidComponent: The number's prefix letters are never issued.
>>> validate("ab 12 34 56 c")
'AB123456C'
>>> format("AB123456C")
'AB 12 34 56 C'
"""

from __future__ import annotations

from stdnum.exceptions import InvalidComponent, InvalidFormat, InvalidLength
from stdnum.util import clean

from bus.nino_format import (
    DIGITS,
    FIRST_PREFIX_LETTERS,
    SECOND_PREFIX_LETTERS,
    SUFFIX_LETTERS,
    UNALLOCATED_PREFIXES,
)

LENGTH = 2 + DIGITS + 1


def compact(number: str) -> str:
    """The number without spaces or dashes, in capitals: ``ab 12 34 56 c`` -> ``AB123456C``."""
    return clean(number, " -").strip().upper()


def validate(number: str) -> str:
    """The compact number; raises stdnum's ``InvalidLength`` (not 9 characters), ``InvalidFormat`` (not two letters,
    six digits and a letter) or ``InvalidComponent`` (a prefix or suffix letter HMRC never issues)."""
    number = compact(number)
    if len(number) != LENGTH:
        raise InvalidLength()
    prefix, digits, suffix = number[:2], number[2:2 + DIGITS], number[-1]
    if not (prefix.isascii() and prefix.isalpha() and digits.isascii() and digits.isdigit() and suffix.isalpha()):
        raise InvalidFormat()
    if (prefix[0] not in FIRST_PREFIX_LETTERS or prefix[1] not in SECOND_PREFIX_LETTERS
            or prefix in UNALLOCATED_PREFIXES):
        raise InvalidComponent("The number's prefix letters are never issued.")
    if suffix not in SUFFIX_LETTERS:
        raise InvalidComponent("The number's suffix letter is not A, B, C or D.")
    return number


def is_valid(number: str) -> bool:
    """Whether ``validate`` accepts ``number``."""
    try:
        return bool(validate(number))
    except (InvalidLength, InvalidFormat, InvalidComponent):
        return False


def format(number: str) -> str:  # noqa: A001 - python-stdnum's name for it
    """The printed form, in pairs: ``AB 12 34 56 C``."""
    number = compact(number)
    return " ".join((number[:2], number[2:4], number[4:6], number[6:8], number[8:]))
