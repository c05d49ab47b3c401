"""Graph decisions as Avro events: what subscribers see on the customer topics.

* ``customer.events.v1`` (key: customer id): CustomerCreated, CustomerLinked, CustomerMerged,
  CustomerSplit, LinkRefused, ContactMoved (keyed by the customer it left), each with its lineage (triggering event,
  channel, rule).
* ``customer.identifiers.v1`` (compacted, key: ``TYPE:value``): the current customer of every identifier;
  a tombstone (with its version in a header, ``assignments``) when a per-customer limit evicted it.
* ``identity.reviews.v1`` (key: review id): MergeReviewRequested, MergeReviewDecided.
* ``customer.contacts.v1`` (key: customer id): every contact, business and handoff event, unchanged, re-keyed by the
  customer it was placed on (the screen pop's: a reader keeping facts per customer follows this);
  plus a CustomerMerged under the merged id, so a reader of one key learns where its story goes on; a contact an
  operator's split or contact move moved, again under the new customer, with an id derived from the split or the move
  (``moved_contact_id``) and the customer it left in a header (``bus.topics.MOVED_FROM_HEADER``).

Event ids are derived from the decision (``outputs.announcement_id``): a replay republishes the same ids.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from bus.config import TopicSettings
from bus.envelope import PROCESSOR_CHANNEL, envelope
from bus.producer import Outgoing, Tombstone
from bus.serde import Event
from bus.topics import (
    CUSTOMER_CONTACTS,
    CUSTOMER_EVENTS,
    CUSTOMER_IDENTIFIERS,
    IDENTITY_REVIEWS,
    MOVED_FROM_HEADER,
    placed_topics,
)
from processors.identity.assignments import tombstone_headers
from processors.identity.config import IDENTIFIER_TYPES
from processors.identity.graph.messages.base import EventRef
from processors.identity.graph.outputs import (
    Assigned,
    ContactMoved,
    Created,
    Lineage,
    Linked,
    Merged,
    Output,
    Refused,
    Resolved,
    ReviewDecided,
    ReviewRequested,
    Split,
    Unassigned,
    moved_contact_id,
)
from processors.identity.wire import as_is

SOURCE_SYSTEM = "omnibus-identity"
NS = "omnibus.identity."
CUSTOMER_MERGED = NS + "CustomerMerged"


def identifier_record(key: str) -> dict[str, str]:
    kind, _, value = key.partition(":")
    return {"type": kind if kind in IDENTIFIER_TYPES else "UNKNOWN", "value": value}


def _lineage(lineage: Lineage) -> dict[str, str]:
    return {"triggering_event_id": lineage.triggering_event_id, "channel": lineage.channel, "rule": lineage.rule}


class Announcer:
    def __init__(
        self, topics: TopicSettings, load_event: Callable[[EventRef], Event], *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        reusable: Callable[[EventRef], bool] = lambda ref: False,
    ) -> None:
        """``reusable(ref)``: the referenced record may be re-published byte for byte (``wire.current_single_object``)
        instead of decoded and encoded again."""
        self._events = CUSTOMER_EVENTS.name(topics)
        self._identifiers = CUSTOMER_IDENTIFIERS.name(topics)
        self._contacts = CUSTOMER_CONTACTS.name(topics)
        self._reviews = IDENTITY_REVIEWS.name(topics)
        self._placed_sources = placed_topics(topics)
        self._load_event = load_event
        self._clock = clock
        self._reusable = reusable

    def _envelope(self, event_id: str, lineage: Lineage) -> dict[str, Any]:
        now = self._clock()
        return envelope(
            event_id=event_id, occurred_at=now, received_at=now, source_system=SOURCE_SYSTEM,
            channel=PROCESSOR_CHANNEL, correlation_id=lineage.triggering_event_id,
            causation_id=lineage.triggering_event_id,
        )

    def outgoing(self, output: Output) -> list[Outgoing | Tombstone]:
        """The records one decision publishes (none for protocol messages and metric-only decisions)."""
        if type(output) is Resolved:  # one per event: the most frequent output, tested first (#9)
            ref = output.event_ref
            if ref is None or ref.topic not in self._placed_sources:
                return []
            if output.moved_by:
                headers = ((MOVED_FROM_HEADER, output.moved_from.encode()),) if output.moved_from else ()
                return [Outgoing(self._contacts, output.customer_id, self._moved_contact(output, ref), headers)]
            return [Outgoing(self._contacts, output.customer_id,
                             as_is(ref.record) if self._reusable(ref) else self._load_event(ref))]
        if isinstance(output, Created):
            return [self._customer_event(output.customer_id, "CustomerCreated", output.event_id, output.lineage, {
                "customer_id": output.customer_id,
                "identifiers": [identifier_record(k) for k in output.identifiers],
            })]
        if isinstance(output, Linked):
            return [self._customer_event(output.customer_id, "CustomerLinked", output.event_id, output.lineage, {
                "customer_id": output.customer_id, "identifier": identifier_record(output.identifier),
            })]
        if isinstance(output, Merged):
            merged = self._customer_event(output.survivor_id, "CustomerMerged", output.event_id, output.lineage, {
                "survivor_customer_id": output.survivor_id, "merged_customer_id": output.merged_id,
                "moved_identifiers": [identifier_record(k) for k in output.moved], "match_weight": output.match_weight,
                "operator": output.operator, "reason": output.reason,
            })
            return [merged, Outgoing(self._contacts, output.merged_id, merged.event)]
        if isinstance(output, Split):
            return [self._customer_event(output.source_id, "CustomerSplit", output.event_id, output.lineage, {
                "source_customer_id": output.source_id, "new_customer_id": output.new_id,
                "moved_identifiers": [identifier_record(k) for k in output.moved], "reason": output.reason,
                "operator": output.operator,
            })]
        if isinstance(output, ContactMoved):
            return [self._customer_event(output.source_id, "ContactMoved", output.event_id, output.lineage, {
                "contact_id": output.contact_id, "source_customer_id": output.source_id,
                "target_customer_id": output.target_id, "moved_event_ids": list(output.moved),
                "operator": output.operator, "reason": output.reason,
            })]
        if isinstance(output, Refused):
            key = output.customer_id or output.other_customer_id or output.identifier
            return [self._customer_event(key, "LinkRefused", output.event_id, output.lineage, {
                "identifier": identifier_record(output.identifier), "customer_id": output.customer_id,
                "other_customer_id": output.other_customer_id, "reason": output.reason,
                "match_weight": output.match_weight, "evicted": output.evicted, "operator": output.operator,
            })]
        if isinstance(output, ReviewRequested):
            value = {"envelope": self._envelope(output.event_id, output.lineage), "review_id": output.review_id,
                     "customer_id": output.customer_id, "other_customer_id": output.other_customer_id,
                     "identifiers": [identifier_record(k) for k in output.identifiers],
                     "match_weight": output.match_weight, "comparison_levels": dict(output.levels),
                     "lineage": _lineage(output.lineage)}
            return [Outgoing(self._reviews, output.review_id, Event(NS + "MergeReviewRequested", value))]
        if isinstance(output, ReviewDecided):
            value = {"envelope": self._envelope(output.event_id, output.lineage), "review_id": output.review_id,
                     "accepted": output.accepted, "operator": output.operator, "reason": output.reason,
                     "identifiers": [identifier_record(k) for k in output.identifiers]}
            return [Outgoing(self._reviews, output.review_id, Event(NS + "MergeReviewDecided", value))]
        if isinstance(output, Assigned):
            return [Outgoing(self._identifiers, output.identifier, Event(NS + "IdentifierAssignment", {
                "identifier": identifier_record(output.identifier), "customer_id": output.customer_id,
                "assigned_at": self._clock(), "assigned_by_event_id": output.by_event_id or None,  # "": a rewrite
                "version": output.version,
            }))]
        if isinstance(output, Unassigned):  # a tombstone: the identifier belongs to nobody now
            return [Tombstone(self._identifiers, output.identifier, tombstone_headers(output.version))]
        return []

    def _moved_contact(self, output: Resolved, ref: EventRef) -> Event:
        """A contact an operator's split moved to ``output.customer_id``, as it was but for its envelope's id (derived
        from the split and the contact: ``moved_contact_id``) and ``causation_id`` (the contact's own id)."""
        event = self._load_event(ref)
        moved_id = moved_contact_id(output.moved_by, output.triggering_event_id)
        envelope = {**event.value["envelope"], "event_id": moved_id, "causation_id": output.triggering_event_id}
        return Event(event.schema, {**event.value, "envelope": envelope})

    def _customer_event(
        self, key: str, name: str, event_id: str, lineage: Lineage, fields: dict[str, Any]
    ) -> Outgoing:
        value = {"envelope": self._envelope(event_id, lineage), **fields, "lineage": _lineage(lineage)}
        return Outgoing(self._events, key, Event(NS + name, value))
