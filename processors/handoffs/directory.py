"""What the tracker knows about customers: where identity placed each handoff, identifier -> customer, and the
tiers of their accounts and products.

A derived, in-memory replica that every tracker worker reads whole, from offset 0 (see ``directory_feed``):
``customer.contacts.v1`` (of which only identity's placements of handoffs, kept in ``placements.Placements``, and its
merges are kept), ``customer.identifiers.v1`` (identity resolution's current customer of each identifier, key
``TYPE:value``) and ``handoff.tier-facts.v1`` (the tracker's digest of the legacy systems' account and product
events, one record per account, per subscription and per holder of an account: ``tier_facts``). Lookups never
wait and never cross a partition: an unknown customer is None, and every change bumps ``version`` and is
remembered, so the tracker re-checks exactly the handoffs a change concerns.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from bus.serde import Event
from bus.topics import moved_from
from processors.handoffs.config import HandoffPolicy, TierPolicy
from processors.handoffs.outputs import CREATED
from processors.handoffs.placements import Placement, Placements
from processors.handoffs.tier_facts import ACCOUNT_TYPE, TierFact, identifier_key
from processors.identity.announcements import CUSTOMER_MERGED
from processors.profile.sections.recent_contacts import RecentContactsSection, contact_id

CHANGES_KEPT = 50_000  # beyond this a lagging partition re-checks all its open handoffs
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
    # identity's placements of the handoffs and moves of their contacts, kept for a retention of record time
    placements: Placements = field(default_factory=Placements)
    _survivor: dict[str, str] = field(default_factory=dict)  # merged customer id -> survivor customer id
    _changes: deque[tuple[int, str | None, frozenset[str], str | None]] = field(
        default_factory=lambda: deque(maxlen=CHANGES_KEPT))

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
        """Identity placed (or an operator moved) handoff ``handoff_id``, opened during contact ``origin``
        (``Placements.place``)."""
        if self.placements.place(handoff_id, placement, origin):
            self._changed(None, set(), handoff_id)

    def move_contact(self, contact: str, placement: Placement) -> None:
        """Identity moved contact ``contact`` (screen-pop id): the handoffs opened during it follow
        (``Placements.move_contact``)."""
        for handoff_id in self.placements.move_contact(contact, placement):
            self._changed(None, set(), handoff_id)

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
        self.placements.advance(timestamp_ms)

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
        placement = self.placements.of(handoff_id)
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

        ``CustomerView.relinquished``: the keys of ``identifiers`` the customer held and no longer holds (a recycled
        number identity gave another subscriber, a released one, an e-mail another customer claimed),
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
        longer holds, and those that changed hands to another customer (``changed_hands``: a recycled number's new
        subscriber's, which a late contact of its previous holder carries beside an identifier of her own), in key
        order (``view``; the addresses a notification went to, ``recalls``)."""
        found = set()
        moved = set(self.changed_hands(identifiers))
        for key in map(identifier_key, identifiers):
            owner = self._owner.get(key)
            if owner is not None and self.survivor_of(owner) == customer_id:
                continue
            if key in before or key in moved or customer_id in {self.survivor_of(c) for c in self._former.get(key, ())}:
                found.add(key)
        return tuple(sorted(found))
