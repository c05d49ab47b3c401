"""When and by whom a handoff's back office confirmed it has the case, as ``omnibus handoffs show`` tells it.

The tracker keeps whether a case is acknowledged (``HandoffState.acknowledged``, announced on every
``HandoffStatusChanged`` as ``acknowledged``): a ``HandoffAcknowledged`` sets it, and so do an acceptance and a
resolution (whoever works the case has it); a work order to another receiving system (a transfer there) clears it
(``transitions``). The status change that sets it names the event it applied (``cause``, and its id as
``envelope.causation_id``), which is on the same topic before it (same key, same partition): that event says who,
and an acknowledgement the receiving system and its own case id. The tracker's flag decides, never the event alone:
an acknowledgement of a case acknowledged already changes nothing, and one a transfer undid is shown no more.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from processors.handoffs.outputs import ACCEPTED, ACKNOWLEDGED, RESOLVED, short_name

# the lifecycle events that acknowledge a case (``transitions``: ``_acknowledged``, ``_accepted``, ``_resolved``)
ACKNOWLEDGING = frozenset({ACKNOWLEDGED, ACCEPTED, RESOLVED})
_ON = {short_name(ACCEPTED): "on accepting it", short_name(RESOLVED): "on resolving it"}


@dataclass(frozen=True)
class Acknowledgement:
    """One acknowledgement the tracker applied: ``at`` (timezone-aware) the acknowledging event's ``occurred_at``,
    ``event`` its short name (``HandoffAcknowledged``, ``HandoffAccepted``, ``HandoffResolved``), ``by`` its actor
    (an acceptance's new owner; None: the receiving system did it automatically, or the event is no longer on the
    topic), ``receiving_system`` and ``external_reference`` (the case's id there) an acknowledgement's own."""

    at: datetime
    event: str
    by: dict[str, str] | None = None
    receiving_system: str | None = None
    external_reference: str | None = None

    def details(self) -> str:
        """What ``show`` prints after the instant: ``by tester (receiving system finance-desk, its case F-9)``,
        ``by finance-desk (its case F-9)`` (the system itself), ``by agent-1, on accepting it``; empty when nothing
        more is known."""
        who = self.by["id"] if self.by else self.receiving_system
        said = f"by {who}" if who else ""
        if self.event in _ON:
            return f"{said}, {_ON[self.event]}" if said else _ON[self.event]
        system = f"receiving system {self.receiving_system}" if self.by and self.receiving_system else ""
        case = f"its case {self.external_reference}" if self.external_reference else ""
        where = ", ".join(part for part in (system, case) if part)
        return f"{said} ({where})" if said and where else said or (f"({where})" if where else "")

    def to_json(self) -> dict[str, Any]:
        """``show --json``'s ``acknowledgement``: the fields, ``at`` in ISO 8601 as published."""
        return {"at": self.at.isoformat(), "event": self.event, "by": self.by,
                "receiving_system": self.receiving_system, "external_reference": self.external_reference}


def acknowledgement(status_changed: dict[str, Any], cause: dict[str, Any] | None) -> Acknowledgement:
    """The acknowledgement a ``HandoffStatusChanged`` value whose ``acknowledged`` turned true records: when and which
    kind of event from it, who (and where) from ``cause``, the value of the event its ``causation_id`` names (one of
    ``ACKNOWLEDGING``); ``cause`` None (no longer on the topic): when and which kind only."""
    head, schema = status_changed["envelope"], status_changed["cause"]
    at, event = head["occurred_at"], short_name(schema)
    if cause is None:
        return Acknowledgement(at, event)
    if schema == ACKNOWLEDGED:
        system, reference = cause["receiving_system"], cause.get("external_reference")
        return Acknowledgement(at, event, cause.get("actor"), system, reference)
    return Acknowledgement(at, event, cause["owner"] if schema == ACCEPTED else cause.get("actor"))
