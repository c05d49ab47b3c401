"""SUPPLY_POINT: the number of the place a service is delivered to, which outlives whoever holds the contract.

One concept for a utility's metering point and a telecom's line or installation number: the number is the
place's, printed on the meter, the bill and the socket, and billing gives it to each tenant in turn (identity's
recycled-number rule, ``processors/identity/graph/recycle.py``, moves it to the new tenant once the old contract
closed). Spellings, one key each:

- France: the 14-digit PRM / PDL of an electricity delivery point (Enedis) and PCE of a gas one (GRDF) have no
  published check digit: 14 digits are taken as written (``145 000 000 000 03`` → ``14500000000003``);
- an 18-digit EAN of a metering point (GS1 GSRN: Belgium's ``5414...``, the Netherlands' ``871...``, Germany's
  and Austria's market locations), checked by the GS1 modulo-10 check digit (python-stdnum ``ean``);
- an EIC (ENTSO-E Energy Identification Code, 16 characters, a check character: python-stdnum ``eu.eic``);
- a Spanish CUPS (``ES`` + 16 digits + 2 check letters [+ 2]: python-stdnum ``es.cups``);
- an Italian POD of an electricity point (``IT`` + the distributor's 3 digits + ``E`` + 8 or 9 digits, ARERA's
  shape; no published check digit, so the shape alone is checked: a value that starts ``IT`` and a digit is a POD);
  the 14-digit PDR of a gas point is taken as written, like a PRM;
- any other number (a UK MPAN's 13 digits, a telecom's installation number): 6 to 34 letters, digits and ``-``.

Spaces always go; ``.``, ``/``, ``_`` and ``-`` go from a value that is digits otherwise (``-`` is a character of an
EIC). Upper case. Raises ``NotAnIdentifier`` (codes ``supply-point-format``, ``supply-point-checksum``) naming the
scheme, never the value.
"""

from __future__ import annotations

import re

from stdnum import ean
from stdnum.es import cups
from stdnum.eu import eic

from bus.identifiers.model import NotAnIdentifier

MIN_CHARS, MAX_CHARS = 6, 34  # a short meter serial is no place's number; IBAN-like 34 as the longest
GSRN_DIGITS = 18  # GS1 Global Service Relation Number: the EAN of a metering point
EIC_CHARS = 16
_SEPARATORS = re.compile(r"[\s./_-]+")
_SPACES = re.compile(r"\s+")
_GENERIC = re.compile(r"^[A-Z0-9][A-Z0-9-]*[A-Z0-9]$")
_EIC_SHAPE = re.compile(r"^[0-9]{2}[A-Z][A-Z0-9-]{12}[A-Z0-9]$")
_CUPS_SHAPE = re.compile(r"^ES[0-9]{16}[A-Z]{2}([0-9][A-Z])?$")
_POD_START = re.compile(r"^IT[0-9]")
_POD_SHAPE = re.compile(r"^IT[0-9]{3}E[0-9]{8,9}$")


def normalise_supply_point(value: str) -> str:
    """The one spelling of a supply point number (see the module); raises ``NotAnIdentifier``."""
    upper = _SPACES.sub("", value).upper()
    digits = _SEPARATORS.sub("", upper)
    if digits.isdigit():
        if len(digits) == GSRN_DIGITS:
            _check(ean.calc_check_digit(digits[:-1]) == digits[-1], "an 18-digit EAN (GSRN)")
        upper = digits
    elif _CUPS_SHAPE.match(digits):
        _check(cups.is_valid(digits), "a CUPS")
        upper = digits
    elif _EIC_SHAPE.match(upper):
        _check(eic.is_valid(upper), "an EIC")
    elif _POD_START.match(digits):
        if not _POD_SHAPE.match(digits):
            raise NotAnIdentifier("supply-point-format", "an Italian POD is IT, the distributor's 3 digits, E and 8 "
                                  "or 9 digits")
        upper = digits
    if not MIN_CHARS <= len(upper) <= MAX_CHARS or not _GENERIC.match(upper):
        raise NotAnIdentifier("supply-point-format", f"a supply point number has {MIN_CHARS} to {MAX_CHARS} letters, "
                              "digits and '-' (a PRM/PDL/PCE, an EAN/GSRN, an EIC, a CUPS, a POD/PDR, a line number)")
    return upper


def _check(valid: bool, scheme: str) -> None:
    if not valid:
        raise NotAnIdentifier("supply-point-checksum", f"supply point number: not {scheme}, its check digit is wrong")
