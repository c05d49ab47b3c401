"""Known given names and their diminutives: two different real first names are two people (issue #8).

Twins and other household members share surname, birth date (twins), address and phone; what tells them
apart is the given name, and theirs are often close ("Jean"/"Jeanne", "Louis"/"Lucas", "Marie"/"Maria":
Jaro-Winkler ≥ 0.86, or one typing slip apart). A name close to another by spelling is one person's typo
only when it is not itself another real name; ``distinct`` says when both are.

Sources (libraries, no list of our own):

* known given names: Faker's person providers (MIT, released monthly), the first names of the locales in
  ``NAME_LOCALES`` (European languages plus English): about 6 500 names, folded as ``traits.fold`` does.
  Measured against an independent list (gender.c's ``nam_dict``, the data of ``gender-guesser``), it holds
  95 % of the names that list rates 3 or more for France and 99.7 % of those rated 5 or more. A name not
  known counts as a possible typo (the comparison falls back to Jaro-Winkler and the slip rule).
* diminutives: ``nicknames`` (Apache-2.0, hand-curated English names and nicknames, 1 151 names with theirs listed,
  github.com/carltonnorthern/nicknames): a name is a variant of another when the shorter is listed as a nickname
  of the longer ("bill"/"william", "liz"/"elizabeth"), and two names are when both are listed as nicknames of a longer
  third ("bob"/"rob", "bill"/"billy": Robert's, William's), unless they are two forms of one stem
  ("maria"/"marie", "rosa"/"rose", "kate"/"katie": the same letters but the final vowels), or Faker's lists give
  them different sexes ("jean", a man's name in French, and "jenny", both Jeanette's in the list), or the third is
  a compound of two known names ("rose"/"mary" of "rosemary"): the list is made for genealogy, where records use
  them interchangeably, and those are twins' names as often as one person's. A nickname compares *close* to the
  name (``compare.given_level``).
  Names of equal or greater length the list relates directly ("louis" → "louise", "julie" ↔ "julia") stay
  distinct for the same reason. No library on PyPI lists French or other European diminutives
  ("jeannot"/"jean"): where both are known names they count as distinct.
* spellings: two spellings of one name ("matthieu"/"mathieu": doubled letters, a silent "h"; "catherine"/"katherine",
  "elisabeth"/"elizabeth": a hard "c", a "z" after the first letter) are one name, and have the same nicknames.
* compound names: "jean-pierre" (folded "jeanpierre", a known name) and "jean" are not distinct: one is a part
  of the other, split into two known names.

The data loads once per process on first use (about 1 s, 1 MB); every function is a pure, symmetric
function of folded names, so decisions taken from it do not depend on arrival order.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterator
from functools import cache, lru_cache

from processors.identity.matching.traits import fold

# Faker locales whose first names count as known (European languages and English).
NAME_LOCALES = ("fr_FR", "fr_BE", "fr_CH", "de_DE", "de_AT", "de_CH", "it_IT", "es_ES", "pt_PT", "nl_NL",
                "nl_BE", "en_GB", "en_US", "en_IE", "pl_PL", "sv_SE", "da_DK", "no_NO", "fi_FI", "cs_CZ",
                "ro_RO", "hu_HU", "el_GR")
_DOUBLED = re.compile(r"(.)\1+")
_HARD_C = re.compile(r"c(?![eiy])")  # "c" sounding "k": before a, o, u, a consonant, or last
_FINAL_VOWELS = re.compile(r"[aeiou]+$")  # "maria", "marie" → "mar": one stem's forms by language or sex
_MIN_PART = 3  # a compound's parts are names of at least this many letters ("jeanpierre", not "je"+"anpierre")


def folded(name: str) -> str:
    """A given name folded as the trait summary keeps it (``traits._name``): ``"Jean-Pierre"`` → ``"jeanpierre"``."""
    return fold(name).replace(" ", "")


def _first_names(attribute: str) -> Iterator[str]:
    """Folded names of a Faker person provider's ``attribute`` (``first_names``, ``first_names_male``, ...) in
    every locale of ``NAME_LOCALES``."""
    for locale in NAME_LOCALES:
        provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
        yield from (folded(name) for name in getattr(provider, attribute, ()))


@cache
def known_names() -> frozenset[str]:
    """Folded first names of ``NAME_LOCALES`` in Faker's person providers."""
    names = {name for attribute in ("first_names", "first_names_male", "first_names_female")
             for name in _first_names(attribute)}
    names.discard("")
    return frozenset(names)


@cache
def _sexes() -> dict[str, frozenset[str]]:
    """Folded first name → the sexes ("male", "female") Faker's ``NAME_LOCALES`` list it under."""
    sexes: dict[str, set[str]] = {}
    for sex in ("male", "female"):
        for name in _first_names(f"first_names_{sex}"):
            sexes.setdefault(name, set()).add(sex)
    return {name: frozenset(found) for name, found in sexes.items()}


