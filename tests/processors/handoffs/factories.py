"""Builders of handoff lifecycle events, fakes for the publisher and dead letters, shared by the tests."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bus.errors import RawRecord
from bus.producer import Outgoing
from bus.serde import Event
from bus.clock import ManualClock
from processors.handoffs.config import HandoffPolicy
from processors.handoffs.directory import CustomerDirectory
from processors.handoffs.outputs import Emitter
from processors.handoffs.transitions import Context

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # a Monday
NS = "omnibus.handoff."
AGENT = {"kind": "EMPLOYEE", "id": "agent-1"}
OTHER_AGENT = {"kind": "EMPLOYEE", "id": "agent-2"}
FRONT = {"kind": "EMPLOYEE", "id": "front-7"}
SYSTEM = "omnibus-handoffs"


def envelope(
    at: datetime, *, event_id: str | None = None, source: str = "test-adapter", channel: str = "BACK_OFFICE"
) -> dict:
    event_id = event_id or str(uuid.uuid4())
    return {"event_id": event_id, "occurred_at": at, "received_at": at, "source_system": source, "channel": channel,
            "site": None, "correlation_id": event_id, "causation_id": None, "source_event_id": None}


PHONE = {"type": "PHONE", "value": "+33612345678"}


def created(handoff_id: str, at: datetime = T0, *, case_type: str = "billing-dispute", tier: str | None = "standard",
            channel: str = "CALL_CENTER", identifiers: list[dict] | None = None, **env: Any) -> Event:
    return Event(NS + "HandoffCreated", {
        "envelope": envelope(at, channel=channel, **env), "handoff_id": handoff_id,
        "customer_identifiers": identifiers or [PHONE], "case_type": case_type,
        "summary": "Bill is wrong", "intake_facts": {"bill": "B-1"}, "origin_channel": channel, "origin_site": "lyon",
        "origin_interaction_id": None, "service_tier": tier, "actor": FRONT,
    })


def followed_up(handoff_id: str, at: datetime, *, interaction_id: str = "TX-9031", **env: Any) -> Event:
    """The customer came back about the case at a counter (``adapters.base.handoff_follow_up``)."""
    return Event(NS + "HandoffFollowedUp", {"envelope": envelope(at, channel="BRANCH", **env), "handoff_id": handoff_id,
                                            "interaction_id": interaction_id, "summary": "brought the statement",
                                            "actor": FRONT})


def acknowledged(handoff_id: str, at: datetime, **env: Any) -> Event:
    return Event(NS + "HandoffAcknowledged", {"envelope": envelope(at, **env), "handoff_id": handoff_id,
                                              "receiving_system": "finance-desk", "external_reference": "F-9",
                                              "actor": None})


def accepted(handoff_id: str, at: datetime, owner: dict = AGENT, team: str | None = None, **env: Any) -> Event:
    return Event(NS + "HandoffAccepted", {"envelope": envelope(at, **env), "handoff_id": handoff_id, "owner": owner,
                                          "team": team})


def transferred(handoff_id: str, at: datetime, *, from_owner: dict | None, from_team: str, to_team: str,
                to_owner: dict | None = None, **env: Any) -> Event:
    return Event(NS + "HandoffTransferred", {
        "envelope": envelope(at, **env), "handoff_id": handoff_id, "from_owner": from_owner, "from_team": from_team,
        "to_owner": to_owner, "to_team": to_team, "reason": "not ours", "actor": from_owner or AGENT})


def waiting(handoff_id: str, at: datetime, **env: Any) -> Event:
    return Event(NS + "HandoffWaitingOnCustomer", {"envelope": envelope(at, **env), "handoff_id": handoff_id,
                                                   "request": "send the bill", "actor": AGENT})


def resumed(handoff_id: str, at: datetime, **env: Any) -> Event:
    return Event(NS + "HandoffResumed", {"envelope": envelope(at, **env), "handoff_id": handoff_id,
                                         "deadline_at": None, "paused_ms": None, "actor": AGENT})


def resolved(handoff_id: str, at: datetime, actor: dict = AGENT, team: str | None = None, **env: Any) -> Event:
    return Event(NS + "HandoffResolved", {"envelope": envelope(at, **env), "handoff_id": handoff_id,
                                          "resolution": "Refunded", "resolution_code": "R1", "team": team,
                                          "actor": actor})


def closed(handoff_id: str, at: datetime, reason: str = "CONFIRMED", **env: Any) -> Event:
    return Event(NS + "HandoffClosed", {"envelope": envelope(at, **env), "handoff_id": handoff_id,
                                        "close_reason": reason, "actor": None})


def reopened(handoff_id: str, at: datetime, **env: Any) -> Event:
    return Event(NS + "HandoffReopened", {"envelope": envelope(at, **env), "handoff_id": handoff_id,
                                          "reason": "problem is back", "deadline_at": None, "actor": FRONT})


def escalated(handoff_id: str, at: datetime, from_tier: int, **env: Any) -> Event:
    return Event(NS + "HandoffEscalated", {
        "envelope": envelope(at, **env), "handoff_id": handoff_id, "from_tier": from_tier, "to_tier": from_tier + 1,
        "deadline_at": at + timedelta(hours=1), "trigger": "MANUAL", "to_team": None, "to_owner": None,
        "actor": AGENT, "from_team": None, "from_owner": None})


def context(policy: HandoffPolicy | None = None, clock: ManualClock | None = None, partition: int = 0,
            directory: CustomerDirectory | None = None) -> Context:
    return Context(policy or HandoffPolicy(), Emitter(SYSTEM, clock or ManualClock(T0)), partition, directory)


@dataclass
class FakePublisher:
    published: list[Outgoing] = field(default_factory=list)
    fail_times: int = 0

    async def publish_many(self, items: Sequence[Outgoing]) -> list[None]:
        if self.fail_times:
            from bus.errors import PublishError

            self.fail_times -= 1
            raise PublishError("broker away", retriable=True)
        self.published.extend(items)
        return [None] * len(items)

    def names(self) -> list[str]:
        return [item.event.schema.rpartition(".")[2] for item in self.published]


@dataclass
class FakeDeadLetters:
    written: list[dict[str, Any]] = field(default_factory=list)

    async def write(
        self, record: RawRecord, *, reason: str, error_type: str, correlation_id: str | None = None
    ) -> None:
        self.written.append({"record": record, "reason": reason, "error_type": error_type})


def record(partition: int = 0, offset: int = 0) -> RawRecord:
    return RawRecord(value=b"raw", key=b"k", topic="omnibus.handoff.events.v1", partition=partition, offset=offset)
