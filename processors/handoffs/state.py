"""The state of one handoff, as kept in the changelog-backed table (one JSON-able dict per handoff).

Instants are microseconds since the epoch. ``timers`` holds what is still to fire (warnings, breach,
acknowledgement checks) and ``fired`` the markers of what already fired: both are part of the
durable state, which is why a restart or a rebalance neither loses a deadline nor fires one twice.
``next_due_us`` and ``partition`` are stored flat so the due index can be rebuilt from the table
without decoding whole states.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

APPLIED_IDS_KEPT = 64  # recent event ids per handoff, for dedupe of re-deliveries


class Status(StrEnum):
    CREATED = "CREATED"
    ROUTED = "ROUTED"
    IN_PROGRESS = "IN_PROGRESS"
    WAITING_ON_CUSTOMER = "WAITING_ON_CUSTOMER"
    RESOLVED = "RESOLVED"
    CLOSED = "CLOSED"

    @property
    def is_open(self) -> bool:
        return self not in (Status.RESOLVED, Status.CLOSED)


class TimerKind(StrEnum):
    WARNING = "warning"  # step = percent
    BREACH = "breach"  # step = escalation tier
    ACK = "ack"  # step = attempt (alarms fired so far for this route)


@dataclass(frozen=True, slots=True)
class Timer:
    kind: TimerKind
    step: int
    due_us: int
    marker: str  # unique per handoff and per firing; also the seed of the output event id

    @property
    def on_resolution_clock(self) -> bool:
        """Warnings and breaches stop while waiting on the customer; acknowledgement checks do not."""
        return self.kind is not TimerKind.ACK

    def to_list(self) -> list[Any]:
        return [self.kind.value, self.step, self.due_us, self.marker]

    @classmethod
    def from_list(cls, raw: list[Any]) -> Timer:
        return cls(TimerKind(raw[0]), int(raw[1]), int(raw[2]), str(raw[3]))


Actor = dict[str, str]  # {"kind": "EMPLOYEE", "id": "e-42"}, as in omnibus.common.Actor


@dataclass(frozen=True, slots=True)
class SentNotification:
    """A customer notification published to an address, which a gateway may still hold unsent (``recalls``)."""

    notification_id: str
    key: str  # the record key it went out with: its recall goes under the same key, after it on the partition
    channel: str
    address: dict[str, str]  # the identifier it was addressed to, as in the notification

    def to_list(self) -> list[Any]:
        return [self.notification_id, self.key, self.channel, dict(self.address)]

    @classmethod
    def from_list(cls, raw: list[Any]) -> SentNotification:
        return cls(str(raw[0]), str(raw[1]), str(raw[2]), dict(raw[3]))


class TierSource(StrEnum):
    """Where a handoff's service tier came from (see ``customers`` for the rules)."""

    DEFAULT = "DEFAULT"  # nothing known: the policy's default tier
    CHANNEL = "CHANNEL"  # the tier on HandoffCreated (a guess unless the channel is trusted)
    TRUSTED_CHANNEL = "TRUSTED_CHANNEL"  # the tier on HandoffCreated from a channel the policy trusts
    CUSTOMER = "CUSTOMER"  # the highest active tier of the customer's accounts and products

    @property
    def settled(self) -> bool:
        """Whether the tier is the customer's own (later changes follow the mid-case rule)."""
        return self in (TierSource.TRUSTED_CHANNEL, TierSource.CUSTOMER)


class DeadlineRule(StrEnum):
    """Why the current deadline is what it is."""

    SLA = "sla"  # the SLA hours of (case type, tier) from the start of the clock
    ESCALATION = "escalation"  # the hours of the escalation step reached
    CUSTOMER_RESOLVED = "customer-resolved"  # re-timed once: the customer and their tier became known
    TIER_UPGRADE = "tier-upgrade"  # re-timed forward only: the customer moved to a faster tier mid-case


