"""Offers on the compacted offers topic: publish a file's offers, list the current ones, withdraw one.

The topic (``marketing.offers.v1``, key: offer id) keeps the latest record per offer: an
``OfferDefined`` (a version) or an ``OfferWithdrawn``. Publishing checks each offer against what the
topic holds: the same version again is accepted only with the same definition (re-running a publish is
harmless), an older version is refused; a higher version is a revision that replaces the old one.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bus.config import OmnibusSettings
from bus.envelope import source_envelope as make_envelope
from bus.errors import OmnibusError
from bus.producer import EventProducer, Outgoing
from bus.redact import free_text
from bus.replay import replay_topic
from bus.serde import Event, build_serde
from bus.topics import MARKETING_OFFERS
from processors.offers.definition import OFFER_DEFINED, OFFER_WITHDRAWN, Offer

SOURCE_SYSTEM = "omnibus-offers-cli"


class PublishRefused(OmnibusError, ValueError):
    """An offer conflicts with the version on the topic."""


@dataclass(frozen=True, slots=True)
class Current:
    """The latest record of one offer on the topic."""

    offer: Offer
    withdrawn: bool = False
    reason: str | None = None


def _envelope(seed: str, now: datetime) -> dict[str, Any]:
    return make_envelope(source_system=SOURCE_SYSTEM, channel="PROCESSOR", source_event_id=seed, occurred_at=now,
                         received_at=now)


def defined(offer: Offer, now: datetime | None = None) -> Event:
    now = now or datetime.now(UTC)
    seed = f"{offer.offer_id}:{offer.version}:{hashlib.sha256(offer.model_dump_json().encode()).hexdigest()[:16]}"
    return Event(OFFER_DEFINED, offer.to_record(_envelope(seed, now)))


def withdrawn(offer: Offer, reason: str | None, now: datetime | None = None) -> Event:
    """``OfferWithdrawn`` for ``offer``; ``reason`` (an operator's free text) scrubbed of identifier values as every
    channel's free text is (``bus.redact.free_text``)."""
    now = now or datetime.now(UTC)
    reason = free_text(reason) if reason else reason
    seed = f"{offer.offer_id}:{offer.version}:withdrawn:{now.isoformat()}"
    return Event(OFFER_WITHDRAWN, {"envelope": _envelope(seed, now), "offer_id": offer.offer_id,
                                   "version": offer.version, "reason": reason})


def fold(events: list[Event]) -> dict[str, Current]:
    """Latest state per offer id from the topic's events, in order."""
    current: dict[str, Current] = {}
    for event in events:
        if event.schema == OFFER_DEFINED:
            offer = Offer.from_record(event.value)
            current[offer.offer_id] = Current(offer)
        elif event.schema == OFFER_WITHDRAWN and event.value["offer_id"] in current:
            current[event.value["offer_id"]] = Current(current[event.value["offer_id"]].offer, True,
                                                       event.value.get("reason"))
    return current


def check_revision(offer: Offer, existing: Current | None) -> bool:
    """True when ``offer`` must be published; False when the topic already has exactly it.

    Raises ``PublishRefused`` for an older version, or the same version with another definition."""
    if existing is None:
        return True
    if offer.version < existing.offer.version:
        raise PublishRefused(f"{offer.offer_id}: version {offer.version} is older than the published "
                             f"version {existing.offer.version}")
    if offer.version == existing.offer.version:
        if offer == existing.offer and not existing.withdrawn:
            return False
        raise PublishRefused(f"{offer.offer_id}: version {offer.version} is already published "
                             f"{'and withdrawn' if existing.withdrawn else 'with another definition'}; "
                             "raise the version")
    return True


async def current_offers(settings: OmnibusSettings) -> dict[str, Current]:
    replay = await replay_topic(settings, MARKETING_OFFERS)
    return fold(replay.events)


async def send(settings: OmnibusSettings, events: list[Event]) -> None:
    serializer, _ = build_serde(settings.registry)
    topic = MARKETING_OFFERS.name(settings.topics)
    async with EventProducer(settings, serializer) as producer:
        await producer.publish_many([Outgoing(topic, e.value["offer_id"], e) for e in events])


async def publish(settings: OmnibusSettings, offers: list[Offer]) -> list[Offer]:
    """Publish the offers that are new or revised; returns them (raises ``PublishRefused`` before sending any)."""
    existing = await current_offers(settings)
    fresh = [offer for offer in offers if check_revision(offer, existing.get(offer.offer_id))]
    if fresh:
        await send(settings, [defined(offer) for offer in fresh])
    return fresh


async def withdraw(settings: OmnibusSettings, offer_id: str, reason: str | None) -> Offer:
    existing = (await current_offers(settings)).get(offer_id)
    if existing is None or existing.withdrawn:
        raise PublishRefused(f"{offer_id}: no such offer is published" if existing is None
                             else f"{offer_id}: already withdrawn")
    await send(settings, [withdrawn(existing.offer, reason)])
    return existing.offer
