"""Fellegi–Sunter match weights: log2 Bayes factors of comparison levels, plus a prior, against thresholds.

For each compared field and level, ``m`` = P(level | same person) and ``u`` = P(level | different
people); the level contributes log2(m/u) bits, ``missing`` contributes nothing. The match weight is
``prior`` (log2 of the prior odds that two records are one person) plus the sum. Decision: a field in
``vetoes`` at level ``different`` refuses whatever the weight (two national IDs; a given name or a birth
date that disagrees beyond a typo: the independence the weights assume breaks down in a household,
whose members share surname, address, postcode and phone); otherwise weight ≥ ``merge_at`` merges
if some field in ``person_fields`` agrees (else review: for the same reason) and, for a pair with no identifier in
common, some field in ``unlinked_fields`` agrees too (else review: the weight of a name and a birth date assumes they
are as rare between strangers as in the training set, while anyone who knows a customer can type them),
weight < ``refuse_below`` refuses, anything between goes to review.

Population (``population_bits`` = log2 of the customer base's size over the training set's): the prior is the
odds that two records picked at random are one person, about 1/N among N people, so it falls by that many bits
in a larger population; so does the u of an identifier's agreement (a mistyped account or a housemate's phone
meets a given record about 1/N as often), and the two cancel for a pair that shares an identifier. A trait's u
(how common a name or a birth date is in the population) does not shrink: a pair met on traits alone (blocking,
no identifier in common) gets the population's prior. Same name and birth date is near-certain among 3 000 people
and a namesake born the same day is to be expected among millions (issue #8).
Source: Fellegi & Sunter, "A Theory for Record Linkage", JASA 64 (1969); the log2 form as in Splink.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from processors.identity.matching.compare import Level, Thresholds, identifier_levels, trait_levels
from processors.identity.matching.traits import Summary

MuTable = Mapping[str, Mapping[str, tuple[float, float]]]  # field -> level -> (m, u)


_IN_COMMON = (Level.AGREE, Level.LOGIN)  # identifier levels of a value both sides hold


class Decision(StrEnum):
    MERGE = "merge"
    REVIEW = "review"
    REFUSE = "refuse"


def population_bits(population: int, trained: int) -> float:
    """log2(population / trained): how many bits lower the prior of two random records is in a customer base of
    ``population`` people than in the ``trained`` people the m/u values and the prior came from."""
    if population <= 0 or trained <= 0:
        raise ValueError(f"populations must be positive, got {population} and {trained}")
    return math.log2(population / trained)


def bayes_factor_bits(m: float, u: float) -> float:
    """log2(m / u), the weight of one comparison level in bits; m and u must be in (0, 1]."""
    if not (0 < m <= 1 and 0 < u <= 1):
        raise ValueError(f"m and u must be probabilities in (0, 1], got m={m}, u={u}")
    return math.log2(m / u)


@dataclass(frozen=True, slots=True)
class MatchScore:
    weight: float  # bits (log2 odds)
    levels: dict[str, Level]
    bits: dict[str, float] = field(default_factory=dict)  # per field, for explanations

    @property
    def probability(self) -> float:
        """The match probability the weight stands for (2^w / (1 + 2^w))."""
        return 1.0 / (1.0 + 2.0 ** -self.weight)


@dataclass(frozen=True, slots=True)
class MatchModel:
    mu: MuTable
    prior: float = 0.0
    merge_at: float = 6.0
    refuse_below: float = 0.0
    thresholds: Thresholds = Thresholds()
    vetoes: tuple[str, ...] = ()
    person_fields: tuple[str, ...] = ()
    population_bits: float = 0.0  # log2(customer base / training population): see the module's docstring
    review_unlinked: bool = False  # no identifier in common: review, never merge (MATCH_REVIEW_UNLINKED)
    unlinked_fields: tuple[str, ...] = ()  # no identifier in common: one must agree to merge (unlinked_evidence)
    # The identifier kinds, read from ``mu`` once: a list was built from it at every use, about one per event of the
    # hot-path bench (``customer_node._by_login``, each weighing's ``score``, ``compare`` and ``veto``, #9).
    _identifier_kinds: tuple[str, ...] = field(init=False, repr=False, compare=False)
    _login_kinds: tuple[str, ...] = field(init=False, repr=False, compare=False)
    _telling_kinds: tuple[str, ...] = field(init=False, repr=False, compare=False)
    _one_per_person_kinds: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.refuse_below > self.merge_at:
            raise ValueError("refuse_below must not exceed merge_at")
        for levels in self.mu.values():
            for level, (m, u) in levels.items():
                Level(level)  # raises on an unknown level name
                bayes_factor_bits(m, u)
        identifiers = tuple(name for name in self.mu if name.isupper())
        derived = {
            "_identifier_kinds": identifiers,
            "_login_kinds": tuple(kind for kind in identifiers if Level.LOGIN in self.mu[kind]),
            "_telling_kinds": tuple(kind for kind in identifiers
                                    if kind in self.person_fields and "different" in self.mu[kind]),
            "_one_per_person_kinds": tuple(kind for kind in identifiers
                                           if self.mu[kind].get("different", (1.0, 1.0))[0] < 0.01),
        }
        for name, value in derived.items():
            object.__setattr__(self, name, value)  # a frozen dataclass sets its own derived fields so

    @property
    def identifier_kinds(self) -> list[str]:
        return list(self._identifier_kinds)

    def weigh(self, levels: Mapping[str, Level], *, linked: bool = True) -> MatchScore:
        """Prior plus the Bayes factors of ``levels``; fields or levels absent from the table count 0.
        ``linked``: the two sides share an identifier (or met through one: an event that reached a customer by
        an identifier it holds), so the trained prior holds; else the population's (``prior_of``)."""
        bits = {}
        for name, level in levels.items():
            pair = self.mu.get(name, {}).get(level)
            if level is not Level.MISSING and pair is not None:
                bits[name] = bayes_factor_bits(*pair)
        prior = self.prior if linked else self.prior - self.population_bits
        return MatchScore(prior + sum(bits.values()), dict(levels), bits)

    @property
    def login_kinds(self) -> list[str]:
        """Identifier types the table weighs apart (a ``login`` level) between a login and a known customer without
        one (``compare.login_level``): the e-mail by default."""
        return list(self._login_kinds)

    def linked(self, levels: Mapping[str, Level]) -> bool:
        """Whether some identifier type agrees in ``levels`` (the pair shares an identifier)."""
        return any(levels.get(kind) in _IN_COMMON for kind in self._identifier_kinds)

    def prior_of(self, levels: Mapping[str, Level]) -> float:
        """The prior (bits) a comparison with these ``levels`` starts from: the trained one when an identifier
        agrees, else ``population_bits`` lower (a pair met on traits alone, in a population that size)."""
        return self.prior if self.linked(levels) else self.prior - self.population_bits

    @property
    def telling_kinds(self) -> list[str]:
        """Identifier types in ``person_fields`` of which two values say two people (a ``different`` level):
        national ID, user id, account, card."""
        return list(self._telling_kinds)

    def compare(self, traits_a: Summary | None, traits_b: Summary | None,
                id_levels: Mapping[str, Level]) -> dict[str, Level]:
        """Trait levels plus ``id_levels``. A given name one typing slip away with the same birth date counts as
        close (one person's typo, ``compare.trait_levels``) only when no identifier type in ``telling_kinds``
        differs: twins born the same day whose names are one slip apart ("jean"/"joan") each have an account
        or user id of their own (issue #8)."""
        slip = not any(id_levels.get(kind) is Level.DIFFERENT for kind in self._telling_kinds)
        levels: dict[str, Level] = dict(trait_levels(traits_a or {}, traits_b or {}, self.thresholds, slip=slip))
        levels.update(id_levels)
        return levels

    def score(self, traits_a: Summary | None, traits_b: Summary | None, ids_a: Iterable[str],
              ids_b: Iterable[str], households: Iterable[str] = ()) -> MatchScore:
        """Compare two customers (trait summaries and ``TYPE:value`` identifier keys) and weigh them; without an
        identifier in common from the population's prior (``prior_of``). ``households``: keys known to be carried by
        two people or more, never at a ``login`` level (``compare.identifier_levels``)."""
        levels = self.compare(traits_a, traits_b, identifier_levels(ids_a, ids_b, self._identifier_kinds,
                                                                    self._login_kinds, households))
        return self.weigh(levels, linked=self.linked(levels))

    @property
    def one_per_person_kinds(self) -> list[str]:
        """Identifier types one person practically never holds two of (m of ``different`` below 1 %: a national
        ID, a user id): sharing one says one person, as surely as two say two people."""
        return list(self._one_per_person_kinds)

    def veto(self, levels: Mapping[str, Level]) -> str | None:
        """The first field in ``vetoes`` whose level is ``different``, if any. A trait's veto (a given name, a
        birth date) yields when an identifier of ``one_per_person_kinds`` agrees: one person's records, one
        of them spoilt ("xob" born 1951 and "Bob" without a birth date, one login), which arrival order
        otherwise decided on (issue #8 build 5); an identifier's veto (two national IDs) never does."""
        vetoed = [name for name in self.vetoes if levels.get(name) is Level.DIFFERENT]
        if any(levels.get(kind) is Level.AGREE for kind in self._one_per_person_kinds):
            vetoed = [name for name in vetoed if name in self.mu and name.isupper()]
        return vetoed[0] if vetoed else None

    def person_evidence(self, levels: Mapping[str, Level]) -> bool:
        """Whether a field that tells people apart (not one a household shares) agrees, if any are set. An identifier
        at its ``login`` level does: the login is one person's, and a household's second login is refused by the
        one-login limit (``MAX_PER_CUSTOMER``), so the mailbox a login shares with a known customer without one (a
        billing customer's registered e-mail) names that customer's person as surely as the login names its own
        (portal-login F10)."""
        agreeing = (Level.EXACT, Level.CLOSE, Level.AGREE)
        return (not self.person_fields or any(levels.get(name) in agreeing for name in self.person_fields)
                or any(level is Level.LOGIN for level in levels.values()))

    def unlinked_evidence(self, levels: Mapping[str, Level]) -> bool:
        """Whether a pair may merge on its weight as far as identifiers go: it shares one (``linked``), or a field in
        ``unlinked_fields`` agrees (exact or close; none set: any pair). Name and birth date are no secret: a stranger
        who types a customer's, even misspelt, with an e-mail of his own weighs +7 to +10 bits against a customer with
        no e-mail or address on file; the address and postcode are what a namesake or an impostor does
        not share. A pure function of the levels, so of the two sides, not of the order they met in."""
        agreeing = (Level.EXACT, Level.CLOSE)
        return (not self.unlinked_fields or self.linked(levels)
                or any(levels.get(name) in agreeing for name in self.unlinked_fields))

    def decide(self, score: MatchScore) -> Decision:
        if self.veto(score.levels) is not None:
            return Decision.REFUSE
        decision = self.decide_weight(score.weight)
        if decision is Decision.MERGE and not self.person_evidence(score.levels):
            return Decision.REVIEW  # only household-level agreement (surname, address, phone): ask
        if decision is Decision.MERGE and self.review_unlinked and not self.linked(score.levels):
            return Decision.REVIEW  # traits alone: an operator decides (a bank's namesakes)
        if decision is Decision.MERGE and not self.unlinked_evidence(score.levels):
            return Decision.REVIEW  # public traits alone (name, birth date): an operator decides
        return decision

    def decide_weight(self, weight: float) -> Decision:
        if weight >= self.merge_at:
            return Decision.MERGE
        return Decision.REFUSE if weight < self.refuse_below else Decision.REVIEW
