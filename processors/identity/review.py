"""Merge reviews: what is waiting for an operator, and what an operator's decision sends.

A ``MergeReviewRequested`` (``identity.reviews.v1``, key: review id) stays open until a
``MergeReviewDecided`` with the same review id follows. Accepting sends the graph a review saga that
links the customers of the review's two identifiers, skipping the weight (rule review-accepted);
rejecting sends one that records each customer in the other's do-not-merge list (rule
review-rejected), whatever identifiers of a limited type the two hold (``customer_steps.waived``: two national IDs
or customer numbers as two logins), which every later merge attempt, blocking proposals included, respects.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from bus.errors import OmnibusError
from bus.identifiers.kinds import IDENTIFIER_TYPES
from bus.serde import Event
from processors.identity.graph.messages.steps import Visit
from processors.identity.graph.outputs import Lineage, ReviewDecided, Send
from processors.identity.graph.saga import review_saga
from processors.identity.matching.compare import Level
from processors.identity.matching.weights import MatchModel
from processors.identity.review_sides import Side, masked_labels, to_decide
from processors.identity.rules import REVIEW_ACCEPTED, REVIEW_REJECTED

REQUESTED = "omnibus.identity.MergeReviewRequested"
DECIDED = "omnibus.identity.MergeReviewDecided"


@dataclass(frozen=True, slots=True)
class OpenReview:
    """A requested review. ``customer_id`` / ``other_customer_id``: its two customers as they are now when read through
    the merges (``open_reviews`` with ``survivors``), then ``requested_as`` holds the two the request named (empty when
    they are the same); ``match_weight`` (bits) and ``levels`` compare the requested two, as they were then."""

    review_id: str
    customer_id: str
    other_customer_id: str
    identifiers: tuple[str, str]  # graph keys TYPE:value
    match_weight: float
    levels: dict[str, str]
    requested_as: tuple[str, ...] = ()

    def merged_since(self) -> list[tuple[str, str]]:
        """(requested customer id, its survivor now) for each side that has merged into another since."""
        now = (self.customer_id, self.other_customer_id)
        return [(then, current) for then, current in zip(self.requested_as, now, strict=False) if then != current]


def identifier_key(record: dict[str, str]) -> str:
    return f"{record['type']}:{record['value']}"


def requested_review(value: dict[str, Any]) -> OpenReview:
    keys = tuple(identifier_key(i) for i in value["identifiers"])
    return OpenReview(value["review_id"], value["customer_id"], value["other_customer_id"], (keys[0], keys[1]),
                      value["match_weight"], dict(value["comparison_levels"]))


def current_pair(review: OpenReview, survivors: Mapping[str, str]) -> frozenset[str]:
    """The review's two customers as they are now: each followed through ``CustomerMerged`` (merged-away
    id -> survivor id). One element when they have merged since."""
    from processors.verify.identity import final_customer

    return frozenset(final_customer(c, survivors) for c in (review.customer_id, review.other_customer_id))


def open_reviews(events: Iterable[Event], survivors: Mapping[str, str] | None = None) -> list[OpenReview]:
    """Requested and not decided yet, in the order they were requested (latest request per id).

    ``survivors`` (merged-away customer id -> survivor id, from ``customer.events.v1``): a person's records
    may still be several customers when a review of them is requested, and merge later; the same two people
    are then requested again under their new ids (often from the other side: A-B, then B'-A'). With it,
    one review per pair of current customers is listed (the latest), naming the current customers
    (``OpenReview.requested_as``: the requested ones); none when a review of that pair was decided or the two
    have merged since (``closed_reviews``).
    """
    return _undecided(events, survivors or {})[0]


def closed_reviews(events: Iterable[Event], survivors: Mapping[str, str]) -> list[OpenReview]:
    """Requested, never decided, and moot: the two customers have merged since (later evidence, or a decision of
    another review), so there is nothing to decide. Each names the one customer both are now."""
    return _undecided(events, survivors)[1]


def superseded_reviews(events: Iterable[Event], survivors: Mapping[str, str] | None = None) -> dict[str, str]:
    """Requested, never decided, and replaced by a later request of the same two current customers, which is the one
    listed (``open_reviews``): review id -> the id of the open review that replaced it. Its id no longer vanishes from
    ``review list`` without a word: it is decided as the one that replaced it."""
    return _undecided(events, survivors or {})[2]


def _undecided(events: Iterable[Event], survivors: Mapping[str, str]
               ) -> tuple[list[OpenReview], list[OpenReview], dict[str, str]]:
    """(open reviews, reviews whose two customers merged since, superseded review id -> the open one replacing it),
    as ``open_reviews``, ``closed_reviews`` and ``superseded_reviews`` say."""
    requested: dict[str, OpenReview] = {}
    decided: set[str] = set()
    for event in events:
        value = event.value
        if event.schema == REQUESTED:
            requested.pop(value["review_id"], None)  # the latest request goes last
            requested[value["review_id"]] = requested_review(value)
        elif event.schema == DECIDED:
            decided.add(value["review_id"])
    decided_pairs = {current_pair(requested[review_id], survivors) for review_id in decided if review_id in requested}
    pending: dict[frozenset[str], OpenReview] = {}
    closed: list[OpenReview] = []
    replaced: dict[str, frozenset[str]] = {}  # superseded review id -> its pair, whose open review replaces it
    for review in requested.values():
        pair = current_pair(review, survivors)
        if review.review_id in decided or (len(pair) == 2 and pair in decided_pairs):
            continue  # a pair now one customer is not decided by another review of that customer
        if len(pair) < 2:
            closed.append(as_now(review, survivors))
            continue
        earlier = pending.pop(pair, None)
        if earlier is not None and earlier.review_id != review.review_id:
            replaced[earlier.review_id] = pair
        pending[pair] = as_now(review, survivors)
    return list(pending.values()), closed, {review_id: pending[pair].review_id for review_id, pair in replaced.items()}


def as_now(review: OpenReview, survivors: Mapping[str, str]) -> OpenReview:
    """``review`` naming its two customers as they are now (each followed through ``CustomerMerged``), the requested
    ones kept in ``requested_as`` when either has merged since (tester F4: the list named a merged-away record)."""
    from processors.verify.identity import final_customer

    then = (review.customer_id, review.other_customer_id)
    now = tuple(final_customer(customer, survivors) for customer in then)
    if now == then:
        return review
    return replace(review, customer_id=now[0], other_customer_id=now[1], requested_as=then)


def decided_as(review_id: str, events: Iterable[Event], survivors: Mapping[str, str]) -> str | None:
    """The id of the decided review of ``review_id``'s current customers (itself, or another request for the
    same two, see ``open_reviews``), None if none was decided."""
    events = list(events)
    requested = {e.value["review_id"]: requested_review(e.value) for e in events if e.schema == REQUESTED}
    decided = [e.value["review_id"] for e in events if e.schema == DECIDED]
    if review_id in decided or review_id not in requested:
        return review_id if review_id in decided else None
    pair = current_pair(requested[review_id], survivors)
    if len(pair) < 2:
        return None  # merged since: another review of the one customer it is now did not decide it
    return next((other for other in decided if other in requested
                 and current_pair(requested[other], survivors) == pair), None)


def merged_since(review_id: str, events: Iterable[Event], survivors: Mapping[str, str]) -> bool:
    """Whether ``review_id`` was requested and its two customers have merged since (nothing to decide)."""
    requested = [requested_review(e.value) for e in events
                 if e.schema == REQUESTED and e.value["review_id"] == review_id]
    return bool(requested) and len(current_pair(requested[-1], survivors)) < 2


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


MIN_REVIEW_ID_PREFIX = 4  # shorter, a prefix picks a review by chance rather than by its id


class AmbiguousReviewId(OmnibusError):
    """A review id prefix of several reviews."""


def resolved_review_id(given: str, open_ids: Iterable[str], known_ids: Iterable[str]) -> str:
    """The review id ``given`` stands for: itself when it is a review id, else the one open review id it begins
    (case-insensitive, at least ``MIN_REVIEW_ID_PREFIX`` characters: the short id an operator copies, a UUID's
    first group), else the one known review id (decided or merged since, for the error that says so); ``given``
    unchanged when it begins none. Raises ``AmbiguousReviewId`` naming the reviews it begins when several
    (``review accept fec68f08`` answered "no open review fec68f08")."""
    open_set, known = set(open_ids), set(known_ids)
    prefix = given.strip().lower()
    if given in open_set | known or len(prefix) < MIN_REVIEW_ID_PREFIX:
        return given
    for ids in (open_set, known):
        matches = sorted(review_id for review_id in ids if review_id.lower().startswith(prefix))
        if len(matches) == 1:
            return matches[0]
        if matches:
            raise AmbiguousReviewId(f"review id {given} begins {len(matches)} reviews ({', '.join(matches)}): "
                                    "give more of it")
    return given


def review_ids(events: Iterable[Event]) -> set[str]:
    """Every review id requested or decided in ``events`` (of ``identity.reviews.v1``)."""
    return {str(event.value["review_id"]) for event in events if event.value.get("review_id")}


class NothingToLink(OmnibusError):
    """A review's decision would reach no customer, or the wrong one: ``str(exc)`` says which and why."""


