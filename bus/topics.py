"""Every topic Omnibus owns: its name, partitions, clean-up policy and retention, in one place.

Names are ``<prefix>.<domain>.<what>.v<N>``; a breaking change to what a topic carries gets a new
version suffix, never an in-place change. Keys are chosen so each entity's events stay in order.
"""

from __future__ import annotations

from collections.abc import Sequence
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
    carries: tuple[str, ...] = ()  # full names of the Avro records on the topic (schemas/); () when internal
    internal: bool = False  # between one processor's workers only (not Avro): subscribers skip it

    def name(self, settings: TopicSettings) -> str:
        return f"{settings.prefix}.{self.suffix}"

    def partition_count(self, settings: TopicSettings) -> int:
        return self.partitions or settings.partitions

    def configs(self) -> dict[str, str]:
        return {
            "cleanup.policy": "compact" if self.compacted else "delete",
            "retention.ms": str(self.retention_ms),
        }


_CONTACTS = tuple(f"omnibus.contact.{name}" for name in (
    "InteractionRecorded", "CallCompleted", "CounterTransaction", "QueueTicketChanged"))
_HANDOFF_LIFECYCLE = tuple(f"omnibus.handoff.Handoff{name}" for name in (
    "Created", "Routed", "Acknowledged", "Accepted", "StatusChanged", "WaitingOnCustomer", "Resumed", "Transferred",
    "DeadlineWarning", "Breached", "Escalated", "UnacknowledgedAlarm", "Resolved", "Closed", "Reopened", "FollowedUp"))
_BUSINESS = tuple(f"omnibus.business.{name}" for name in (
    "AccountOpened", "AccountClosed", "ProductSubscribed", "ProductCancelled", "BillIssued", "PaymentOverdue",
    "OrderStatusChanged", "CardStatusChanged"))

CONTACT_EVENTS = TopicSpec(
    "contact.events.v1", "Contacts on every channel, as each channel reported them.", key="source entity id",
    carries=_CONTACTS,
)
IDENTIFIERS_OBSERVED = TopicSpec(
    "identity.observed.v1", "Identifiers seen together on one event.", key="first identifier",
    carries=("omnibus.contact.IdentifiersObserved",),
)
BUSINESS_EVENTS = TopicSpec(
    "business.events.v1", "Accounts, products, bills, payments, orders and card statuses from legacy systems (a card's "
    "also from the call center; a record that names no account is keyed by its order id or card token).",
    key="account",
    carries=_BUSINESS,
)
CUSTOMER_EVENTS = TopicSpec(
    "customer.events.v1", "Customer created, linked, merged, split; refused links; contacts an operator moved.",
    key="customer id", retention_ms=-1, carries=tuple(f"omnibus.identity.{name}" for name in (
        "CustomerCreated", "CustomerLinked", "CustomerMerged", "CustomerSplit", "LinkRefused", "ContactMoved")),
)
CUSTOMER_IDENTIFIERS = TopicSpec(
    "customer.identifiers.v1", "Current customer of every identifier (compacted).", key="identifier",
    compacted=True, retention_ms=-1, carries=("omnibus.identity.IdentifierAssignment",),
)
# Identity re-publishes every contact, business record and handoff event under the customer it placed it on (the
# screen pop's): a reader keeping facts per customer takes that placement, never re-derives it from an identifier
# the event shares with a housemate's (a family phone or e-mail).
CUSTOMER_CONTACTS = TopicSpec(
    "customer.contacts.v1", "Every contact, business record and handoff event re-keyed by the customer identity "
    "placed it on, in order across channels.", key="customer id",
    carries=(*_CONTACTS, *_BUSINESS, *_HANDOFF_LIFECYCLE, "omnibus.identity.CustomerMerged"),
)
# A contact identity moved (a split, a claim, an operator's move-contact, the latest-version and late-owner rules),
# re-published on ``customer.contacts.v1`` under its new customer, names in this Kafka header the customer it left
# (UTF-8 customer id): a reader counting per customer takes it off there (KPIs).
MOVED_FROM_HEADER = "omnibus-moved-from"


