"""Fellegi–Sunter match weights: log2 Bayes factors of comparison levels, plus a prior, against thresholds.

For each compared field and level, ``m`` = P(level | same person) and ``u`` = P(level | different
people); the level contributes log2(m/u) bits, ``missing`` contributes nothing. The match weight is
``prior`` (log2 of the prior odds that a candidate pair is one person) plus the sum. Decision: weight
≥ ``merge_at`` merges, weight < ``refuse_below`` refuses, anything between goes to review.
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


class Decision(StrEnum):
    MERGE = "merge"
    REVIEW = "review"
    REFUSE = "refuse"


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

    def __post_init__(self) -> None:
        if self.refuse_below > self.merge_at:
            raise ValueError("refuse_below must not exceed merge_at")
        for name, levels in self.mu.items():
            for level, (m, u) in levels.items():
                Level(level)  # raises on an unknown level name
                bayes_factor_bits(m, u)

    @property
    def identifier_kinds(self) -> list[str]:
        return [name for name in self.mu if name.isupper()]

    def weigh(self, levels: Mapping[str, Level]) -> MatchScore:
        """Prior plus the Bayes factors of ``levels``; fields or levels absent from the table count 0."""
        bits = {}
        for name, level in levels.items():
            pair = self.mu.get(name, {}).get(level)
            if level is not Level.MISSING and pair is not None:
                bits[name] = bayes_factor_bits(*pair)
        return MatchScore(self.prior + sum(bits.values()), dict(levels), bits)

    def score(self, traits_a: Summary | None, traits_b: Summary | None, ids_a: Iterable[str],
              ids_b: Iterable[str]) -> MatchScore:
        """Compare two customers (trait summaries and ``TYPE:value`` identifier keys) and weigh them."""
        levels: dict[str, Level] = dict(trait_levels(traits_a or {}, traits_b or {}, self.thresholds))
        levels.update(identifier_levels(ids_a, ids_b, self.identifier_kinds))
        return self.weigh(levels)

    def decide(self, weight: float) -> Decision:
        if weight >= self.merge_at:
            return Decision.MERGE
        return Decision.REFUSE if weight < self.refuse_below else Decision.REVIEW
