"""What each legacy event's builder reads from a record (field names, the reader of each, the required ones),
found by running the builder on a probe that answers every read: so a field is declared once, where the builder
reads it, and a batch layout (``adapters.legacy.layout``) is checked against it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from typing import Any

from adapters.base.errors import RejectedInput
from adapters.legacy.handoffs import HANDOFF_BUILDERS
from adapters.legacy.mapper import (
    BUILDERS,
    IDENTIFIER_FIELDS,
    BusinessRecord,
    Fields,
    LegacyContext,
    canonical_event_type,
)


@dataclass(frozen=True)
class EventReads:
    """How an event's builder reads a record: ``kinds`` maps each field it reads to its reader in
    ``adapters.legacy.values`` (``text``, ``day``, ``moment``, ``money``, ``whole``); ``required`` lists the groups of
    fields of which one must be given (``("bill_id",)``, ``("amount", "amount_minor")``); ``references``: whether it
    carries the record's declared business references (``Fields.declared_references``: a ``HandoffCreated``'s intake
    facts), so a layout may map columns to them."""

    kinds: Mapping[str, str]
    required: tuple[tuple[str, ...], ...]
    references: bool = False  # whether it carries the declared business references among its fields (intake facts)


class _Reads(Fields):
    """``Fields`` answering every read with a value of its kind, remembering the names read, their readers and which
    are required: what an event's builder takes, found by running it (so it is declared once, where it is read)."""

    def __init__(self, event_type: str) -> None:
        epoch = datetime(2000, 1, 1, tzinfo=UTC)
        super().__init__(BusinessRecord(event_type, {}, "probe", epoch), LegacyContext("probe", "probe"))
        self.kinds: dict[str, str] = {}
        self.required: list[tuple[str, ...]] = []
        self.references = False
        self._epoch = epoch

    def declared_references(self) -> dict[str, str]:
        self.references = True
        return {}

    def _read(self, name: str, kind: str, *, required: bool = False, alternatives: tuple[str, ...] = ()) -> None:
        self.kinds.setdefault(name, kind)
        group = (name, *alternatives)
        if required and group not in self.required:
            self.required.append(group)

    def text(self, name: str, *, required: bool = True) -> str | None:
        self._read(name, "text", required=required)
        return "x" if required else None

    def day(self, name: str, *, required: bool = True) -> date | None:
        self._read(name, "day", required=required)
        return self._epoch.date()

    def moment(self, name: str) -> datetime | None:
        self._read(name, "moment")
        return self._epoch

    def money(self, name: str) -> dict[str, Any]:
        self._read(name, "money", required=True, alternatives=(f"{name}_minor",))
        self._read(f"{name}_minor", "whole")
        self._read(f"{name}_currency", "text")
        self._read("currency", "text")
        return {"amount_minor": 0, "currency": "EUR"}

    def whole(self, name: str) -> int | None:
        self._read(name, "whole")
        return None

    def account_number(self, *, required: bool = True, key: bool = True) -> str | None:
        self._read("account_number", "text", required=required)
        return "x"

    def customer_identifiers(self) -> list[dict[str, str]]:
        for name in IDENTIFIER_FIELDS:
            self._read(name, "text")
        return []


@cache
def event_reads(event_type: str) -> EventReads:
    """What the ``event_type`` record's builder reads (``BillIssued``: ``bill_id`` text, ``amount`` money,
    ``due_date`` day..., required ``account_number``, ``bill_id``, ``amount`` or ``amount_minor``...), a person's
    traits aside (``standard_key``). Raises ``RejectedInput`` for an unknown event type."""
    canonical = canonical_event_type(event_type)
    reads = _Reads(canonical)
    try:
        (HANDOFF_BUILDERS.get(canonical) or BUILDERS[canonical])(reads)
    except RejectedInput:  # a check of the probe's values after every field was read (a handoff's case type)
        pass
    return EventReads(dict(reads.kinds), tuple(reads.required), reads.references)


def event_fields(event_type: str) -> frozenset[str]:
    """The field names the ``event_type`` record's builder reads (``AccountOpened``: ``account_number``,
    ``account_type``, ``service_tier`` and the identifier fields), a person's traits aside (``standard_key``).
    Raises ``RejectedInput`` for an unknown event type."""
    return frozenset(event_reads(event_type).kinds)
