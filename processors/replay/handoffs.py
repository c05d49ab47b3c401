"""Rebuilding the handoff tracker's state from ``handoff.events.v1``, and reading the running one.

The lifecycle records are applied, in partition and offset order, to a fresh ``HandoffTracker`` whose
table is a dict and whose outputs go nowhere. The deadline scan is driven by the log itself: where the
running tracker's own output (a warning, breach, escalation, alarm) sits in a partition, the rebuilt
tracker ticks that partition at the output's ``occurred_at`` (the instant the timer fell due), so the
timers fire in the same place relative to the lifecycle records; a last tick at ``now_us`` follows.
The customer and service tier are decided by the tracker's own rules (``processors.handoffs.customers``) from what
its directory said, read back from its announcements: at creation (HandoffStatusChanged, cause HandoffCreated: the
customer identity placed the handoff on, or the fallback, and that customer's tier) and at every later customer
update. The running state is the tracker table's changelog (latest value per key).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable, Sequence
from typing import Any

from bus.clock import SystemClock, to_micros
from bus.errors import RawRecord
from bus.identifiers.kinds import IDENTIFIER_TYPES
from bus.topics import TopicSpec
from processors.handoffs.agent import APP_NAME, TABLE_NAME
from processors.handoffs.config import HandoffPolicy
from processors.handoffs.customers import AnnouncedCreations
from processors.handoffs.outputs import Emitter
from processors.handoffs.retention import Retention
from processors.handoffs.tracker import Destinations, HandoffTracker
from processors.replay import Replayed, fenced

DEFAULT_RETENTION = Retention()  # the settings' defaults; the CLIs pass HandoffsSettings.retention
# ``relinquished`` and ``needs_contact``: the tracker announces every change of them (``customers.follow``, a finished
# case's too), so the rebuild reads them back from its announcements (``customers.announced_view``).
COMPARED = ("status", "team", "owner", "tier", "cycle", "acknowledged", "deadline_us", "resolved_at_us", "route",
            "resends", "fired", "relinquished", "needs_contact")
# A compared field a changelog value written before the field existed lacks: read as ``HandoffState.from_dict`` does.
ABSENT = {"relinquished": [], "needs_contact": False}


def changelog(prefix_free_app: str = APP_NAME, table: str = TABLE_NAME) -> TopicSpec:
    """faust's changelog topic of a table: ``<app id>-<table>-changelog`` (the app id is ``<prefix>.<app>``)."""
    return TopicSpec(f"{prefix_free_app}-{table}-changelog", "faust table changelog (internal)", key="table key")


class _Nowhere:
    async def publish_many(self, items: Any) -> list:
        return []

    async def write(self, record: RawRecord, **_: Any) -> None:
        return None


def view(state: dict[str, Any], fields: Sequence[str] = COMPARED) -> dict[str, Any]:
    """The fields compared (default): what a subscriber or an operator would see differ; one a state written before
    it existed lacks has its default (``ABSENT``)."""
    return {name: state.get(name, ABSENT.get(name)) for name in fields}


def shown(text: str) -> str:
    """How ``omnibus replay handoffs`` prints a key or a value's string: a handoff id as it is, an identifier key
    (``TYPE:value``, the ``relinquished`` entries) masked as ``omnibus verify`` masks it (``verify.report.shown``)."""
    from processors.verify.report import shown as masked

    kind, sep, _ = text.partition(":")
    return masked(text) if sep and kind in IDENTIFIER_TYPES else text


async def rebuild_states(records: Iterable[Replayed], policy: HandoffPolicy, source_system: str, now_us: int,
                         retention: Retention | None = DEFAULT_RETENTION) -> tuple[dict[str, Any], int]:
    """(handoff id -> the rebuilt state's ``to_dict``, records applied): the running loop's own ``HandoffTracker``
    without a directory; the customers and tiers it decides from are the ones the tracker announced
    (``AnnouncedCreations`` at creation, ``HandoffTracker.replay_announcement`` after), put through the same rules;
    closed cases pruned by the same event-time ``retention`` (the settings' defaults) as the running tracker."""
    store: dict[str, Any] = {}
    nowhere = _Nowhere()
    records = list(records)
    announced = AnnouncedCreations()
    for record in records:
        event = record.event
        if event is not None and (event.value.get("envelope") or {}).get("source_system") == source_system:
            announced.read(event)
    tracker = HandoffTracker(policy, Emitter(source_system, SystemClock()), store, nowhere, nowhere,
                             Destinations("-", "-"), announced=announced, retention=retention)
    partitions: set[int] = set()
    applied = 0
    for record in records:
        event = record.event
        if event is None:
            continue
        partitions.add(record.partition)
        envelope = event.value.get("envelope") or {}
        if envelope.get("source_system") == source_system:
            tracker.replay_announcement(event, record.partition)  # customer updates the tracker announced (#15)
            await tracker.tick(record.partition, to_micros(envelope["occurred_at"]))
            continue
        raw = RawRecord(value=record.value, key=record.key, topic=record.topic, partition=record.partition,
                        offset=record.offset)
        await tracker.handle(event, raw)
        applied += 1
    for partition in sorted(partitions):
        await tracker.tick(partition, now_us)
    return {key: state for key, state in store.items() if state}, applied


async def _rebuild(records: Iterable[Replayed], policy: HandoffPolicy, source_system: str, now_us: int,
                   retention: Retention | None) -> tuple[dict[str, Any], int]:
    states, applied = await rebuild_states(records, policy, source_system, now_us, retention)
    return {key: view(state) for key, state in states.items()}, applied


def rebuild(records: Iterable[Replayed], policy: HandoffPolicy, source_system: str, now_us: int,
            retention: Retention | None = DEFAULT_RETENTION) -> tuple[dict[str, Any], int]:
    """(handoff id -> compared fields, records applied); ``retention``: the running tracker's
    (``HandoffsSettings.retention``)."""
    return asyncio.run(_rebuild(records, policy, source_system, now_us, retention))


def running(records: Iterable[Replayed], fields: Sequence[str] = COMPARED) -> dict[str, Any]:
    """Handoff id -> ``fields`` of its state (default: the compared ones), from the changelog (latest value per key; a
    tombstone deletes), read as a restore reads it: a late write of a worker that had lost the partition is skipped
    (``bus.fencing``)."""
    found: dict[str, Any] = {}
    for record in fenced(records):
        key = json.loads(record.key) if record.key else None
        if not isinstance(key, str):
            continue
        if record.value is None:
            found.pop(key, None)
        else:
            found[key] = view(json.loads(record.value), fields)
    return found
