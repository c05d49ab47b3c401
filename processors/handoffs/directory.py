"""What the tracker knows about customers: where identity placed each handoff, identifier -> customer, and the
tiers of their accounts and products.

A derived, in-memory replica that every tracker worker reads whole, from offset 0 (see ``directory_feed``):
``customer.contacts.v1`` (of which only identity's placements of handoffs, ``Placement``, and its merges are
kept), ``customer.identifiers.v1`` (identity resolution's current customer of each identifier, key
``TYPE:value``) and ``handoff.tier-facts.v1`` (the tracker's digest of the legacy systems' account and product
events, one record per account, per subscription and per holder of an account: ``tier_facts``). Lookups never
wait and never cross a partition: an unknown customer is None, and every change bumps ``version`` and is
remembered, so the tracker re-checks exactly the handoffs a change concerns.
"""

from __future__ import annotations

from collections import Counter as Tally
from collections import deque
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from bus.serde import Event
from bus.topics import moved_from
from processors.handoffs.config import HandoffPolicy, TierPolicy
from processors.handoffs.outputs import CREATED
from processors.handoffs.tier_facts import ACCOUNT_TYPE, TierFact, identifier_key
from processors.identity.announcements import CUSTOMER_MERGED
from processors.profile.limits import short_key
from processors.profile.sections.recent_contacts import RecentContactsSection, contact_id

CHANGES_KEPT = 50_000  # beyond this a lagging partition re-checks all its open handoffs
SWEEP_EVERY_MS = 3_600_000  # one pass over the placements per hour of record time (``CustomerDirectory.retention_ms``)
# ``CustomerDirectory.pruned`` keys (the maps that shrink), the metric's ``map`` label
PLACEMENTS, CONTACT_MOVES = "placements", "contact_moves"
ADDRESSES_KEPT = 8  # reachable identifiers of a customer kept in a handoff's state, for fallback notifications


@dataclass(frozen=True, slots=True)
class CustomerTier:
    tier: str
    event_id: str  # the business event it comes from (the deadline's lineage cites it)
    schema: str


@dataclass(frozen=True, slots=True)
class CustomerView:
    """What the directory says about the customer behind some identifiers."""

    customer_id: str | None = None
    tier: CustomerTier | None = None
    identifiers: tuple[dict[str, str], ...] = ()  # all the customer's identifiers known to identity
    placement: str | None = None  # event id of identity's placement the customer comes from (None: an identifier)
    # keys (TYPE:value) of the handoff's identifiers the customer held and holds no more (``CustomerDirectory.view``)
    relinquished: tuple[str, ...] = ()
    needs_contact: bool | None = None  # as a replay reads it announced (None: ``customers.follow`` decides)
    # keys of the handoff's identifiers another customer held before their holder (a recycled number), while identity
    # has not placed the handoff: whose case it is waits for the placement (``CustomerDirectory.changed_hands``)
    unsettled: tuple[str, ...] = ()


UNKNOWN = CustomerView()


class CustomerViews(Protocol):
    """What a new handoff's customer is looked up in (``transitions``): the directory, or in a rebuild the views
    the tracker announced at creation (``customers.AnnouncedCreations``)."""

    def view(self, handoff_id: str, identifiers: tuple[dict[str, str], ...], policy: HandoffPolicy,
             placed_before: str | None = None, *, wary: bool = False) -> CustomerView: ...


@dataclass(frozen=True, slots=True)
class Placement:
    """Identity placed a handoff on a customer: a HandoffCreated re-published on ``customer.contacts.v1``."""

    customer_id: str  # the record's key
    event_id: str  # the record's envelope.event_id (a moved record's is derived from the split or move)
    moved: bool  # an operator's split or contact move re-published it (``bus.topics.MOVED_FROM_HEADER``)
    at_ms: int  # the record's Kafka timestamp, ms

    @classmethod
    def of_record(cls, key: bytes, value: Mapping[str, Any], headers: Sequence[tuple[str, bytes | None]] | None,
                  timestamp_ms: int) -> Placement:
        """The placement a record of ``customer.contacts.v1`` says (its key, decoded value, headers, timestamp): the
        tracker's feed and ``omnibus verify`` read it this one way."""
        return cls(key.decode(), value["envelope"]["event_id"], moved_from(headers) is not None, timestamp_ms)

    def supersedes(self, other: Placement) -> bool:
        """A move wins over the original placement; among equals the later record (identity announcements)."""
        return (self.moved, self.at_ms) >= (other.moved, other.at_ms)


