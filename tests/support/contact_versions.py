"""Versions of one contact as the adapters publish them, for the tests of every consumer (``bus.contact_versions``).

``ctr_version``: an ``InteractionRecorded`` of one version of an Amazon Connect CTR (``source_event_id``
``ContactId@LastUpdateTimestamp``, the call's end as ``occurred_at``, ``received_at`` when the adapter received it);
``counter_version``: one upload of a counter transaction (``source_event_id`` the terminal's event id, its own
``occurred_at``). ``caused_by``: the event id of the earlier version, as the adapter that published it names it
(None: published by another adapter replica, or a corrected upload).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bus.serde import Event

CALL_END = datetime(2026, 12, 4, 9, 4, 30, tzinfo=UTC)
INTERACTION = "omnibus.contact.InteractionRecorded"


def _envelope(event_id: str, occurred: datetime, received: datetime, channel: str, source_system: str,
              source_event_id: str, caused_by: str | None) -> dict[str, Any]:
    return {"event_id": event_id, "occurred_at": occurred, "received_at": received, "source_system": source_system,
            "channel": channel, "site": "paris" if channel == "CALL_CENTER" else "B-0001",
            "correlation_id": f"corr-{source_event_id.partition('@')[0]}", "causation_id": caused_by,
            "source_event_id": source_event_id}


def ctr_version(contact_id: str, version: int, *, received_after_s: float = 0.0, caused_by: str | None = None,
                outcome: str = "RESOLVED", disposition: str = "bill-explained", phone: str = "+33612340031",
                end: datetime = CALL_END) -> Event:
    """Version ``version`` (1, 2, ...) of the CTR of ``contact_id``: its ``LastUpdateTimestamp`` ``version`` minutes
    after the call's end, received a minute after that plus ``received_after_s`` seconds (version 1 with
    ``received_after_s`` 63: received 3 s after version 2, an older version reaching a replica last). Its event id is
    ``<contact>/v<version>``."""
    updated = end + timedelta(minutes=version)
    received = updated + timedelta(minutes=1, seconds=received_after_s)
    envelope = _envelope(f"{contact_id}/v{version}", end, received, "CALL_CENTER", "amazon-connect",
                         f"{contact_id}@{updated.isoformat()}", caused_by)
    return Event(INTERACTION, {
        "envelope": envelope, "interaction_id": contact_id,
        "customer_identifiers": [{"type": "PHONE", "value": phone}], "kind": "CALL", "name": "billing",
        "outcome": outcome, "agent_id": "agent-1", "duration_ms": 60_000,
        "properties": {"disposition": disposition}, "traits_event_id": None})


def counter_version(transaction_id: str, upload: str, occurred: datetime, *, received: datetime | None = None,
                    caused_by: str | None = None, outcome: str = "RESOLVED", name: str = "transaction",
                    phone: str = "+33612340077") -> Event:
    """One upload of counter transaction ``transaction_id``: the terminal's event id ``upload`` (its event id here:
    ``<transaction>/<upload>``), occurred at ``occurred`` (a correction states its own, later time)."""
    envelope = _envelope(f"{transaction_id}/{upload}", occurred, received or occurred, "BRANCH", "branch-terminal",
                         upload, caused_by)
    return Event(INTERACTION, {
        "envelope": envelope, "interaction_id": transaction_id,
        "customer_identifiers": [{"type": "PHONE", "value": phone}], "kind": "COUNTER_TRANSACTION", "name": name,
        "outcome": outcome, "agent_id": "clerk-1", "duration_ms": None, "properties": {"terminal_id": "CT-0001-01"},
        "traits_event_id": None})