def moved_from(headers: Sequence[tuple[str, bytes | None]] | None) -> str | None:
    """The customer a re-published contact left (``MOVED_FROM_HEADER``), or None (not moved, or unreadable)."""
    for name, value in headers or ():
        if name == MOVED_FROM_HEADER and value:
            try:
                return value.decode()
            except UnicodeDecodeError:
                return None
    return None


HANDOFF_EVENTS = TopicSpec(
    "handoff.events.v1", "Back-office handoff lifecycle, deadlines and escalations.", key="handoff id",
    retention_ms=400 * DAY_MS, carries=_HANDOFF_LIFECYCLE,
)
# The topics whose events identity re-publishes on ``customer.contacts.v1`` under the customer it placed them on.
PLACED = (CONTACT_EVENTS, BUSINESS_EVENTS, HANDOFF_EVENTS)


def placed_topics(topics: TopicSettings) -> frozenset[str]:
    """Full names of the ``PLACED`` topics under ``topics``' prefix."""
    return frozenset(spec.name(topics) for spec in PLACED)

HANDOFF_TICKS = TopicSpec(  # same partition count as HANDOFF_EVENTS: one co-partitioned agent reads both
    "handoff.ticks.v1", "Clock ticks driving the handoff deadline scan, one per partition (internal, JSON).",
    key="tick key of the partition", retention_ms=1 * DAY_MS, internal=True,
)
HANDOFF_NOTIFICATIONS = TopicSpec(
    "handoff.notifications.v1", "Customer-visible handoff progress, addressed to the channel, and recalls of "
    "notifications a gateway still holding them drops.",
    key="customer id (handoff id while the tracker does not know the customer)",
    carries=("omnibus.handoff.CustomerNotification", "omnibus.handoff.CustomerNotificationRecalled"),
)
HANDOFF_TIER_FACTS = TopicSpec(
    "handoff.tier-facts.v1", "Service-tier facts per account, subscription and holder of an account, digested from "
    "the business events for the handoff tracker (compacted, internal JSON).",
    key="ACCOUNT:<number>, SUBSCRIPTION:<id> or HOLDER:<number>|<identifier key>",
    compacted=True, retention_ms=-1, internal=True,
)
MARKETING_OFFERS = TopicSpec(
    "marketing.offers.v1", "Offer definitions, latest version per offer (compacted).", key="offer id",
    compacted=True, retention_ms=-1, carries=("omnibus.marketing.OfferDefined", "omnibus.marketing.OfferWithdrawn"),
)
MARKETING_RESPONSES = TopicSpec(
    "marketing.responses.v1", "Offers presented, accepted and declined on any channel.", key="customer",
    carries=("omnibus.marketing.OfferPresented", "omnibus.marketing.OfferResponded"),
)
MARKETING_SIGNALS = TopicSpec(
    "marketing.signals.v1", "Retention signals (churn risk, arrears) for the CRM, with evidence.", key="customer id",
    retention_ms=30 * DAY_MS, carries=("omnibus.marketing.RetentionSignal",),
)
MARKETING_INSTRUCTIONS_CALL_CENTER = TopicSpec(
    "marketing.instructions.call_center.v1", "Show / withdraw offer instructions for the call center.",
    key="customer id", carries=("omnibus.marketing.OfferInstruction",),
)
MARKETING_INSTRUCTIONS_BRANCH = TopicSpec(
    "marketing.instructions.branch.v1", "Show / withdraw offer instructions for the branch counters.",
    key="customer id", carries=("omnibus.marketing.OfferInstruction",),
)
# Outbound pushes: each gateway reads its own topic (its own ACL), whose instructions carry the customer's addresses
# of that kind only (mobiles for SMS, e-mails for EMAIL), the one identifier type the gateway needs to send.
MARKETING_INSTRUCTIONS_SMS = TopicSpec(
    "marketing.instructions.sms.v1", "Show / withdraw offer instructions for the SMS gateway (with the customer's "
    "phone numbers that take an SMS: mobiles, and US/Canadian numbers; never a landline).", key="customer id",
    carries=("omnibus.marketing.OfferInstruction",),
)
MARKETING_INSTRUCTIONS_EMAIL = TopicSpec(
    "marketing.instructions.email.v1", "Show / withdraw offer instructions for the e-mail campaign tool (with the "
    "customer's e-mail addresses).", key="customer id", carries=("omnibus.marketing.OfferInstruction",),
)
IDENTITY_GRAPH = TopicSpec(
    "identity.graph.v1", "Identity resolution's protocol messages between graph partitions (internal, msgpack).",
    key="identifier or customer id", internal=True,
)
KPI_AGGREGATES = TopicSpec(
    "kpi.aggregates.v1", "Hourly and daily KPIs per channel and site (KpiAggregate); a late event republishes its "
    "window with a higher revision.", key="window key GRANULARITY|start µs|CHANNEL|site", retention_ms=400 * DAY_MS,
    carries=("omnibus.kpi.KpiAggregate",),
)
KPI_PARTIALS = TopicSpec(
    "kpi.partials.v1", "Per-partition KPI counts the KPI processor sums into aggregates (internal, JSON).",
    key="window key", retention_ms=10 * DAY_MS, internal=True,
)
KPI_MERGES = TopicSpec(  # same partition count as customer.contacts.v1: the survivor's partition receives them
    "kpi.merges.v1", "Contacts of a merged customer moved to the survivor's KPI history (internal, JSON).",
    key="surviving customer id", internal=True,
)
KPI_TICKS = TopicSpec(  # same partition count as the KPI processor's inputs: one co-partitioned agent reads all
    "kpi.ticks.v1", "Clock ticks closing the KPI processor's windows, one per partition (internal).",
    key="tick key of the partition", retention_ms=1 * DAY_MS, internal=True,
)
IDENTITY_REVIEWS = TopicSpec(
    "identity.reviews.v1", "Merge candidates awaiting an operator, and the operators' decisions.", key="review id",
    retention_ms=-1, carries=("omnibus.identity.MergeReviewRequested", "omnibus.identity.MergeReviewDecided"),
)
DEAD_LETTERS = TopicSpec(
    "deadletter.v1", "Records that could not be processed, with the original bytes and the reason (refused input:"
    " its clear copy, national IDs and cards tokenised, phones and e-mails masked, free text scrubbed; README,"
    " \"What a dead letter holds\").",
    key="original key", retention_ms=30 * DAY_MS, partitions=3, carries=("omnibus.deadletter.DeadLetter",),
)

