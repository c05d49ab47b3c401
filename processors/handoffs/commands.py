"""A back office's commands on a handoff, as the lifecycle events the tracker consumes.

``current_views(events)`` folds ``handoff.events.v1`` into what a command needs to know of each handoff (its
latest ``HandoffStatusChanged``: status, team, owner, version, whether acknowledged; the receiving system of its
latest work order; when and by whom it was acknowledged: ``acknowledgements``).
``build(action, view, request, now)`` is the event for one command. Its id derives from the handoff, the
action, the status version the command was based on, and the command's own fields
(``bus.envelope.event_id``): the same command given twice before the tracker applied it is one event, which
the tracker drops as a re-delivery; once applied, the version moved and the command is judged anew (a second
acknowledgement or acceptance by the same person is a no-op; a stale transfer is refused). The tracker
alone decides whether a transition is legal (``transitions.py``); what it refuses goes to ``deadletter.v1``.

The operator's free text (``Request.reason``: a transfer's reason, a hold's request, a resolution, a reopening's
reason) is scrubbed before it is put on the event (``scrubbed``, the channels' rule ``bus.redact.free_text``), but the
deployment's declared references (``OMNIBUS_IDENTIFIERS__REFERENCE_FIELDS``): a
resolution and a hold's request are also quoted in the customer's notification (``CUSTOMER_QUOTED``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from bus.envelope import envelope, event_id
from bus.errors import OmnibusError
from bus.handoff_revisions import SOURCE_RECORD_FACT
from bus.plural import counted
from bus.references import declared
from bus.serde import Event
from processors.handoffs.acknowledgements import ACKNOWLEDGING, Acknowledgement, acknowledgement
from processors.handoffs.outputs import (
    ACCEPTED,
    ACKNOWLEDGED,
    BREACHED,
    CLOSED,
    CREATED,
    ESCALATED,
    REOPENED,
    RESOLVED,
    RESUMED,
    ROUTED,
    STATUS_CHANGED,
    TRANSFERRED,
    WAITING,
    short_name,
)
from processors.handoffs.state import Status

BACK_OFFICE_CHANNEL = "BACK_OFFICE"
COMMAND_SOURCE = "omnibus-cli"  # envelope.source_system of the events the commands publish


@dataclass
class HandoffView:
    """What the topic says of one handoff; ``status`` None: created, the tracker has not routed it yet."""

    handoff_id: str
    correlation_id: str
    status: str | None = None
    version: int = 0
    team: str | None = None
    owner: dict | None = None
    escalation_tier: int = 0
    deadline_at: datetime | None = None
    receiving_system: str | None = None
    resolved_by: dict | None = None
    follow_ups: int = 0  # times the customer came back about it (HandoffStatusChanged.follow_ups)
    # what the case describes as the tracker last announced it (a revised summary shows here once applied)
    case_type: str | None = None
    summary: str | None = None
    service_tier: str | None = None
    customer_id: str | None = None
    source_record: str | None = None  # HandoffCreated.intake_facts.source_record: the record every version is of
    contact_at: datetime | None = None  # the contact's time (HandoffCreated.envelope.occurred_at: the clock's start)
    received_at: datetime | None = None  # when the channel's adapter received it (later for a case uploaded late)
    breaches: list[dict] = field(default_factory=list)  # {"deadline_at", "escalation_tier"} per HandoffBreached
    acknowledged: bool = False  # the tracker's HandoffStatusChanged.acknowledged: the back office has the case
    acknowledgement: Acknowledgement | None = None  # when and by whom, while ``acknowledged`` (``acknowledgements``)

    @property
    def is_open(self) -> bool:
        return self.status not in {status.value for status in Status if not status.is_open}

    def describe(self) -> str:
        """One line: ``ROUTED with team finance, owner agent-1, version 3``, then ``, 2 follow-ups`` when the
        customer came back about it."""
        owner = f", owner {self.owner['id']}" if self.owner else ""
        team = f" with team {self.team}" if self.team else ""
        follow_ups = f", {counted(self.follow_ups, 'follow-up')}" if self.follow_ups else ""
        return f"{self.status or 'created (not routed yet)'}{team}{owner}, version {self.version}{follow_ups}"

    def lines(self) -> list[str]:
        """``omnibus handoffs show``'s text: ``describe`` and the deadline, then one ``  label: value`` line per fact
        known (escalation tier, breaches, contact time, acknowledgement, case type, summary, service tier, customer,
        source record). Instants in ISO 8601, UTC, to the second (``instant``)."""
        deadline = f", deadline {instant(self.deadline_at)}" if self.deadline_at else ""
        missed = "; ".join(f"{instant(b['deadline_at'])} (tier {b['escalation_tier']})" for b in self.breaches)
        contact = instant(self.contact_at) if self.contact_at else None
        if contact and self.received_at and instant(self.received_at) != contact:
            contact += f", received {instant(self.received_at)}"
        facts = (("escalation tier", str(self.escalation_tier) if self.escalation_tier else None),
                 ("deadlines missed", missed), ("contact", contact), ("acknowledged", self._acknowledged_text()),
                 ("case type", self.case_type),
                 ("summary", self.summary), ("service tier", self.service_tier), ("customer", self.customer_id),
                 ("source record", self.source_record))
        return [f"{self.handoff_id}: {self.describe()}{deadline}",
                *(f"  {label}: {value}" for label, value in facts if value)]

    def _acknowledged_text(self) -> str | None:
        """``2026-12-05T08:10:00+00:00 by tester (receiving system finance-desk)``; ``not yet (awaited from
        finance-desk)`` while the routed case is open and unacknowledged; None otherwise (not routed yet, or finished
        unacknowledged: withdrawn)."""
        if self.acknowledgement is not None:
            return f"{instant(self.acknowledgement.at)} {self.acknowledgement.details()}".rstrip()
        if self.status is None or not self.is_open:
            return None
        return f"not yet (awaited from {self.receiving_system})" if self.receiving_system else "not yet"

    def to_json(self) -> dict[str, Any]:
        """``omnibus handoffs show --json``: every field, instants in ISO 8601 as published."""
        def iso(at: datetime | None) -> str | None:
            return at.isoformat() if at else None

        return {**vars(self), "deadline_at": iso(self.deadline_at), "contact_at": iso(self.contact_at),
                "received_at": iso(self.received_at),
                "breaches": [{**b, "deadline_at": iso(b["deadline_at"])} for b in self.breaches],
                "acknowledgement": self.acknowledgement.to_json() if self.acknowledgement else None}


def instant(at: datetime) -> str:
    """``at`` in ISO 8601, UTC, to the second: ``2026-12-05T22:15:06+00:00``."""
    return at.astimezone(UTC).isoformat(timespec="seconds")


def current_views(events: Iterable[Event]) -> dict[str, HandoffView]:
    """Handoff id -> its view, from the topic's events in (partition, offset) order."""
    views: dict[str, HandoffView] = {}
    acknowledging: dict[str, dict] = {}  # event id -> value of a lifecycle event that may acknowledge its case
    for event in events:
        value, schema = event.value, event.schema
        handoff_id = value.get("handoff_id")
        if not handoff_id:
            continue
        if schema == CREATED and handoff_id not in views:
            envelope = value["envelope"]
            views[handoff_id] = HandoffView(
                handoff_id, envelope["correlation_id"], case_type=value["case_type"],
                summary=value["summary"], source_record=(value.get("intake_facts") or {}).get(SOURCE_RECORD_FACT),
                contact_at=envelope["occurred_at"], received_at=envelope.get("received_at"))
        view = views.get(handoff_id)
        if view is None:
            continue
        if schema in ACKNOWLEDGING:
            acknowledging[value["envelope"]["event_id"]] = value
        if schema == ROUTED and value.get("receiving_system"):
            view.receiving_system = value["receiving_system"]
        elif schema == STATUS_CHANGED and value["version"] > view.version:
            view.status, view.version, view.team = value["status"], value["version"], value.get("team")
            view.owner, view.escalation_tier = value.get("owner"), value["escalation_tier"]
            view.deadline_at, view.follow_ups = value.get("deadline_at"), value.get("follow_ups") or 0
            view.case_type, view.summary = value.get("case_type", view.case_type), value.get("summary", view.summary)
            view.service_tier, view.customer_id = value.get("service_tier"), value.get("customer_id")
            if not value["acknowledged"]:
                view.acknowledgement = None
            elif view.acknowledgement is None:  # it turned true: the event it applied says who
                view.acknowledgement = acknowledgement(value, acknowledging.get(value["envelope"]["causation_id"]))
            view.acknowledged = value["acknowledged"]
        elif schema == RESOLVED:
            view.resolved_by = value["actor"]
        elif schema == BREACHED:
            view.breaches.append({"deadline_at": value["deadline_at"], "escalation_tier": value["escalation_tier"]})
    return views


