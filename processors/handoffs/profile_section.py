"""Screen pop: the customer's open handoffs, fed by the tracker's ``HandoffStatusChanged`` events.

Only ``HandoffCreated`` carries the customer's identifiers among the lifecycle events, so the section
reads the tracker's compact status event instead, which repeats them after every change. State:
``{"open": {handoff_id: entry}, "done": {handoff_id: version}, "dropped": int}``; an entry keeps the highest
version seen, and a finished handoff leaves a small tombstone (its version) so that a replayed older event
cannot bring it back. Bounded (``processors/profile/limits.py``): at most ``ProfileLimits.open_handoffs``
open entries (past it the oldest created goes, counted in ``dropped``) and ``closed_handoffs`` tombstones
(the lowest versions go first).

At an operator's split a handoff (open, or its tombstone) follows the moved identifiers it came through
(``ProfileBook``: every status event of it carried only identifiers that moved); ``dropped`` stays with the source.
At a claim (a recycled number given to its new subscriber, ``processors/identity/graph/recycle.py``) an open case
stays with the customer it was opened for: one opened before the claim's instant (``before``), one the tracker
named this customer in (``customer_id``: identity marks its entry ``TOLD``, ``ProfileBook.split``), and one whose
creation stays (opened during a contact that stays: ``ProfileBook.split``'s ``stay``).
"""

from __future__ import annotations

from typing import Any, ClassVar

from bus.serde import Event
from bus.topics import HANDOFF_EVENTS, TopicSpec
from processors.handoffs.outputs import STATUS_CHANGED
from processors.profile.limits import keep_newest, short_key, short_text
from processors.profile.section import ProfileSection
from processors.profile.sections._time import iso, micros
from processors.profile.shapes import TEXT, TIME, closed, list_of, nullable

OPEN_STATUSES = frozenset({"CREATED", "ROUTED", "IN_PROGRESS", "WAITING_ON_CUSTOMER"})
DROPPED = "dropped"


def _entry(value: dict[str, Any]) -> dict[str, Any]:
    owner = value.get("owner")
    return {name: short_text(field) for name, field in {
        "version": value["version"], "status": value["status"], "case_type": value["case_type"],
        "summary": value["summary"], "team": value.get("team"), "owner_id": owner["id"] if owner else None,
        "escalation_tier": value["escalation_tier"], "deadline_at": micros(value.get("deadline_at")),
        "acknowledged": value["acknowledged"], "origin_channel": value["origin_channel"],
        "created_at": micros(value["created_at"]), "service_tier": value["service_tier"],
        "needs_contact": bool(value.get("needs_contact")),
    }.items()}


