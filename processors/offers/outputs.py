"""The processor's Avro outputs: offer instructions for push channels and retention signals, and the ``Batch``
that gathers them (with what the metrics count) as one batch of events is handled.

Event ids are UUID v5 of what decided them (customer, offer, version, action, the causing event), so a
replayed batch republishes the same ids and subscribers drop the copies.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bus.config import TopicSettings
from bus.envelope import PROCESSOR_CHANNEL, envelope, event_id
from bus.identifiers.phone import takes_sms
from bus.producer import Outgoing
from bus.serde import Event
from bus.topics import (
    MARKETING_INSTRUCTIONS_BRANCH,
    MARKETING_INSTRUCTIONS_CALL_CENTER,
    MARKETING_INSTRUCTIONS_EMAIL,
    MARKETING_INSTRUCTIONS_SMS,
    MARKETING_SIGNALS,
    TopicSpec,
)
from processors.offers.caps import Suppression
from processors.offers.definition import OUTBOUND, Channel, Offer
from processors.offers.signals import Signal

OFFER_INSTRUCTION = "omnibus.marketing.OfferInstruction"
RETENTION_SIGNAL = "omnibus.marketing.RetentionSignal"
INSTRUCTION_TOPICS: dict[str, TopicSpec] = {
    "CALL_CENTER": MARKETING_INSTRUCTIONS_CALL_CENTER, "BRANCH": MARKETING_INSTRUCTIONS_BRANCH,
    "SMS": MARKETING_INSTRUCTIONS_SMS, "EMAIL": MARKETING_INSTRUCTIONS_EMAIL,
}


# The addresses of its kind a gateway can send to, where not all can take it: an SMS reaches a mobile, not a landline
# (libphonenumber's number type; a PHONE identifier carries no such notion).
SENDABLE: dict[Channel, Callable[[str], bool]] = {Channel.SMS: takes_sms}


def address_keys(channel: str, identifiers: tuple[str, ...]) -> tuple[str, ...]:
    """The identifiers (keys ``TYPE:value``) an instruction for ``channel`` carries: for an outbound push
    (``definition.OUTBOUND``: SMS, EMAIL) only the customer's addresses of that channel's type the gateway can send to
    (phones that take SMS, ``SENDABLE``, for the SMS gateway; e-mails for the campaign tool), in identity's order, so
    no other identifier (national id, account, card, landline) reaches a gateway; for the call center and the counters
    every identifier, as before. Empty: no address to send to (the engine then pushes no SHOW: ``missing_address``)."""
    kind = _outbound_kind(channel)
    if kind is None:
        return identifiers
    sendable = SENDABLE.get(Channel(channel), lambda value: True)
    return tuple(key for key in identifiers if _kind_is(key, kind) and sendable(key.partition(":")[2]))


def missing_address(channel: str, identifiers: tuple[str, ...]) -> Suppression | None:
    """Why an instruction for ``channel`` has nowhere to go, or None when it has (``address_keys`` not empty):
    ``NO_ADDRESS`` for a customer with no address of the channel's kind (an SMS, no phone), ``NO_MOBILE`` for one
    whose phones all cannot take an SMS (landlines)."""
    if address_keys(channel, identifiers):
        return None
    kind = _outbound_kind(channel)
    return Suppression.NO_MOBILE if any(_kind_is(key, kind) for key in identifiers) else Suppression.NO_ADDRESS


def _outbound_kind(channel: str) -> str | None:
    return OUTBOUND.get(Channel(channel)) if channel in Channel.__members__ else None


def _kind_is(key: str, kind: str | None) -> bool:
    return key.partition(":")[0] == kind


def identifier_record(key: str) -> dict[str, str]:
    kind, _, value = key.partition(":")
    return {"type": kind, "value": value}


@dataclass(frozen=True, slots=True)
class Instruction:
    action: str  # SHOW | WITHDRAW
    channel: str
    customer_id: str
    identifiers: tuple[str, ...]
    offer: Offer
    reason: str | None = None
    answered_channel: str | None = None
    not_before: datetime | None = None
    cause_id: str = ""
    started_us: int | None = None  # when the answer reached Omnibus, for the accept-to-withdraw latency


@dataclass(frozen=True, slots=True)
class Expired:
    """An offer event dropped from ``pending`` unplaced: for the dead-letter topic.

    ``origin``: ``[topic, partition, offset, key]`` of the record it came in (None for one parked before origins
    were kept); ``reason``: words, never an identifier value."""

    event: Event
    origin: list[Any] | None
    reason: str


@dataclass
class Batch:
    """What one batch of events produced: records to publish, and what the metrics count."""

    outgoing: list[Outgoing] = field(default_factory=list)
    instructions: list[Instruction] = field(default_factory=list)
    counts: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)  # (metric, labels)
    expired: list[Expired] = field(default_factory=list)  # dead letters, written before the tables are committed

    def count(self, metric: str, *labels: str) -> None:
        self.counts.append((metric, labels))

    def merge(self, other: Batch) -> None:
        self.outgoing.extend(other.outgoing)
        self.instructions.extend(other.instructions)
        self.counts.extend(other.counts)
        self.expired.extend(other.expired)


class Emitter:
    def __init__(self, topics: TopicSettings, source_system: str,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._topics = {channel: spec.name(topics) for channel, spec in INSTRUCTION_TOPICS.items()}
        self._signals = MARKETING_SIGNALS.name(topics)
        self._source = source_system
        self._clock = clock

    def _envelope(self, seed: str, cause_id: str) -> dict[str, Any]:
        now = self._clock()
        identity = event_id(self._source, seed)
        return envelope(event_id=identity, occurred_at=now, received_at=now, source_system=self._source,
                        channel=PROCESSOR_CHANNEL, correlation_id=cause_id or identity, causation_id=cause_id or None)

    def instruction(self, item: Instruction) -> Outgoing:
        offer = item.offer
        seed = f"{item.customer_id}|{offer.offer_id}|{offer.version}|{item.channel}|{item.action}|{item.cause_id}"
        identifiers = address_keys(item.channel, item.identifiers)
        value = {
            "envelope": self._envelope(seed, item.cause_id), "action": item.action, "customer_id": item.customer_id,
            # one identifier locates the customer; all of them as lookup_identifiers, which identity does not link
            "customer_identifiers": [identifier_record(k) for k in identifiers[:1]],
            "lookup_identifiers": [identifier_record(k) for k in identifiers], "offer_id": offer.offer_id,
            "offer_version": offer.version, "channel": item.channel, "title": offer.title,
            "content": offer.content_for(item.channel) if item.action == "SHOW" else "", "priority": offer.priority,
            "not_before": item.not_before, "valid_until": offer.valid_until if item.action == "SHOW" else None,
            "reason": item.reason, "answered_channel": item.answered_channel,
        }
        return Outgoing(self._topics[item.channel], item.customer_id, Event(OFFER_INSTRUCTION, value))

    def signal(self, customer_id: str, signal: Signal) -> Outgoing:
        seed = f"{customer_id}|{signal.kind.value}|{signal.window_start_us}"
        cause = signal.evidence[-1].event_id if signal.evidence else ""
        value = {
            "envelope": self._envelope(seed, cause), "customer_id": customer_id, "kind": signal.kind.value,
            "window_start": _instant(signal.window_start_us), "window_end": _instant(signal.window_end_us),
            "evidence": [{"event_id": e.event_id, "event_type": e.event_type, "occurred_at": _instant(e.occurred_us),
                          "channel": e.channel, "detail": e.detail} for e in signal.evidence],
        }
        return Outgoing(self._signals, customer_id, Event(RETENTION_SIGNAL, value))


def _instant(micros: int) -> datetime:
    return datetime.fromtimestamp(micros / 1_000_000, UTC)