@cache
def _nicknames() -> dict[str, frozenset[str]]:
    """Folded name → its folded nicknames, from the ``nicknames`` package."""
    from nicknames import NickNamer

    listed = {folded(name): frozenset(folded(nick) for nick in nicks)
              for name, nicks in NickNamer().nickname_lookup.items()}
    # The list spells names the English way: a French spelling of one ("catherine", "elisabeth": ``spelling``) has
    # the nicknames of every spelling of it the list has ("kate" is listed under "katherine" only).
    by_spelling: dict[str, set[str]] = {}
    for name, nicks in listed.items():
        by_spelling.setdefault(spelling(name), set()).update(nicks)
    return {name: frozenset(by_spelling[spelling(name)]) for name in {*listed, *known_names()}
            if spelling(name) in by_spelling}


@cache
def _shortened() -> dict[str, frozenset[str]]:
    """Folded nickname → the longer folded names it is listed as a nickname of ("bob" → robert, ...), compounds
    left out: "rose" and "mary", both Rosemary's, are two names, and two people's."""
    full: dict[str, set[str]] = {}
    for name, nicks in _nicknames().items():
        for nick in nicks:
            if len(nick) < len(name) and _parts(name) is None:
                full.setdefault(nick, set()).add(name)
    return {nick: frozenset(names) for nick, names in full.items()}


def _stem(name: str) -> str:
    return _FINAL_VOWELS.sub("", name)


@lru_cache(maxsize=1 << 16)
def nicknames(a: str, b: str) -> bool:
    """Whether two different folded names are one name's by the ``nicknames`` list: the shorter is a nickname of
    the longer ("bill"/"william"), or both are nicknames of a longer third ("bob"/"rob" of "robert") and are
    neither two forms of one stem ("maria"/"marie") nor of two sexes in Faker's lists ("jean"/"jenny"). Symmetric."""
    short, long = sorted((a, b), key=lambda name: (len(name), name))
    if len(short) < len(long) and short in _nicknames().get(long, ()):
        return True
    shared = _shortened().get(a, frozenset()) & _shortened().get(b, frozenset())
    return bool(shared) and a != b and _stem(a) != _stem(b) and _sexes().get(a) == _sexes().get(b)


@lru_cache(maxsize=1 << 16)
def is_known(name: str) -> bool:
    """Whether a folded given name is a real first name (``known_names``; compounds count when the list has them,
    "jeanpierre": two short names run together are as often a typo, "gilbent" = "gil" + "bent")."""
    return name in known_names()


def _parts(name: str) -> tuple[str, str] | None:
    """A folded compound name split into two known names ("jeanpierre" → ("jean", "pierre")), if it is one."""
    names = known_names()
    for cut in range(_MIN_PART, len(name) - _MIN_PART + 1):
        if name[:cut] in names and name[cut:] in names:
            return name[:cut], name[cut:]
    return None


def spelling(name: str) -> str:
    """A folded name without the letters that change its spelling, not its sound: doubled letters and "h"
    ("matthieu" and "mathieu", "isaac" and "isac", "zacharie" and "zacarie" → one spelling), a hard "c" as "k"
    ("catherine"/"katherine", "lucas"/"lukas", "franck"/"frank") and a "z" after the first letter as "s"
    ("elisabeth"/"elizabeth"; "zara" and "sara" are two names). Parents do not give twins two spellings of one
    name; one person's records do carry them (a clerk's or a form's spelling)."""
    unvoiced = _HARD_C.sub("k", name.replace("h", ""))
    return _DOUBLED.sub(r"\1", unvoiced[:1] + unvoiced[1:].replace("z", "s"))


def variants(a: str, b: str) -> bool:
    """Whether two folded names are one name: two spellings of it (``spelling``), nicknames of one name
    (``nicknames``: "bob"/"robert", "bob"/"rob"), or one a part of the other, compound ("jean"/"jeanpierre").
    Symmetric."""
    if spelling(a) == spelling(b) or nicknames(a, b):
        return True
    short, long = sorted((a, b), key=lambda name: (len(name), name))
    parts = _parts(long)
    return parts is not None and short in parts


@lru_cache(maxsize=1 << 16)  # pairs of names recur across customers: about 0.1 µs instead of 10 µs
def distinct(a: str, b: str) -> bool:
    """Two folded given names that are both real first names, different, and not variants of one another: two
    people, however close their spelling ("jean"/"jeanne", "marie"/"maria", "lucie"/"lucas"). Symmetric."""
    return a != b and is_known(a) and is_known(b) and not variants(a, b)
