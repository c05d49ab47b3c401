"""Comparison levels of two customers, per trait and per identifier type.

Levels (the usual Fellegi–Sunter agreement patterns): ``exact``; ``close`` (names: Jaro-Winkler
similarity ≥ ``name_close``, except two given names that are both real, different first names, which are
``different`` however close: ``given_names.distinct``; dates: one digit off, two neighbouring digits swapped or
day and month transposed; addresses: token-sort ratio ≥ ``address_close`` percent); postcodes have no ``close``: one
digit off is another town as a rule (31000 Toulouse, 33000 Bordeaux), and the labelled set has no postcode typos to
train a close level on; ``different``; ``missing`` when either side has no value. An address
line is compared where it is (``place_level``): one that agrees (exact or close) in another place (postcodes, else
towns, or countries that differ) is ``elsewhere``, no evidence either way (``defaults.py``); a postcode that
agrees in two countries is ``different``; towns are compared only where the postcodes cannot be. Identifier types
have ``agree`` (a common identifier), ``different`` (both have the type, none in common: two national IDs
are a conflict) or ``missing``; a type the m/u table gives a ``login`` level (the e-mail) has ``login`` instead of
``agree`` between a login and a known customer without one (``login_level``). Distances come from rapidfuzz.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from rapidfuzz.distance import OSA, JaroWinkler
from rapidfuzz.fuzz import token_sort_ratio

from bus.identifiers.kinds import ACCOUNT, CARD, CUSTOMER_NUMBER, NATIONAL_ID, USER_ID
from processors.identity.matching.given_names import distinct, is_known, nicknames
from processors.identity.matching.traits import ADDRESS, BIRTH, CITY, COUNTRY, FAMILY, GIVEN, POSTCODE, Summary


class Level(StrEnum):
    EXACT = "exact"
    CLOSE = "close"
    AGREE = "agree"  # identifiers: at least one in common
    LOGIN = "login"  # identifiers: one in common, a login (USER_ID) and a known customer without one (login_level)
    DIFFERENT = "different"
    MISSING = "missing"
    ELSEWHERE = "elsewhere"  # addresses: the line agrees, the place does not (place_level)


# Identifier types a system of record or a counter gives its customer or checks (not a browser's, a device's, a
# mailbox's or a phone's): a customer holding one without a login meets a login at the e-mail's login level.
KNOWN_CUSTOMER = frozenset({CUSTOMER_NUMBER, ACCOUNT, CARD, NATIONAL_ID})

# Names of the compared fields (keys of the m/u table): the trait codes, then identifier types.
TRAIT_FIELDS = {GIVEN: "given_name", FAMILY: "family_name", BIRTH: "birth_date", ADDRESS: "address",
                POSTCODE: "postcode", CITY: "city"}


@dataclass(frozen=True, slots=True)
class Thresholds:
    name_close: float = 0.86  # Jaro-Winkler similarity, 0..1
    address_close: float = 85.0  # rapidfuzz token-sort ratio, 0..100


def name_level(a: str, b: str, limits: Thresholds) -> Level:
    """Close: Jaro-Winkler similarity ≥ ``name_close`` (0.86: "jonathan"/"jonahtan" 0.975 are close,
    "marine"/"marthe" 0.844 and "jean"/"joan" 0.85, two people of one household, are not)."""
    if a == b:
        return Level.EXACT
    return Level.CLOSE if JaroWinkler.similarity(a, b) >= limits.name_close else Level.DIFFERENT


def given_level(a: str, b: str, limits: Thresholds) -> Level:
    """``name_level``, except that two real first names, different and not variants of one another, are
    ``different`` whatever their similarity ("jean"/"jeanne" 0.97, "marie"/"maria" 0.92: twins, issue #8);
    two nicknames of one name ("bill"/"william", "bob"/"rob": ``given_names.nicknames``) are ``close`` however
    unlike their spelling ("Bill Bernard" was refused as another person than William, born the same
    day at the same postcode); a real name and a misspelling of it ("lucy"/"lncy") compare as ``name_level`` says."""
    if a == b:
        return Level.EXACT
    if distinct(a, b):
        return Level.DIFFERENT
    return Level.CLOSE if nicknames(a, b) else name_level(a, b, limits)


def date_level(a: str, b: str, limits: Thresholds) -> Level:
    """ISO dates: exact; close when one typing slip apart (a digit mistyped, or two neighbouring digits swapped:
    "1957"/"1975", "1990"/"1909", day "12"/"21"; optimal string alignment distance 1) or day and month swapped;
    else different. A swapped pair of digits was a second customer and no review (the birth date's
    veto refused one person's records)."""
    if a == b:
        return Level.EXACT
    year_a, month_a, day_a = a.split("-")
    year_b, month_b, day_b = b.split("-")
    if year_a == year_b and (month_a, day_a) == (day_b, month_b):
        return Level.CLOSE
    return Level.CLOSE if OSA.distance(a, b) <= 1 else Level.DIFFERENT


def address_level(a: str, b: str, limits: Thresholds) -> Level:
    if a == b:
        return Level.EXACT
    return Level.CLOSE if token_sort_ratio(a, b) >= limits.address_close else Level.DIFFERENT


def postcode_level(a: str, b: str, limits: Thresholds) -> Level:
    """Exact or different, never close: a postcode one digit off names another place (French, German and US
    postcodes: 31000 Toulouse / 33000 Bordeaux), so it is no evidence of one person, and a close level's weight
    (+3.9 bits) tipped namesakes born the same day in two towns into a merge."""
    return Level.EXACT if a == b else Level.DIFFERENT


def city_level(a: str, b: str, limits: Thresholds) -> Level:
    """Towns as ``name_level`` compares names: "toulose" is Toulouse mistyped, close; "bordeaux" is different."""
    return name_level(a, b, limits)


_COMPARE: dict[str, Callable[[str, str, Thresholds], Level]] = {
    GIVEN: given_level, FAMILY: name_level, BIRTH: date_level, ADDRESS: address_level, POSTCODE: postcode_level,
    CITY: city_level,
}
_RANK = {Level.EXACT: 0, Level.CLOSE: 1, Level.DIFFERENT: 2}


def best_level(field: str, first: Sequence[str], second: Sequence[str], limits: Thresholds) -> Level:
    """The best agreement over every pair of known values (a customer may hold a typo and the right one)."""
    if not first or not second:
        return Level.MISSING
    compare = _COMPARE[field]
    return min((compare(a, b, limits) for a in first for b in second), key=_RANK.__getitem__)


def place_level(first: Summary, second: Summary, limits: Thresholds = Thresholds()) -> Level:
    """Whether two summaries' addresses are in one place: ``different`` when both name a country and none in
    common; else the postcodes' level when both have one (exact or different); else the towns' (``city_level``);
    else ``missing``. A postcode decides over a town: "Paris" and "Paris 15e" or a town's other spelling are no
    other place, and channels that send a postcode send it from the form's postcode field (``bus.identifiers.traits``:
    web ``address.postalCode``, counter ``customer.postcode``, call-center and legacy columns)."""
    if first.get(COUNTRY) and second.get(COUNTRY) and not set(first[COUNTRY]) & set(second[COUNTRY]):
        return Level.DIFFERENT
    for code in (POSTCODE, CITY):
        level = best_level(code, first.get(code, []), second.get(code, []), limits)
        if level is not Level.MISSING:
            return level
    return Level.MISSING


def swapped_names(first: Summary, second: Summary, limits: Thresholds = Thresholds()) -> bool:
    """Given and family name exchanged on one side (a form filled in the wrong order): each name found
    as the other's (the second one close or one slip away: a swapped form may carry a typo too), or one
    found and the other missing. A household's shared surname alone is not."""
    def crossed(a: Summary, b: Summary, one: str, other: str) -> bool:
        if not set(a.get(one, ())) & set(b.get(other, ())):
            return False
        if not a.get(other) or not b.get(one):
            return True
        return best_level(GIVEN, a[other], b[one], limits) is not Level.DIFFERENT or mistyped(a[other], b[one])

    return crossed(first, second, GIVEN, FAMILY) or crossed(first, second, FAMILY, GIVEN)


def mistyped(first: Sequence[str], second: Sequence[str]) -> bool:
    """Some value of ``first`` is one typing slip from one of ``second``: a letter dropped, doubled, replaced,
    or two neighbours swapped (optimal string alignment distance 1)."""
    return any(OSA.distance(a, b) <= 1 for a in first for b in second)


def given_values(values: Sequence[str], limits: Thresholds) -> list[str]:
    """One customer's given names without its misspellings of them: a value that is no real first name and is
    close to (Jaro-Winkler) or one slip from a real one the customer also holds ("maie" beside "marie") is that
    name's typo, and compares as that name does. Else the typo would be close to a twin's real name ("maie" /
    "marine" 0.89) that the real name is not (issue #8). A pure function of the values: order-independent."""
    return list(_given_values(tuple(values), limits.name_close))


@lru_cache(maxsize=1 << 14)  # a customer's few names recur in every comparison it takes part in
def _given_values(values: tuple[str, ...], name_close: float) -> tuple[str, ...]:
    known = [value for value in values if is_known(value)]
    if not known or len(known) == len(values):
        return values
    return tuple(value for value in values if value in known or not any(
        OSA.distance(value, name) <= 1 or JaroWinkler.similarity(value, name) >= name_close for name in known))


def misplaced_given(first: Summary, second: Summary) -> bool:
    """``first`` has no given name and its family name is a real first name, another than each of ``second``'s
    (``given_names.distinct``): a form with the given name in the surname's field ("Céline" for Céline Valette)
    says which person it is, and it is not ``second``'s ("Caroline Valette", her twin: issue #8's twins merged
    through such a record). The caller checks that the family names differ: "Martin" as a surname beside another
    record's "Martin" is a surname."""
    family, given = first.get(FAMILY, []), second.get(GIVEN, [])
    return (not first.get(GIVEN) and bool(family) and bool(given)
            and all(is_known(name) and all(distinct(name, other) for other in given) for name in family))


def mistyped_given(first: Sequence[str], second: Sequence[str]) -> bool:
    """``mistyped`` for given names, leaving out pairs of two real, different first names ("marie"/"maria"
    is one slip but two people: ``given_names.distinct``)."""
    return any(OSA.distance(a, b) <= 1 and not distinct(a, b) for a in first for b in second)


def conflicting_given(first: Sequence[str], second: Sequence[str]) -> bool:
    """A given name only ``first`` holds and one only ``second`` holds are two real, different first names
    (``given_names.distinct``): whatever else the two sides agree on, they name two people. A customer keeps every
    given name its records carried ("bill" beside "william"), so agreement through one of them, a nickname two
    names share ("bill": William's and Robert's), must not hide the names the sides disagree on: twins merged
    through a third record's nickname. A name both sides hold excuses nothing of its own: one person
    known by two real names ("jean", "pierre") still agrees with a record of either."""
    only_first = [name for name in first if name not in second]
    only_second = [name for name in second if name not in first]
    return any(distinct(a, b) for a in only_first for b in only_second)


def trait_levels(first: Summary, second: Summary, limits: Thresholds = Thresholds(), *,
                 slip: bool = True) -> dict[str, Level]:
    """``{"given_name": Level, ...}`` for every trait field; names swapped on one side count as close, and so
    does a given name one typing slip from the other's when the birth dates are the same; a given name missing on a
    side whose family name is another real first name than the other's given name is different (``misplaced_given``).
    Towns are compared only where the postcodes are missing; in two places (``place_level``) an agreeing address
    line is ``elsewhere`` and an agreeing postcode ``different`` (``placed``).

    The latter is one person's typo, not two people: a short name's slip ("xnn" / "ann", Jaro-Winkler 0.78)
    falls below ``name_close``, and the given name's veto would refuse the records a merge meets while the
    same records met in another order join (issue #8 build 5). Twins keep different names ("ann" / "bob"),
    and two real first names are never a slip ("marie" / "maria": ``given_names.distinct``); twins whose
    names are one slip apart and not both known names are taken for one person, unless ``slip`` is False:
    the caller knows of an identifier that tells them apart (``MatchModel.compare``: two accounts, user ids).
    """
    given = {GIVEN: (given_values(first.get(GIVEN, []), limits), given_values(second.get(GIVEN, []), limits))}
    levels = {name: best_level(code, *given.get(code, (first.get(code, []), second.get(code, []))), limits)
              for code, name in TRAIT_FIELDS.items()}
    if (slip and levels["given_name"] is Level.DIFFERENT and levels["birth_date"] is Level.EXACT
            and mistyped_given(*given[GIVEN])):
        levels["given_name"] = Level.CLOSE
    if levels["given_name"] in (Level.EXACT, Level.CLOSE) and conflicting_given(*given[GIVEN]):
        levels["given_name"] = Level.DIFFERENT
    if levels["given_name"] is Level.MISSING and levels["family_name"] is Level.DIFFERENT and (
            misplaced_given(first, second) or misplaced_given(second, first)):
        levels["given_name"] = Level.DIFFERENT
    if levels["postcode"] is not Level.MISSING:
        levels["city"] = Level.MISSING  # the postcodes tell the place: its agreement or not counts once
    if place_level(first, second, limits) is Level.DIFFERENT:
        placed(levels)
    if swapped_names(first, second, limits):
        for name in ("given_name", "family_name"):
            if levels[name] is Level.DIFFERENT:
                levels[name] = Level.CLOSE
            elif levels[name] is Level.MISSING and (first.get(GIVEN) and second.get(GIVEN)
                                                    if name == "given_name" else False):
                levels[name] = Level.CLOSE
    return levels


def placed(levels: dict[str, Level]) -> None:
    """``levels`` of two summaries in two places (``place_level``), in place: an address line that agrees is
    ``elsewhere`` ("12 rue de la République" is in most French towns: the line's agreement without its place is no
    exact address, issue #8), and a postcode that agrees is ``different`` (the countries differ: 75001 is Paris and
    Addison, Texas). The other place's disagreement is counted once, by the postcode's ``different``: an
    ``elsewhere`` line weighs nothing (``defaults.py``), where ``different`` would count the one fact twice; so,
    where there are no postcodes to compare, does the towns' ``different`` (``trait_levels``)."""
    if levels["address"] in (Level.EXACT, Level.CLOSE):
        levels["address"] = Level.ELSEWHERE
    if levels["postcode"] is Level.EXACT:
        levels["postcode"] = Level.DIFFERENT


def kind_of(key: str) -> str:
    return key.partition(":")[0]


def identifier_levels(first: Iterable[str], second: Iterable[str], kinds: Iterable[str],
                      login_kinds: Iterable[str] = (), households: Iterable[str] = ()) -> dict[str, Level]:
    """Per identifier type in ``kinds``: agree / different / missing between two sets of ``TYPE:value`` keys; a type
    in ``login_kinds`` in common is ``login`` where ``login_level`` says so, unless every key of it in common is in
    ``households`` (keys several people's events are known to carry: a mailbox on two people's billing lines tells
    no login whose it is)."""
    first, second = set(first), set(second)
    common = {kind_of(key) for key in first & second}
    personal = {kind_of(key) for key in first & second if key not in set(households)}
    have_first, have_second = {kind_of(k) for k in first}, {kind_of(k) for k in second}
    agree = login_level(have_first, have_second)
    login = set(login_kinds)
    levels = {}
    for kind in kinds:
        if kind in common:
            levels[kind] = agree if kind in login and kind in personal else Level.AGREE
        elif kind in have_first and kind in have_second:
            levels[kind] = Level.DIFFERENT
        else:
            levels[kind] = Level.MISSING
    return levels


def login_level(kinds_a: set[str], kinds_b: set[str]) -> Level:
    """``login`` when one of two sides (the identifier types each holds) holds a login (USER_ID) and the other holds
    none but is a customer a system of record or a counter knows (``KNOWN_CUSTOMER``: a customer number, an account, a
    card or a national ID), else ``agree``: the level of an identifier they have in common, for the types whose m/u
    depend on it (the e-mail).

    Why: the fields are not independent among pairs of two people. A household's mailbox in common between two
    people who each log in goes with two user ids, refused by the one-login limit whatever the e-mail weighs; so the
    e-mail's trained u, all of whose pairs of two people are two portal users (the labelled set), measures nothing
    about a login meeting a known customer without one: the portal account's e-mail against the one a billing system
    registered or a clerk took, which ``defaults.py`` weighs by policy (portal-login F10). An anonymous visitor's e-mail
    (a browser's form) stays at ``agree``: nobody checked who typed it."""
    for login, other in ((kinds_a, kinds_b), (kinds_b, kinds_a)):
        if USER_ID in login and USER_ID not in other and not other.isdisjoint(KNOWN_CUSTOMER):
            return Level.LOGIN
    return Level.AGREE
