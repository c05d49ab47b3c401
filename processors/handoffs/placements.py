"""Where identity placed each handoff, as the tracker's directory (``directory.CustomerDirectory``) reads
``customer.contacts.v1``: each handoff's latest placement, the contact it was opened during, and that contact's
latest move, kept ``retention_ms`` of record time. Customer ids are as read: the directory follows merges.
"""

from __future__ import annotations

from collections import Counter as Tally
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bus.topics import moved_from
from processors.profile.limits import short_key

SWEEP_EVERY_MS = 3_600_000  # one pass over the placements per hour of record time (``Placements.retention_ms``)
# ``Placements.pruned`` keys (the maps that shrink), the metric's ``map`` label
PLACEMENTS, CONTACT_MOVES = "placements", "contact_moves"


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


@dataclass
class Placements:
    """The placements read, by handoff, and the moves of the contacts the handoffs were opened during (a moved contact
    takes its handoffs along: identity moves a call's contact events, not its HandoffCreated)."""

    # Placements and contact moves are kept this long (ms) of record time (None: all, as ``omnibus verify`` reads):
    # the newest record timestamp read from customer.contacts.v1 is the clock, never the wall clock (``advance``).
    retention_ms: int | None = None
    pruned: Tally[str] = field(default_factory=Tally)  # map -> entries dropped, drained by the feed's counter
    _placed: dict[str, Placement] = field(default_factory=dict)  # handoff id -> identity's placement
    _origin: dict[str, str] = field(default_factory=dict)  # handoff id -> screen-pop id of the contact that opened it
    _opened: dict[str, set[str]] = field(default_factory=dict)  # screen-pop contact id -> handoff ids it opened
    _contact_moved: dict[str, Placement] = field(default_factory=dict)  # screen-pop contact id -> its latest move
    _newest_ms: int = 0
    _swept_ms: int = 0

    def place(self, handoff_id: str, placement: Placement, origin: str | None = None) -> bool:
        """Identity placed (or an operator moved) handoff ``handoff_id``, opened during contact ``origin`` (its
        ``origin_interaction_id``, as the screen pop shows it: ``recent_contacts.contact_id``); an older placement
        than the one held (``Placement.supersedes``) changes nothing. True when the handoff's customer changed."""
        before = self.of(handoff_id)
        if origin:
            self._origin[handoff_id] = short_key(origin)
            self._opened.setdefault(short_key(origin), set()).add(handoff_id)
        current = self._placed.get(handoff_id)
        if current is None or placement.supersedes(current):
            self._placed[handoff_id] = placement
        return self._replaced(handoff_id, before)

    def move_contact(self, contact: str, placement: Placement) -> list[str]:
        """Identity moved contact ``contact`` (screen-pop id; a re-published contact event with ``MOVED_FROM_HEADER``:
        an operator's move-contact, a split, a claim, the latest-version or late-owner rule) to
        ``placement.customer_id``: the handoffs opened during it follow, as if their HandoffCreated had moved. The ids
        of those whose customer changed."""
        key = short_key(contact)
        handoffs = self._opened.get(key, set())
        before = {handoff_id: self.of(handoff_id) for handoff_id in handoffs}
        current = self._contact_moved.get(key)
        if current is None or placement.supersedes(current):
            self._contact_moved[key] = placement
        return [handoff_id for handoff_id in handoffs if self._replaced(handoff_id, before[handoff_id])]

    def of(self, handoff_id: str) -> Placement | None:
        """Identity's placement of the handoff as read (before merges): its HandoffCreated's, or the move of the
        contact it was opened during if that supersedes it; None when neither was read."""
        own, move = self._placed.get(handoff_id), self._contact_moved.get(self._origin.get(handoff_id, ""))
        return move if move is not None and (own is None or move.supersedes(own)) else own

    def _replaced(self, handoff_id: str, before: Placement | None) -> bool:
        after = self.of(handoff_id)
        return after is not None and (before is None or before.customer_id != after.customer_id)

    def advance(self, at_ms: int) -> None:
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
        its state (``HandoffState.customer_placed``, the fallback ``CustomerDirectory.view`` follows, as after a
        restart when the topic's retention has deleted the placement). No handoff's customer changes."""
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