@dataclass(frozen=True)
class Request:
    """One command as given: who (``by``, an employee id) and its options (None: not given)."""

    by: str
    team: str | None = None
    owner: str | None = None
    reason: str | None = None
    system: str | None = None
    reference: str | None = None
    code: str | None = None
    close_reason: str = "CONFIRMED"

    @property
    def actor(self) -> dict:
        return {"kind": "EMPLOYEE", "id": self.by}


class CommandRefused(OmnibusError, ValueError):
    """A command that cannot be built from what is known (a missing option); the message is one line."""


def _employee(person: str | None) -> dict | None:
    return {"kind": "EMPLOYEE", "id": person} if person else None


def _need(value: str | None, option: str, action: str) -> str:
    if not value or not value.strip():
        raise CommandRefused(f"{action} needs {option}")
    return value.strip()


def _acknowledge(view: HandoffView, r: Request) -> tuple[str, dict]:
    system = r.system or view.receiving_system or view.team
    if not system:
        raise CommandRefused("acknowledge needs --system: the tracker has not named the receiving system yet")
    return ACKNOWLEDGED, {"receiving_system": system, "external_reference": r.reference, "actor": r.actor}


def _accept(view: HandoffView, r: Request) -> tuple[str, dict]:
    return ACCEPTED, {"owner": _employee(r.owner) or r.actor, "team": r.team or view.team}