# The contact events whose moved copies move their contact's handoffs (the screen pop's: a call, a counter visit).
MOVABLE_CONTACTS = RecentContactsSection.schemas


@dataclass(frozen=True)
class Changes:
    identifiers: frozenset[str] = frozenset()
    customers: frozenset[str] = frozenset()
    handoffs: frozenset[str] = frozenset()  # handoff ids whose placement changed


@dataclass
class CustomerDirectory:
    version: int = 0
    ready: bool = False  # set by the feed once it has read up to the end offsets seen at its start
    _owner: dict[str, str] = field(default_factory=dict)  # identifier key -> customer id
    # identifier key -> the customers it was assigned to before (a recycled number's former holders), for ``view``
    _former: dict[str, set[str]] = field(default_factory=dict)
    _keys: dict[str, set[str]] = field(default_factory=dict)  # customer id -> identifier keys
    _facts: dict[str, TierFact] = field(default_factory=dict)  # fact key -> fact
    _subscriptions: dict[str, set[str]] = field(default_factory=dict)  # account -> subscription fact keys
    _held: dict[str, set[str]] = field(default_factory=dict)  # a holder's identifier key -> accounts it holds
    _placed: dict[str, Placement] = field(default_factory=dict)  # handoff id -> identity's placement
    _survivor: dict[str, str] = field(default_factory=dict)  # merged customer id -> survivor customer id
    # A moved contact takes its handoffs along (identity moves a call's contact events, not its HandoffCreated):
    _origin: dict[str, str] = field(default_factory=dict)  # handoff id -> screen-pop id of the contact that opened it
    _opened: dict[str, set[str]] = field(default_factory=dict)  # screen-pop contact id -> handoff ids it opened
    _contact_moved: dict[str, Placement] = field(default_factory=dict)  # screen-pop contact id -> its latest move
    _changes: deque[tuple[int, str | None, frozenset[str], str | None]] = field(
        default_factory=lambda: deque(maxlen=CHANGES_KEPT))
    # Placements and contact moves are kept this long (ms) of record time (None: all, as ``omnibus verify`` reads):
    # the newest record timestamp read from customer.contacts.v1 is the clock, never the wall clock (``_advance``).
    retention_ms: int | None = None
    pruned: Tally[str] = field(default_factory=Tally)  # map -> entries dropped, drained by the feed's counter
    _newest_ms: int = 0
    _swept_ms: int = 0

    # --- feeding ----------------------------------------------------------------------------------

    def assign(self, key: str, customer_id: str | None) -> None:
        """Identity resolution says ``key`` now belongs to ``customer_id`` (None: a tombstone)."""
        previous = self._owner.get(key)
        if previous == customer_id:
            return
        if previous is not None:
            self._keys.get(previous, set()).discard(key)
            self._former.setdefault(key, set()).add(previous)
        if customer_id is None:
            self._owner.pop(key, None)
        else:
            self._owner[key] = customer_id
            self._keys.setdefault(customer_id, set()).add(key)
        self._changed(key, {c for c in (previous, customer_id) if c})

    def record(self, fact: TierFact) -> None:
        """A fact of ``handoff.tier-facts.v1``; one ranking below the one held of its key (``TierFact.rank``: an
        undated fact never outranks a dated one) changes nothing."""
        current = self._facts.get(fact.key)
        if current is not None and current.rank >= fact.rank:
            return  # a fact ranking below (or the same as) the one held
        self._facts[fact.key] = fact
        if fact.holder is not None:  # one more holder of the account: a joint account's other line
            self._held.setdefault(fact.holder, set()).add(fact.account)
            holder = self._owner.get(fact.holder)
            self._changed(None, {holder} if holder else set())
            return
        if not fact.key.startswith(ACCOUNT_TYPE + ":"):
            if current is not None and current.account != fact.account:
                self._subscriptions.get(current.account, set()).discard(fact.key)
            self._subscriptions.setdefault(fact.account, set()).add(fact.key)
        owner = self._owner.get(f"{ACCOUNT_TYPE}:{fact.account}")
        self._changed(None, {owner} if owner else set())

    def place(self, handoff_id: str, placement: Placement, origin: str | None = None) -> None:
        """Identity placed (or an operator moved) handoff ``handoff_id``, opened during contact ``origin`` (its
        ``origin_interaction_id``, as the screen pop shows it: ``recent_contacts.contact_id``); an older placement
        than the one held (``Placement.supersedes``) changes nothing."""
        before = self.placement_of(handoff_id)
        if origin:
            self._origin[handoff_id] = short_key(origin)
            self._opened.setdefault(short_key(origin), set()).add(handoff_id)
        current = self._placed.get(handoff_id)
        if current is None or placement.supersedes(current):
            self._placed[handoff_id] = placement
        self._replaced(handoff_id, before)

    def move_contact(self, contact: str, placement: Placement) -> None:
        """Identity moved contact ``contact`` (screen-pop id; a re-published contact event with ``MOVED_FROM_HEADER``:
        an operator's move-contact, a split, a claim, the latest-version or late-owner rule) to
        ``placement.customer_id``: the handoffs opened during it follow, as if their HandoffCreated had moved."""
        key = short_key(contact)
        handoffs = self._opened.get(key, set())
        before = {handoff_id: self.placement_of(handoff_id) for handoff_id in handoffs}
        current = self._contact_moved.get(key)
        if current is None or placement.supersedes(current):
            self._contact_moved[key] = placement
        for handoff_id in handoffs:
            self._replaced(handoff_id, before[handoff_id])

    def read(self, key: bytes, event: Event, headers: Sequence[tuple[str, bytes | None]] | None,
             timestamp_ms: int) -> None:
        """A decoded record of ``customer.contacts.v1`` (key: the customer identity placed it on): a HandoffCreated
        places its handoff, a contact event re-published with ``MOVED_FROM_HEADER`` moves its contact (and the
        handoffs opened during it), a CustomerMerged merges; anything else changes nothing. The tracker's feed and
        ``omnibus verify`` read it this one way."""
        if event.schema == CUSTOMER_MERGED:
            self.merge(event.value["merged_customer_id"], event.value["survivor_customer_id"])
        elif event.schema == CREATED:
            self.place(event.value["handoff_id"], Placement.of_record(key, event.value, headers, timestamp_ms),
                       event.value.get("origin_interaction_id"))
        elif event.schema in MOVABLE_CONTACTS and moved_from(headers) is not None:
            self.move_contact(contact_id(event), Placement.of_record(key, event.value, headers, timestamp_ms))
        else:
            return
        self._advance(timestamp_ms)

    def _advance(self, at_ms: int) -> None:
        """A placement or move of record time ``at_ms`` was read: the clock moves to it if newer, and once it has moved
        ``SWEEP_EVERY_MS`` past the last sweep, what is older than ``retention_ms`` before it goes (``_sweep``). Driven
        by the records alone, so a replica restarted from offset 0 ends with the same maps."""
        if self.retention_ms is None or at_ms <= self._newest_ms:
            return
        self._newest_ms = at_ms
        if not self._swept_ms:
            self._swept_ms = at_ms
        elif at_ms - self._swept_ms >= SWEEP_EVERY_MS:
            self._swept_ms = at_ms
            self._sweep(at_ms - self.retention_ms)

    def _sweep(self, before_ms: int) -> None:
        """Drops the placements read before ``before_ms`` (with the contact each handoff was opened during), and the
        moves of contacts none of whose handoffs is still held. A handoff keeps its customer: the tracker saved it in
        its state (``HandoffState.customer_placed``, the fallback ``view`` follows, as after a restart when the topic's
        retention has deleted the placement). No change is recorded: no handoff's customer changes."""
        for handoff_id, placement in list(self._placed.items()):
            if placement.at_ms >= before_ms:
                continue
            moved = self._contact_moved.get(self._origin.get(handoff_id, ""))
            if moved is not None and moved.at_ms >= before_ms:
                continue  # its contact moved since: kept with the move
            del self._placed[handoff_id]
            self.pruned[PLACEMENTS] += 1
            if (origin := self._origin.pop(handoff_id, None)) is not None:
                opened = self._opened.get(origin, set())
                opened.discard(handoff_id)
                if not opened:
                    self._opened.pop(origin, None)
        for contact, move in list(self._contact_moved.items()):
            if move.at_ms < before_ms and not self._opened.get(contact):
                del self._contact_moved[contact]
                self.pruned[CONTACT_MOVES] += 1

    def placement_of(self, handoff_id: str) -> Placement | None:
        """Identity's placement of the handoff as read (before merges): its HandoffCreated's, or the move of the
        contact it was opened during if that supersedes it (``read``); None when neither was read."""
        own, move = self._placed.get(handoff_id), self._contact_moved.get(self._origin.get(handoff_id, ""))
        return move if move is not None and (own is None or move.supersedes(own)) else own

    def _replaced(self, handoff_id: str, before: Placement | None) -> None:
        after = self.placement_of(handoff_id)
        if after is not None and (before is None or before.customer_id != after.customer_id):
            self._changed(None, set(), handoff_id)

    def merge(self, merged_id: str, survivor_id: str) -> None:
        """Identity merged customer ``merged_id`` into ``survivor_id`` (CustomerMerged): its placements follow."""
        if merged_id == survivor_id or self._survivor.get(merged_id) == survivor_id:
            return
        self._survivor[merged_id] = survivor_id
        self._changed(None, {merged_id, survivor_id})

    def _changed(self, key: str | None, customers: set[str], handoff_id: str | None = None) -> None:
        self.version += 1
        if self.ready:  # while catching up nobody reads the changes: the first ready tick re-checks everything
            self._changes.append((self.version, key, frozenset(customers), handoff_id))

    def changes_since(self, version: int) -> Changes | None:
        """Identifiers and customers changed after ``version``; None when too old to tell (re-check all)."""
        if version >= self.version:
            return Changes()
        if not self._changes or self._changes[0][0] > version + 1:
            return None  # forgotten, or made while catching up
        keys: set[str] = set()
        customers: set[str] = set()
        handoffs: set[str] = set()
        for changed_at, key, touched, handoff_id in reversed(self._changes):
            if changed_at <= version:
                break
            if key is not None:
                keys.add(key)
            if handoff_id is not None:
                handoffs.add(handoff_id)
            customers |= touched
        return Changes(frozenset(keys), frozenset(customers), frozenset(handoffs))

    # --- lookups ----------------------------------------------------------------------------------

    def placed_on(self, handoff_id: str) -> tuple[str, str] | None:
        """(customer id, placement event id) of identity's placement of the handoff, through every merge since;
        None when identity's placement has not been read."""
        placement = self.placement_of(handoff_id)
        return None if placement is None else (self.survivor_of(placement.customer_id), placement.event_id)

    def survivor_of(self, customer_id: str) -> str:
        """The customer ``customer_id`` was merged into, through every CustomerMerged read (itself if none)."""
        seen = {customer_id}
        while (survivor := self._survivor.get(customer_id)) is not None and survivor not in seen:
            customer_id = survivor
            seen.add(survivor)
        return customer_id

    def customer_of(self, identifiers: tuple[dict[str, str], ...], skip: Collection[str] = ()) -> str | None:
        """The customer of the first of ``identifiers`` identity resolution has assigned, but those whose key is in
        ``skip`` (the fallback of ``view`` while identity's placement of the handoff is unknown)."""
        for identifier in identifiers:
            key = identifier_key(identifier)
            owner = None if key in skip else self._owner.get(key)
            if owner is not None:
                return owner
        return None

    def changed_hands(self, identifiers: Sequence[dict[str, str]]) -> tuple[str, ...]:
        """The keys of ``identifiers`` a customer held before their current holder, other than one merged into that
        holder (a recycled number given to a new subscriber, a released one, one split or claimed away), in key order.
        A contact from such an identifier may be its former holder's, dated before the move and arriving after it:
        only identity's placement, which weighs the contact's time, says whose case it opened."""
        found = set()
        for key in map(identifier_key, identifiers):
            owner = self._owner.get(key)
            holder = None if owner is None else self.survivor_of(owner)
            if any(self.survivor_of(former) != holder for former in self._former.get(key, ())):
                found.add(key)
        return tuple(sorted(found))

    def accounts_of(self, customer_id: str) -> set[str]:
        """The accounts the customer holds: those whose identifier identity gave them, and those of which one of
        their keys is a holder (a joint account's other holders: the account's identifier is with one holder only)."""
        keys = self._keys.get(customer_id, ())
        accounts = {key.partition(":")[2] for key in keys if key.startswith(ACCOUNT_TYPE + ":")}
        for key in keys:
            accounts |= self._held.get(key, set())
        return accounts

    def tier_of(self, customer_id: str, tiers: TierPolicy) -> CustomerTier | None:
        """The highest tier (by ``tiers.order``) of the open accounts and active subscriptions of every account the
        customer holds (``accounts_of``); ties go to the latest fact."""
        best: tuple[int, int, str] | None = None
        found: CustomerTier | None = None
        for account in sorted(self.accounts_of(customer_id)):
            key = f"{ACCOUNT_TYPE}:{account}"
            candidates = [self._facts.get(key), *(self._facts.get(k) for k in self._subscriptions.get(account, ()))]
            for fact in candidates:
                if fact is None or not fact.active:
                    continue
                tier = fact.tier if fact.tier is not None else tiers.products.get(fact.product_code or "")
                if tier is None:
                    continue
                rank = (tiers.rank(tier), fact.at_us, fact.event_id)
                if best is None or rank > best:
                    best, found = rank, CustomerTier(tier, fact.event_id, fact.schema)
        return found

    def view(self, handoff_id: str, identifiers: tuple[dict[str, str], ...], policy: HandoffPolicy,
             placed_before: str | None = None, *, by_identifier: bool = True,
             relinquished: Collection[str] = (), wary: bool = False) -> CustomerView:
        """The handoff's customer, their tier and their reachable identifiers (UNKNOWN until ready).

        The customer is the one identity placed the handoff on (``placed_on``). When that placement is not held
        (``customer.contacts.v1`` keeps 7 days, a replica starts from what is left), ``placed_before``: the
        customer an earlier placement gave, kept in the handoff's state (``HandoffState.customer_placed``),
        through the merges read. With neither, the current customer of the first of ``identifiers`` identity
        has assigned (``customer_of``), unless ``by_identifier`` is False (a resolved or closed handoff:
        ``customers`` says why). An identifier shared or mistyped may belong to someone else: only the
        placement weighs the whole event (tester F1, F3). One another customer held before its holder
        (``changed_hands``: a recycled number's previous holder's call arriving after the move named the new
        subscriber until the placement came) names the customer only where no other of ``identifiers`` does, and
        never for a new handoff (``wary``: ``transitions._create``), which ``CustomerView.unsettled`` then tells
        to wait for the placement (``HandoffState.received_held``).

        ``CustomerView.relinquished``: the keys of ``identifiers`` the customer held and no longer holds (tester34
        F4: a recycled number identity gave another subscriber, a released one, an e-mail another customer claimed),
        in key order; ``relinquished``: those the handoff's state already says so (kept after a restart, when the
        compacted identifiers topic no longer shows the former holder), unless the customer holds them again.
        """
        if not self.ready:
            return UNKNOWN
        placed = self.placed_on(handoff_id)
        customer_id: str | None
        unsettled: tuple[str, ...] = ()
        if placed is not None:
            customer_id, placement = placed
        elif placed_before:
            customer_id, placement = self.survivor_of(placed_before), None
        else:
            placement, changed = None, self.changed_hands(identifiers) if by_identifier else ()
            customer_id = self.customer_of(identifiers, skip=changed) if by_identifier else None
            if customer_id is None and changed and not wary:
                customer_id = self.customer_of(identifiers)
            unsettled = changed if wary else ()
        if customer_id is None:
            return CustomerView(unsettled=unsettled) if unsettled else UNKNOWN
        reachable = policy.notifications.reachable_types
        known = sorted(k for k in self._keys.get(customer_id, ()) if k.partition(":")[0] in reachable)
        known = known[:ADDRESSES_KEPT]
        return CustomerView(customer_id, self.tier_of(customer_id, policy.tiers),
                            tuple({"type": k.partition(":")[0], "value": k.partition(":")[2]} for k in known),
                            placement, self.no_longer_held(customer_id, identifiers, relinquished), unsettled=unsettled)

    def no_longer_held(self, customer_id: str, identifiers: Sequence[dict[str, str]],
                       before: Collection[str] = ()) -> tuple[str, ...]:
        """The keys of ``identifiers`` ``customer_id`` held (``before`` says so, or the directory saw it) and no
        longer holds, in key order (``view``; the addresses a notification went to, ``recalls``)."""
        found = set()
        for key in map(identifier_key, identifiers):
            owner = self._owner.get(key)
            if owner is not None and self.survivor_of(owner) == customer_id:
                continue
            if key in before or customer_id in {self.survivor_of(c) for c in self._former.get(key, ())}:
                found.add(key)
        return tuple(sorted(found))
