"""Builders for the offer tests: offers, customers and instants."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from processors.offers.definition import Offer
from processors.offers.state import CustomerState

T0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)  # a Monday noon UTC


def us(instant: datetime) -> int:
    return int(instant.timestamp() * 1_000_000)


def offer(offer_id: str = "fibre", **fields: Any) -> Offer:
    values: dict[str, Any] = {
        "offer_id": offer_id, "version": 1, "title": "Fibre upgrade", "content": {"default": "Go faster"},
        "channels": ["WEB", "CALL_CENTER", "BRANCH"], "valid_from": "2026-01-01T00:00:00Z",
    }
    return Offer.model_validate({**values, **fields})


def customer(customer_id: str = "cus_1", **fields: Any) -> CustomerState:
    return CustomerState(customer_id=customer_id, **fields)


def envelope(event_id: str, at: datetime = T0, channel: str = "WEB") -> dict[str, Any]:
    return {"event_id": event_id, "occurred_at": at, "received_at": at, "source_system": "test", "channel": channel,
            "site": None, "correlation_id": event_id, "causation_id": None, "source_event_id": None}


def ident(key: str) -> dict[str, str]:
    kind, _, value = key.partition(":")
    return {"type": kind, "value": value}