def _transfer(view: HandoffView, r: Request) -> tuple[str, dict]:
    if view.team is None:
        raise CommandRefused("the tracker has not routed the handoff yet: nothing to transfer from")
    return TRANSFERRED, {"from_owner": view.owner, "from_team": view.team, "to_owner": _employee(r.owner),
                         "to_team": r.team or view.team, "reason": _need(r.reason, "--reason", "transfer"),
                         "actor": r.actor}


def _hold(view: HandoffView, r: Request) -> tuple[str, dict]:
    return WAITING, {"request": r.reason, "actor": r.actor}


def _resume(view: HandoffView, r: Request) -> tuple[str, dict]:
    return RESUMED, {"deadline_at": None, "paused_ms": None, "actor": r.actor}


def _resolve(view: HandoffView, r: Request) -> tuple[str, dict]:
    return RESOLVED, {"resolution": _need(r.reason, "--reason (what was done, as the customer is told)", "resolve"),
                      "resolution_code": r.code, "team": r.team or view.team, "actor": r.actor}


def _close(view: HandoffView, r: Request) -> tuple[str, dict]:
    return CLOSED, {"close_reason": r.close_reason, "actor": r.actor}


def _reopen(view: HandoffView, r: Request) -> tuple[str, dict]:
    return REOPENED, {"reason": _need(r.reason, "--reason", "reopen"), "deadline_at": None, "actor": r.actor}


def _escalate(view: HandoffView, r: Request) -> tuple[str, dict]:
    deadline = view.deadline_at
    return ESCALATED, {
        "from_tier": view.escalation_tier, "to_tier": view.escalation_tier + 1,
        "deadline_at": deadline if deadline is not None else 0,  # the tracker sets the new deadline
        "trigger": "MANUAL", "to_team": None, "to_owner": None, "actor": r.actor, "from_team": view.team,
        "from_owner": view.owner, "customer_id": None,
    }


ACTIONS: dict[str, Callable[[HandoffView, Request], tuple[str, dict]]] = {
    "acknowledge": _acknowledge, "accept": _accept, "transfer": _transfer, "hold": _hold, "resume": _resume,
    "resolve": _resolve, "close": _close, "reopen": _reopen, "escalate": _escalate,
}
# The actions whose --reason the customer's notification quotes (notifications.QUOTED_FIELDS: a resolution, what a
# hold asks of the customer); the command refuses to send such a text altered by the scrubber unless told to.
CUSTOMER_QUOTED = frozenset({"hold", "resolve"})


def scrubbed(request: Request) -> tuple[Request, tuple[str, ...]]:
    """``request`` with its free text (``reason``) scrubbed of identifier values (``bus.redact.free_text``), but the
    deployment's declared references (``bus.references.declared``: a meter point id), and what was masked
    (``bus.redact.free_text_masked``: ``"card number"``, ``"e-mail address"``, ``"number"``...)."""
    if not request.reason:
        return request, ()
    reason, masked = declared().text_masked(request.reason)
    return replace(request, reason=reason), masked


def build(action: str, view: HandoffView, request: Request, now: datetime) -> Event:
    """The lifecycle event of ``action`` on ``view``, its free text ``scrubbed``; raises ``CommandRefused`` (one
    line) when an option it needs is missing. ``now`` (timezone-aware) is the event's occurred_at."""
    request, _ = scrubbed(request)
    schema, fields = ACTIONS[action](view, request)
    parts = "|".join(f"{k}={v}" for k, v in sorted(vars(request).items()) if v)
    identity = event_id(COMMAND_SOURCE, f"{view.handoff_id}/{action}/v{view.version}", parts)
    head = envelope(event_id=identity, occurred_at=now, received_at=now, source_system=COMMAND_SOURCE,
                    channel=BACK_OFFICE_CHANNEL, correlation_id=view.correlation_id,
                    source_event_id=f"{view.handoff_id}/{action}/v{view.version}")
    return Event(schema, {"envelope": head, "handoff_id": view.handoff_id, **fields})


def refusal(action: str, view: HandoffView) -> str | None:
    """A one-line reason to refuse before publishing, for what the topic already shows: a closed or resolved
    handoff can only be reopened (or a resolved one closed). None: publish, the tracker decides the rest."""
    if action == "reopen":
        return None if not view.is_open else f"handoff {view.handoff_id} is open ({view.describe()})"
    if action == "close" and view.status == "RESOLVED":
        return None
    if not view.is_open:
        by = f" by {view.resolved_by['id']}" if view.resolved_by and view.status == "RESOLVED" else ""
        return f"handoff {view.handoff_id} is {view.status.lower()}{by}; `omnibus handoffs reopen` it first" \
            if view.status else None
    return None


__all__ = ["ACTIONS", "CUSTOMER_QUOTED", "CommandRefused", "HandoffView", "Request", "build", "current_views",
           "refusal", "scrubbed", "short_name"]