def linking_identifiers(review: OpenReview, owners: Mapping[str, str], survivors: Mapping[str, str]) -> tuple[str, str]:
    """One identifier each of the review's two customers holds **now**: what the decision's saga looks up.

    The graph links (or keeps apart) the customers of two identifiers, not two customer ids. The review's pair
    was one identifier of each side when it was requested; since then an identifier may have moved (a split, a
    claim, an eviction), so the saga would reach another customer or the same one twice, and accept would
    report success and merge nothing (new-user finding). Per current customer (``current_pair``): the review's
    identifier it still holds, else the first (sorted) it holds now. ``owners``: identifier key -> current
    customer id (``customer.identifiers.v1``).

    Raises ``NothingToLink`` naming the customer that holds no identifier any more (no saga can reach it)."""
    from processors.verify.identity import final_customer

    customers = sorted(current_pair(review, survivors))
    current = {key: final_customer(owner, survivors) for key, owner in owners.items()}
    held = {customer: sorted(key for key, owner in current.items() if owner == customer) for customer in customers}
    chosen: list[str] = []
    for customer in customers:
        keys = held[customer]
        if not keys:
            raise NothingToLink(
                f"customer {customer} holds no identifier any more (each has moved to another customer or was "
                "released since the review was requested): no decision can reach it, nothing would merge. To merge "
                f"the two: omnibus identity merge {customers[0]} {customers[1]} (it links a customer without "
                "identifiers by id); else look its identifiers up in the screen pop and split by hand")
        same = [key for key in review.identifiers if key in keys]
        chosen.append(same[0] if same else keys[0])
    return chosen[0], chosen[1]


