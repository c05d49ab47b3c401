"""The offer processor's rules, pure: one decoded event in, state changes and outputs out.

``OfferEngine.handle`` reads and writes the batch's ``Stores`` and appends to a ``Batch``: the Avro
records to publish (instructions, signals) and what the metrics count. Contacts, billing records (accounts,
products, arrears, orders) and handoff events count for the customer identity placed them on: their copy on
``customer.contacts.v1``, keyed by that customer (the screen pop's), never the keeper of an identifier they
share with a housemate. Offer presentations and answers (``answers.py``), which identity does not
re-publish, go where identity placed the contact they were recorded with (``intake.placement_key``: the contact's
copy shares their ``correlation_id``), waiting in ``pending`` until it is placed. An offer event with no
contact of its own and identity observations are found through the directory of identifiers kept from
``customer.events.v1``, by their most specific identifier first (``intake.ranked_keys``); one whose identifiers are
not assigned yet waits in ``pending`` and is handled when identity resolution announces one of them; what waits
longer than the event-time retention leaves, an offer event as a dead letter (``retention.py``).

After every change to a customer, ``push.sync`` brings the push channels in line. This module holds the entry
point and the events about one customer; the catalogue's events are in ``catalogue.py``, identity's announcements
in ``identity_events.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from bus.errors import OmnibusError
from bus.identifiers.number_format import NumberFormat
from bus.serde import Event
from processors.offers import answers, catalogue, identity_events, intake, retention
from processors.offers.answers import PRESENTED, RESPONDED
from processors.offers.catalogue import Catalogue
from processors.offers.config import OffersSettings
from processors.offers.definition import OFFER_DEFINED, OFFER_WITHDRAWN, Offer
from processors.offers.identity_events import IDENTITY
from processors.offers.intake import OBSERVED
from processors.offers.outputs import Batch, Emitter
from processors.offers.push import sync
from processors.offers.signals import detect
from processors.offers.state import CustomerState
from processors.offers.store import Stores, from_json

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
        self.catalogue = Catalogue()

    # --- catalogue -----------------------------------------------------------------------------------

    def offer(self, stores: Stores, offer_id: str) -> tuple[Offer | None, bool]:
        """(the current version of the offer or None, whether it was withdrawn): ``Catalogue.offer``."""
        return self.catalogue.offer(stores, offer_id)

    def live_offers(self, stores: Stores) -> list[Offer]:
        return self.catalogue.live(stores)

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
            catalogue.offer_defined(self, stores, event, batch)
        elif schema == OFFER_WITHDRAWN:
            catalogue.offer_withdrawn(self, stores, event, batch)
        elif schema.startswith(IDENTITY):
            if not from_contacts:  # CustomerMerged is repeated on the contacts topic under the merged id
                identity_events.apply(self, stores, event, batch)
        elif from_contacts and key:
            state = self.customer(stores, key)
            moved = bool(moved_from) and moved_from != key
            if moved and moved_from:
                self._moved_away(stores, moved_from, state, intake.contact_id(event, moved=True))
            self._about(stores, state, event, batch, moved=moved)
            if schema == CONTACT_PLACED:  # after _about saved the contact: a released answer reloads the customer
                if (placed := answers.place(stores, event, state.customer_id, moved)) is not None:
                    self.release(stores, [placed], batch)
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

    def release(self, stores: Stores, identifiers: list[str], batch: Batch) -> None:
        """Handles what waited in ``pending`` for ``identifiers`` (now placed or announced), in arrival order."""
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
        sync(self, stores, state, batch, cause_id=event_id, started_us=started_us)
        self.save(stores, state)
