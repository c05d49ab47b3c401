"""Small valid events for tests of the plumbing."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from bus.serde import Event


def envelope(**overrides: object) -> dict:
    now = datetime.now(UTC)
    return {
        "event_id": str(uuid.uuid4()), "occurred_at": now, "received_at": now, "source_system": "test",
        "channel": "WEB", "site": None, "correlation_id": str(uuid.uuid4()), "causation_id": None,
        "source_event_id": None, **overrides,
    }


def identifiers_observed(phone: str, *, sequence: int = 0, email: str | None = None) -> Event:
    identifiers = [{"type": "PHONE", "value": phone}]
    if email:
        identifiers.append({"type": "EMAIL", "value": email})
    return Event(
        "omnibus.contact.IdentifiersObserved",
        {"envelope": envelope(source_event_id=f"seq-{sequence}"), "identifiers": identifiers, "traits": None,
         "rejected_identifiers": [], "holder_role": None},
    )


def identifier_assignment(key: str, customer_id: str, *, version: int) -> Event:
    """The ``customer.identifiers.v1`` row of identifier ``key`` (``TYPE:value``): its owner ``customer_id``."""
    kind, _, value = key.partition(":")
    return Event("omnibus.identity.IdentifierAssignment", {
        "identifier": {"type": kind, "value": value}, "customer_id": customer_id, "assigned_at": datetime.now(UTC),
        "assigned_by_event_id": None, "version": version})
