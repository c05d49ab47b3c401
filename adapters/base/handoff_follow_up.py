"""A front line's record that the customer came back about an existing handoff -> ``omnibus.handoff.HandoffFollowedUp``.

A counter clerk serving a customer about a case already open (a complaint filed on the portal, a card dispute
opened on the phone) names it on the transaction (``{"handoff_id": ..., "summary": ...}``) instead of opening a
second case: the tracker counts the follow-up on the case (``HandoffStatusChanged.follow_ups``, the month report's
follow-ups per customer), and the visit's contact names the case and is not counted as resolved at first contact
(its outcome is ``HANDED_OFF``: the matter is with the back office). The event goes to ``handoff.events.v1`` keyed
by the handoff id; a handoff id the tracker does not know is dead-lettered there with the reason
(``unknown_handoff``), the visit itself is published.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from adapters.base.handoff_request import MAX_CHARS, SUMMARY, BadHandoffRequest
from bus.redact import free_text
from bus.serde import Event

if TYPE_CHECKING:
    from bus.references import References

HANDOFF_FOLLOWED_UP = "omnibus.handoff.HandoffFollowedUp"
HANDOFF_ID, FOLLOW_UP_SUMMARY = "handoff_id", "summary"  # the follow-up section's fields
MAX_HANDOFF_ID_CHARS = 256  # a legacy system's or a portal's own case id, as sent


@dataclass(frozen=True, slots=True)
class FollowUp:
    handoff_id: str  # the case the customer came back about, as the front line knows it
    summary: str | None = None

    @classmethod
    def parse(cls, raw: Any) -> FollowUp | None:
        """The follow-up section (None when absent); raises ``BadHandoffRequest`` naming the field at fault."""
        if raw is None:
            return None
        if not isinstance(raw, dict):
            raise BadHandoffRequest("", 'must be {"handoff_id": ..., "summary": ...}')
        handoff = raw.get(HANDOFF_ID)
        if handoff is not None and not isinstance(handoff, str):
            raise BadHandoffRequest(HANDOFF_ID, f"must be text, got {type(handoff).__name__}")
        if handoff is None or not handoff.strip():
            raise BadHandoffRequest(HANDOFF_ID, "is required: the id of the open case the customer came back about",
                                    missing=True)
        if len(handoff.strip()) > MAX_HANDOFF_ID_CHARS:
            raise BadHandoffRequest(HANDOFF_ID, f"longer than {MAX_HANDOFF_ID_CHARS} characters")
        summary = raw.get(FOLLOW_UP_SUMMARY)
        if summary is not None and not isinstance(summary, str):
            raise BadHandoffRequest(FOLLOW_UP_SUMMARY, f"must be text, got {type(summary).__name__}")
        if summary is not None and len(summary.strip()) > MAX_CHARS[SUMMARY]:
            raise BadHandoffRequest(FOLLOW_UP_SUMMARY, f"longer than {MAX_CHARS[SUMMARY]} characters")
        return cls(handoff.strip(), (summary or "").strip() or None)

    def event(self, *, envelope: dict[str, Any], interaction_id: str, actor: dict[str, str] | None,
              references: References | None = None) -> Event:
        """The ``HandoffFollowedUp``; the summary without identifier values, the adapter's declared business
        references kept whole (as a handoff's summary, ``HandoffRequest.event``)."""
        summary = self.summary and (references.text(self.summary) if references else free_text(self.summary))
        return Event(HANDOFF_FOLLOWED_UP, {
            "envelope": envelope, "handoff_id": self.handoff_id, "interaction_id": interaction_id,
            "summary": summary, "actor": actor,
        })
