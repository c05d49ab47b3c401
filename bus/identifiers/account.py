"""ACCOUNT: a bank account number, one value whatever its spelling.

- An IBAN (ISO 13616) in any spelling (``FR76 3000 6000 0112 3456 7890 189``, ``fr7630006000011234567890189``,
  with dashes or dots) becomes its electronic form: no separators, upper case (python-stdnum ``iban.compact``).
  A value with an IBAN's country, length and structure whose check digits (ISO 7064 mod 97-10) are wrong is
  refused (``NotAnIdentifier`` code ``iban-checksum``), as a card number failing Luhn is: it is a mistyped IBAN,
  which would otherwise become a second account. The national part's own checks (a French RIB key...) are the
  bank's, not checked here.
- Any other account number: whitespace removed, letters upper-cased. Its dashes and dots are kept: in a bank's
  own references (``ACC-100234``, ``12-345/01``) they are part of the number as issued, and only an IBAN has a
  defined electronic form to fold them into.
- With a system-of-record format (``OMNIBUS_IDENTIFIERS__ACCOUNT_NUMBER_FORMAT``, a ``NumberFormat``:
  ``bus.identifiers.number_format``, as for customer numbers), an account number that is not an IBAN and matches it
  is written as the system of record writes it: a utility's contract typed as ``900001`` or ``ca900001`` is billing's
  ``CA-900001`` under ``{"prefix": "CA-"}`` (a nameless customer with a look-alike masked account).
  One that does not match keeps the spelling above.

An IBAN is also sent as ``type: IBAN``, an input alias of ACCOUNT (``kinds.ALIASES``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import cache

from stdnum import iban, numdb
from stdnum.exceptions import ValidationError

from bus.identifiers.model import NotAnIdentifier
from bus.identifiers.number_format import NumberFormat, described, in_format

SETTING = "OMNIBUS_IDENTIFIERS__ACCOUNT_NUMBER_FORMAT"
# The code of the rejection when the format does not give its own output back (``number_format.in_format``).
UNSTABLE_FORMAT = "account-number-format"
IBAN_CHECKSUM = "iban-checksum"  # the code of the rejection of an IBAN whose check digits are wrong
SEPARATORS = re.compile(r"[\s.\-]")  # stdnum's IBAN separators (" -."), and any other whitespace
_WHITESPACE = re.compile(r"\s")
# A contract number as a channel types it, shown in the system of record's spelling by ``account_spelling``.
EXAMPLE_NUMBER = "300001"
_IBAN_SHAPE = re.compile(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$")  # ISO 13616: 15 to 34 characters
IBAN_CHARS = range(15, 35)  # ISO 13616: the lengths _IBAN_SHAPE allows
_IBAN_START = re.compile(r"(?=[A-Z]{2}\d{2})")
_NOT_IBAN_CHAR = re.compile(r"[^A-Z0-9]")
_NOT_IBAN_BYTES = bytes(byte for byte in range(128) if not (65 <= byte <= 90 or 48 <= byte <= 57))  # as ASCII bytes
_BBAN_PART = re.compile(r"([1-9][0-9]*)![nac]")  # the IBAN registry's BBAN structure, as python-stdnum's iban reads it


def is_iban(compact: str) -> bool:
    """True if ``compact`` (no separators, upper case) is a valid IBAN: country, length, structure, check digits."""
    if not _IBAN_SHAPE.match(compact):
        return False
    try:
        iban.validate(compact, check_country=False)
    except ValidationError:
        return False
    return True


@cache
def iban_length(country: str) -> int | None:
    """Characters of every IBAN of ``country`` (two upper-case letters), by the IBAN registry python-stdnum's
    ``iban.validate`` checks against: 4 (country, check digits) plus its BBAN structure's (``FR``: ``5!n5!n11!c2!n``,
    27); 0 for a country the registry does not list (no IBAN of it is valid); None when the structure is not made
    of fixed-length parts (then every length is to be tried)."""
    props = numdb.get("iban").info(country)[0][1]
    if not props:
        return 0
    structure = props.get("bban", "")
    if _BBAN_PART.sub("", structure):
        return None
    return 4 + sum(int(part) for part in _BBAN_PART.findall(structure))


def contains_iban(text: str) -> bool:
    """Whether a valid IBAN (``is_iban``) is written anywhere in ``text``, separators and case left out
    (``"ref-fr76 3000..."``). At each place two letters and two digits start, only the length the registry gives
    that country is tried (``iban_length``): ``iban.validate`` refuses any other, its BBAN structure being anchored.
    An ASCII text is compacted with ``bytes.translate``, a third of the ``re.sub``'s cost, and letters that name no
    registry country (``BILL-2024``: ``LL20``) are passed at once (#9 build 6: every web event's ``invoice_id``)."""
    upper = text.upper()
    compact = (upper.encode().translate(None, _NOT_IBAN_BYTES).decode() if upper.isascii()
               else _NOT_IBAN_CHAR.sub("", upper))
    for found in _IBAN_START.finditer(compact):
        start = found.start()
        length = iban_length(compact[start:start + 2])
        if length == 0:
            continue
        lengths: Iterable[int] = IBAN_CHARS if length is None else (length,)
        if any(start + size <= len(compact) and is_iban(compact[start:start + size]) for size in lengths):
            return True
    return False


def account_spelling(system_format: NumberFormat | None) -> str:
    """What a sender's documentation says of an ACCOUNT value (the OpenAPI documents), from the rules of
    ``normalise_account`` and the deployment's ``system_format`` (the branch adapter's document said
    that account numbers only "lose their spaces and are upper-cased" while its format made a counter's ``300001``
    billing's ``EA-00300001``)."""
    return ("ACCOUNT (or IBAN): an IBAN in any spelling (spaces, dashes, lower case) is one value, its electronic form "
            "(FR7630006000011234567890189); one whose check digits are wrong is dropped (code iban-checksum); any "
            f"other account number {described(system_format, SETTING, EXAMPLE_NUMBER)} (dashes and dots are kept).")


def normalise_account(value: str, system_format: NumberFormat | None = None) -> str:
    """The one spelling of an account number: ``"fr76 3000-6000.0112 3456 7890 189"`` →
    ``"FR7630006000011234567890189"``, ``" acc-100 234"`` → ``"ACC-100234"``; with ``system_format``
    (``OMNIBUS_IDENTIFIERS__ACCOUNT_NUMBER_FORMAT``) a number that is not an IBAN and matches it in the system of
    record's spelling (``"ca 900001"`` → ``"CA-900001"`` under ``{"prefix": "CA-"}``).

    Raises ``NotAnIdentifier`` (code ``iban-checksum``) for an IBAN with wrong check digits, (``empty``) for a
    value of separators only, and (``account-number-format``) for a format that reads its own output as another
    number."""
    compact = SEPARATORS.sub("", value).upper()
    if not compact:
        raise NotAnIdentifier("empty", "account number has no digit or letter")
    if _IBAN_SHAPE.match(compact):
        if is_iban(compact):
            return compact
        if is_iban(compact[:2] + iban.calc_check_digits(compact) + compact[4:]):
            raise NotAnIdentifier(IBAN_CHECKSUM, "IBAN fails its check digits (ISO 7064 mod 97-10)")
    if system_format is not None:
        return in_format(value, system_format, UNSTABLE_FORMAT, SETTING)
    spelled = _WHITESPACE.sub("", value).upper()
    # upper-casing can undo NFKC ("ΐ" -> "Ϊ́", two code points): normalise again so that normalising twice is a no-op
    return spelled if spelled.isascii() else unicodedata.normalize("NFKC", spelled)
