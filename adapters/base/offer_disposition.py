"""A representative's recorded answer to an offer -> ``OfferPresented`` or ``OfferResponded``.

Counter clerks and call-center agents record what the customer said about an offer as three fields
on the record their system already sends: the offer id, its version, and the disposition —
``presented`` (pitched, no answer yet) or an ``omnibus.marketing.OfferResponse`` (``accepted``,
``declined``, ``not_now``, ``opted_out``). The event goes to ``marketing.responses.v1`` like the web
hall's ``Offer Viewed / Accepted / Declined`` tracks, keyed by the customer's first identifier.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from adapters.base.mapper import content_digest
from adapters.base.whole_ids import whole_text
from bus.errors import OmnibusError
from bus.serde import Event

PRESENTED = "PRESENTED"
DISPOSITIONS = frozenset({PRESENTED, "ACCEPTED", "DECLINED", "NOT_NOW", "OPTED_OUT"})
# Attribute names on a Connect contact or a TaskRouter task (the agent's wrap-up form writes them).
ATTRIBUTES = ("offer_id", "offer_version", "offer_response")


class BadDisposition(OmnibusError, ValueError):
    """``field`` is missing or malformed; ``str()`` says why."""

    def __init__(self, field: str, why: str) -> None:
        self.field = field
        super().__init__(why)


@dataclass(frozen=True, slots=True)
class OfferDisposition:
    offer_id: str
    offer_version: int
    response: str  # PRESENTED or an OfferResponse symbol

    @classmethod
    def parse(cls, offer_id: Any, version: Any, response: Any) -> OfferDisposition | None:
        """None when no offer was recorded (all three empty); raises ``BadDisposition`` when half-recorded."""
        if offer_id in (None, "") and version in (None, "") and response in (None, ""):
            return None
        offer_text = whole_text(offer_id)  # a whole number is its text, as every id (adapters.base.whole_ids)
        if offer_text is None and offer_id not in (None, ""):
            raise BadDisposition("offer_id", "must be a string or a whole number")
        if offer_text is None or not offer_text.strip():
            raise BadDisposition("offer_id", "is required with an offer response")
        if isinstance(version, bool) or not str(version or "").strip().isdigit() or int(str(version)) < 1:
            raise BadDisposition("offer_version", "must be a whole number from 1")
        symbol = str(response or "").strip().upper().replace("-", "_").replace(" ", "_")
        if symbol not in DISPOSITIONS:
            known = ", ".join(sorted(s.lower() for s in DISPOSITIONS))
            raise BadDisposition("offer_response", f"must be one of {known}")
        return cls(offer_text.strip(), int(str(version).strip()), symbol)

    def digest(self) -> bytes:
        """SHA-256 (32 bytes) of what was recorded (offer, version, disposition): the content an event id names where
        one record reports the answer again in later versions (``bus.offer_presentations.pitch_of``): an unchanged
        answer keeps its event id (a copy), a changed one gets its own (a revision of the pitch)."""
        digest = content_digest({"offer_id": self.offer_id, "offer_version": self.offer_version,
                                 "response": self.response})
        assert digest is not None  # an object always has one
        return digest

    def event(self, *, envelope: dict[str, Any], channel: str, identifiers: list[dict[str, str]],
              agent_id: str | None, presentation_id: str) -> Event:
        common = {"envelope": envelope, "offer_id": self.offer_id, "offer_version": self.offer_version,
                  "channel": channel, "customer_identifiers": identifiers, "agent_id": agent_id}
        if self.response == PRESENTED:
            return Event("omnibus.marketing.OfferPresented", {**common, "presentation_id": presentation_id})
        return Event("omnibus.marketing.OfferResponded", {**common, "presentation_id": presentation_id,
                                                           "response": self.response})