class OpenHandoffsSection(ProfileSection):
    name: ClassVar[str] = "open_handoffs"
    topics: ClassVar[tuple[TopicSpec, ...]] = (HANDOFF_EVENTS,)
    schemas: ClassVar[frozenset[str]] = frozenset({STATUS_CHANGED})
    render_schema: ClassVar[dict[str, Any]] = list_of(closed({
        "handoff_id": TEXT, "version": {"type": "integer"}, "status": TEXT, "case_type": TEXT, "summary": TEXT,
        "team": nullable(TEXT), "owner_id": nullable(TEXT), "escalation_tier": {"type": "integer"},
        "deadline_at": nullable(TIME), "acknowledged": {"type": "boolean"}, "origin_channel": TEXT,
        "created_at": nullable(TIME), "service_tier": TEXT,
        # no contact point of the customer is reachable (a recycled number): ask for a new one (HandoffStatusChanged)
        "needs_contact": {"type": "boolean"},
    }, required=["handoff_id", "version", "status", "case_type"]), "Open handoffs, earliest deadline first.")

    def identifiers(self, event: Event) -> list[dict[str, str]]:
        return [dict(i) for i in event.value.get("customer_identifiers") or []]

    def apply(self, state: dict[str, Any] | None, event: Event) -> dict[str, Any]:
        state = state or {}
        open_, done = dict(state.get("open", {})), dict(state.get("done", {}))
        value = event.value
        handoff_id, version = short_key(value["handoff_id"]), value["version"]
        known = max(open_.get(handoff_id, {}).get("version", 0), done.get(handoff_id, 0))
        if version <= known:  # replayed or out of order: already reflected
            return {"open": open_, "done": done, DROPPED: state.get(DROPPED, 0)}
        if value["status"] in OPEN_STATUSES:
            open_[handoff_id] = _entry(value)
            done.pop(handoff_id, None)
        else:
            open_.pop(handoff_id, None)
            done[handoff_id] = version
        return self._bounded(open_, done, state.get(DROPPED, 0))

    def entries(self, event: Event) -> list[str]:
        return [short_key(event.value["handoff_id"])]

    def holds(self, state: dict[str, Any]) -> set[str]:
        return {*(state.get("open") or {}), *(state.get("done") or {})}

    def part(self, state: dict[str, Any] | None,
             going: set[str]) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """The handoffs ``going`` (open ones and tombstones) to the new customer, the rest (and ``dropped``) stay."""
        if not state:
            return state, None
        sides: dict[bool, dict[str, Any]] = {
            goes: {"open": {}, "done": {}, DROPPED: 0 if goes else state.get(DROPPED, 0)} for goes in (False, True)}
        for part in ("open", "done"):
            for handoff_id, entry in (state.get(part) or {}).items():
                sides[handoff_id in going][part][handoff_id] = entry
        kept, moved = sides[False], sides[True]
        return (kept if kept["open"] or kept["done"] or kept[DROPPED] else None), \
            (moved if moved["open"] or moved["done"] else None)

    def before(self, state: dict[str, Any] | None, entry: str, since: int) -> bool:
        """Whether the open case ``entry`` was created before ``since`` (epoch µs): the previous holder's case stays
        his at a recycle's claim. A tombstone has no time: it follows, as at a split (no screen pop shows it)."""
        created = ((state or {}).get("open") or {}).get(entry, {}).get("created_at")
        return created is not None and created < since

    def _bounded(self, open_: dict[str, Any], done: dict[str, int], dropped: int) -> dict[str, Any]:
        open_, gone = keep_newest(open_, self.limits.open_handoffs,
                                  lambda handoff_id, entry: (entry["created_at"] or 0, handoff_id))
        done, _ = keep_newest(done, self.limits.closed_handoffs, lambda handoff_id, version: (version, handoff_id))
        return {"open": open_, "done": done, DROPPED: dropped + gone}

    def render(self, state: dict[str, Any]) -> list[dict[str, Any]]:
        """Open handoffs, the most urgent (earliest deadline) first."""
        entries = sorted(
            ({"handoff_id": handoff_id, **entry} for handoff_id, entry in (state.get("open") or {}).items()),
            key=lambda e: (e["deadline_at"] is None, e["deadline_at"] or 0, e["handoff_id"]),
        )
        return [
            {**e, "deadline_at": iso(e["deadline_at"]), "created_at": iso(e["created_at"]), "version": e["version"],
             "needs_contact": bool(e.get("needs_contact"))}  # an entry kept from before the field: False
            for e in entries
        ]

    def merge(self, survivor: dict[str, Any] | None, merged: dict[str, Any] | None) -> dict[str, Any] | None:
        """Both customers' handoffs; of a handoff both sides know, the newest version wins."""
        if not survivor or not merged:
            return survivor or merged
        sides = (survivor, merged)
        done: dict[str, int] = {}
        for side in sides:
            for handoff_id, version in side.get("done", {}).items():
                done[handoff_id] = max(done.get(handoff_id, 0), version)
        open_: dict[str, dict[str, Any]] = {}
        for side in sides:
            for handoff_id, entry in side.get("open", {}).items():
                newest = max(done.get(handoff_id, 0), open_.get(handoff_id, {}).get("version", 0))
                if entry["version"] > newest:
                    open_[handoff_id] = entry
        for handoff_id in open_:
            done.pop(handoff_id, None)
        return self._bounded(open_, done, survivor.get(DROPPED, 0) + merged.get(DROPPED, 0))
