"""Which spelling of a name part, and which birth year, one person's screen pop shows of its observations (#8).

Each part (given name, surname, birth year) is chosen on its own, in the same way, so that the IVR's "Durand" adds to
the web's "Durand" whatever first name each gave (tester F2):

1. **Clusters.** Values that are one value mistyped or shortened are counted together: the connected groups of the
   matcher's own comparison (``processors.identity.matching.compare``: Jaro-Winkler ≥ 0.86 for surnames, the same
   for given names except two real, different first names, and nicknames of one name close however spelt, "Kate"
   and "Catherine"; a birth year one digit off or two neighbours swapped, 1962/1926). Every observation placed here
   is the person's own (the matcher places them), so a group is one name of theirs.
2. **A change of name.** The latest observation from a verified source (``VERIFIED``: the customer's own typing, the
   master record) retires what was observed before it in other groups: a marriage typed on the web, or updated in
   the master record, is shown at once, however often the old name was seen.
3. **The group shown:** the one with the most evidence among what is not retired, counted in ``unit``s (one channel
   at one site on one UTC day counts once: the versions of one call, the records of one counter visit, a web
   session's repeated identify calls, the same clerk keying a name twice that day); ties to the group with the more
   trusted source (``NAME_TRUST``), then the latest observation (event time, then event id).
4. **The spelling shown in it:** full names before nicknames and real first names before typos (given names), then
   the spelling of the most trusted source, then the one with the most evidence, then the latest; written as its
   most trusted, then latest, observation wrote it.

Every step is a function of the set of observations, never of their arrival order. Limit: two real names of one
person that a typo links (a chain "jean"–"jeann"–"jeanne") fall in one group.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz.distance import OSA

from processors.identity.matching.compare import Level, Thresholds, given_level, name_level
from processors.identity.matching.given_names import folded, is_known, nicknames

# How far a channel's name and birth date are the person's own: typed by the customer (web hall, app: Segment
# identify) or kept in the legacy master record, over a clerk's or an agent's typing (branch counter, call center,
# IVR). Unknown channels count 0.
NAME_TRUST = {"WEB": 2, "BUSINESS_SYSTEM": 2, "BRANCH": 1, "CALL_CENTER": 1}
VERIFIED = max(NAME_TRUST.values())  # a source whose latest observation of a new name is a change of name (step 2)

_SAME = (Level.EXACT, Level.CLOSE)
_LIMITS = Thresholds()  # the matcher's defaults (OMNIBUS_PROCESSOR_IDENTITY__NAME_CLOSE is read by identity only)
_DAY_MICROS = 86_400 * 1_000_000


@dataclass(frozen=True, slots=True)
class Observed:
    """One observation of one part: ``text`` as written, ``key`` as compared, where it came from and when
    (``at``: event time in epoch microseconds)."""

    event_id: str
    text: str
    key: str
    channel: str
    site: str | None
    at: int

    @property
    def trust(self) -> int:
        return NAME_TRUST.get(self.channel, 0)

    @property
    def unit(self) -> tuple[str, str | None, int]:
        """What counts once as evidence (module doc, step 3): the channel, the site, the UTC day."""
        return self.channel, self.site, self.at // _DAY_MICROS

    @property
    def order(self) -> tuple[int, str]:
        return self.at, self.event_id


@dataclass(frozen=True, slots=True)
class Part:
    """How one part is compared: ``same`` says two keys are one value (step 1); ``prefer`` ranks a key within its
    group, higher first (step 4)."""

    same: Callable[[str, str], bool]
    prefer: Callable[[str, frozenset[str]], tuple[bool, ...]] = lambda key, group: ()


def _given_prefer(key: str, group: frozenset[str]) -> tuple[bool, ...]:
    shortened = any(len(key) < len(other) and nicknames(key, other) for other in group)
    return not shortened, is_known(key)


GIVEN = Part(lambda a, b: given_level(a, b, _LIMITS) in _SAME, _given_prefer)
FAMILY = Part(lambda a, b: name_level(a, b, _LIMITS) in _SAME)
YEAR = Part(lambda a, b: OSA.distance(a, b) <= 1)  # one digit off, or two neighbours swapped


@lru_cache(maxsize=1 << 14)  # a customer's few spellings are folded at each render: about 30 µs each, 0.1 cached
def name_key(text: str) -> str:
    """A name part as compared: folded as the matcher folds given names and surnames (``given_names.folded``)."""
    return folded(text)


def observed(event_id: str, text: str | int | None, channel: str, site: str | None, at: int,
             part: Part) -> Observed | None:
    """An ``Observed`` of a part's value (None when not given); names compared folded as the matcher folds them."""
    if text is None or text == "":
        return None
    key = str(text) if part is YEAR else name_key(str(text))
    return Observed(event_id, str(text), key, channel, site, at) if key else None


def _groups(keys: Iterable[str], same: Callable[[str, str], bool]) -> dict[str, frozenset[str]]:
    """Key → its group: the connected components of ``same`` (unique, so independent of order)."""
    parent = {key: key for key in sorted(set(keys))}

    def root(key: str) -> str:
        while parent[key] != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    ordered = list(parent)
    for i, a in enumerate(ordered):
        for b in ordered[i + 1:]:
            if root(a) != root(b) and same(a, b):
                parent[max(root(a), root(b))] = min(root(a), root(b))
    members: dict[str, set[str]] = {}
    for key in ordered:
        members.setdefault(root(key), set()).add(key)
    return {key: frozenset(members[root(key)]) for key in ordered}


def _evidence(items: Sequence[Observed]) -> tuple[int, int, tuple[int, str]]:
    return len({item.unit for item in items}), max(item.trust for item in items), max(item.order for item in items)


def choose(seen: Sequence[Observed], part: Part) -> Observed | None:
    """The observation whose text the screen pop shows for one part (module doc), None when none gave it."""
    if not seen:
        return None
    group_of = _groups((item.key for item in seen), part.same)
    verified = [item for item in seen if item.trust >= VERIFIED]
    if verified:
        latest = max(verified, key=lambda item: item.order)
        seen = [item for item in seen if group_of[item.key] == group_of[latest.key] or item.order >= latest.order]
    by_group: dict[frozenset[str], list[Observed]] = {}
    for item in seen:
        by_group.setdefault(group_of[item.key], []).append(item)
    group, members = max(by_group.items(), key=lambda pair: (*_evidence(pair[1]), sorted(pair[0])))
    by_key: dict[str, list[Observed]] = {}
    for item in members:
        by_key.setdefault(item.key, []).append(item)

    def rank(key: str) -> tuple[object, ...]:
        units, trust, latest = _evidence(by_key[key])
        return *part.prefer(key, group), trust, units, latest, key

    return max(by_key[max(by_key, key=rank)], key=lambda item: (item.trust, item.order))

