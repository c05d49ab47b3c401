"""Stage one: events and clock ticks in, per-partition window counters out (independent of faust).

The store is any mutable mapping (a faust Table in the worker, a dict in tests and in ``omnibus replay``)
holding the entities (``state``), the window counters of each input partition (``w|<p>|<window key>``:
measure -> count) and each partition's clock (``clock|<p>``: the end of the last window closed, µs) and
sequence number (``seq|<p>``). ``apply`` and ``tick`` only compute: they return a ``Change`` holding
everything to write and the partial aggregates to publish; the caller publishes the partials, waits for
Kafka's acknowledgement, then commits it. A merge (``CustomerMerged`` under the merged id on
``customer.contacts.v1``) empties the merged customer's history and ``moves`` its contacts to the survivor
through ``kpi.merges.v1`` (keyed by the survivor, so they land in its partition); contacts that still
arrive under the merged id are forwarded the same way. A crash in between re-computes the same change from the
redelivered record; a crash after the commit finds the event id applied and changes nothing.

An operator's split re-publishes each contact that followed the moved identifiers under the new customer, with the
customer it left in a header (``bus.topics.MOVED_FROM_HEADER``, ``apply``'s ``moved_from``) and its own id as the
cause (``envelope.causation_id``). The new customer counts it under its own id, and a move through ``kpi.merges.v1``
keyed by the customer it left ``released`` it there: taken off that history, and ignored if it arrives there late.
A release names the customer the contact moved to, and is no release there, nor at a customer that customer merged
into (``CustomerHistory.absorbed``, handed on with a merge's contacts): when the customer it left merges into that one
(identity's ``corrected-version`` move, then ``CustomerMerged``), the survivor keeps the contact.
So each contact counts once, under its current customer, whatever the order; a redelivered one changes nothing.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import MutableMapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from bus.contact_versions import contact_key
from bus.offer_presentations import pitch_of
from bus.serde import Event
from processors.kpis import rules
from processors.kpis.config import KpisSettings
from processors.kpis.state import (
    CustomerContact,
    CustomerHistory,
    Entity,
    HandoffFacts,
    Release,
    from_dict,
    release_of,
    split_contribution,
)
from processors.kpis.windows import HOUR_US, WindowKey

Source = Literal["contacts", "customer-contacts", "handoffs", "offers"]
BOOKKEEPING = ("w|", "clock|", "seq|")


@dataclass
class Change:
    partition: int
    writes: dict[str, Any] = field(default_factory=dict)  # table key -> new value (None: delete)
    windows: dict[str, dict[str, int]] = field(default_factory=dict)  # window key -> counts of this partition
    seq: int = 0
    through: int = 0  # the partition's closed-through instant (µs) when the change was made: the rollup's clock
    moves: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (survivor id, move) for kpi.merges.v1

    @property
    def empty(self) -> bool:
        return not self.writes and not self.windows and not self.moves

    def partials(self) -> list[tuple[str, dict[str, Any]]]:
        """(window key, partial) to publish on the partials topic, one per window this change touched."""
        clock = {"through": self.through} if self.through else {}
        return [(key, {"p": self.partition, "seq": self.seq, "counts": counts, **clock})
                for key, counts in sorted(self.windows.items())]


Released = tuple[Release, ...]  # ``CustomerHistory.released``


def move_of(customer: str, contacts: tuple[CustomerContact, ...], released: Released = (),
            absorbed: tuple[str, ...] = ()) -> dict[str, Any]:
    """A record of ``kpi.merges.v1``: ``contacts`` to add to the key's history, ``released`` ones to take off it
    (left out when none, as before splits were followed), ``absorbed`` the customers merged into the key with it
    (a merge's hand-over: the merged customer and those merged into it; left out when none)."""
    move: dict[str, Any] = {"from": customer, "contacts": [c.to_list() for c in contacts]}
    if released:
        move["released"] = [list(item) for item in released]
    if absorbed:
        move["absorbed"] = list(absorbed)
    return move


def decode_move(raw: bytes | None) -> dict[str, Any]:
    """A move from ``kpi.merges.v1``; raises ``ValueError`` when it is not one."""
    try:
        move = json.loads(raw or b"")
        contacts = [CustomerContact.from_list(c) for c in move["contacts"]]
        released = tuple(release_of(item) for item in move.get("released") or ())
        absorbed = tuple(move.get("absorbed") or ())
        if not isinstance(move["from"], str) or not all(isinstance(customer, str) for customer in absorbed):
            raise TypeError("from and absorbed must be customer ids")
    except (ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
        raise ValueError(f"not a KPI merge move: {exc}") from exc
    return move_of(move["from"], tuple(contacts), released, absorbed)


def encode_move(move: dict[str, Any]) -> bytes:
    return json.dumps(move, separators=(",", ":")).encode()


def _one_shot_keys(event: Event) -> tuple[str, str]:
    """The store key of a one-shot event, and the key it had before contacts were keyed (``e:`` and its
    ``causation_id`` or event id; such entries are gone one horizon after an upgrade, when this may go). An interaction
    counts once per contact: every version of it (an updated CTR, docs/subscribers.md "Versions of one contact": its
    own event ids, the contact's ``interaction_id``) has one key (``bus.contact_versions.contact_key``), however many
    there are and whatever their order, the newer replacing what the older counted; a representative's offer event
    has its pitch's (``bus.offer_presentations.pitch_of``: the same); any other offer event counts once per event
    id."""
    envelope = event.value["envelope"]
    before = f"e:{envelope.get('causation_id') or envelope['event_id']}"
    if event.schema == rules.INTERACTION and (contact := contact_key(event)) is not None:
        return f"i:{contact}", before
    if (pitch := pitch_of(event)) is not None:
        return f"o:{pitch}", before
    return before, before


def _end_us(contribution: str) -> int:
    return WindowKey.parse(split_contribution(contribution)[0]).end_us


class KpiLedger:
    def __init__(self, settings: KpisSettings, store: MutableMapping[str, Any]) -> None:
        self.settings, self.store = settings, store
        self.too_late = 0  # events older than the horizon, not applied

    # --- per-partition bookkeeping ------------------------------------------------------------

    def closed_through(self, partition: int) -> int:
        return self.store.get(f"clock|{partition}") or 0

    def floor_of(self, closed_through_us: int) -> int:
        """Windows ending at or before this are final: contributions to them are no longer changed."""
        return closed_through_us - self.settings.horizon_us if closed_through_us else 0

    def window_counts(self, partition: int, window_key: str) -> dict[str, int]:
        return dict(self.store.get(f"w|{partition}|{window_key}") or {})

    def windows(self) -> dict[tuple[int, str], dict[str, int]]:
        """Every (partition, window key) counter in the store."""
        found = {}
        for key, value in self.store.items():
            if key.startswith("w|"):
                _, partition, window_key = key.split("|", 2)
                found[(int(partition), window_key)] = dict(value)
        return found

    # --- events ----------------------------------------------------------------------------------

    def apply(self, event: Event, source: Source, partition: int, key: str | None = None,
              moved_from: str | None = None) -> Change:
        """The change one decoded record makes; ``key`` is the record's key (the customer id on customer contacts),
        ``moved_from`` the customer a contact a split moved left (its ``bus.topics.MOVED_FROM_HEADER``)."""
        closed = self.closed_through(partition)
        change = Change(partition, through=closed)
        floor = self.floor_of(closed)
        if floor and rules.occurred_us(event) < floor:
            self.too_late += 1
            return change
        if source == "customer-contacts":
            if key:
                self._customer(change, event, key, closed, floor, moved_from)
            return change
        entity_key, old, new = self._update(event, source)
        if new is not None:
            self._replace(change, entity_key, old, new.with_(partition=partition), closed, floor)
        return change

    def move(self, customer: str, move: dict[str, Any], partition: int) -> Change:
        """A record of ``kpi.merges.v1`` for ``customer``: contacts of a merged customer arriving at its survivor,
        and contacts a split moved away from it (``released``)."""
        closed = self.closed_through(partition)
        change = Change(partition, through=closed)
        contacts = [CustomerContact.from_list(c) for c in move["contacts"]]
        released = tuple(release_of(item) for item in move.get("released") or ())
        self._receive_contacts(change, customer, contacts, closed, self.floor_of(closed), released,
                               tuple(move.get("absorbed") or ()))
        return change

    def _customer(self, change: Change, event: Event, key: str, closed: int, floor: int,
                  moved_from: str | None = None) -> None:
        """A contact of customer ``key``, or (under the merged id) the merge that moves its history to the survivor."""
        if event.schema == rules.CUSTOMER_MERGED:
            survivor = event.value["survivor_customer_id"]
            if event.value["merged_customer_id"] != key or survivor == key:
                return
            old = self._load(f"cust:{key}")
            if isinstance(old, CustomerHistory) and old.merged_into == survivor:
                return
            if isinstance(old, CustomerHistory) and (old.contacts or old.released):
                change.moves.append((survivor, move_of(key, old.contacts, old.released, (key, *old.absorbed))))
            merged = CustomerHistory(merged_into=survivor, partition=change.partition)
            self._replace(change, f"cust:{key}", old, merged, closed, floor)
            return
        contact = rules.contact_of(event)
        if contact is None:
            return
        cause = event.value["envelope"].get("causation_id")
        if moved_from and moved_from != key:  # a split moved it here: counted under its own id, taken off there
            contact = replace(contact, event_id=cause or contact.event_id)
            change.moves.append((moved_from, move_of(key, (), ((contact.event_id, contact.at_us, key),))))
        elif cause:  # a later version of a contact (an updated CTR): it replaces the version it names, not a repeat
            self._receive_contacts(change, key, [contact], closed, floor, ((cause, contact.at_us, ""),))
            return
        self._receive_contacts(change, key, [contact], closed, floor)

    def _receive_contacts(self, change: Change, customer: str, contacts: list[CustomerContact], closed: int,
                          floor: int, released: Released = (), absorbed: tuple[str, ...] = ()) -> None:
        """``contacts`` join ``customer``'s history; ``released`` ones (a split moved them to another customer) leave
        it and are remembered there, so that a late or redelivered copy is not counted again. A release naming
        ``customer`` itself, or a customer merged into it (``absorbed`` with a merge's hand-over, and those before), as
        the one the contact moved to (handed on by the merge of the customer it left, or forwarded from there) is
        dropped, here and on the way to a survivor: the contact is this customer's. Idempotent."""
        entity_key = f"cust:{customer}"
        old = self._load(entity_key)
        history = old if isinstance(old, CustomerHistory) else CustomerHistory()
        own = {customer, *history.absorbed, *absorbed}
        released = tuple(item for item in released if item[2] not in own)
        if history.merged_into:  # arrived after the merge: forward
            change.moves.append((history.merged_into, move_of(customer, tuple(contacts), released, absorbed)))
            return
        absorbed_now = tuple(sorted(own - {customer}))
        remembered = history.released
        if released or absorbed_now != history.absorbed:
            keep_from = floor - self.settings.repeat_window_us if floor else 0
            union = {item[0]: item for item in (*history.released, *released)}
            remembered = tuple(sorted((item for item in union.values() if item[1] >= keep_from and item[2] not in own),
                                      key=lambda item: (item[1], item[0])))
        gone = {item[0] for item in remembered}
        kept = tuple(contact for contact in history.contacts if contact.event_id not in gone)
        base = history.with_(contacts=kept, released=remembered, absorbed=absorbed_now)
        new = rules.with_contacts(base, [contact for contact in contacts if contact.event_id not in gone])
        if new is None:
            if old is None and not remembered and not absorbed_now or old is not None and (
                    kept, remembered, absorbed_now) == (history.contacts, history.released, history.absorbed):
                return  # nothing new (a redelivered contact or move)
            new = base
        self._replace(change, entity_key, old, new.with_(partition=change.partition), closed, floor)

    def _update(self, event: Event, source: Source) -> tuple[str, Entity | None, Entity | None]:
        if source in ("contacts", "offers") and event.schema != rules.CALL_COMPLETED:
            entity_key, before = _one_shot_keys(event)
            if entity_key.startswith(("o:", "i:")):  # a pitch, a contact: its newer version replaces the older
                old = self._load(entity_key)
                if old is None and before in self.store:  # counted by its event id before versions were kept
                    return entity_key, None, None
                return entity_key, old, rules.version_update(old, event, self.settings.day_zone)  # type: ignore[arg-type]
            seen = entity_key in self.store or before in self.store
            return entity_key, None, None if seen else rules.one_shot(event, self.settings.day_zone)
        if source == "contacts":
            entity_key = f"call:{event.value['envelope']['source_system']}:{event.value['contact_id']}"
            old = self._load(entity_key)
            return entity_key, old, rules.call_update(old, event)  # type: ignore[arg-type]
        entity_key = f"h:{event.value.get('handoff_id')}"
        old = self._load(entity_key)
        return entity_key, old, rules.handoff_update(old, event)  # type: ignore[arg-type]

    def _load(self, entity_key: str) -> Entity | None:
        raw = self.store.get(entity_key)
        return from_dict(raw) if raw else None

    def _replace(
        self, change: Change, entity_key: str, old: Entity | None, new: Entity, closed: int, floor: int
    ) -> None:
        fresh = rules.contributions_of(new, self.settings, closed, floor)
        kept = {k: n for k, n in fresh.items() if _end_us(k) > floor}
        if old is new and kept == old.contributions:
            return  # a tick's recount that changed nothing: no write
        delta = Counter(kept)
        delta.subtract({k: n for k, n in (old.contributions if old else {}).items() if _end_us(k) > floor})
        for contribution, amount in delta.items():
            if not amount:
                continue
            window_key, measure = split_contribution(contribution)
            if window_key not in change.windows:
                change.windows[window_key] = self.window_counts(change.partition, window_key)
            rules.merge_counts(change.windows[window_key], [(measure, amount)])
        change.writes[entity_key] = new.with_(contributions=kept).to_dict()
        if change.windows:
            change.seq = (self.store.get(f"seq|{change.partition}") or 0) + 1

    # --- the clock -----------------------------------------------------------------------------------

    def tick(self, partition: int, now_us: int) -> Change:
        """Close the hours that ended by ``now_us``: snapshot open handoffs at each window end, and forget
        entities and counters past the horizon (their windows are final: the aggregates keep them)."""
        change = Change(partition)
        closed = now_us - now_us % HOUR_US
        if closed <= self.closed_through(partition):
            return change
        change.writes[f"clock|{partition}"] = closed
        change.through = closed
        floor = self.floor_of(closed)
        counters = f"w|{partition}|"
        for entity_key, raw in list(self.store.items()):
            if entity_key.startswith(BOOKKEEPING):
                if entity_key.startswith(counters) and WindowKey.parse(entity_key[len(counters):]).end_us <= floor:
                    change.writes[entity_key] = None
                continue
            entity = from_dict(raw)
            if entity.partition != partition:
                continue
            # a customer's contacts stay one repeat window longer: later contacts are compared with them
            margin = self.settings.repeat_window_us if isinstance(entity, CustomerHistory) else 0
            if rules.latest_instant(entity) < floor - margin:
                change.writes[entity_key] = None
            elif isinstance(entity, HandoffFacts):
                self._replace(change, entity_key, entity, entity, closed, floor)
        return change

    def commit(self, change: Change) -> None:
        for key, counts in change.windows.items():
            self.store[f"w|{change.partition}|{key}"] = counts
        for key, value in change.writes.items():
            if value is None:
                self.store.pop(key, None)
            else:
                self.store[key] = value
        if change.windows:
            self.store[f"seq|{change.partition}"] = change.seq
