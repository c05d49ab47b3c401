"""The customer's name as last given: given name and surname, with the channel that gave them.

Fed by the traits of ``IdentifiersObserved`` (the standard keys of ``bus/identifiers/traits.py``: ``given_name``,
``family_name``, or ``full_name`` split by nameparser when the parts are missing), the only events that carry a
person's name. The latest observation by event time (``envelope.occurred_at``, then event id) is shown, whatever the
arrival order: a late, older observation never replaces a newer one.

Names are shown as they are, as everywhere on the screen pop (identifier values are masked: ``masking.py``); they are
never logged.

State: ``{"seen": {event id: {"given_name", "family_name", "channel", "at"}}}``, the latest
``ProfileLimits.name_observations`` observations (one is enough to show; the others are what remains when an
operator's split takes the latest away). At a split an observation follows the moved identifiers it came through
(``ProfileBook``: ``entries`` are event ids), so the other person's name leaves this screen pop with them.
"""

from __future__ import annotations

from typing import Any, ClassVar

from nameparser import HumanName

from bus.identifiers.traits import FAMILY_NAME, FULL_NAME, GIVEN_NAME
from bus.serde import Event
from bus.topics import IDENTIFIERS_OBSERVED, TopicSpec
from processors.profile.limits import keep_newest, short_key, short_text
from processors.profile.section import ProfileSection
from processors.profile.sections._time import iso, occurred_micros

OBSERVED = "omnibus.contact.IdentifiersObserved"
SEEN = "seen"


def given_and_family(traits: dict[str, str] | None) -> tuple[str | None, str | None]:
    """``(given name, surname)`` of an event's traits (either may be None): the standard keys, else ``full_name``
    split by nameparser for the parts missing."""
    traits = traits or {}
    given, family = traits.get(GIVEN_NAME) or None, traits.get(FAMILY_NAME) or None
    if (given is None or family is None) and traits.get(FULL_NAME):
        parsed = HumanName(traits[FULL_NAME])
        given, family = given or parsed.first or None, family or parsed.last or None
    return given, family


def _order(item: tuple[str, dict[str, Any]]) -> tuple[int, str]:
    return item[1]["at"], item[0]


class NameSection(ProfileSection):
    name: ClassVar[str] = "name"
    topics: ClassVar[tuple[TopicSpec, ...]] = (IDENTIFIERS_OBSERVED,)
    schemas: ClassVar[frozenset[str]] = frozenset({OBSERVED})
    places: ClassVar[bool] = False  # an observation is no contact: one without identifiers stays unplaced

    def wants(self, event: Event) -> bool:
        return given_and_family(event.value.get("traits")) != (None, None)

    def identifiers(self, event: Event) -> list[dict[str, str]]:
        return []  # identity places an observation by its own identifiers already

    def apply(self, state: dict[str, Any] | None, event: Event) -> dict[str, Any]:
        seen = dict((state or {}).get(SEEN) or {})
        given, family = given_and_family(event.value.get("traits"))
        if given is None and family is None:
            return {SEEN: seen}
        envelope = event.value["envelope"]
        seen[short_key(envelope["event_id"])] = {
            "given_name": short_text(given), "family_name": short_text(family),
            "channel": envelope["channel"], "at": occurred_micros(event)}
        return self._bounded(seen)

    def _bounded(self, seen: dict[str, Any]) -> dict[str, Any]:
        kept, _ = keep_newest(seen, self.limits.name_observations, lambda event_id, entry: _order((event_id, entry)))
        return {SEEN: kept}

    def merge(self, survivor: dict[str, Any] | None, merged: dict[str, Any] | None) -> dict[str, Any] | None:
        """Both customers' observations; the latest is shown."""
        if not survivor or not merged:
            return survivor or merged
        return self._bounded({**(merged.get(SEEN) or {}), **(survivor.get(SEEN) or {})})

    def entries(self, event: Event) -> list[str]:
        return [short_key(event.value["envelope"]["event_id"])] if self.wants(event) else []

    def holds(self, state: dict[str, Any]) -> set[str]:
        return set(state.get(SEEN) or {})

    def part(self, state: dict[str, Any] | None,
             going: set[str]) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        if not state:
            return state, None
        seen = state.get(SEEN) or {}
        kept = {event_id: entry for event_id, entry in seen.items() if event_id not in going}
        moved = {event_id: entry for event_id, entry in seen.items() if event_id in going}
        return ({SEEN: kept} if kept else None), ({SEEN: moved} if moved else None)

    def render(self, state: dict[str, Any]) -> dict[str, Any]:
        """``{"given_name", "family_name", "channel", "observed_at"}`` of the latest observation, a name part left out
        when it was not given; ``{}`` when no name was observed (never null, like every section)."""
        seen = state.get(SEEN) or {}
        if not seen:
            return {}
        _, latest = max(seen.items(), key=_order)
        shown = {"given_name": latest["given_name"], "family_name": latest["family_name"],
                 "channel": latest["channel"], "observed_at": iso(latest["at"])}
        return {key: value for key, value in shown.items() if value is not None}
