"""The test ``references.References.is_reference`` puts a reference's value to: is an identifier written in it?

An IBAN (ISO 13616 check digits) or a national ID (the deployment's ``NATIONAL_ID_SCHEMES``) in the whole value, and
in each of its runs of digit groups (``0048211-0612345678``), each group alone or joined to its neighbours: a
national ID, a payment card number of ``CARD_DIGITS`` digits that passes the Luhn check, a valid phone number in the
adapter's phone region or in its ``00CC`` form (libphonenumber). Which forms are identifiers, and why 13- and
14-digit card numbers are not among them: ``bus.references``.

A test that cannot find anything is not run, so the scan costs a few µs on the usual reference
(``BILL-2024-04-000123``) where trying every test took 100 to 500 (tests/bench/results/web_ingest.md): a national
ID scheme on a text with more or fewer digits than its numbers have (``national_id.digit_counts``); a phone parse
without a region on a run with no ``00`` prefix, or with one on a run of too few or too many digits for the region's
numbers (``phone.may_be_phone``); IBAN lengths other than the one the registry gives the country
(``account.contains_iban``); any test of a run of groups on a value with fewer than ``MIN_IDENTIFIER_DIGITS``
digits; and the enumeration of a run's groups when the run is too short for a card and a national ID and, without a
region, no ``00`` group starts 7 digits or more. tests/bus/test_identifier_scan.py compares it
with the full scan on generated values.
"""

from __future__ import annotations

import re

from bus.identifiers.account import contains_iban
from bus.identifiers.card import luhn_valid
from bus.identifiers.model import NotAnIdentifier
from bus.identifiers.national_id import digit_counts, is_national_id
from bus.identifiers.phone import may_be_phone, normalise_phone
from bus.identifiers.placeholders import ASCII_DIGITS
from bus.redact import CARD_DIGITS, MIN_IDENTIFIER_DIGITS  # CARD_DIGITS: PANs refused as references (references.py)

MAX_GROUPS = 12  # a run of more digit groups is no reference anyone types: an identifier's, for the scan
_DIGIT_RUN = re.compile(r"\d+(?:[-_/.]\d+)*")
_GROUP_SEPARATOR = re.compile(r"[-_/.]")
_ANY_DIGIT = re.compile(r"\d")


def decimal_digits(text: str) -> int:
    """How many decimal digits (``\\d``: Unicode category Nd) ``text`` holds; an ASCII text's counted on its bytes, a
    fifth of the cost of listing them (every web event's ``invoice_id``, #9 build 6)."""
    if text.isascii():
        return len(text) - len(text.encode().translate(None, ASCII_DIGITS))
    return len(_ANY_DIGIT.findall(text))


class IdentifierScan:
    """The scan for one adapter: its phone region (None: phones only in their ``+CC``/``00CC`` form) and the
    deployment's national ID schemes (python-stdnum module names)."""

    def __init__(self, region: str | None, national_id_schemes: tuple[str, ...]) -> None:
        self._region = region
        self._schemes = national_id_schemes
        self._id_digits = digit_counts(national_id_schemes)  # None: any count
        self._fewest_id_digits = min(self._id_digits, default=0) if self._id_digits is not None else 0

    def finds(self, value: str, phones: frozenset[str] | None = None) -> bool:
        """Whether an identifier is written in ``value`` (see the module docstring for which forms are), or a run
        of more than ``MAX_GROUPS`` digit groups. Every run of digit groups is tried, each group and each run of
        neighbouring groups with ``MIN_IDENTIFIER_DIGITS`` digits or more (no identifier has fewer), so no phone
        hides behind a reference glued to it. ``phones`` (E.164): a phone in the region's national format counts
        only when it is one of these (a declared reference's value, ``references.References.masked_reason``: the
        record's own phones); None: every valid one counts. A ``00CC`` phone always counts."""
        if contains_iban(value):
            return True
        digit_count = decimal_digits(value)
        if self._may_be_national_id(digit_count) and is_national_id(value, self._schemes):
            return True
        if digit_count < MIN_IDENTIFIER_DIGITS:
            return False  # no run of groups reaches the fewest digits an identifier has
        return any(self._run_holds_one(run, phones) for run in _DIGIT_RUN.findall(value))

    def _run_holds_one(self, run: str, phones: frozenset[str] | None) -> bool:
        groups = _GROUP_SEPARATOR.split(run)
        if len(groups) > MAX_GROUPS:
            return True
        digit_count = len(run) - len(groups) + 1
        if digit_count < MIN_IDENTIFIER_DIGITS or (
                digit_count < min(CARD_DIGITS.start, self._fewest_id_digits)
                and self._region is None and not self._may_start_a_00_phone(groups)):
            return False  # too short for any identifier, or for a card and a national ID with no 00CC phone start
        for first in range(len(groups)):
            for last in range(first + 1, len(groups) + 1):
                digits = "".join(groups[first:last])
                if len(digits) < MIN_IDENTIFIER_DIGITS:
                    continue
                if len(digits) in CARD_DIGITS and luhn_valid(digits) or (
                        self._may_be_national_id(len(digits)) and is_national_id(digits, self._schemes)):
                    return True
                joined = run if last - first == len(groups) else "-".join(groups[first:last])
                if may_be_phone(joined, self._region) and self._is_phone(joined, phones):
                    return True
        return False

    @staticmethod
    def _may_start_a_00_phone(groups: list[str]) -> bool:
        """Whether a group starts ``00`` with ``MIN_IDENTIFIER_DIGITS`` digits or more from it to the run's end: where
        a phone written ``00CC...`` may start (the only phone ``normalise_phone`` reads without a region here)."""
        return any(group.startswith("00") and len("".join(groups[start:])) >= MIN_IDENTIFIER_DIGITS
                   for start, group in enumerate(groups))

    def _may_be_national_id(self, digit_count: int) -> bool:
        return self._id_digits is None or digit_count in self._id_digits

    def _is_phone(self, text: str, phones: frozenset[str] | None) -> bool:
        international = text.startswith("00")
        if phones is not None and not phones and not international:
            return False  # no phone of the record to compare with: only the 00CC form counts
        try:
            number = normalise_phone(text, self._region)
        except NotAnIdentifier:
            return False
        return phones is None or international or number in phones
