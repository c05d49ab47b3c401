"""Payment cards with a status: blocked (reported stolen or lost), replaced, cancelled, or active again.

Fed by ``CardStatusChanged`` (``business.events.v1``: an issuer's system through the legacy adapter, or the call
center's ``omnibus_card_status`` attribute; ``adapters.base.card_status``). Without it a stolen card stayed on the
screen pop as any other card and a caller quoting it was matched to its holder silently. A card
``REPLACED`` with a ``replaced_by`` makes the new card an entry of its own, ``ACTIVE``, that ``replaces`` the old one.

The rule of one fact per card, as the products': each entry remembers the instant of the fact that last changed it
and ignores older facts (``products.rank``: a dated fact above an undated one), so a replayed or late "blocked" never
overrides a later "active", nor the reverse.

Shown (``render``): every card that is not ``ACTIVE`` first, the latest change first, then the active ones; card
tokens masked as every identifier (``card1:…f767``). A lookup by a card that is not active is also flagged at the top
of the screen pop (``identifier_status``, ``card_warning``): identity's answer to a caller quoting a dead card.

State: ``{"cards": {token: {"status", "reason", "replaced_by", "replaces", "at"[, "undated"]}}, "dropped": int}``,
at most ``ProfileLimits.products_per_kind`` cards, active ones kept first, then the newest (``dropped`` counts
what went).
"""

from __future__ import annotations

from typing import Any, ClassVar

from bus.serde import Event
from bus.topics import BUSINESS_EVENTS, TopicSpec
from processors.profile.limits import keep_newest, short_key
from processors.profile.masking import mask
from processors.profile.section import ProfileSection
from processors.profile.sections._time import iso, occurred_micros
from processors.profile.sections.products import UNDATED, rank, upsert
from processors.profile.shapes import TEXT, TIME, closed, list_of, nullable

CARD_STATUS_CHANGED = "omnibus.business.CardStatusChanged"
CARD = "CARD"
ACTIVE = "ACTIVE"
CARDS, DROPPED = "cards", "dropped"


def card_warning(status: str, reason: str | None, since: str | None, masked: str) -> str:
    """What the agent reads when a caller was looked up by a card that is not active (no card number: its mask)."""
    why = f" ({reason})" if reason else ""
    when = f" on {since}" if since else ""
    return (f"this card {masked} is {status}{why}{when}: it no longer proves who the caller is. Check the caller's "
            "identity another way before acting on the customer shown, and follow the card-fraud procedure if the "
            "caller is using it")


