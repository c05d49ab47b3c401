"""The offer catalogue: the parsed offers of ``stores.catalog``, and what ``OfferDefined`` / ``OfferWithdrawn``
(``marketing.offers.v1``) change for every customer.

``Catalogue`` keeps each catalogue entry parsed once, by (offer id, version). ``offer_defined`` stores a new
offer or a newer version (an older version, a redelivered definition or a withdrawn version defined again change
nothing) and brings every customer's push channels in line (``push.sync``); ``offer_withdrawn`` withdraws the offer
from every channel it was pushed to and expires it for every customer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bus.serde import Event
from processors.offers import machine
from processors.offers.caps import US
from processors.offers.definition import Offer
from processors.offers.outputs import Batch, Instruction
from processors.offers.push import push, sync
from processors.offers.state import CustomerState
from processors.offers.store import Stores

if TYPE_CHECKING:
    from processors.offers.engine import OfferEngine


class Catalogue:
    """The parsed entries of ``stores.catalog`` (JSON: ``{"offer": Offer.to_json(), "withdrawn": bool}``)."""

    def __init__(self) -> None:
        self._offers: dict[tuple[str, int], Offer] = {}  # parsed catalogue entries, by (id, version)

    def offer(self, stores: Stores, offer_id: str) -> tuple[Offer | None, bool]:
        """(the current version of the offer or None, whether it was withdrawn)."""
        entry = stores.catalog.get(offer_id)
        if entry is None:
            return None, False
        key = (offer_id, entry["offer"]["version"])
        if key not in self._offers:
            self._offers[key] = Offer.from_json(entry["offer"])
        return self._offers[key], bool(entry.get("withdrawn"))

    def live(self, stores: Stores) -> list[Offer]:
        """The offers defined and not withdrawn, current versions."""
        found = (self.offer(stores, offer_id) for offer_id in list(stores.catalog.keys()))
        return [offer for offer, withdrawn in found if offer is not None and not withdrawn]

    def remember(self, offer: Offer) -> None:
        """``offer`` replaces the cached parse of its (id, version): a same-version edit."""
        self._offers[(offer.offer_id, offer.version)] = offer


def offer_defined(engine: OfferEngine, stores: Stores, event: Event, batch: Batch) -> None:
    offer = Offer.from_record(event.value)
    known, withdrawn = engine.offer(stores, offer.offer_id)
    if known is not None and known.version > offer.version:
        return  # an older version replayed: the newer one stays
    if known is not None and not withdrawn and stores.catalog.get(offer.offer_id)["offer"] == offer.to_json():
        return  # the same definition again (redelivered after a rebalance): every customer already has it
    if known is not None and withdrawn and known.version == offer.version:
        return  # a withdrawn version is never defined again (campaigns.check_revision): a redelivered copy
    stores.catalog[offer.offer_id] = {"offer": offer.to_json(), "withdrawn": False}
    engine.catalogue.remember(offer)
    now_us = int(engine.clock().timestamp() * US)
    for customer_id in list(stores.customers.keys()):
        raw = stores.customers.get(customer_id)
        state = CustomerState.from_dict(raw)
        if state.merged_into:
            continue
        if offer.offer_id in state.offers:
            state.offers[offer.offer_id] = machine.revise(state.offers[offer.offer_id], offer.version, now_us)
        sync(engine, stores, state, batch, cause_id=event.value["envelope"]["event_id"], refresh=offer.offer_id)
        if state.to_dict() != raw:  # most customers of a big base do not fit: no changelog write for them
            engine.save(stores, state)


def offer_withdrawn(engine: OfferEngine, stores: Stores, event: Event, batch: Batch) -> None:
    offer, _ = engine.offer(stores, event.value["offer_id"])
    if offer is None:
        return
    stores.catalog[offer.offer_id] = {"offer": offer.to_json(), "withdrawn": True}
    now_us = int(engine.clock().timestamp() * US)
    for customer_id in list(stores.customers.keys()):
        state = CustomerState.from_dict(stores.customers.get(customer_id))
        current = state.offers.get(offer.offer_id)
        if state.merged_into or current is None:
            continue
        for channel in current.pushed:
            push(engine, state, Instruction("WITHDRAW", channel, state.customer_id, tuple(state.identifiers), offer,
                                            reason="WITHDRAWN", cause_id=event.value["envelope"]["event_id"]), batch)
        state.offers[offer.offer_id] = machine.expire(state.offers[offer.offer_id], now_us)
        engine.save(stores, state)
