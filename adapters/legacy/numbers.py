"""Reading a decimal amount as a legacy system writes it: ``1234.56``, ``1234,56``, ``1.234,56`` (pt-BR, de-DE),
``1,234.56`` (en-US), ``1 234,56`` (fr-FR).

A layout may declare its number format (``number_locale: pt_BR``, read with Babel's CLDR data, or
``decimal_separator`` / ``thousands_separator``, also per field): its amounts are then read by it, and any other
separator is refused. Undeclared, a number is read as before (one point or comma is the decimal separator), with two
additions that cannot be misread: both separators (``1.234,56``: the last one is the decimal separator, the others
group thousands) and one separator repeated (``1.234.567``: thousands). A number that reads two ways (``1.500``:
1.5 with a decimal point, 1500 with a thousands point, as R$ 1.500 is written in Brazil) is refused with the fix,
never guessed: it was published as 1.50.

Errors: ``RejectedInput`` (code ``malformed_field``) naming the field and the convention, as
``adapters.legacy.values`` does (``read_decimal``); ``ValueError`` for a declaration that cannot be a number format
(layout load).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from adapters.base.errors import RejectedInput

DECIMAL_SEPARATORS = (".", ",")
SPACES = (" ", "\u00a0", "\u202f")  # a thousands space as exports write it: plain, no-break, narrow no-break
SEPARATOR_NAMES = {".": "point", ",": "comma", "'": "apostrophe", "\u2019": "apostrophe", "_": "underscore",
                   **dict.fromkeys(SPACES, "space")}
_GROUPED = re.compile(r"[1-9]\d{0,2}")  # the digits before a number's first thousands separator
_AMBIGUOUS = re.compile(r"[1-9]\d{0,2}[.,]\d{3}")  # one separator before three digits: a decimal or thousands


@dataclass(frozen=True)
class DecimalFormat:
    """How a field's numbers are written: ``decimal`` (``.`` or ``,``) and ``thousands`` (one character, None: no
    grouping) separators. ``decimal`` None: not declared (``read_decimal``'s undeclared rule)."""

    decimal: str | None = None
    thousands: str | None = None

    def describe(self) -> str:
        """``decimal comma, thousands point`` (no quote or comma: a dead letter's reason keeps its shape)."""
        if self.decimal is None:
            return "decimal"
        grouping = f" thousands {SEPARATOR_NAMES[self.thousands]}" if self.thousands else " no thousands separator"
        return f"decimal with decimal {SEPARATOR_NAMES[self.decimal]} and{grouping}"


UNDECLARED = DecimalFormat()


def declared_format(decimal: str | None, thousands: str | None, locale: str | None = None) -> DecimalFormat:
    """The format of explicit separators, else of a Babel ``locale`` (``pt_BR``: decimal comma, thousands point);
    a thousands separator alone implies the other decimal separator. Raises ``ValueError`` for an unknown locale,
    a decimal separator other than ``.`` and ``,``, a thousands separator that is no known one or equals it."""
    if decimal is None and thousands is None and locale is not None:
        decimal, thousands = locale_separators(locale)
    if decimal is None and thousands is None:
        return UNDECLARED
    if decimal is None:
        decimal = "," if thousands == "." else "."
    if decimal not in DECIMAL_SEPARATORS:
        raise ValueError(f"decimal_separator {decimal!r}: one of {' '.join(DECIMAL_SEPARATORS)}")
    if thousands is not None and (thousands not in SEPARATOR_NAMES or thousands == decimal):
        raise ValueError(f"thousands_separator {thousands!r}: one of {' '.join(map(repr, SEPARATOR_NAMES))}, other "
                         "than the decimal separator")
    return DecimalFormat(decimal, thousands)


@lru_cache(maxsize=64)
def locale_separators(locale: str) -> tuple[str, str]:
    """The decimal and thousands separators of a CLDR ``locale`` (``pt_BR`` -> ``,`` ``.``), read with Babel.
    Raises ``ValueError`` naming an unknown locale."""
    from babel import Locale, UnknownLocaleError
    from babel.numbers import get_decimal_symbol, get_group_symbol

    try:
        parsed = Locale.parse(locale.replace("-", "_"))
    except (UnknownLocaleError, ValueError) as exc:
        raise ValueError(f"number_locale {locale!r} is no known locale (e.g. pt_BR, de_DE, en_US): {exc}") from None
    return get_decimal_symbol(parsed), get_group_symbol(parsed)


def read_decimal(raw: str, name: str, fmt: DecimalFormat = UNDECLARED, *, minor_digits: int | None = None) -> Decimal:
    """The number ``raw`` (stripped text) writes in ``fmt``; undeclared, by the module's rule. Raises
    ``RejectedInput`` (``malformed_field``) for text that is no number in a declared ``fmt`` and for an undeclared
    ``1.500``, which reads two ways; ``decimal.InvalidOperation`` for undeclared text that is no number (the caller
    words it: ``expected decimal``, ``expected an amount``). ``minor_digits``: the amount's currency's, when known
    (``values.MINOR_DIGITS``): with 3 (BHD, KWD), ``1.500`` is the currency's own writing of 1.5, read so."""
    sign, body = (raw[0], raw[1:]) if raw[:1] in ("-", "+") else ("", raw)
    if fmt.decimal is None:
        return _undeclared(sign, body, raw, name, minor_digits == 3)
    thousands = SPACES if fmt.thousands in SPACES else (fmt.thousands,) if fmt.thousands else ()
    whole, _, fraction = body.partition(fmt.decimal)
    groups = re.split("|".join(map(re.escape, thousands)), whole) if thousands else [whole]
    if not (whole or fraction) or not all(part.isdigit() for part in (*groups, fraction) if part) \
            or not _grouped(groups):
        raise _malformed(name, fmt, raw)
    return Decimal(f"{sign}{''.join(groups) or '0'}" + (f".{fraction}" if fraction else ""))


def _undeclared(sign: str, body: str, raw: str, name: str, thousandths: bool) -> Decimal:
    """``body`` read without a declared format (``read_decimal``); ``thousandths``: the currency has 3 decimals."""
    if set(body) - set("0123456789.,") or not body:
        return Decimal(raw.replace(",", "."))  # another shape (an exponent): read as before this module
    if _AMBIGUOUS.fullmatch(body) and not thousandths:
        value, separator = body.replace(",", "."), SEPARATOR_NAMES[body[-4]]
        raise RejectedInput(
            f"field {name} is ambiguous ({raw[:30]!r} reads {Decimal(sign + value).normalize()} with a decimal "
            f"{separator} and {sign}{value.replace('.', '')} with a thousands {separator}): declare the layout's "
            "number_locale (e.g. pt_BR) or decimal_separator and thousands_separator (docs/legacy-batch.md, Numbers)",
            code="malformed_field")
    last = max(body.rfind("."), body.rfind(","))
    used = {c for c in body if c in DECIMAL_SEPARATORS}
    if len(used) == 2:  # 1.234,56: the last separator is the decimal one
        fmt = DecimalFormat(body[last], next(iter(used - {body[last]})))
    elif used and body.count(body[last]) > 1:  # 1.234.567: thousands only
        fmt = DecimalFormat("," if body[last] == "." else ".", body[last])
    else:
        fmt = DecimalFormat(body[last] if used else ".")
    try:
        return read_decimal(raw, name, fmt)
    except RejectedInput:  # the caller words it, as it did when Decimal() refused the text
        raise InvalidOperation(raw) from None


def _grouped(groups: list[str]) -> bool:
    """Whether thousands groups are whole: 1 to 3 digits first (no leading zero), then 3 digits each."""
    return len(groups) == 1 or (bool(_GROUPED.fullmatch(groups[0])) and all(len(g) == 3 for g in groups[1:]))


def _malformed(name: str, fmt: DecimalFormat, raw: str) -> RejectedInput:
    # processors.deadletters reads this wording (``bus.dead_letter._MALFORMED_FIELD``): no quote or comma before got
    return RejectedInput(f"field {name} is malformed (expected {fmt.describe()}, got {raw[:30]!r})",
                         code="malformed_field")