class CardsSection(ProfileSection):
    name: ClassVar[str] = CARDS
    topics: ClassVar[tuple[TopicSpec, ...]] = (BUSINESS_EVENTS,)
    schemas: ClassVar[frozenset[str]] = frozenset({CARD_STATUS_CHANGED})
    render_schema: ClassVar[dict[str, Any]] = list_of(closed(
        {"card": TEXT, "status": TEXT, "reason": nullable(TEXT), "replaced_by": nullable(TEXT),
         "replaces": nullable(TEXT), "since": nullable(TIME)},
        required=["card", "status"]),
        "Cards with a known status: not ACTIVE first (BLOCKED, REPLACED, CANCELLED; the latest change first), then "
        "active ones; card tokens masked. A card never reported here is only among identifiers.")

    def identifiers(self, event: Event) -> list[dict[str, str]]:
        return [dict(identifier) for identifier in event.value.get("customer_identifiers") or []] or [
            dict(event.value["card"])]

    def apply(self, state: dict[str, Any] | None, event: Event) -> dict[str, Any]:
        state = _copy(state)
        value, at, undated = event.value, occurred_micros(event), bool(event.value.get(UNDATED))
        card, replaced_by = value["card"]["value"], (value.get("replaced_by") or {}).get("value")
        fact = {"status": value["status"], "reason": value.get("reason"), "replaced_by": replaced_by}
        upsert(state[CARDS], card, at, fact, undated=undated)
        if replaced_by and value["status"] == "REPLACED":
            upsert(state[CARDS], replaced_by, at, {"status": ACTIVE, "reason": None, "replaces": card}, undated=undated)
        state[CARDS], dropped = keep_newest(state[CARDS], self.limits.products_per_kind,
                                            lambda key, entry: (entry["status"] == ACTIVE, entry.get("at", 0), key))
        state[DROPPED] += dropped
        return state

    def merge(self, survivor: dict[str, Any] | None, merged: dict[str, Any] | None) -> dict[str, Any] | None:
        if survivor is None or merged is None:
            return survivor if merged is None else merged
        result, other = _copy(survivor), _copy(merged)
        result[DROPPED] += other[DROPPED]
        for key, entry in other[CARDS].items():
            if key not in result[CARDS] or rank(entry) > rank(result[CARDS][key]):
                result[CARDS][key] = entry
        return result

    def entries(self, event: Event) -> list[str]:
        keys = [event.value["card"]["value"], (event.value.get("replaced_by") or {}).get("value")]
        return [f"{CARDS}/{short_key(key)}" for key in keys if key]

    def holds(self, state: dict[str, Any]) -> set[str]:
        return {f"{CARDS}/{key}" for key in (state or {}).get(CARDS) or {}}

    def part(self, state: dict[str, Any] | None,
             going: set[str]) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """The cards ``going`` (``cards/<token>``) to the new customer, the rest (and ``dropped``) stay."""
        if not state:
            return state, None
        kept, moved = _copy(state), _copy(None)
        for key in list(kept[CARDS]):
            if f"{CARDS}/{key}" in going:
                moved[CARDS][key] = kept[CARDS].pop(key)
        return (kept if kept[CARDS] or kept[DROPPED] else None), (moved if moved[CARDS] else None)

    def render(self, state: dict[str, Any]) -> Any:
        cards = (state or {}).get(CARDS) or {}
        order = sorted(cards.items(), key=lambda item: (item[1]["status"] == ACTIVE, -item[1].get("at", 0), item[0]))
        return [{"card": mask(CARD, key), "status": entry["status"], "reason": entry.get("reason"),
                 "replaced_by": mask(CARD, entry["replaced_by"]) if entry.get("replaced_by") else None,
                 "replaces": mask(CARD, entry["replaces"]) if entry.get("replaces") else None,
                 "since": iso(entry.get("at"))} for key, entry in order]


def identifier_status(kind: str, token: str, masked: str, profile: dict[str, Any] | None) -> dict[str, Any] | None:
    """The screen pop's ``identifier_status`` of a lookup by identifier ``kind``/``token`` (shown as ``masked``): for
    a card the customer's stored ``profile`` (section name -> state) knows as not ``ACTIVE``, ``{"type", "value",
    "status", "reason", "since", "note"}`` (``card_warning``); None for any other identifier or an active card."""
    entry = (((profile or {}).get(CARDS) or {}).get(CARDS) or {}).get(short_key(token)) if kind == CARD else None
    if entry is None or entry["status"] == ACTIVE:
        return None
    since = iso(entry.get("at"))
    return {"type": CARD, "value": masked, "status": entry["status"], "reason": entry.get("reason"), "since": since,
            "note": card_warning(entry["status"], entry.get("reason"), since, masked)}


IDENTIFIER_STATUS_SCHEMA = {**nullable(closed(
    {"type": TEXT, "value": TEXT, "status": TEXT, "reason": nullable(TEXT), "since": nullable(TIME), "note": TEXT},
    required=["type", "value", "status", "note"])),
    "description": "Lookup by a card that is not ACTIVE (BLOCKED, REPLACED, CANCELLED: cards section): the card, "
                   "its status and a note for the agent; null for any other lookup (docs/legacy-batch.md, Cards)."}


def _copy(state: dict[str, Any] | None) -> dict[str, Any]:
    state = state or {}
    return {CARDS: dict(state.get(CARDS) or {}), DROPPED: state.get(DROPPED, 0)}
