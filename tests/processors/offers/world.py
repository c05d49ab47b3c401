"""The offer engine on in-memory stores, for the tests of ``engine.py``, ``catalogue.py``, ``push.py`` and
``identity_events.py``: ``World`` feeds events to an ``OfferEngine`` over dict tables."""

from __future__ import annotations

from typing import Any

from bus.config import TopicSettings
from bus.identifiers.number_format import NumberFormat
from bus.serde import Event
from processors.offers.caps import ContactPolicy
from processors.offers.config import OffersSettings
from processors.offers.engine import OfferEngine
from processors.offers.outputs import Batch, Emitter
from processors.offers.store import Stores
from tests.processors.offers.factories import T0, envelope, ident

PHONE, EMAIL = "PHONE:+8613900000001", "EMAIL:a@x.org"
SETTINGS = OffersSettings(policy=ContactPolicy(quiet_hours=None), default_timezone="UTC")


class World:
    def __init__(self, settings: OffersSettings = SETTINGS, account_format: NumberFormat | None = None) -> None:
        self.now = T0
        self.tables: list[dict[str, Any]] = [{}, {}, {}, {}]
        self.engine = OfferEngine(settings, Emitter(TopicSettings(), "test", lambda: self.now), lambda: self.now,
                                  account_format=account_format)
        self.n = 0

    def feed(self, event: Event, key: str | None = None, *, from_contacts: bool = False) -> Batch:
        stores, batch = Stores(*self.tables), Batch()
        self.engine.handle(stores, event, key, batch, from_contacts=from_contacts)
        stores.commit()
        return batch

    def id(self) -> str:
        self.n += 1
        return f"ev-{self.n}"

    def created(self, customer_id: str, *keys: str) -> Batch:
        return self.feed(Event("omnibus.identity.CustomerCreated", {
            "envelope": envelope(self.id()), "customer_id": customer_id, "identifiers": [ident(k) for k in keys]}))

    def offer_event(self, schema: str, key: str, offer_id: str, channel: str, version: int = 1, **extra: Any) -> Batch:
        value = {"envelope": envelope(self.id(), self.now, channel), "offer_id": offer_id, "offer_version": version,
                 "channel": channel, "customer_identifiers": [ident(key)], "agent_id": None,
                 "presentation_id": f"p-{self.n}", **extra}
        return self.feed(Event(f"omnibus.marketing.{schema}", value))

    def customer(self, customer_id: str) -> dict[str, Any]:
        return self.tables[2][customer_id]


def actions(batch: Batch) -> list[tuple[str, str, str, str]]:
    return [(i.action, i.channel, i.customer_id, i.offer.offer_id) for i in batch.instructions]
