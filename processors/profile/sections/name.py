"""The customer's name: given name and surname, with the channel that gave them, and the birth year.

Fed by the traits of ``IdentifiersObserved`` (the standard keys of ``bus/identifiers/traits.py``: ``given_name``,
``family_name``, or ``full_name`` split by nameparser when the parts are missing), the only events that carry a
person's name, and only those the matcher placed on this customer as its person (``personal``: identity does not feed
it a record whose traits it refuses here, and a claim that moves a family phone to its earliest event's customer leaves
the name observations that came through it where the matcher put them; a housemate's IVR name followed
the phone to its keeper, in the arrival orders where her records came first).

**The rule** (``shown``; ``name_choice``), the same in every arrival order (event time, never arrival): the given
name and the surname are chosen each on its own among the kept observations. Close spellings count together (the
matcher's comparison: "Durand"/"Durant", "Catherine"/"Katherine"/"Kate"), one channel at one site on one day counts
once (a visit's records, a call's versions), the group with the most evidence is shown, and in it full names before
nicknames, then the spelling of the most trusted source (``NAME_TRUST``: the customer's own typing on the web or app,
or the legacy master record, over what a clerk or an agent typed), then the most observed, then the latest. The
latest observation from a verified source (web, master record) that gives another name retires what was observed
before it: a change of name (a marriage) typed by the customer is shown at once. So tester F2's "Catherine Durand"
(web), "Kate Durand" (IVR) and twice "Katherine Durant" (one clerk's typo) show Catherine Durand, and two "Kate
Lenoir" keep Catherine Lenoir's pop "Catherine" (F3). A new name only clerks or agents report wins once it is seen on
more days or channels than the old one, or as many and the old one from no more trusted a source. The channel and time
shown are those of the observation that agrees with both chosen parts (then the most trusted, then the latest).

**The birth year** (``birth_year``; ``shown_year``): what tells namesakes at one address apart (father and son
"Jean Dupont", testers), so that an agent can ask the right question. Only the year of the observations' birth
dates, never the day or month: the screen pop shows enough of a person's data to recognise them and not enough to
use it, as it masks identifiers (``bus.identifiers.masking``). The same rule picks it, years one digit off or with
two digits swapped counting together (a clerk's 1926 for 1962 does not win by being keyed twice). An observation
with a birth date and no name is not kept (``wants``).

Names are shown as they are, as everywhere on the screen pop (identifier values are masked: ``masking.py``); they are
never logged.

State: ``{"seen": {event id: {"given_name", "family_name", "channel", "at"[, "site"][, "born"]}}}`` (``site``: the
envelope's branch or call-center site, when it had one; ``born``: the birth date's year, when the observation gave
one), the latest
``ProfileLimits.name_observations`` observations by event time, the latest from a verified source always among them
(what the rule counts, and what remains when an
operator's split takes some away). At a split an observation follows the moved identifiers it came through
(``ProfileBook``: ``entries`` are event ids), so the other person's name leaves this screen pop with them; a contact
that leaves (a split's, an operator's ``move-contact``) takes the IVR or counter record it named in
``traits_event_id`` along (``split``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from nameparser import HumanName

from bus.identifiers.traits import BIRTH_DATE, FAMILY_NAME, FULL_NAME, GIVEN_NAME, birth_date
from bus.serde import Event
from bus.topics import IDENTIFIERS_OBSERVED, TopicSpec
from processors.profile.limits import keep_newest, short_key, short_text
from processors.profile.section import ProfileSection
from processors.profile.sections._time import iso, occurred_micros
from processors.profile.sections.name_choice import (
    FAMILY,
    GIVEN,
    NAME_TRUST,
    VERIFIED,
    YEAR,
    Observed,
    Part,
    choose,
    name_key,
    observed,
)
from processors.profile.shapes import TEXT, TIME, closed

OBSERVED = "omnibus.contact.IdentifiersObserved"
SEEN = "seen"
BORN = "born"  # an observation's birth year (state key)
SITE = "site"  # the envelope's site, when it had one (state key): what counts once (name_choice)


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


def birth_year(traits: dict[str, str] | None) -> int | None:
    """The year of an event's ``birth_date`` trait (normalised by ``bus.identifiers.traits.birth_date``), None when
    it has none or one that is no plausible birth date."""
    value = (traits or {}).get(BIRTH_DATE)
    if not value:
        return None
    try:
        return int(birth_date(value)[:4])
    except ValueError:
        return None


def _observed(seen: dict[str, dict[str, Any]], field: str, part: Part) -> list[Observed]:
    found = (observed(event_id, entry.get(field), entry.get("channel") or "", entry.get(SITE), entry["at"], part)
             for event_id, entry in seen.items())
    return [item for item in found if item is not None]


def shown(seen: dict[str, dict[str, Any]]) -> tuple[str, dict[str, Any]] | None:
    """The name the screen pop shows of ``seen`` (the module's rule): ``(event id, entry)`` of the observation that
    agrees with both chosen parts best (then the most trusted, then the latest), its ``given_name`` and
    ``family_name`` the chosen spellings as written; None when empty."""
    if not seen:
        return None
    parts = {field: choose(_observed(seen, field, part), part)
             for field, part in (("given_name", GIVEN), ("family_name", FAMILY))}
    keys = {field: (item.key if item else None) for field, item in parts.items()}

    def rank(item: tuple[str, dict[str, Any]]) -> tuple[int, int, int, str]:
        agree = sum(keys[field] is not None and name_key(item[1].get(field) or "") == keys[field] for field in keys)
        return agree, NAME_TRUST.get(item[1].get("channel") or "", 0), *_order(item)

    event_id, entry = max(seen.items(), key=rank)
    return event_id, {**entry, **{field: (item.text if item else None) for field, item in parts.items()}}


def shown_year(seen: dict[str, dict[str, Any]]) -> int | None:
    """The birth year the screen pop shows of ``seen`` (the module's rule), None when no observation gave one."""
    chosen = choose(_observed(seen, BORN, YEAR), YEAR)
    return int(chosen.text) if chosen else None


class NameSection(ProfileSection):
    name: ClassVar[str] = "name"
    topics: ClassVar[tuple[TopicSpec, ...]] = (IDENTIFIERS_OBSERVED,)
    schemas: ClassVar[frozenset[str]] = frozenset({OBSERVED})
    places: ClassVar[bool] = False  # an observation is no contact: one without identifiers stays unplaced
    personal: ClassVar[bool] = True  # only the matcher's placement of an observation puts it here (module doc)
    render_schema: ClassVar[dict[str, Any]] = closed(
        {"given_name": TEXT, "family_name": TEXT, "channel": TEXT, "observed_at": TIME,
         "birth_year": {"type": "integer", "description": "The year of the person's birth date (never the day or "
                        "month): tells namesakes apart, e.g. a father and son of one name. Left out when no "
                        "observation gave a birth date."}},
        required=[], description="The name shown (the rule: ``shown``) with its channel and time, and the birth year "
        "(``shown_year``): a part not given is left out; {} when no name was observed.")

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
        entry = {"given_name": short_text(given), "family_name": short_text(family), "channel": envelope["channel"],
                 "at": occurred_micros(event)}
        if envelope.get("site"):
            entry[SITE] = short_text(envelope["site"])
        if (year := birth_year(event.value.get("traits"))) is not None:
            entry[BORN] = year
        seen[short_key(envelope["event_id"])] = entry
        return self._bounded(seen)

    def _bounded(self, seen: dict[str, Any]) -> dict[str, Any]:
        """The latest ``name_observations`` by event time, one of them the latest from a verified source when there
        is one: the customer's own spelling is not pushed out by a clerk's later visits (``name_choice``)."""
        verified = [item for item in seen.items() if NAME_TRUST.get(item[1].get("channel") or "", 0) >= VERIFIED]
        keep = max(verified, key=_order)[0] if verified else None
        kept, _ = keep_newest(seen, self.limits.name_observations,
                              lambda event_id, entry: (event_id == keep, *_order((event_id, entry))))
        return {SEEN: kept}

    def merge(self, survivor: dict[str, Any] | None, merged: dict[str, Any] | None) -> dict[str, Any] | None:
        """Both customers' observations; the rule picks what is shown of them."""
        if not survivor or not merged:
            return survivor or merged
        return self._bounded({**(merged.get(SEEN) or {}), **(survivor.get(SEEN) or {})})

    def split(self, state: dict[str, Any] | None,
              leaving: Sequence[Event]) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """The observations the contacts ``leaving`` named (``traits_event_id``: a call's IVR record, a visit's counter
        record) go with them: the caller's name follows the call an operator moves or splits off."""
        named = {short_key(event.value["traits_event_id"]) for event in leaving if event.value.get("traits_event_id")}
        return self.part(state, named) if named else (state, None)

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
        """``{"given_name", "family_name", "channel", "observed_at", "birth_year"}``: the observation the rule shows
        (``shown``) and the birth year (``shown_year``), a name part or the year left out when not given; ``{}`` when no
        name was observed (never null, like every section)."""
        seen = state.get(SEEN) or {}
        chosen = shown(seen)
        if chosen is None:
            return {}
        entry = chosen[1]
        view = {"given_name": entry["given_name"], "family_name": entry["family_name"],
                "channel": entry["channel"], "observed_at": iso(entry["at"]), "birth_year": shown_year(seen)}
        return {key: value for key, value in view.items() if value is not None}
