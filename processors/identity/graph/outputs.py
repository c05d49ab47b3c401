"""What the graph decides, as plain data; ``processors.identity.announcements`` turns it into events."""

from __future__ import annotations

from dataclasses import dataclass, field

from bus.envelope import IDENTITY_DECISION_IDS
from processors.identity.graph.messages import AnyMessage
from processors.identity.graph.messages.base import EventRef


def announcement_id(kind: str, *parts: str) -> str:
    """Deterministic event id: a replayed decision gets the id it had, so subscribers drop the copy."""
    return IDENTITY_DECISION_IDS.derive(kind, *parts)


@dataclass(frozen=True, slots=True)
class Lineage:
    triggering_event_id: str
    channel: str
    rule: str


@dataclass(frozen=True, slots=True)
class Send:
    """A protocol message for the node ``node`` (the record key on the graph topic).

    ``parked``: a message for the sending node itself that must go round the topic rather than be
    handled at once (the node's deferral queue was full, ``context.MAX_DEFERRED_BYTES``).
    ``encoded``: the pair as ``wire.encode_message`` makes it, when the sender has it already (intake
    measures it), so it is not encoded twice.
    """

    node: str
    message: AnyMessage
    parked: bool = False
    encoded: bytes | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Created:
    customer_id: str
    identifiers: tuple[str, ...]
    lineage: Lineage

    @property
    def event_id(self) -> str:
        return announcement_id("created", self.lineage.triggering_event_id, self.customer_id)


@dataclass(frozen=True, slots=True)
class Linked:
    customer_id: str
    identifier: str
    lineage: Lineage

    @property
    def event_id(self) -> str:
        return announcement_id("linked", self.lineage.triggering_event_id, self.customer_id, self.identifier)


@dataclass(frozen=True, slots=True)
class Merged:
    survivor_id: str
    merged_id: str
    moved: tuple[str, ...]
    lineage: Lineage
    match_weight: float | None = None  # bits, when the matcher weighed the merge (``CustomerMerged.match_weight``)
    operator: str | None = None  # who merged, and why: an operator's merge (``omnibus identity merge``)
    reason: str | None = None

    @property
    def event_id(self) -> str:
        return announcement_id("merged", self.lineage.triggering_event_id, self.survivor_id, self.merged_id)


@dataclass(frozen=True, slots=True)
class Split:
    source_id: str
    new_id: str
    moved: tuple[str, ...]
    reason: str | None
    lineage: Lineage
    operator: str | None = None  # who split (``omnibus identity split --by``)

    @property
    def event_id(self) -> str:
        return announcement_id("split", self.lineage.triggering_event_id, self.source_id, self.new_id)


@dataclass(frozen=True, slots=True)
class ContactMoved:
    """An operator moved contact ``contact_id`` from ``source_id``'s screen pop to ``target_id``'s (``omnibus identity
    move-contact``, ``graph/move_contact.py``); ``moved``: the ids of the contact's events that moved (none when the
    source no longer records it); who and why: ``operator``, ``reason``; ``lineage``: the command id, rule
    ``manual-move``."""

    contact_id: str
    source_id: str
    target_id: str
    moved: tuple[str, ...]
    operator: str
    reason: str
    lineage: Lineage

    @property
    def event_id(self) -> str:
        return announcement_id("contact-moved", self.lineage.triggering_event_id, self.contact_id)


@dataclass(frozen=True, slots=True)
class Refused:
    identifier: str
    reason: str
    lineage: Lineage
    customer_id: str | None = None
    other_customer_id: str | None = None
    match_weight: float | None = None  # bits, when the Fellegi–Sunter weight decided
    evicted: bool = False  # the identifier was taken off ``customer_id`` (a limit, a release): it belongs to nobody now
    operator: str | None = None  # who released it (``omnibus identity release --by``, rule ``manual-release``)

    @property
    def event_id(self) -> str:
        return announcement_id("refused", self.lineage.triggering_event_id, self.identifier, self.lineage.rule)