# faust writes these itself, per processor application id <prefix>.<app>: table changelogs and the
# partition assignor's leader topic. Internal, like the topics marked internal above.
FAUST_CHANGELOG_SUFFIX, FAUST_LEADER_SUFFIX = "-changelog", "-__assignor-__leader"
FAUST_INTERNAL_PATTERNS = (f"<prefix>.<app>-<table>{FAUST_CHANGELOG_SUFFIX}", f"<prefix>.<app>{FAUST_LEADER_SUFFIX}")


def is_faust_internal(topic: str) -> bool:
    """Whether ``topic`` is one faust writes for itself (``FAUST_INTERNAL_PATTERNS``): no consumer group commits on it,
    so it has no consumer lag."""
    return topic.endswith((FAUST_CHANGELOG_SUFFIX, FAUST_LEADER_SUFFIX))

ALL_TOPICS: tuple[TopicSpec, ...] = (
    CONTACT_EVENTS, IDENTIFIERS_OBSERVED, BUSINESS_EVENTS, CUSTOMER_EVENTS, CUSTOMER_IDENTIFIERS,
    CUSTOMER_CONTACTS, HANDOFF_EVENTS, HANDOFF_TICKS, HANDOFF_NOTIFICATIONS, MARKETING_OFFERS, MARKETING_RESPONSES,
    DEAD_LETTERS, IDENTITY_GRAPH, HANDOFF_TIER_FACTS, KPI_AGGREGATES, KPI_PARTIALS, KPI_MERGES, KPI_TICKS,
    MARKETING_SIGNALS, MARKETING_INSTRUCTIONS_CALL_CENTER, MARKETING_INSTRUCTIONS_BRANCH,
    IDENTITY_REVIEWS, MARKETING_INSTRUCTIONS_SMS, MARKETING_INSTRUCTIONS_EMAIL,
)
