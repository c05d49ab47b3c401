"""Reconciliation: every handoff not accounted for on both sides, computed from ``handoff.events.v1``.

Channel side: a handoff was created (and routed) but no receiving system showed it has it (an
acknowledgement, or work on it: accepted, resolved...) since its latest work order. Back-office side:
a system acknowledged or worked on a handoff nobody created. Work orders younger than ``grace`` are
still in flight and not listed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bus.serde import Event
from processors.handoffs.outputs import (
    ACCEPTED,
    ACKNOWLEDGED,
    CLOSED,
    CREATED,
    REOPENED,
    RESOLVED,
    ROUTED,
    TRANSFERRED,
    WAITING,
)

RECEIPT_EVIDENCE = frozenset({ACKNOWLEDGED, ACCEPTED, RESOLVED})  # the receiving side has the case
BACK_OFFICE_EVENTS = RECEIPT_EVIDENCE | {TRANSFERRED, WAITING}

NOT_ACKNOWLEDGED = "created, not acknowledged"
NEVER_ROUTED = "created, never routed"
UNKNOWN_HANDOFF = "acknowledged or worked on, never created"


@dataclass
class _Track:
    created_at: datetime | None = None
    open: bool = True
    team: str | None = None
    receiving_system: str | None = None
    sent_at: datetime | None = None  # latest work order (first routing or change of receiving system)
    resends: int = 0
    acknowledged: bool = False
    back_office_seen: list[str] = field(default_factory=list)
    first_seen: datetime | None = None


@dataclass(frozen=True)
class Unaccounted:
    handoff_id: str
    problem: str
    team: str | None
    receiving_system: str | None
    since: datetime
    age: timedelta
    resends: int


def reconcile(events: Iterable[Event], now: datetime, grace: timedelta) -> list[Unaccounted]:
    tracks: dict[str, _Track] = {}
    for event in events:
        value, schema = event.value, event.schema
        handoff_id = value.get("handoff_id")
        if not handoff_id:
            continue
        at = value["envelope"]["occurred_at"]
        track = tracks.setdefault(handoff_id, _Track(first_seen=at))
        if schema == CREATED:
            track.created_at = track.created_at or at
        elif schema == ROUTED:
            if value.get("resend_count", 0) == 0:
                track.sent_at, track.acknowledged, track.resends = at, False, 0
                track.team, track.receiving_system = value["team"], value.get("receiving_system")
            else:
                track.resends = max(track.resends, value["resend_count"])
        elif schema in RECEIPT_EVIDENCE:
            track.acknowledged = True
        elif schema == TRANSFERRED:
            track.team = value["to_team"]
        if schema in BACK_OFFICE_EVENTS:
            track.back_office_seen.append(schema)
        if schema in (RESOLVED, CLOSED):
            track.open = False
        elif schema == REOPENED:
            track.open = True
    found = []
    for handoff_id, track in sorted(tracks.items()):
        if track.created_at is None:
            if track.back_office_seen:
                found.append(_entry(handoff_id, UNKNOWN_HANDOFF, track, track.first_seen, now))
        elif track.open and track.sent_at is None and now - track.created_at >= grace:
            found.append(_entry(handoff_id, NEVER_ROUTED, track, track.created_at, now))
        elif track.open and track.sent_at and not track.acknowledged and now - track.sent_at >= grace:
            found.append(_entry(handoff_id, NOT_ACKNOWLEDGED, track, track.sent_at, now))
    return found


def _entry(handoff_id: str, problem: str, track: _Track, since: datetime | None, now: datetime) -> Unaccounted:
    since = since or now
    return Unaccounted(handoff_id, problem, track.team, track.receiving_system, since, now - since, track.resends)
