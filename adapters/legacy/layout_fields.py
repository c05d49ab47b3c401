"""One field of a layout (``adapters.legacy.layout``): where it is in a line, its type, and a cell read as that type.

``FieldSpec`` is one entry of a layout's ``fields``; ``typed`` reads a cell's text as the field's type (``int``,
``decimal`` in the field's number format, ``date`` / ``timestamp`` by its strptime ``format`` or ISO-8601), raising
``RejectedInput`` (code ``malformed_field``) naming the field; ``check_format`` refuses at load a ``format`` strptime
cannot read.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import InvalidOperation
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

from adapters.base.errors import RejectedInput
from adapters.legacy.numbers import UNDECLARED, DecimalFormat, read_decimal
from bus.config import TimeZoneName

FieldType = Literal["string", "int", "decimal", "date", "timestamp"]
FIELD_TYPES: tuple[FieldType, ...] = get_args(FieldType)
TIME_TYPES: tuple[FieldType, ...] = ("date", "timestamp")


class FieldSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    column: str | int | None = None
    start: int | None = Field(None, ge=1)
    width: int | None = Field(None, ge=1)
    value: str | None = None
    type: FieldType = "string"
    format: str | None = Field(None, description="strptime format of a date/timestamp (default ISO-8601).")
    implied_decimals: int = Field(0, ge=0, description="Decimals implied by a decimal written without a point.")
    timezone: TimeZoneName | None = Field(
        None, description="IANA zone whose wall-clock time this date/timestamp field is written in (the layout's "
        "timezone for this field only).",
    )
    decimal_separator: str | None = Field(
        None, description="A decimal field's decimal separator (. or ,), over the layout's (adapters.legacy.numbers).")
    thousands_separator: str | None = Field(
        None, description="A decimal field's thousands separator (. , ' or a space), over the layout's.")
    status_words: dict[str, str] | None = Field(
        None, description="The card_status field of a CardStatusChanged layout, the status field of an "
        "OrderStatusChanged one: the system's own words -> a common status (ACTIVE, BLOCKED... for a card; CREATED, "
        "IN_PROGRESS, COMPLETED... for an order), before the built-in words (adapters.legacy.statuses).",
    )


def typed(raw: str | None, spec: FieldSpec, name: str, number: DecimalFormat = UNDECLARED) -> Any:
    """``raw`` (stripped; empty: None) as ``spec``'s type, decimals in ``number``; ``RejectedInput`` naming ``name``."""
    if not raw:
        return None
    try:
        if spec.type == "int":
            return int(raw)
        if spec.type == "decimal":
            amount = read_decimal(raw, name, number)
            return amount.scaleb(-spec.implied_decimals) if spec.implied_decimals else amount
        if spec.type == "date":
            return datetime.strptime(raw, spec.format).date() if spec.format else datetime.fromisoformat(raw).date()
        if spec.type == "timestamp":
            return datetime.strptime(raw, spec.format) if spec.format else datetime.fromisoformat(raw)
    except (ValueError, InvalidOperation) as exc:
        expected = f"{spec.type} {spec.format or ''}".strip()
        # processors.deadletters reads this wording: the value of a field not personal keeps its date when shown
        raise RejectedInput(f"field {name} is malformed (expected {expected}, got {raw[:30]!r})",
                            code="malformed_field") from exc
    return raw


# A date and time with every field distinct, to see a format survive a round trip through strftime and strptime.
_FORMAT_PROBE = datetime(2001, 12, 23, 14, 35, 56, 789000, tzinfo=UTC)


def check_format(name: str, fmt: str) -> None:
    """Raise ``ValueError`` when ``fmt`` is no format ``datetime.strptime`` reads (``%Q``, a lone ``%``): otherwise
    every line would be rejected as malformed instead of the layout being refused once."""
    try:
        datetime.strptime(_FORMAT_PROBE.strftime(fmt), fmt)
    except ValueError as exc:
        raise ValueError(f"field {name}: format {fmt!r} is not a strptime format ({exc})") from None