@dataclass(frozen=True, slots=True)
class RefusalRepeated:
    """A refusal its deciding node announced before (``refusals.announce``): counted
    (``omnibus_identity_refusals_repeated_total``), not announced again. ``identifier``: the ``TYPE:value`` key (its
    type is the metric's label, never its value); ``rule``: the refusing rule."""

    identifier: str
    rule: str


@dataclass(frozen=True, slots=True)
class ReviewRequested:
    """Two customers whose match weight lies between the thresholds: kept apart until an operator decides.

    ``identifiers``: one identifier of each side (what ``omnibus identity review accept`` links).
    ``review_id`` names the unordered customer pair, so there is one review per pair: a later candidate for
    the same two customers (through another shared identifier) updates it (same key on the review topic, the
    latest request wins in ``review.open_reviews``). ``event_id`` tells the requests apart (the triggering
    event and the identifiers: the pair is each side's highest-priority identifier, so two requests for the
    same customers may name the same two).
    """

    customer_id: str
    other_customer_id: str
    identifiers: tuple[str, str]
    match_weight: float
    levels: dict[str, str]
    lineage: Lineage

    @property
    def review_id(self) -> str:
        return announcement_id("review", *sorted((self.customer_id, self.other_customer_id)))

    @property
    def event_id(self) -> str:
        return announcement_id("review-requested", self.review_id, self.lineage.triggering_event_id,
                               *sorted(self.identifiers))


@dataclass(frozen=True, slots=True)
class ReviewDecided:
    review_id: str
    accepted: bool
    operator: str
    reason: str
    identifiers: tuple[str, ...]
    lineage: Lineage

    @property
    def event_id(self) -> str:
        return announcement_id("review-decided", self.review_id, self.lineage.triggering_event_id)


@dataclass(frozen=True, slots=True)
class Assigned:
    """Row of the compacted identifier-to-customer topic."""

    identifier: str
    customer_id: str
    version: int
    by_event_id: str


@dataclass(frozen=True, slots=True)
class Unassigned:
    """Tombstone of the compacted identifier-to-customer topic: the identifier belongs to nobody now
    (evicted by a per-customer limit); ``version`` is the assignment version the eviction ended."""

    identifier: str
    version: int


@dataclass(frozen=True, slots=True)
class Resolved:
    """The event ``event_ref`` belongs to ``customer_id`` (published to the contact stream if a contact)."""

    customer_id: str
    event_ref: EventRef | None
    triggering_event_id: str
    started_at: float = field(default=0.0)
    # The announcement id of an operator's split (``split_contacts.py``) or contact move (``move_contact.py``) that
    # moved this contact to ``customer_id``: it is re-published there under ``moved_contact_id``, not its own id.
    moved_by: str = ""
    moved_from: str = ""  # and the customer it left (``bus.topics.MOVED_FROM_HEADER`` on the re-published contact)


def moved_contact_id(split_event_id: str, contact_event_id: str) -> str:
    """The event id of contact ``contact_event_id`` re-published under the new customer of the split announced as
    ``split_event_id`` (a redelivered split publishes the same id)."""
    return announcement_id("split-contact", split_event_id, contact_event_id)


@dataclass(frozen=True, slots=True)
class Unresolved:
    triggering_event_id: str
    started_at: float = 0.0


@dataclass(frozen=True, slots=True)
class SharedMarked:
    identifier: str
    customers: int


@dataclass(frozen=True, slots=True)
class SharedRevoked:
    """A shared flag its evidence no longer supports was revoked (``evidence.revoke_unsupported``): the
    identifier links again. ``people``: how many people who conflict its node holds evidence of."""

    identifier: str
    people: int


Output = (Send | Created | Linked | Merged | Split | Refused | RefusalRepeated | Assigned | Unassigned | Resolved
          | Unresolved | SharedMarked | SharedRevoked | ReviewRequested | ReviewDecided | ContactMoved)
