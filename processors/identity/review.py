"""Merge reviews: what is waiting for an operator, and what an operator's decision sends.

A ``MergeReviewRequested`` (``identity.reviews.v1``, key: review id) stays open until a
``MergeReviewDecided`` with the same review id follows. Accepting sends the graph a review saga that
links the customers of the review's two identifiers, skipping the weight (rule review-accepted);
rejecting sends one that records each customer in the other's do-not-merge list (rule
review-rejected), which every later merge attempt, blocking proposals included, respects.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bus.serde import Event
from processors.identity.graph.messages import Visit
from processors.identity.graph.outputs import Lineage, ReviewDecided, Send
from processors.identity.graph.saga import review_saga
from processors.identity.matching.compare import Level
from processors.identity.matching.weights import MatchModel
from processors.identity.rules import REVIEW_ACCEPTED, REVIEW_REJECTED

REQUESTED = "omnibus.identity.MergeReviewRequested"
DECIDED = "omnibus.identity.MergeReviewDecided"


@dataclass(frozen=True, slots=True)
class OpenReview:
    review_id: str
    customer_id: str
    other_customer_id: str
    identifiers: tuple[str, str]  # graph keys TYPE:value
    match_weight: float
    levels: dict[str, str]


def identifier_key(record: dict[str, str]) -> str:
    return f"{record['type']}:{record['value']}"


def open_reviews(events: Iterable[Event]) -> list[OpenReview]:
    """Requested and not decided yet, in the order they were requested (latest request per id)."""
    pending: dict[str, OpenReview] = {}
    for event in events:
        value = event.value
        if event.schema == REQUESTED:
            keys = tuple(identifier_key(i) for i in value["identifiers"])
            pending[value["review_id"]] = OpenReview(value["review_id"], value["customer_id"],
                                                      value["other_customer_id"], (keys[0], keys[1]),
                                                      value["match_weight"], dict(value["comparison_levels"]))
        elif event.schema == DECIDED:
            pending.pop(value["review_id"], None)
    return list(pending.values())


@dataclass(frozen=True, slots=True)
class DecidedReview:
    """A review's decision as ``MergeReviewDecided`` records it: who, when (``occurred_at``), accepted or not."""

    review_id: str
    accepted: bool
    operator: str
    decided_at: datetime

    def describe(self) -> str:
        """``accepted by ann at 2026-11-30T01:02:03+00:00`` (UTC, seconds)."""
        verb = "accepted" if self.accepted else "rejected"
        return f"{verb} by {self.operator} at {self.decided_at.isoformat(timespec='seconds')}"


def decided_reviews(events: Iterable[Event]) -> dict[str, DecidedReview]:
    """Review id -> its decision (the last ``MergeReviewDecided`` of that id)."""
    decided: dict[str, DecidedReview] = {}
    for event in events:
        if event.schema != DECIDED:
            continue
        value = event.value
        when = value["envelope"]["occurred_at"]
        if not isinstance(when, datetime):  # timestamp-micros read without its logical type
            when = datetime.fromtimestamp(int(when) / 1e6, tz=UTC)
        decided[value["review_id"]] = DecidedReview(value["review_id"], value["accepted"], value["operator"], when)
    return decided


def decision(
    review: OpenReview, *, accept: bool, operator: str, reason: str, command_id: str
) -> tuple[Send, ReviewDecided]:
    """The graph message that carries out the decision, and the record of who decided and why."""
    rule = REVIEW_ACCEPTED if accept else REVIEW_REJECTED
    saga = review_saga(command_id, sorted(review.identifiers), accept=accept, rule=rule)
    record = ReviewDecided(review.review_id, accept, operator, reason, review.identifiers,
                           Lineage(command_id, "BACK_OFFICE", rule))
    return Send(saga.ids[0], Visit(saga)), record


_LEVELS = frozenset(level.value for level in Level)


@dataclass(frozen=True, slots=True)
class FieldEvidence:
    """One compared field of a review: its comparison level and its Fellegi–Sunter weight (log2 m/u, bits;
    0 for ``missing`` or a level the m/u table does not know)."""

    field: str
    level: str
    weight: float


def evidence(review: OpenReview, matcher: MatchModel) -> list[FieldEvidence]:
    """Per compared field, what the match weight is made of (``MatchModel.weigh`` with the configured m/u):
    the strongest evidence first (largest absolute weight), then by field name."""
    levels = {name: Level(level) for name, level in review.levels.items() if level in _LEVELS}
    bits = matcher.weigh(levels).bits
    rows = [FieldEvidence(name, str(level), round(bits.get(name, 0.0), 2)) for name, level in levels.items()]
    return sorted(rows, key=lambda row: (-abs(row.weight), row.field))


def _masked(review: OpenReview) -> list[str]:
    from processors.profile.masking import mask

    return [f"{kind}:{mask(kind, value)}" for kind, _, value in (key.partition(":") for key in review.identifiers)]


def describe(review: OpenReview) -> dict[str, Any]:
    """A one-line summary of a review (identifier values masked): which fields agree and which differ."""
    differing = sorted(name for name, level in review.levels.items() if level == "different")
    agreeing = sorted(name for name, level in review.levels.items() if level in ("exact", "close", "agree"))
    return {"review": review.review_id, "customers": f"{review.customer_id} {review.other_customer_id}",
            "weight": f"{review.match_weight:.1f}", "agree": ",".join(agreeing), "differ": ",".join(differing),
            "identifiers": " ".join(_masked(review))}


def as_json(review: OpenReview, matcher: MatchModel) -> dict[str, Any]:
    """A review for ``omnibus identity review list --json``: ids, the weight (bits) and its prior, per field
    the level and weight, and the two identifiers by kind, masked (never raw values)."""
    return {
        "review_id": review.review_id,
        "customer_id": review.customer_id,
        "other_customer_id": review.other_customer_id,
        "match_weight": review.match_weight,
        "prior": matcher.prior,
        "fields": [{"field": item.field, "level": item.level, "weight": item.weight}
                   for item in evidence(review, matcher)],
        "identifiers": _masked(review),
    }