def decision(
    review: OpenReview, *, accept: bool, operator: str, reason: str, command_id: str,
    identifiers: tuple[str, str] | None = None,
) -> tuple[Send, ReviewDecided]:
    """The graph message that carries out the decision, and the record of who decided and why.

    ``identifiers``: the two the saga looks up (``linking_identifiers``); default the review's own pair."""
    rule = REVIEW_ACCEPTED if accept else REVIEW_REJECTED
    saga = review_saga(command_id, sorted(identifiers or review.identifiers), accept=accept, rule=rule)
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


# How a review names a side that held no identifier when it was requested: a call's own customer (``seek.py``), which
# the graph names by its customer id and the record by type ``UNKNOWN`` (a review showed ``UNKNOWN:…``).
NO_IDENTIFIER = "none (one of the two held no identifier)"


def _masked(review: OpenReview, sides: Mapping[str, Side] | None = None) -> list[str]:
    """The review's two identifiers masked, told apart from each other and from its sides' identifiers (two accounts
    ending alike: ``****0009 (1)``, ``****0009 (2)``; ``review_sides.masked_labels``); ``NO_IDENTIFIER`` for a side
    that held none."""
    labels = masked_labels(review.identifiers, dict(sides or {}), (review.customer_id, review.other_customer_id))
    return [labels[key] if key.partition(":")[0] in IDENTIFIER_TYPES else NO_IDENTIFIER for key in review.identifiers]


_AGREE = frozenset({"exact", "close", "agree", "login"})


def in_common(review: OpenReview) -> list[str]:
    """The identifier kinds the two customers agree on (their comparison level), in the contract's order
    (``IdentifierType``): what the pair has in common, which the two linked identifiers (each side's
    highest-priority one, often a NATIONAL_ID token) need not show. Empty for a blocking candidate."""
    return [kind for kind in IDENTIFIER_TYPES if review.levels.get(kind) in _AGREE]


def describe(review: OpenReview) -> dict[str, Any]:
    """A one-line summary of a review (identifier values masked): which fields agree and which differ."""
    differing = sorted(name for name, level in review.levels.items() if level == "different")
    agreeing = sorted(name for name, level in review.levels.items() if level in _AGREE)
    return {"review": review.review_id, "customers": f"{review.customer_id} {review.other_customer_id}",
            "weight": f"{review.match_weight:.1f}", "agree": ",".join(agreeing), "differ": ",".join(differing),
            "identifiers": " ".join([*(f"{kind}(in common)" for kind in in_common(review)), *_masked(review)])}


def as_json(review: OpenReview, matcher: MatchModel, sides: Mapping[str, Side] | None = None) -> dict[str, Any]:
    """A review for ``omnibus identity review list --json``: ids (the customers now, ``requested_as`` the two the
    request named: they differ where one has merged since), the weight (bits) and its prior, per field
    the level and weight, and the two identifiers by kind, masked (never raw values); with ``sides``
    (``review_sides.customer_sides``), what each customer holds (``customers``) and ``to_decide``."""
    customers = (review.customer_id, review.other_customer_id)
    labels = masked_labels(review.identifiers, dict(sides or {}), customers)
    known = [sides[customer].as_json(labels) for customer in customers if sides and customer in sides]
    advice = to_decide(review, in_common(review), dict(sides), matcher.vetoes) if sides else None
    extra = {"customers": known, "to_decide": advice} if sides else {}
    return {
        "review_id": review.review_id,
        "customer_id": review.customer_id,
        "other_customer_id": review.other_customer_id,
        "requested_as": list(review.requested_as or (review.customer_id, review.other_customer_id)),
        "match_weight": review.match_weight,
        "prior": round(matcher.prior_of({name: Level(level) for name, level in review.levels.items()
                                         if level in _LEVELS}), 2),
        "fields": [{"field": item.field, "level": item.level, "weight": item.weight}
                   for item in evidence(review, matcher)],
        "identifiers_in_common": in_common(review),
        "identifiers": _masked(review, sides),
        **extra,
    }
