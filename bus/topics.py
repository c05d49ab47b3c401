"""Every topic Omnibus owns: its name, partitions, clean-up policy and retention, in one place.

Names are ``<prefix>.<domain>.<what>.v<N>``; a breaking change to what a topic carries gets a new
version suffix, never an in-place change. Keys are chosen so each entity's events stay in order.
"""

from __future__ import annotations

from dataclasses import dataclass

from bus.config import TopicSettings

DAY_MS = 24 * 60 * 60 * 1000


@dataclass(frozen=True, slots=True)
class TopicSpec:
    suffix: str
    description: str
    key: str
    compacted: bool = False
    retention_ms: int = 7 * DAY_MS  # -1 keeps forever
    partitions: int | None = None  # None: the deployment's default (settings.topics.partitions)

    def name(self, settings: TopicSettings) -> str:
        return f"{settings.prefix}.{self.suffix}"

    def partition_count(self, settings: TopicSettings) -> int:
        return self.partitions or settings.partitions

    def configs(self) -> dict[str, str]:
        return {
            "cleanup.policy": "compact" if self.compacted else "delete",
            "retention.ms": str(self.retention_ms),
        }


CONTACT_EVENTS = TopicSpec(
    "contact.events.v1", "Contacts on every channel, as each channel reported them.", key="source entity id"
)
IDENTIFIERS_OBSERVED = TopicSpec(
    "identity.observed.v1", "Identifiers seen together on one event.", key="first identifier"
)
BUSINESS_EVENTS = TopicSpec(
    "business.events.v1", "Accounts, products, bills, payments and orders from legacy systems.", key="account"
)
CUSTOMER_EVENTS = TopicSpec(
    "customer.events.v1", "Customer created, linked, merged, split; refused links.", key="customer id",
    retention_ms=-1,
)
CUSTOMER_IDENTIFIERS = TopicSpec(
    "customer.identifiers.v1", "Current customer of every identifier (compacted).", key="identifier",
    compacted=True, retention_ms=-1,
)
CUSTOMER_CONTACTS = TopicSpec(
    "customer.contacts.v1", "Every contact re-keyed by customer id, in order across channels.", key="customer id"
)
HANDOFF_EVENTS = TopicSpec(
    "handoff.events.v1", "Back-office handoff lifecycle, deadlines and escalations.", key="handoff id",
    retention_ms=400 * DAY_MS,
)
HANDOFF_TICKS = TopicSpec(  # same partition count as HANDOFF_EVENTS: one co-partitioned agent reads both
    "handoff.ticks.v1", "Clock ticks driving the handoff deadline scan, one per partition (internal).",
    key="tick key of the partition", retention_ms=1 * DAY_MS,
)
HANDOFF_NOTIFICATIONS = TopicSpec(
    "handoff.notifications.v1", "Customer-visible handoff progress, addressed to the channel.", key="handoff id"
)
MARKETING_OFFERS = TopicSpec(
    "marketing.offers.v1", "Offer definitions, latest version per offer (compacted).", key="offer id",
    compacted=True, retention_ms=-1,
)
MARKETING_RESPONSES = TopicSpec(
    "marketing.responses.v1", "Offers presented, accepted and declined on any channel.", key="customer"
)
IDENTITY_GRAPH = TopicSpec(
    "identity.graph.v1", "Identity resolution's protocol messages between graph partitions (internal, JSON).",
    key="identifier or customer id",
)
IDENTITY_REVIEWS = TopicSpec(
    "identity.reviews.v1", "Merge candidates awaiting an operator, and the operators' decisions.", key="review id",
    retention_ms=-1,
)
DEAD_LETTERS = TopicSpec(
    "deadletter.v1", "Records that could not be processed, with the original bytes and the reason.",
    key="original key", retention_ms=30 * DAY_MS, partitions=3,
)

ALL_TOPICS: tuple[TopicSpec, ...] = (
    CONTACT_EVENTS, IDENTIFIERS_OBSERVED, BUSINESS_EVENTS, CUSTOMER_EVENTS, CUSTOMER_IDENTIFIERS,
    CUSTOMER_CONTACTS, HANDOFF_EVENTS, HANDOFF_TICKS, HANDOFF_NOTIFICATIONS, MARKETING_OFFERS, MARKETING_RESPONSES,
    DEAD_LETTERS, IDENTITY_GRAPH, IDENTITY_REVIEWS,
)
