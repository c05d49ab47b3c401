"""Screen pop: ``eligible_offers``, what the representative with the customer on the line may offer now.

Fed by the call center's instruction topic (``OfferInstruction``, SHOW / WITHDRAW): the offer processor
keeps it exactly in line with the customer's offer state, so an offer accepted or declined on any
channel disappears from the agent's screen. State: ``{"shown": {offer_id: entry}, "seen": {offer_id:
instant_us}, "dropped": int}``; ``seen`` keeps the instant of the latest instruction per offer, so a
replayed or late older instruction changes nothing. Bounded (``processors/profile/limits.py``): at most
``ProfileLimits.eligible_offers`` shown (past it the lowest priority, then the oldest instruction, goes,
counted in ``dropped``) and ``withdrawn_offers`` instants of offers not shown (the oldest go first).

An operator's split does not divide this section itself (``ProfileSection.split``'s default): the offer processor
divides its offer state by the identifiers each offer came through and follows the split with instructions, a SHOW
under the new customer for what it takes and a WITHDRAW under the source for what the source no longer fits
(``processors/offers/identity_events.py``), so the two screen pops agree with it. A merge folds the merged
customer's section in (``merge``); its WITHDRAWs reason ``MERGED`` (keyed by the merged id, in no order with the
survivor's instructions) change nothing here: the survivor's SHOW or WITHDRAW of each offer decides.
"""

from __future__ import annotations

from typing import Any, ClassVar

from bus.serde import Event
from bus.topics import MARKETING_INSTRUCTIONS_CALL_CENTER, TopicSpec
from processors.offers.outputs import OFFER_INSTRUCTION
from processors.offers.reservations import MERGED
from processors.profile.limits import MAX_CONTENT_CHARS, keep_newest, short_key, short_text
from processors.profile.section import ProfileSection
from processors.profile.sections._time import iso, micros, occurred_micros
from processors.profile.shapes import TEXT, TIME, closed, list_of, nullable

DROPPED = "dropped"


class EligibleOffersSection(ProfileSection):
    name: ClassVar[str] = "eligible_offers"
    topics: ClassVar[tuple[TopicSpec, ...]] = (MARKETING_INSTRUCTIONS_CALL_CENTER,)
    schemas: ClassVar[frozenset[str]] = frozenset({OFFER_INSTRUCTION})
    render_schema: ClassVar[dict[str, Any]] = list_of(closed({
        "offer_id": TEXT, "version": {"type": "integer"}, "title": TEXT, "content": TEXT,
        "priority": {"type": "integer"}, "not_before": nullable(TIME), "valid_until": nullable(TIME),
    }), "Offers to propose, highest priority first.")

    def identifiers(self, event: Event) -> list[dict[str, str]]:
        return [dict(i) for i in event.value.get("customer_identifiers") or []]

    def apply(self, state: dict[str, Any] | None, event: Event) -> dict[str, Any]:
        shown, seen = dict((state or {}).get("shown", {})), dict((state or {}).get("seen", {}))
        dropped = (state or {}).get(DROPPED, 0)
        value, at_us = event.value, occurred_micros(event)
        offer_id = short_key(value["offer_id"])
        if at_us < seen.get(offer_id, 0):
            return {"shown": shown, "seen": seen, DROPPED: dropped}
        if value["action"] != "SHOW" and value.get("reason") == MERGED:
            return {"shown": shown, "seen": seen, DROPPED: dropped}  # the survivor's instructions decide (merge)
        seen[offer_id] = at_us
        if value["action"] == "SHOW":
            shown[offer_id] = {"version": value["offer_version"], "title": short_text(value["title"]),
                               "content": short_text(value["content"], MAX_CONTENT_CHARS),
                               "priority": value.get("priority") or 0, "not_before": micros(value.get("not_before")),
                               "valid_until": micros(value.get("valid_until"))}
        else:
            shown.pop(offer_id, None)
        return self._bounded(shown, seen, dropped)

    def _bounded(self, shown: dict[str, Any], seen: dict[str, int], dropped: int) -> dict[str, Any]:
        shown, gone = keep_newest(shown, self.limits.eligible_offers,
                                  lambda offer_id, entry: (entry["priority"], seen.get(offer_id, 0), offer_id))
        withdrawn, _ = keep_newest({k: v for k, v in seen.items() if k not in shown}, self.limits.withdrawn_offers,
                                   lambda offer_id, at_us: (at_us, offer_id))
        return {"shown": shown, "seen": {k: v for k, v in seen.items() if k in shown or k in withdrawn},
                DROPPED: dropped + gone}

    def render(self, state: dict[str, Any]) -> list[dict[str, Any]]:
        """Offers to propose, highest priority first."""
        entries = sorted(((offer_id, e) for offer_id, e in (state.get("shown") or {}).items()),
                         key=lambda item: (-item[1]["priority"], item[0]))
        return [{"offer_id": offer_id, **entry, "not_before": iso(entry["not_before"]),
                 "valid_until": iso(entry["valid_until"])} for offer_id, entry in entries]

    def merge(self, survivor: dict[str, Any] | None, merged: dict[str, Any] | None) -> dict[str, Any] | None:
        """Per offer, the side with the later instruction wins; at one instant the survivor's (the offer processor
        sends no WITHDRAW again for a merged SHOW its survivor's own WITHDRAW ties: ``push.merged_away``)."""
        if not survivor or not merged:
            return survivor or merged
        shown: dict[str, Any] = {}
        seen: dict[str, int] = {}
        for offer_id in {*survivor.get("seen", {}), *merged.get("seen", {})}:
            side = max((survivor, merged), key=lambda s: s.get("seen", {}).get(offer_id, -1))
            seen[offer_id] = side["seen"][offer_id]
            if offer_id in side.get("shown", {}):
                shown[offer_id] = side["shown"][offer_id]
        return self._bounded(shown, seen, survivor.get(DROPPED, 0) + merged.get(DROPPED, 0))
