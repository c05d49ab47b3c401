"""The customer's name: given name and surname, with the channel that gave them, and the birth year.

Fed by the traits of ``IdentifiersObserved`` (the standard keys of ``bus/identifiers/traits.py``: ``given_name``,
``family_name``, or ``full_name`` split by nameparser when the parts are missing), the only events that carry a
person's name, and only those the matcher placed on this customer as its person (``personal``: identity does not feed
it a record whose traits it refuses here, and a claim that moves a family phone to its earliest event's customer leaves
the name observations that came through it where the matcher put them; tester12 S1: a housemate's IVR name followed
the phone to its keeper, in the arrival orders where her records came first).

**The rule** (``shown``), the same in every arrival order (event time, never arrival): among the kept observations,
the spelling that most of them support (an observation supports a spelling when every part it gives agrees with it,
compared without case or accents: "Marie" alone supports "Marie Dumas"), then the most complete one (both parts over
one), then the one from the most trusted source (``NAME_TRUST``: the customer's own typing on the web or app, or the
legacy master record, over what a clerk or an agent typed; of a spelling, the best source that gave exactly it), then
the latest by event time (``envelope.occurred_at``, then event id); shown as its latest observation wrote it. So a
one-off typo ("Durnad" among three "Durand", tester12; Claire Fournier's one counter visit typed "Fourneir" after her
own web sign-up, testers) does not replace the name, and a new name (a marriage) wins once it is observed more often
than the old one among the kept observations, or as often and from as trusted a source (at once when each was
observed once, the new one on the web or in the master record). Limit: a typo a clerk repeats more often than the
right spelling was observed is shown.

**The birth year** (``birth_year``; ``shown_year``): what tells namesakes at one address apart (father and son
"Jean Dupont", testers), so that an agent can ask the right question. Only the year of the observations' birth
dates, never the day or month: the screen pop shows enough of a person's data to recognise them and not enough to
use it, as it masks identifiers (``bus.identifiers.masking``). The same rule picks it: the year most of the kept
observations that give a birth date give, then the most trusted source, then the latest. An observation with a
birth date and no name is not kept (``wants``).

Names are shown as they are, as everywhere on the screen pop (identifier values are masked: ``masking.py``); they are
never logged.

State: ``{"seen": {event id: {"given_name", "family_name", "channel", "at"[, "born"]}}}`` (``born``: the birth
date's year, when the observation gave one), the latest
``ProfileLimits.name_observations`` observations by event time (what the rule counts, and what remains when an
operator's split takes some away). At a split an observation follows the moved identifiers it came through
(``ProfileBook``: ``entries`` are event ids), so the other person's name leaves this screen pop with them; a contact
that leaves (a split's, an operator's ``move-contact``) takes the IVR or counter record it named in
``traits_event_id`` along (``split``).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from typing import Any, ClassVar

from nameparser import HumanName

from bus.identifiers.traits import BIRTH_DATE, FAMILY_NAME, FULL_NAME, GIVEN_NAME, birth_date
from bus.serde import Event
from bus.topics import IDENTIFIERS_OBSERVED, TopicSpec
from processors.profile.limits import keep_newest, short_key, short_text
from processors.profile.section import ProfileSection
from processors.profile.sections._time import iso, occurred_micros
from processors.profile.shapes import TEXT, TIME, closed

OBSERVED = "omnibus.contact.IdentifiersObserved"
SEEN = "seen"
BORN = "born"  # an observation's birth year (state key)

# How far a channel's name and birth date are the person's own: typed by the customer (web hall, app: Segment
# identify) or kept in the legacy master record, over a clerk's or an agent's typing (branch counter, call center,
# IVR). A tie-break only: a spelling observed more often wins whatever its source (module doc).
NAME_TRUST = {"WEB": 2, "BUSINESS_SYSTEM": 2, "BRANCH": 1, "CALL_CENTER": 1}


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


def _trust(entry: dict[str, Any]) -> int:
    return NAME_TRUST.get(entry.get("channel") or "", 0)


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


def _folded(part: str | None) -> str | None:
    """A name part compared without case, accents or surrounding blanks (None: not given)."""
    if not part:
        return None
    decomposed = unicodedata.normalize("NFKD", part.strip().casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char)) or None


def _spelling(entry: dict[str, Any]) -> tuple[str | None, str | None]:
    return _folded(entry.get("given_name")), _folded(entry.get("family_name"))


def _supports(observed: tuple[str | None, str | None], spelling: tuple[str | None, str | None]) -> bool:
    return all(part is None or part == other for part, other in zip(observed, spelling, strict=True))


def shown(seen: dict[str, dict[str, Any]]) -> tuple[str, dict[str, Any]] | None:
    """The observation ``(event id, entry)`` the screen pop shows of ``seen`` (the module's rule), None when empty."""
    if not seen:
        return None
    spellings = {event_id: _spelling(entry) for event_id, entry in seen.items()}

    def rank(item: tuple[str, dict[str, Any]]) -> tuple[int, int, int, int, str]:
        spelling = spellings[item[0]]
        support = sum(_supports(other, spelling) for other in spellings.values())
        parts = sum(part is not None for part in spelling)
        trust = max(_trust(seen[other]) for other, given in spellings.items() if given == spelling)
        return (support, parts, trust, *_order(item))

    return max(seen.items(), key=rank)


def shown_year(seen: dict[str, dict[str, Any]]) -> int | None:
    """The birth year the screen pop shows of ``seen`` (the module's rule), None when no observation gave one."""
    years = {event_id: entry[BORN] for event_id, entry in seen.items() if entry.get(BORN) is not None}
    if not years:
        return None

    def rank(event_id: str) -> tuple[int, int, int, str]:
        same = [other for other, year in years.items() if year == years[event_id]]
        return (len(same), max(_trust(seen[other]) for other in same), *_order((event_id, seen[event_id])))

    return years[max(years, key=rank)]


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
        if (year := birth_year(event.value.get("traits"))) is not None:
            entry[BORN] = year
        seen[short_key(envelope["event_id"])] = entry
        return self._bounded(seen)

    def _bounded(self, seen: dict[str, Any]) -> dict[str, Any]:
        kept, _ = keep_newest(seen, self.limits.name_observations, lambda event_id, entry: _order((event_id, entry)))
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
