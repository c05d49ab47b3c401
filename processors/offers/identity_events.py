"""What identity resolution's announcements (``omnibus.identity.*`` on ``customer.events.v1``) change for offers.

``apply`` takes one announcement: ``CustomerCreated`` / ``CustomerLinked`` give a customer identifiers
(``members``: the directory points them at it and what waited for them in ``pending`` is handled); ``LinkRefused``
with ``evicted`` takes one off (``evicted``); ``CustomerMerged`` merges the merged customer's state into the
survivor's (its SHOWs on the call center and counters withdrawn ``MERGED`` under its id, ``push.merged_away``);
``CustomerSplit`` splits the source's state by the moved identifiers; ``ContactMoved`` releases the contacts an
operator moved. A customer that lost an address has what was pushed to it withdrawn (``lost``,
``addresses.py``). Each works for an ``OfferEngine`` (``engine.py``) and ends with the push channels in line
(``push.sync``).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from bus.serde import Event
from processors.offers import addresses, intake, machine
from processors.offers.caps import US
from processors.offers.outputs import Batch, Instruction
from processors.offers.push import NONE_ADOPTED, Adopted, merged_away, push, sync
from processors.offers.state import CustomerState, merge, split
from processors.offers.store import Stores

if TYPE_CHECKING:
    from processors.offers.engine import OfferEngine

IDENTITY = "omnibus.identity."


def apply(engine: OfferEngine, stores: Stores, event: Event, batch: Batch) -> None:
    value, name = event.value, event.schema.removeprefix(IDENTITY)
    cause = value["envelope"]["event_id"]
    if name in ("CustomerCreated", "CustomerLinked"):
        keys = intake.keys_of(value.get("identifiers") or [value.get("identifier")])
        members(engine, stores, value["customer_id"], keys, batch, cause)
    elif name == "LinkRefused" and value.get("evicted") and value.get("customer_id"):
        evicted(engine, stores, intake.keys_of([value["identifier"]]), value["customer_id"], batch, cause)
    elif name == "CustomerMerged":
        survivor = engine.customer(stores, value["survivor_customer_id"])
        merged_raw, adopted = stores.customers.get(value["merged_customer_id"]), NONE_ADOPTED
        if merged_raw is not None and not CustomerState.from_dict(merged_raw).merged_into:
            merged = CustomerState.from_dict(merged_raw)
            adopted = merged_away(engine, stores, merged, survivor, batch, cause)
            survivor = merge(survivor, merged)
        stores.customers[value["merged_customer_id"]] = CustomerState(
            customer_id=value["merged_customer_id"], merged_into=survivor.customer_id).to_dict()
        moved = intake.keys_of(value["moved_identifiers"])
        members(engine, stores, survivor.customer_id, moved, batch, cause, state=survivor, adopted=adopted)
    elif name == "ContactMoved":
        contact_moved(engine, stores, value, batch, cause)
    elif name == "CustomerSplit":
        moved = intake.keys_of(value["moved_identifiers"])
        source = engine.customer(stores, value["source_customer_id"])
        if source.seen(cause):
            return  # redelivered after a rebalance: the new customer may have answered since; never rebuild it
        source.mark(cause)
        kept, new = split(source, value["new_customer_id"], set(moved))
        early = stores.customers.get(new.customer_id)  # contacts the split re-published, arrived first
        if early is not None and not CustomerState.from_dict(early).merged_into:
            new = merge(new, CustomerState.from_dict(early))
        still_shown(engine, source, kept)
        sync(engine, stores, kept, batch, cause_id=cause)
        engine.save(stores, kept)
        members(engine, stores, new.customer_id, moved, batch, cause, state=new)


def contact_moved(engine: OfferEngine, stores: Stores, value: dict[str, Any], batch: Batch, cause: str) -> None:
    """An operator moved a contact off ``source_customer_id`` (``omnibus identity move-contact``): its events
    count no more there, nor if they arrive late (their copies come on customer.contacts under the target)."""
    source = engine.customer(stores, value["source_customer_id"])
    if source.customer_id == engine.customer(stores, value["target_customer_id"]).customer_id:
        return
    for event_id in value.get("moved_event_ids") or ():
        intake.release_contact(source, str(event_id))
    sync(engine, stores, source, batch, cause_id=cause)
    engine.save(stores, source)


def still_shown(engine: OfferEngine, source: CustomerState, kept: CustomerState) -> None:
    """An offer that went whole to the new customer of a split is still on the source's screen pop (its SHOW was
    pushed under the source's identifiers): ``kept`` remembers those pushes on a fresh ELIGIBLE entry, so that
    ``sync`` withdraws it there unless the source fits it too (the screen pop's ``eligible_offers`` follows
    these instructions, ``profile_section.py``)."""
    now_us = int(engine.clock().timestamp() * US)
    for offer_id, state in source.offers.items():
        if state.pushed and offer_id not in kept.offers:
            kept.offers[offer_id] = replace(machine.eligible(state.version, now_us), pushed=state.pushed)


def evicted(engine: OfferEngine, stores: Stores, keys: list[str], customer_id: str, batch: Batch, cause: str) -> None:
    """A per-customer limit or an operator's release took ``keys`` off ``customer_id``: they name nobody now
    (unless linked since to another customer: events of two customers are on different partitions, in no common
    order), and what was pushed to them is withdrawn (``lost``)."""
    state = engine.customer(stores, customer_id)
    before = tuple(state.identifiers)
    for key in keys:
        holder = stores.directory.get(key)
        if holder is not None and engine.customer(stores, holder).customer_id == state.customer_id:
            del stores.directory[key]
            state.identifiers = [i for i in state.identifiers if i != key]
    lost(engine, stores, state, before, batch, cause)


def lost(engine: OfferEngine, stores: Stores, state: CustomerState, before: tuple[str, ...], batch: Batch,
         cause: str) -> None:
    """``state`` no longer holds some of ``before``: its pushes to them are withdrawn, and shown again at the
    addresses it still holds (``addresses.py``); saved."""
    by_id = {offer.offer_id: offer for offer in engine.live_offers(stores)}
    for channel, offer_id in addresses.lost_pushes(state, before):
        if offer_id in by_id:
            push(engine, state, Instruction("WITHDRAW", channel, state.customer_id, before, by_id[offer_id],
                                            reason=addresses.ADDRESS_LOST, cause_id=cause), batch)
    sync(engine, stores, state, batch, cause_id=cause)
    engine.save(stores, state)


def members(engine: OfferEngine, stores: Stores, customer_id: str, keys: list[str], batch: Batch, cause: str,
            state: CustomerState | None = None, adopted: Adopted = NONE_ADOPTED) -> None:
    """``keys`` now name ``customer_id`` (its ``state`` when the caller holds it): a former holder of one loses it
    (``addresses.relinquish``), the directory points them here, and what waited for them is handled; ``adopted``:
    a merged customer's SHOWs to SHOW again under this id or withdraw here (``push.merged_away``)."""
    state = state or engine.customer(stores, customer_id)
    for previous, before in addresses.relinquish(stores.directory.get, keys, state.customer_id,
                                                 lambda held_by: engine.customer(stores, held_by)):
        lost(engine, stores, previous, before, batch, cause)  # a recycled number's former holder
    state.identifiers = list(dict.fromkeys([*state.identifiers, *keys]))
    for key in keys:
        stores.directory[key] = state.customer_id
    engine.save(stores, state)
    engine.release(stores, keys, batch)  # what waited for these identifiers first: it may hold an answer
    state = engine.customer(stores, state.customer_id)
    sync(engine, stores, state, batch, cause_id=cause, adopted=adopted)
    engine.save(stores, state)
