"""A person's traits normalised for comparison, kept as a small order-independent summary.

Input: the standard trait keys of ``IdentifiersObserved.traits`` (``given_name``, ``family_name``,
``full_name``, ``birth_date`` ISO ``YYYY-MM-DD``, ``address_line``, ``postcode``, ``city``, ``country``; see
``bus/identifiers/traits.py``, imported here). Output: a ``Summary``, a JSON-safe dict from a short
field code to at most ``MAX_VALUES`` normalised values, sorted. Two summaries combine by union, keeping
the smallest values: the result does not depend on the order in which the traits arrived.

City and country are the place an address line and a postcode stand in (``PLACE``), not evidence of a person
of their own: they are kept only beside an address line or a postcode, so an event with a town alone has no
summary, as before (``compare.place_level`` reads them).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from datetime import date

from nameparser import HumanName

from bus.identifiers.traits import ADDRESS_LINE, BIRTH_DATE, FAMILY_NAME, FULL_NAME, GIVEN_NAME
from bus.identifiers.traits import CITY as CITY_TRAIT  # the events' keys; CITY, COUNTRY, POSTCODE below: the summary's
from bus.identifiers.traits import COUNTRY as COUNTRY_TRAIT
from bus.identifiers.traits import POSTCODE as POSTCODE_TRAIT

Summary = dict[str, list[str]]

GIVEN, FAMILY, BIRTH, ADDRESS, POSTCODE, CITY, COUNTRY = "gn", "fn", "bd", "ad", "pc", "ci", "co"
FIELDS = (GIVEN, FAMILY, BIRTH, ADDRESS, POSTCODE, CITY, COUNTRY)
PLACE = (ADDRESS, POSTCODE)  # the fields a city and a country are the context of
MAX_VALUES = 3  # per field: a typo and a maiden name fit; a customer stays a few hundred bytes

_NOT_WORD = re.compile(r"[^0-9a-z ]+")
_SPACES = re.compile(r"\s+")
# Common address abbreviations, so "12 Main Street" and "12 main st." compare exact.
_ADDRESS_WORDS = {"street": "st", "road": "rd", "avenue": "ave", "boulevard": "blvd", "drive": "dr",
                  "lane": "ln", "place": "pl", "court": "ct", "square": "sq", "apartment": "apt", "suite": "ste",
                  "rue": "r", "chemin": "ch", "allee": "all"}


def fold(text: str) -> str:
    """Lower case, accents removed, punctuation to spaces, spaces collapsed: ``"Zoë-Anne "`` → ``"zoe anne"``."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    ascii_only = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _SPACES.sub(" ", _NOT_WORD.sub(" ", ascii_only)).strip()


def _name(text: str | None) -> str | None:
    folded = fold(text or "")
    return folded.replace(" ", "") or None  # "de la cruz" and "delacruz" are one surname


def _birth_date(text: str | None) -> str | None:
    try:
        return date.fromisoformat((text or "").strip()[:10]).isoformat()
    except ValueError:
        return None


def _address(text: str | None) -> str | None:
    words = [_ADDRESS_WORDS.get(word, word) for word in fold(text or "").split()]
    return " ".join(words) or None


def _postcode(text: str | None) -> str | None:
    return fold(text or "").replace(" ", "").upper() or None


_CITY_WORDS = {"saint": "st", "sainte": "ste"}
_NOT_CITY = {"cedex"}  # a sorting office's mark, not another town: "Lyon Cedex 03" is Lyon


def _city(text: str | None) -> str | None:
    """Folded, spaces dropped, "saint" as "st", district numbers and "cedex" left out: "Saint-Étienne",
    "St Etienne" → "stetienne"; "Paris 15e" is not told from "Paris" (an arrondissement is not another town)."""
    words = [_CITY_WORDS.get(word, word) for word in fold(text or "").split()
             if word not in _NOT_CITY and not word.rstrip("emrd").isdigit()]
    return "".join(words) or None


def _country(text: str | None) -> str | None:
    return (text or "").strip().upper() or None  # ISO 3166-1 alpha-2 already (bus.identifiers.traits.country)


_READ = (GIVEN_NAME, FAMILY_NAME, FULL_NAME, BIRTH_DATE, ADDRESS_LINE, POSTCODE_TRAIT)  # evidence of a person


def summarize(traits: Mapping[str, str] | None) -> Summary:
    """The comparison summary of one event's traits (empty when it carries none we compare)."""
    if not traits or not any(traits.get(key) for key in _READ):
        return {}  # most events carry no traits: skip folding empty strings (~25 µs an event, #9)
    given, family = traits.get(GIVEN_NAME), traits.get(FAMILY_NAME)
    if (not given or not family) and traits.get(FULL_NAME):
        parsed = HumanName(traits[FULL_NAME])
        given, family = given or parsed.first, family or parsed.last
    values = {GIVEN: _name(given), FAMILY: _name(family), BIRTH: _birth_date(traits.get(BIRTH_DATE)),
              ADDRESS: _address(traits.get(ADDRESS_LINE)), POSTCODE: _postcode(traits.get(POSTCODE_TRAIT))}
    if values[ADDRESS] or values[POSTCODE]:
        values |= {CITY: _city(traits.get(CITY_TRAIT)), COUNTRY: _country(traits.get(COUNTRY_TRAIT))}
    return {field: [value] for field, value in values.items() if value}


def combine(first: Summary | None, second: Summary | None) -> Summary:
    """Union of two summaries, at most ``MAX_VALUES`` per field, sorted: the smallest, except given names
    (``_kept_given``). Either way the first ``MAX_VALUES`` of one total order: order-independent."""
    out: Summary = {}
    for field in FIELDS:
        union = {*(first or {}).get(field, ()), *(second or {}).get(field, ())}
        values = _kept_given(union) if field == GIVEN else sorted(union)[:MAX_VALUES]
        if values:
            out[field] = values
    return out


def _kept_given(names: set[str]) -> list[str]:
    """The given names a customer keeps: real first names before others (typos), longer before shorter (a full name
    before its nicknames). Keeping the alphabetically smallest dropped "william" beside "bill", "billy" and a typo,
    and the customer then compared close with William's twin Robert through "bill"."""
    from processors.identity.matching.given_names import is_known  # it folds names with this module's ``fold``

    kept = sorted(names, key=lambda name: (not is_known(name), -len(name), name))[:MAX_VALUES]
    return sorted(kept)
