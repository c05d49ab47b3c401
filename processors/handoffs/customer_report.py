"""The month report per customer: how many handoffs and bounces one matter took, and who came back within 7 days.

Computed from ``handoff.events.v1`` alone, like the team report. A handoff belongs to the last customer
id the tracker published for it (its outputs carry ``customer_id`` once the customer is known, and follow
identity's placement, merges, splits and contact moves whatever the case's status); a
HandoffStatusChanged of an older ``version`` than one already read (a stale copy) never overrides it. Handoffs
whose customer never became known are left out.
A **matter** is one customer's run of handoffs of one case type where each was created within
``REPEAT_WINDOW`` (7 days) of the previous one's resolution (or of its creation, if it was still open);
a handoff that continues a matter is a **repeat**, and the customer is flagged. Handoffs count in the
month they were created in; earlier ones still open a matter that a handoff of the month repeats.
A **follow-up** is the customer coming back about one of their handoffs without a new one being opened (a counter
visit naming the case, ``HandoffFollowedUp``); it counts in the month it happened in and flags the customer too.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bus.serde import Event
from processors.handoffs.outputs import CREATED, FOLLOWED_UP, RESOLVED, TRANSFERRED
from processors.handoffs.report import month_bounds

REPEAT_WINDOW = timedelta(days=7)


@dataclass
class _Handoff:
    created_at: datetime | None = None
    case_type: str | None = None
    customer_id: str | None = None
    customer_version: int = -1  # the tracker's version (HandoffStatusChanged.version) customer_id was read from
    resolved_at: datetime | None = None
    bounces: int = 0
    follow_ups: list[datetime] = field(default_factory=list)


@dataclass(frozen=True)
class CustomerRow:
    customer_id: str
    handoffs: int  # created in the month
    matters: int  # distinct matters those handoffs belong to
    resolved: int
    bounces: int  # transfers of those handoffs
    repeats: int  # handoffs created within 7 days of the previous one about the same case type
    repeat_case_types: str  # comma-separated, sorted
    flagged: bool  # came back within 7 days about the same case type, or about a case (a follow-up)
    follow_ups: int = 0  # times the customer came back about one of their handoffs in the month (any handoff's)


@dataclass
class _Tally:
    handoffs: int = 0
    matters: set[tuple[str, int]] = field(default_factory=set)
    resolved: int = 0
    bounces: int = 0
    repeats: int = 0
    repeat_types: set[str] = field(default_factory=set)
    follow_ups: int = 0


def _handoffs(events: Iterable[Event]) -> dict[str, _Handoff]:
    found: dict[str, _Handoff] = {}
    seen: set[str] = set()
    for event in events:
        value = event.value
        handoff_id, event_id = value.get("handoff_id"), value["envelope"]["event_id"]
        if not handoff_id or event_id in seen:
            continue
        seen.add(event_id)
        handoff = found.setdefault(handoff_id, _Handoff())
        at = value["envelope"]["occurred_at"]
        version = value.get("version")
        if value.get("customer_id") and (version is None or version >= handoff.customer_version):
            handoff.customer_id = value["customer_id"]
            handoff.customer_version = max(handoff.customer_version, version if version is not None else -1)
        if event.schema == CREATED:
            handoff.created_at, handoff.case_type = handoff.created_at or at, value["case_type"]
        elif event.schema == RESOLVED:
            handoff.resolved_at = handoff.resolved_at or at
        elif event.schema == TRANSFERRED:
            handoff.bounces += 1
        elif event.schema == FOLLOWED_UP:
            handoff.follow_ups.append(at)
    return found


def compute_customer_report(events: Iterable[Event], month: str, timezone: str = "UTC") -> list[CustomerRow]:
    start, end = month_bounds(month, timezone)
    by_matter: dict[tuple[str, str], list[_Handoff]] = {}
    for handoff in _handoffs(events).values():
        if handoff.customer_id and handoff.created_at and handoff.case_type:
            by_matter.setdefault((handoff.customer_id, handoff.case_type), []).append(handoff)
    tallies: dict[str, _Tally] = {}
    for (customer, case_type), handoffs in by_matter.items():
        handoffs.sort(key=lambda h: h.created_at or start)
        matter, previous = 0, None
        for handoff in handoffs:
            assert handoff.created_at is not None
            if follow_ups := sum(start <= at < end for at in handoff.follow_ups):
                tallies.setdefault(customer, _Tally()).follow_ups += follow_ups
            repeat = previous is not None and handoff.created_at - _back_since(previous) <= REPEAT_WINDOW
            matter = matter if repeat else matter + 1
            previous = handoff
            if not start <= handoff.created_at < end:
                continue
            tally = tallies.setdefault(customer, _Tally())
            tally.handoffs += 1
            tally.matters.add((case_type, matter))
            tally.bounces += handoff.bounces
            tally.resolved += handoff.resolved_at is not None
            if repeat:
                tally.repeats += 1
                tally.repeat_types.add(case_type)
    return [
        CustomerRow(customer, t.handoffs, len(t.matters), t.resolved, t.bounces, t.repeats,
                    ",".join(sorted(t.repeat_types)), t.repeats > 0 or t.follow_ups > 0, t.follow_ups)
        for customer, t in sorted(tallies.items())
    ]


def _back_since(previous: _Handoff) -> datetime:
    """The instant a new handoff's 7 days are counted from: the previous one's resolution, else its creation."""
    assert previous.created_at is not None
    return max(previous.resolved_at, previous.created_at) if previous.resolved_at else previous.created_at
