"""Building the ``omnibus.common.Envelope`` every event carries.

Event ids are derived from the source's own id (UUID v5), so the same native record mapped twice
yields the same event id: downstream processors dedupe on it even if an adapter crashed between
Kafka's acknowledgement and remembering the source id.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

OMNIBUS_NAMESPACE = uuid.UUID("6f6d6e69-6275-5300-8000-000000000001")


def event_id(source_system: str, source_event_id: str, discriminator: str = "") -> str:
    """Deterministic event id; ``discriminator`` tells apart several events mapped from one record."""
    return str(uuid.uuid5(OMNIBUS_NAMESPACE, f"{source_system}\x1f{source_event_id}\x1f{discriminator}"))


def make_envelope(
    *,
    source_system: str,
    channel: str,
    source_event_id: str,
    occurred_at: datetime,
    discriminator: str = "",
    site: str | None = None,
    correlation_id: str | None = None,
    causation_id: str | None = None,
    received_at: datetime | None = None,
) -> dict[str, Any]:
    if occurred_at.tzinfo is None:
        raise ValueError("occurred_at must be timezone-aware")
    identity = event_id(source_system, source_event_id, discriminator)
    return {
        "event_id": identity,
        "occurred_at": occurred_at,
        "received_at": received_at or datetime.now(UTC),
        "source_system": source_system,
        "channel": channel,
        "site": site,
        "correlation_id": correlation_id or identity,
        "causation_id": causation_id,
        "source_event_id": source_event_id,
    }
