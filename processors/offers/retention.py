"""Event-time retention of the offer processor's waiting state: what identity never places does not stay for ever.

Two kinds of entry only grew before: offer events waiting in ``pending`` for a contact's placement or an
identifier's customer (``answers.park``), and the directory's contact placements ``PLACED:<correlation id>``
(``answers.place``), one per conversation ever placed. Both now leave once the processor's event time passes
their time + ``OffersSettings.retention_s``.

The clock is state, not a timer: the newest ``envelope.received_at`` (the adapter's receipt, Omnibus' own clock,
never a channel's) of the offer events, observations and contacts handled (what waits and what places it; not the
catalogue's or identity's own stamps), kept with the instant of the last sweep in ``pending`` under
``CLOCK_KEY``. A sweep over both tables runs on the processing path when that time has moved ``SWEEP_EVERY_US`` past
the last sweep, so what is dropped depends on the input alone: a replay of the same input gives the same state.
The worker holds every partition of its tables (``agent.py``): one clock for all of them.

An event dropped unplaced is never lost: it goes to the dead-letter topic (``outputs.Expired``, written by the agent
before the tables are committed) with how many days it waited; an event already applied through another of its
identifiers is dropped silently. Every drop is counted (``pruned``: table, reason).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from bus.serde import Event
from processors.offers.caps import US
from processors.offers.intake import OBSERVED, PLACED, micros
from processors.offers.outputs import Batch, Expired
from processors.offers.store import Stores, from_json

CLOCK_KEY = "~clock"  # pending table: [newest received_at us, last sweep us]; no identifier key starts with "~"
SWEEP_EVERY_US = 3600 * US  # one pass over both tables per hour of event time
DAY_US = 86400 * US
# ``pruned`` count reasons
EXPIRED, LATE, APPLIED = "expired", "late", "applied"


def received_us(value: dict[str, Any]) -> int:
    """``envelope.received_at`` in us of a decoded value, or of a parked one (``store.to_json``)."""
    received = value["envelope"].get("received_at")
    return int(received["$us"]) if isinstance(received, dict) else micros(received)


def clock(stores: Stores) -> tuple[int, int]:
    """(newest received_at seen, last sweep), us; (0, 0) before the first event."""
    newest, swept = stores.pending.get(CLOCK_KEY) or (0, 0)
    return int(newest), int(swept)


def advance(stores: Stores, event: Event) -> bool:
    """Moves the clock to ``event``'s receipt if newer; True when a sweep is due (``SWEEP_EVERY_US`` since the
    last one). The first event starts the clock without a sweep."""
    newest, swept = clock(stores)
    at = received_us(event.value)
    if at <= newest:
        return False
    due = swept > 0 and at - swept >= SWEEP_EVERY_US
    stores.pending[CLOCK_KEY] = [at, at if due or swept == 0 else swept]
    return due


def too_old(stores: Stores, at_us: int, retention_s: float) -> bool:
    """An entry of time ``at_us`` is past retention at the current clock."""
    return at_us + int(retention_s * US) < clock(stores)[0]


def waited(event: Event, at_us: int, now_us: int, placement: bool) -> str:
    """The dead letter's reason: what the event waited for, and how long (whole days, event time)."""
    days = max(0, now_us - at_us) // DAY_US
    name = event.schema.rpartition(".")[2]
    what = "to place the contact it was recorded in" if placement else "to announce a customer of its identifiers"
    return f"{name} waited {days} days for identity {what}; dropped from pending unplaced"


def parked_events(stores: Stores) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    for key in list(stores.pending.keys()):
        if key != CLOCK_KEY:
            yield key, list(stores.pending.get(key) or [])


def stale_placements(stores: Stores, retention_s: float) -> list[str]:
    """The directory's ``PLACED:`` keys whose contact was received before the clock minus retention."""
    before_us = clock(stores)[0] - int(retention_s * US)
    return [key for key in list(stores.directory.keys(PLACED))
            if int((stores.directory.get(key) or (0, 0, 0))[2]) < before_us]


def as_event(parked: dict[str, Any]) -> Event:
    return Event(parked["schema"], from_json(parked["value"]))


def late(stores: Stores, keys: list[str], event: Event, batch: Batch, retention_s: float,
         origin: list[Any] | None) -> bool:
    """True when ``event``, about to wait for ``keys``, was received longer than ``retention_s`` ago: a sweep would
    drop it at once, so it is dropped now (counted ``LATE``) and an offer event goes to the dead-letter topic
    (``origin``: ``[topic, partition, offset, key]`` of its record)."""
    at_us = received_us(event.value)
    if not too_old(stores, at_us, retention_s):
        return False
    if event.schema != OBSERVED:
        reason = waited(event, at_us, clock(stores)[0], keys[0].startswith(PLACED))
        batch.expired.append(Expired(event, origin, reason))
    batch.count("pruned", "pending", LATE)
    return True


def drop_late_placement(stores: Stores, placed: str, event: Event, batch: Batch, retention_s: float) -> None:
    """Forgets the directory's placement ``placed`` just written for the contact ``event`` when that contact was
    received before the retention: a sweep would drop it at once (counted ``LATE``)."""
    if too_old(stores, received_us(event.value), retention_s):
        del stores.directory[placed]
        batch.count("pruned", "directory", LATE)


def sweep(stores: Stores, batch: Batch, retention_s: float, applied: Callable[[Event], bool]) -> None:
    """Drops what waited past ``retention_s`` at the current clock. A parked offer event goes to the dead-letter
    topic (once, whatever the number of identifiers it waits under) unless ``applied`` says a customer applied it
    already through another of its identifiers (counted ``APPLIED``, no dead letter); an ``IdentifiersObserved``'s
    traits are context, dropped with a count only. Then the directory's stale ``PLACED:`` keys leave."""
    now_us = clock(stores)[0]
    dead: set[str] = set()
    for key, waiting in parked_events(stores):
        kept = [p for p in waiting if not too_old(stores, received_us(p["value"]), retention_s)]
        if len(kept) == len(waiting):
            continue
        for parked in waiting:
            if parked in kept:
                continue
            event = as_event(parked)
            event_id = event.value["envelope"]["event_id"]
            if applied(event):
                batch.count("pruned", "pending", APPLIED)
                continue
            batch.count("pruned", "pending", EXPIRED)
            if event.schema != OBSERVED and event_id not in dead:
                dead.add(event_id)
                reason = waited(event, received_us(event.value), now_us, key.startswith(PLACED))
                batch.expired.append(Expired(event, parked.get("origin"), reason))
        if kept:
            stores.pending[key] = kept
        else:
            del stores.pending[key]
    for key in stale_placements(stores, retention_s):
        del stores.directory[key]
        batch.count("pruned", "directory", EXPIRED)
