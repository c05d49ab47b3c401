"""The offer processor's rules, pure: one decoded event in, state changes and outputs out.

``OfferEngine.handle`` reads and writes the batch's ``Stores`` and appends to a ``Batch``: the Avro
records to publish (instructions, signals) and what the metrics count. Contacts, billing records (accounts,
products, arrears, orders) and handoff events count for the customer identity placed them on: their copy on
``customer.contacts.v1``, keyed by that customer (the screen pop's), never the keeper of an identifier they
share with a housemate (tester15 F3). Offer presentations and answers (``answers.py``), which identity does not
re-publish, go where identity placed the contact they were recorded with (``intake.placement_key``: the contact's
copy shares their ``correlation_id``; tester19 F10), waiting in ``pending`` until it is placed. An offer event with no
contact of its own and identity observations are found through the directory of identifiers kept from
``customer.events.v1``, by their most specific identifier first (``intake.ranked_keys``); one whose identifiers are
not assigned yet waits in ``pending`` and is handled when identity resolution announces one of them; what waits
longer than the event-time retention leaves, an offer event as a dead letter (``retention.py``).

After every change to a customer, ``sync`` brings the push channels in line: SHOW what fits now and is
not shown yet (unless a cap forbids it: counted), WITHDRAW what is shown but no longer fits (an answer
on any channel, expiry, withdrawal, facts that changed).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from bus.errors import OmnibusError
from bus.identifiers.number_format import NumberFormat
from bus.serde import Event
from processors.offers import addresses, answers, intake, machine, reservations, retention
from processors.offers.answers import PRESENTED, RESPONDED
from processors.offers.caps import US, not_before, suppression
from processors.offers.config import OffersSettings
from processors.offers.definition import OFFER_DEFINED, OFFER_WITHDRAWN, OUTBOUND, Offer
from processors.offers.intake import OBSERVED
from processors.offers.outputs import Batch, Emitter, Instruction, missing_address
from processors.offers.ranking import fits, zone_of
from processors.offers.signals import detect
from processors.offers.state import CustomerState, merge, split
from processors.offers.store import Stores, from_json

IDENTITY = "omnibus.identity."
# Business and handoff events are taken from customer.contacts.v1 only (identity's placement), never resolved here.
RESOLVED_BY_IDENTIFIERS = frozenset({PRESENTED, RESPONDED, OBSERVED})
CONTACT_PLACED = intake.CONTACT + "InteractionRecorded"  # its copy's key places its offer events (answers.place)
MAX_MERGE_HOPS = 16


class NoCustomer(OmnibusError, ValueError):
    """An offer answer or presentation names no customer identifier: it can never be resolved
    (it is dead-lettered). An ``IdentifiersObserved`` naming none is valid and skipped (``unresolved_skipped``)."""


class OfferEngine:
    """The rules (module docstring); ``account_format``: the deployment's
    ``OMNIBUS_IDENTIFIERS__ACCOUNT_NUMBER_FORMAT``, in which a business event's account number is compared
    (``intake.apply_business``)."""

    def __init__(self, settings: OffersSettings, emitter: Emitter,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 account_format: NumberFormat | None = None) -> None:
        self.settings, self.emitter, self.clock = settings, emitter, clock
        self.account_format = account_format
        self._offers: dict[tuple[str, int], Offer] = {}  # parsed catalogue entries, by (id, version)

    # --- catalogue -----------------------------------------------------------------------------------

    def offer(self, stores: Stores, offer_id: str) -> tuple[Offer | None, bool]:
        """(the current version of the offer or None, whether it was withdrawn)."""
        entry = stores.catalog.get(offer_id)
        if entry is None:
            return None, False
        key = (offer_id, entry["offer"]["version"])
        if key not in self._offers:
            self._offers[key] = Offer.from_json(entry["offer"])
        return self._offers[key], bool(entry.get("withdrawn"))

    def live_offers(self, stores: Stores) -> list[Offer]:
        found = (self.offer(stores, offer_id) for offer_id in list(stores.catalog.keys()))
        return [offer for offer, withdrawn in found if offer is not None and not withdrawn]

    # --- customers -----------------------------------------------------------------------------------

    def customer(self, stores: Stores, customer_id: str) -> CustomerState:
        """The customer's state, following merges to the survivor; a new empty state if unknown."""
        for _ in range(MAX_MERGE_HOPS):
            raw = stores.customers.get(customer_id)
            if raw is None:
                return CustomerState(customer_id=customer_id)
            state = CustomerState.from_dict(raw)
            if not state.merged_into:
                return state
            customer_id = state.merged_into
        raise ValueError(f"merge chain longer than {MAX_MERGE_HOPS} from {customer_id}")

    def save(self, stores: Stores, state: CustomerState) -> None:
        stores.customers[state.customer_id] = state.to_dict()

    # --- entry point ---------------------------------------------------------------------------------

    def handle(
        self, stores: Stores, event: Event, key: str | None, batch: Batch, *, from_contacts: bool = False,
        moved_from: str | None = None, origin: list[Any] | None = None,
    ) -> None:
        """``moved_from``: the record's ``bus.topics.MOVED_FROM_HEADER`` (a contact a split moved to ``key``);
        ``origin``: ``[topic, partition, offset, key]`` of the record, for a dead letter if it waits past retention.
        An offer event, an observation or a placed contact moves the event-time clock of ``retention.py`` (and sweeps
        what is past retention when due); the catalogue's and identity's own stamps do not."""
        schema = event.schema
        if (from_contacts or schema in RESOLVED_BY_IDENTIFIERS) and retention.advance(stores, event):
            retention.sweep(stores, batch, self.settings.retention_s, lambda parked: self._applied(stores, parked))
        if schema == OFFER_DEFINED:
            self._offer_defined(stores, event, batch)
        elif schema == OFFER_WITHDRAWN:
            self._offer_withdrawn(stores, event, batch)
        elif schema.startswith(IDENTITY):
            if not from_contacts:  # CustomerMerged is repeated on the contacts topic under the merged id
                self._identity(stores, event, batch)
        elif from_contacts and key:
            state = self.customer(stores, key)
            moved = bool(moved_from) and moved_from != key
            if moved and moved_from:
                self._moved_away(stores, moved_from, state, intake.contact_id(event, moved=True))
            self._about(stores, state, event, batch, moved=moved)
            if schema == CONTACT_PLACED:  # after _about saved the contact: a released answer reloads the customer
                if (placed := answers.place(stores, event, state.customer_id, moved)) is not None:
                    self._release(stores, [placed], batch)
                    retention.drop_late_placement(stores, placed, event, batch, self.settings.retention_s)
        elif schema in RESOLVED_BY_IDENTIFIERS:
            self._resolve(stores, event, batch, origin)

    def _resolve(self, stores: Stores, event: Event, batch: Batch, origin: list[Any] | None = None) -> None:
        keys = intake.identifier_keys(event)
        if not keys and event.schema == OBSERVED:  # e.g. a web page view with an anonymous id only: valid, no one
            batch.count("unresolved_skipped")
            return
        placement = intake.placement_key(event) if event.schema != OBSERVED else None
        if not keys and placement is None:  # a gateway's report needs none: its instruction places it
            raise NoCustomer(f"{event.schema.rpartition('.')[2]} names no customer identifier")
        if placement is not None:  # an offer event of a contact: the customer identity placed that contact on
            holder = stores.directory.get(placement)
            if holder is not None:
                self._about(stores, self.customer(stores, str(holder[0])), event, batch)
            else:
                self._park(stores, [placement], event, batch, origin)
            return
        # the most specific identifier decides (a user id before a family phone), as identity ranks them
        ranked = intake.ranked_keys(keys)
        known = [key for key in ranked if stores.directory.get(key)]
        # An observation's traits (region, city) wait for its most specific identifier: a less specific one known
        # already may be a housemate's (a billing line's shared e-mail before identity linked its account).
        waits_for_first = event.schema == OBSERVED and bool(known) and known[0] != ranked[0]
        if known and not waits_for_first:
            self._about(stores, self.customer(stores, str(stores.directory.get(known[0]))), event, batch)
            return
        self._park(stores, ranked[:1] if event.schema == OBSERVED else list(keys), event, batch, origin)

    def _park(self, stores: Stores, keys: list[str], event: Event, batch: Batch, origin: list[Any] | None) -> None:
        """``event`` waits for ``keys``, unless received longer than the retention ago (``retention.late``)."""
        if not retention.late(stores, keys, event, batch, self.settings.retention_s, origin):
            answers.park(stores, keys, event, batch, self.settings, origin)

    def _release(self, stores: Stores, identifiers: list[str], batch: Batch) -> None:
        for identifier in identifiers:
            waiting = stores.pending.get(identifier)
            if waiting:
                del stores.pending[identifier]
                for parked in waiting:
                    self.handle(stores, Event(parked["schema"], from_json(parked["value"])), None, batch,
                                origin=parked.get("origin"))

    def _applied(self, stores: Stores, event: Event) -> bool:
        """A customer the event's contact placement or identifiers lead to has applied it (its recent event ids)."""
        event_id = event.value["envelope"]["event_id"]
        placement = intake.placement_key(event)
        holders = [stores.directory.get(placement)] if placement else []
        holders += [stores.directory.get(key) for key in intake.identifier_keys(event)]
        customers = {str(h[0]) if isinstance(h, list) else str(h) for h in holders if h}
        return any(self.customer(stores, customer_id).seen(event_id) for customer_id in sorted(customers))

    # --- one customer's event ------------------------------------------------------------------------

    def _moved_away(self, stores: Stores, source_id: str, state: CustomerState, contact: str) -> None:
        """A split re-published ``contact`` under ``state``'s customer: the customer it left no longer counts it."""
        source = self.customer(stores, source_id)
        if source.customer_id != state.customer_id:
            intake.release_contact(source, contact)
            self.save(stores, source)

    def _about(self, stores: Stores, state: CustomerState, event: Event, batch: Batch, *, moved: bool = False) -> None:
        event_id = event.value["envelope"]["event_id"]
        if state.seen(event_id):
            return
        state.mark(event_id)
        schema, started_us = event.schema, None
        if schema in (PRESENTED, RESPONDED):
            offer, _ = self.offer(stores, event.value["offer_id"])
            started_us = answers.record(state, event, offer, self.settings, batch)
        elif (row := intake.contact_row(event, moved=moved)) is not None:
            if not intake.add_contact(state, row):  # the split brought this contact here already: counted once
                self.save(stores, state)
                return
        elif schema.startswith(intake.BUSINESS):
            intake.apply_business(state, event, self.account_format)
        elif schema == OBSERVED:
            intake.apply_traits(state, event)
        for signal in detect(state, event, self.settings.signals):
            batch.outgoing.append(self.emitter.signal(state.customer_id, signal))
            batch.count("signal", signal.kind.value)
        self.sync(stores, state, batch, cause_id=event_id, started_us=started_us)
        self.save(stores, state)

    # --- push channels -------------------------------------------------------------------------------

    def sync(self, stores: Stores, state: CustomerState, batch: Batch, *, cause_id: str,
             started_us: int | None = None, refresh: str | None = None) -> None:
        """SHOW / WITHDRAW on every push channel so it holds exactly what fits the customer now.

        Nothing is pushed for a customer no identifier locates yet (a contact re-keyed on customer.contacts can
        come before identity's announcement on customer.events): an instruction names the customer by an
        identifier, and one naming none reaches nobody's screen pop. ``_members`` syncs again when it comes."""
        if not state.identifiers:
            return
        # offers pushed somewhere, the higher priority (then the offer id) first: it gets the room a cap leaves
        live = sorted((o for o in self.live_offers(stores) if set(self.settings.push_channels) & set(o.channels)),
                      key=lambda o: (-o.priority, o.offer_id))
        now, zone = self.clock(), zone_of(state, self.settings.zone)
        fitting = {offer.offer_id for offer in live if fits(state, offer, now)}  # one rule evaluation per offer
        by_id = {offer.offer_id: offer for offer in live}
        # outbound SHOWs a presentation (or a merge) left over a cap first, so what remains counts for new SHOWs
        for row, why in reservations.over_caps(state, by_id, fitting, now, zone, self.settings.policy):
            self._push(state, Instruction("WITHDRAW", row[1], row[4], tuple(state.identifiers), by_id[row[2]],
                                          reason=why, cause_id=cause_id), batch)
        for offer in live:  # a push channel before another in PUSH_CHANNELS' order gets the room a cap leaves
            channels = [c.value for c in self.settings.push_channels if c in offer.channels]
            fit = offer.offer_id in fitting
            for channel in channels:
                current = state.offers.get(offer.offer_id)
                shown = current is not None and channel in current.pushed
                if fit:
                    if shown and refresh != offer.offer_id:
                        continue
                    reason = suppression(state, offer, channel, now, zone, self.settings.policy, quiet_hours=False)
                    if reason is None:  # an SMS for a customer without a mobile: nowhere to send
                        reason = missing_address(channel, tuple(state.identifiers))
                    if reason is not None and not shown:
                        batch.count("suppressed", reason.value, channel)
                        continue
                    self._push(state, Instruction("SHOW", channel, state.customer_id, tuple(state.identifiers), offer,
                                                  not_before=not_before(offer, now, zone, self.settings.policy),
                                                  cause_id=cause_id), batch, stores)
                elif shown:
                    status = current.status if current else None
                    answered = current.answered_channel if current and current.status.answered else None
                    why = status.value if status and (status.answered or status.value == "NOT_NOW") else (
                        "EXPIRED" if not offer.valid_at(now) else "NOT_ELIGIBLE")
                    self._push(state, Instruction("WITHDRAW", channel, state.customer_id, tuple(state.identifiers),
                                                  offer, reason=why, answered_channel=answered, cause_id=cause_id,
                                                  started_us=started_us), batch)

    def _push(self, state: CustomerState, item: Instruction, batch: Batch, stores: Stores | None = None) -> None:
        """Publishes ``item`` and records it on the customer's ``pushed`` channels. A SHOW to an outbound gateway
        (SMS, EMAIL) is also a contact the gateway's report is placed by: ``PLACED:<instruction event id>`` -> this
        customer in ``stores.directory`` (``answers.place``), so the OfferPresented / OfferResponded the gateway
        publishes with that ``correlation_id`` counts for this customer, whoever else shares the phone or e-mail."""
        now_us, offer_id = int(self.clock().timestamp() * US), item.offer.offer_id
        current = state.offers.get(offer_id) or machine.eligible(item.offer.version, now_us)
        reservations.release(state, offer_id, item.channel, item.customer_id)  # a new SHOW reserves anew below
        stays = item.action == "SHOW" or reservations.held(state, offer_id, item.channel)  # a merged one's WITHDRAW
        pushed = [c for c in current.pushed if c != item.channel] + ([item.channel] if stays else [])
        state.offers[offer_id] = replace(current, pushed=tuple(pushed))
        outgoing = self.emitter.instruction(item)
        batch.outgoing.append(outgoing)
        batch.instructions.append(item)
        batch.count("instruction", item.channel, item.action)
        if stores is not None and item.action == "SHOW" and item.channel in OUTBOUND:
            answers.place_push(stores, outgoing.event, state.customer_id)
            reservations.reserve(state, item.offer, item.channel, str(outgoing.event.value["envelope"]["event_id"]),
                                 now_us)

    # --- offers and identity -------------------------------------------------------------------------

    def _offer_defined(self, stores: Stores, event: Event, batch: Batch) -> None:
        offer = Offer.from_record(event.value)
        known, withdrawn = self.offer(stores, offer.offer_id)
        if known is not None and known.version > offer.version:
            return  # an older version replayed: the newer one stays
        if known is not None and not withdrawn and stores.catalog.get(offer.offer_id)["offer"] == offer.to_json():
            return  # the same definition again (redelivered after a rebalance): every customer already has it
        if known is not None and withdrawn and known.version == offer.version:
            return  # a withdrawn version is never defined again (campaigns.check_revision): a redelivered copy
        stores.catalog[offer.offer_id] = {"offer": offer.to_json(), "withdrawn": False}
        self._offers[(offer.offer_id, offer.version)] = offer  # a same-version edit replaces the cached one
        now_us = int(self.clock().timestamp() * US)
        for customer_id in list(stores.customers.keys()):
            raw = stores.customers.get(customer_id)
            state = CustomerState.from_dict(raw)
            if state.merged_into:
                continue
            if offer.offer_id in state.offers:
                state.offers[offer.offer_id] = machine.revise(state.offers[offer.offer_id], offer.version, now_us)
            self.sync(stores, state, batch, cause_id=event.value["envelope"]["event_id"], refresh=offer.offer_id)
            if state.to_dict() != raw:  # most customers of a big base do not fit: no changelog write for them
                self.save(stores, state)

    def _offer_withdrawn(self, stores: Stores, event: Event, batch: Batch) -> None:
        offer, _ = self.offer(stores, event.value["offer_id"])
        if offer is None:
            return
        stores.catalog[offer.offer_id] = {"offer": offer.to_json(), "withdrawn": True}
        now_us = int(self.clock().timestamp() * US)
        for customer_id in list(stores.customers.keys()):
            state = CustomerState.from_dict(stores.customers.get(customer_id))
            current = state.offers.get(offer.offer_id)
            if state.merged_into or current is None:
                continue
            for channel in current.pushed:
                self._push(state, Instruction("WITHDRAW", channel, state.customer_id, tuple(state.identifiers), offer,
                                              reason="WITHDRAWN", cause_id=event.value["envelope"]["event_id"]), batch)
            state.offers[offer.offer_id] = machine.expire(state.offers[offer.offer_id], now_us)
            self.save(stores, state)

    def _identity(self, stores: Stores, event: Event, batch: Batch) -> None:
        value, name = event.value, event.schema.removeprefix(IDENTITY)
        cause = value["envelope"]["event_id"]
        if name in ("CustomerCreated", "CustomerLinked"):
            keys = intake.keys_of(value.get("identifiers") or [value.get("identifier")])
            self._members(stores, value["customer_id"], keys, batch, cause)
        elif name == "LinkRefused" and value.get("evicted") and value.get("customer_id"):
            self._evicted(stores, intake.keys_of([value["identifier"]]), value["customer_id"], batch, cause)
        elif name == "CustomerMerged":
            survivor = self.customer(stores, value["survivor_customer_id"])
            merged_raw = stores.customers.get(value["merged_customer_id"])
            if merged_raw is not None and not CustomerState.from_dict(merged_raw).merged_into:
                survivor = merge(survivor, CustomerState.from_dict(merged_raw))
            stores.customers[value["merged_customer_id"]] = CustomerState(
                customer_id=value["merged_customer_id"], merged_into=survivor.customer_id).to_dict()
            moved = intake.keys_of(value["moved_identifiers"])
            self._members(stores, survivor.customer_id, moved, batch, cause, state=survivor)
        elif name == "ContactMoved":
            self._contact_moved(stores, value, batch, cause)
        elif name == "CustomerSplit":
            moved = intake.keys_of(value["moved_identifiers"])
            source = self.customer(stores, value["source_customer_id"])
            if source.seen(cause):
                return  # redelivered after a rebalance: the new customer may have answered since; never rebuild it
            source.mark(cause)
            kept, new = split(source, value["new_customer_id"], set(moved))
            early = stores.customers.get(new.customer_id)  # contacts the split re-published, arrived first
            if early is not None and not CustomerState.from_dict(early).merged_into:
                new = merge(new, CustomerState.from_dict(early))
            self._still_shown(source, kept)
            self.sync(stores, kept, batch, cause_id=cause)
            self.save(stores, kept)
            self._members(stores, new.customer_id, moved, batch, cause, state=new)

    def _contact_moved(self, stores: Stores, value: dict[str, Any], batch: Batch, cause: str) -> None:
        """An operator moved a contact off ``source_customer_id`` (``omnibus identity move-contact``): its events
        count no more there, nor if they arrive late (their copies come on customer.contacts under the target)."""
        source = self.customer(stores, value["source_customer_id"])
        if source.customer_id == self.customer(stores, value["target_customer_id"]).customer_id:
            return
        for event_id in value.get("moved_event_ids") or ():
            intake.release_contact(source, str(event_id))
        self.sync(stores, source, batch, cause_id=cause)
        self.save(stores, source)

    def _still_shown(self, source: CustomerState, kept: CustomerState) -> None:
        """An offer that went whole to the new customer of a split is still on the source's screen pop (its SHOW was
        pushed under the source's identifiers): ``kept`` remembers those pushes on a fresh ELIGIBLE entry, so that
        ``sync`` withdraws it there unless the source fits it too (the screen pop's ``eligible_offers`` follows
        these instructions, ``profile_section.py``)."""
        now_us = int(self.clock().timestamp() * US)
        for offer_id, state in source.offers.items():
            if state.pushed and offer_id not in kept.offers:
                kept.offers[offer_id] = replace(machine.eligible(state.version, now_us), pushed=state.pushed)

    def _evicted(self, stores: Stores, keys: list[str], customer_id: str, batch: Batch, cause: str) -> None:
        """A per-customer limit or an operator's release took ``keys`` off ``customer_id``: they name nobody now
        (unless linked since to another customer: events of two customers are on different partitions, in no common
        order), and what was pushed to them is withdrawn (``_lost``)."""
        state = self.customer(stores, customer_id)
        before = tuple(state.identifiers)
        for key in keys:
            holder = stores.directory.get(key)
            if holder is not None and self.customer(stores, holder).customer_id == state.customer_id:
                del stores.directory[key]
                state.identifiers = [i for i in state.identifiers if i != key]
        self._lost(stores, state, before, batch, cause)

    def _lost(self, stores: Stores, state: CustomerState, before: tuple[str, ...], batch: Batch, cause: str) -> None:
        """``state`` no longer holds some of ``before``: its pushes to them are withdrawn, and shown again at the
        addresses it still holds (``addresses.py``, tester34 F19); saved."""
        by_id = {offer.offer_id: offer for offer in self.live_offers(stores)}
        for channel, offer_id in addresses.lost_pushes(state, before):
            if offer_id in by_id:
                self._push(state, Instruction("WITHDRAW", channel, state.customer_id, before, by_id[offer_id],
                                              reason=addresses.ADDRESS_LOST, cause_id=cause), batch)
        self.sync(stores, state, batch, cause_id=cause)
        self.save(stores, state)

    def _members(self, stores: Stores, customer_id: str, keys: list[str], batch: Batch, cause: str,
                 state: CustomerState | None = None) -> None:
        state = state or self.customer(stores, customer_id)
        for previous, before in addresses.relinquish(stores.directory.get, keys, state.customer_id,
                                                     lambda held_by: self.customer(stores, held_by)):
            self._lost(stores, previous, before, batch, cause)  # a recycled number's former holder (tester34 F19)
        state.identifiers = list(dict.fromkeys([*state.identifiers, *keys]))
        for key in keys:
            stores.directory[key] = state.customer_id
        self.save(stores, state)
        self._release(stores, keys, batch)  # what waited for these identifiers first: it may hold an answer
        state = self.customer(stores, state.customer_id)
        self.sync(stores, state, batch, cause_id=cause)
        self.save(stores, state)