@dataclass(frozen=True, slots=True)
class DeadlineLineage:
    """How the current deadline was computed; published as ``omnibus.handoff.DeadlineLineage``."""

    rule: DeadlineRule
    service_tier: str
    tier_source: TierSource
    resolve_within_hours: float
    calendar: str
    clock_started_us: int
    tier_event_id: str | None = None  # the business event the customer's tier comes from
    customer_id: str | None = None
    previous_deadline_us: int | None = None  # the deadline before a re-timing

    def to_dict(self) -> dict[str, Any]:
        data = {name: getattr(self, name) for name in _LINEAGE_FIELDS}
        data["rule"], data["tier_source"] = self.rule.value, self.tier_source.value
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DeadlineLineage:
        values = {name: data[name] for name in _LINEAGE_FIELDS if name in data}
        values["rule"], values["tier_source"] = DeadlineRule(data["rule"]), TierSource(data["tier_source"])
        return cls(**values)


_LINEAGE_FIELDS = ("rule", "service_tier", "tier_source", "resolve_within_hours", "calendar", "clock_started_us",
                   "tier_event_id", "customer_id", "previous_deadline_us")


@dataclass(frozen=True, slots=True)
class HandoffState:
    handoff_id: str
    status: Status
    case_type: str
    service_tier: str
    summary: str
    customer_identifiers: tuple[dict[str, str], ...]
    origin_channel: str
    origin_site: str | None
    correlation_id: str
    created_at_us: int
    intake_facts: dict[str, str] = field(default_factory=dict)
    partition: int | None = None
    version: int = 0  # changes applied so far
    team: str | None = None
    owner: Actor | None = None
    receiving_system: str | None = None
    acknowledged: bool = False
    route: int = 0  # work orders sent to receiving systems (1 after routing; +1 per change of system)
    routed_at_us: int | None = None
    resends: int = 0  # re-sends of the current work order
    cycle: int = 0  # reopen count
    bounces: int = 0  # transfers so far (a case passed on instead of solved)
    tier: int = 0  # escalation tier
    clock_started_us: int | None = None  # start of the current tier's resolution clock
    deadline_us: int | None = None
    paused_at_us: int | None = None
    resolved_at_us: int | None = None
    resolved_by: Actor | None = None
    closed_at_us: int | None = None  # when it closed (``retention``: how long a closed case is kept)
    timers: tuple[Timer, ...] = ()
    fired: frozenset[str] = frozenset()
    applied: tuple[str, ...] = ()
    customer_id: str | None = None  # from identity resolution; None until one of the identifiers is known
    tier_source: TierSource = TierSource.CHANNEL
    tier_event_id: str | None = None  # business event that set a CUSTOMER tier
    lineage: DeadlineLineage | None = None
    addresses: tuple[dict[str, str], ...] = ()  # the customer's reachable identifiers known elsewhere (fallback)
    customer_placed: bool = False  # customer_id came from identity's placement of the handoff, not an identifier
    # keys (TYPE:value) of customer_identifiers its customer no longer holds (recycled, released, claimed): never
    # told of the case again, nor shown it (``held_identifiers``; ``CustomerDirectory.view``)
    relinquished: tuple[str, ...] = ()
    # its first notification (RECEIVED) waits for identity's placement: an identifier of the case changed hands
    # (``CustomerView.unsettled``), so its holder now may not be the contact's customer (``transitions._create``)
    received_held: bool = False
    # its RECEIVED waits for the breach of a deadline already past when it was due to go out (a case routed late, a
    # held RECEIVED released late): it then goes out quoting the deadline the escalation gives, in place of a DELAYED
    # (``notifications.received_notification``)
    received_late: bool = False
    # the customer held a contact point of the case and none a notification can reach is left (``customers.follow``)
    needs_contact: bool = False
    # addressed notifications published, oldest first (the latest ``recalls.SENT_KEPT``): recalled if the address goes
    sent: tuple[SentNotification, ...] = ()
    follow_ups: int = 0  # times the customer came back about the case on a front-line channel (HandoffFollowedUp)
    followed_up_at_us: int | None = None  # the latest follow-up
    # A later version of its source record corrected the contact identifiers while the case was open (a counter
    # upload's phone fixed): the corrected ones. Its notices then go to one of them its customer holds, else nowhere,
    # never to the identifiers it replaced (``notifications.delivery``, ``revisions.corrected``).
    corrected_identifiers: tuple[dict[str, str], ...] = ()

    # --- derived ----------------------------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        return self.status.is_open

    @property
    def paused(self) -> bool:
        return self.paused_at_us is not None

    def eligible(self, timer: Timer) -> bool:
        """Whether the timer may fire now: a paused clock holds back what was not yet due at the pause."""
        if self.paused_at_us is None or not timer.on_resolution_clock:
            return True
        return timer.due_us <= self.paused_at_us

    @property
    def next_due_us(self) -> int | None:
        due = [t.due_us for t in self.timers if self.eligible(t)]
        return min(due) if due else None

    @property
    def held_identifiers(self) -> tuple[dict[str, str], ...]:
        """What the handoff's events and notifications name the customer by: its ``customer_identifiers`` but those
        its customer no longer holds (``relinquished``); when none is left, the customer's own reachable identifiers
        identity knows (``addresses``), so identity still places the case's screen-pop entry on its customer."""
        if not self.relinquished:
            return self.customer_identifiers
        from processors.handoffs.tier_facts import identifier_key  # tier_facts -> config -> retention -> here
        held = tuple(i for i in self.customer_identifiers if identifier_key(i) not in self.relinquished)
        return held or self.addresses

    def has_applied(self, event_id: str) -> bool:
        return event_id in self.applied

    def with_(self, **changes: Any) -> HandoffState:
        """A copy with ``changes`` (``dataclasses.replace`` without its per-call validation: 5x faster)."""
        new = object.__new__(HandoffState)
        for name in _FIELD_NAMES:
            object.__setattr__(new, name, changes.pop(name) if name in changes else getattr(self, name))
        if changes:
            raise TypeError(f"unknown fields {sorted(changes)}")
        return new

    def evolve(self, *, event_id: str | None = None, **changes: Any) -> HandoffState:
        """A copy with ``changes``, one more version, and ``event_id`` remembered for dedupe."""
        if event_id is not None:
            changes["applied"] = (*self.applied, event_id)[-APPLIED_IDS_KEPT:]
        changes["version"] = self.version + 1
        return self.with_(**changes)

    # --- table codec ------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        data = {name: getattr(self, name) for name in _FIELD_NAMES}
        data["status"] = self.status.value
        data["customer_identifiers"] = [dict(i) for i in self.customer_identifiers]
        data["timers"] = [t.to_list() for t in self.timers]
        data["fired"] = sorted(self.fired)
        data["applied"] = list(self.applied)
        data["tier_source"] = self.tier_source.value
        data["lineage"] = self.lineage.to_dict() if self.lineage else None
        data["addresses"] = [dict(a) for a in self.addresses]
        data["relinquished"] = list(self.relinquished)
        data["corrected_identifiers"] = [dict(i) for i in self.corrected_identifiers]
        data["sent"] = [n.to_list() for n in self.sent]
        data["next_due_us"] = self.next_due_us
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HandoffState:
        values = {name: data[name] for name in _FIELD_NAMES if name in data}
        values["status"] = Status(data["status"])
        values["customer_identifiers"] = tuple(dict(i) for i in data["customer_identifiers"])
        values["timers"] = tuple(Timer.from_list(t) for t in data.get("timers", ()))
        values["fired"] = frozenset(data.get("fired", ()))
        values["applied"] = tuple(data.get("applied", ()))
        values["tier_source"] = TierSource(data.get("tier_source") or TierSource.CHANNEL)
        values["lineage"] = DeadlineLineage.from_dict(data["lineage"]) if data.get("lineage") else None
        values["addresses"] = tuple(dict(a) for a in data.get("addresses", ()))
        values["relinquished"] = tuple(data.get("relinquished", ()))
        values["corrected_identifiers"] = tuple(dict(i) for i in data.get("corrected_identifiers", ()))
        values["sent"] = tuple(SentNotification.from_list(n) for n in data.get("sent", ()))
        return cls(**values)


_FIELD_NAMES = tuple(f.name for f in dataclasses.fields(HandoffState))
