"""Reading typed values out of what legacy systems write (JSON, database rows, fixed-width text).

Each reader raises ``RejectedInput`` naming the field, so the sender (or the dead letter) says exactly
what is wrong.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from adapters.base import clock
from adapters.base.errors import RejectedInput
from adapters.legacy.numbers import read_decimal
from schemas.enums import IDENTIFIER_TYPES

NO_REGION_CURRENCY = "EUR"  # the currency of amounts that name none in a deployment without a default region
# ISO 4217 currencies whose minor unit is not the cent (everything else has 2 decimals).
MINOR_DIGITS = {
    **dict.fromkeys(["BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "VND", "VUV",
                     "XAF", "XOF", "XPF"], 0),
    **dict.fromkeys(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"], 3),
}


def _missing(name: str) -> RejectedInput:
    return RejectedInput(f"required field {name} is missing", code="missing_field")


def _malformed(name: str, detail: str) -> RejectedInput:
    return RejectedInput(f"field {name} is malformed ({detail})", code="malformed_field")


def text(value: Any, name: str, *, required: bool = True) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise _missing(name)
        return None
    if isinstance(value, dict | list):
        raise _malformed(name, "expected text")
    return str(value).strip()


def day(value: Any, name: str, *, required: bool = True) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    raw = text(value, name, required=required)
    if raw is None:
        return None
    try:
        return date.fromisoformat(raw[:10])
    except ValueError as exc:
        raise _malformed(name, f"expected a date YYYY-MM-DD, got {raw[:20]!r}") from exc


def moment(value: Any, name: str, *, required: bool = True) -> datetime | None:
    """A time (naive means UTC) inside ``clock.EARLIEST..LATEST``."""
    if isinstance(value, datetime):
        return clock.in_range(value, name, "record")
    raw = text(value, name, required=required)
    if raw is None:
        return None
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise _malformed(name, f"expected an ISO-8601 time, got {raw[:30]!r}") from exc
    return clock.in_range(parsed, name, "record")


def whole(value: Any, name: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise _malformed(name, f"expected a whole number, got {str(value)[:20]!r}") from exc
    if number != number.to_integral_value():
        raise _malformed(name, f"expected a whole number, got {value}")
    return int(number)


def money(value: Any, minor: Any, name: str, currency: str) -> dict[str, Any]:
    """``{amount_minor, currency}`` from a decimal in major units, an object, or a count of minor units."""
    if isinstance(value, dict):
        amount, currency = value.get("amount_minor"), str(value.get("currency") or currency)
        if not isinstance(amount, int) or isinstance(amount, bool):
            raise _malformed(name, "amount_minor must be a whole number")
        return {"amount_minor": amount, "currency": _currency(currency, name)}
    currency = _currency(currency, name)
    if value is None or value == "":
        if minor is None or minor == "":
            raise _missing(name)
        count = whole(minor, f"{name}_minor")
        return {"amount_minor": count, "currency": currency}
    digits = MINOR_DIGITS.get(currency, 2)
    try:  # text as a system writes it (1.234,56; 1.500 reads two ways: refused), a number as it is
        amount = (read_decimal(value.strip(), name, minor_digits=digits) if isinstance(value, str)
                  else Decimal(str(value)))
    except InvalidOperation as exc:
        raise _malformed(name, f"expected an amount, got {str(value)[:20]!r}") from exc
    scaled = amount.scaleb(digits)
    if scaled != scaled.to_integral_value():
        raise _malformed(name, f"{amount} has more decimals than {currency} allows ({digits})")
    return {"amount_minor": int(scaled), "currency": currency}


def _currency(code: str, name: str) -> str:
    code = code.strip().upper()
    if len(code) != 3 or not code.isalpha():
        raise _malformed(f"{name} currency", f"expected an ISO 4217 code, got {code[:10]!r}")
    return code


def identifier(item: Any) -> dict[str, str] | None:
    if not isinstance(item, dict) or str(item.get("type", "")).upper() not in IDENTIFIER_TYPES:
        raise _malformed("customer_identifiers", f"expected {{type, value}} with a known type, got {str(item)[:60]}")
    if not text(item.get("value"), "customer_identifiers.value", required=False):
        return None
    return {"type": str(item["type"]).upper(), "value": str(item["value"]).strip()}
