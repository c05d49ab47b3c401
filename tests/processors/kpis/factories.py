"""Canonical events for the KPI tests, built the way the adapters and the tracker build them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from bus.serde import Event

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday, 09:00 UTC
H, M, S, D = timedelta(hours=1), timedelta(minutes=1), timedelta(seconds=1), timedelta(days=1)


def envelope(at: datetime, channel: str, site: str | None = None, event_id: str | None = None,
             source: str = "test") -> dict[str, Any]:
    return {"event_id": event_id or str(uuid.uuid4()), "occurred_at": at, "received_at": at, "source_system": source,
            "channel": channel, "site": site, "correlation_id": "c", "causation_id": None, "source_event_id": None}


def interaction(at: datetime, channel: str = "CALL_CENTER", site: str | None = "paris", outcome: str = "UNKNOWN",
                event_id: str | None = None, kind: str = "CALL") -> Event:
    stamped = envelope(at, channel, site, event_id)
    return Event("omnibus.contact.InteractionRecorded", {  # one contact per event id: versions share the contact's
        "envelope": stamped, "interaction_id": stamped["event_id"], "customer_identifiers": [],
        "kind": kind, "name": None, "outcome": outcome, "agent_id": None, "duration_ms": None, "properties": None,
    })


def call(enqueued: datetime | None, wait_s: float | None, *, site: str = "paris", contact_id: str = "c1",
         threshold_ms: int = 20_000, event_id: str | None = None) -> Event:
    """A call queued at ``enqueued``, answered after ``wait_s`` seconds (None: abandoned)."""
    start = enqueued or T0
    connected = enqueued + timedelta(seconds=wait_s) if enqueued is not None and wait_s is not None else None
    end = (connected or start) + 2 * M
    return Event("omnibus.contact.CallCompleted", {
        "envelope": envelope(end, "CALL_CENTER", site, event_id, source="amazon-connect"), "contact_id": contact_id,
        "site": site, "queue": "q", "initiation_method": "INBOUND", "initiated_at": start, "enqueued_at": enqueued,
        "connected_at": connected, "disconnected_at": end, "queue_wait_ms": None, "talk_ms": 0,
        "answered_within_sla": None, "sla_threshold_ms": threshold_ms,
        "abandoned": enqueued is not None and connected is None, "transferred": False, "previous_contact_id": None,
        "next_contact_id": None, "disposition": None, "agent_id": None, "caller_identifiers": [],
    })


def handoff(schema: str, handoff_id: str, at: datetime, event_id: str | None = None, **fields: Any) -> Event:
    value = {"envelope": envelope(at, fields.pop("channel", "BACK_OFFICE"), None, event_id), "handoff_id": handoff_id}
    if schema == "HandoffCreated":
        value.update(customer_identifiers=[], case_type="billing-dispute", summary="s", intake_facts={},
                     origin_channel=fields.pop("origin_channel", "CALL_CENTER"),
                     origin_site=fields.pop("origin_site", "paris"), origin_interaction_id=None, service_tier=None,
                     actor={"kind": "EMPLOYEE", "id": "e1"})
    value.update(fields)
    return Event(f"omnibus.handoff.{schema}", value)


def offer(schema: str, at: datetime, response: str | None = None, channel: str = "WEB") -> Event:
    value = {"envelope": envelope(at, channel, None), "offer_id": "o1", "offer_version": 1, "channel": channel,
             "customer_identifiers": [], "agent_id": None}
    if schema == "OfferPresented":
        value["presentation_id"] = "p1"
    else:
        value.update(presentation_id=None, response=response)
    return Event(f"omnibus.marketing.{schema}", value)
