"""Closed handoffs leave the table by event time: whole, then a tombstone, then nothing; late and replayed records."""

from datetime import timedelta

import pytest

from bus.clock import ManualClock, to_micros
from processors.handoffs.config import HandoffPolicy, HandoffsSettings
from processors.handoffs.metrics import ILLEGAL, PRUNED
from processors.handoffs.outputs import Emitter
from processors.handoffs.retention import CLOSED_KEPT_S, TOMBSTONE_KEPT_S, Pruner, Retention, is_tombstone
from processors.handoffs.tracker import Destinations, HandoffTracker
from processors.replay import Replayed
from processors.replay.handoffs import rebuild_states
from tests.processors.handoffs.factories import (
    SYSTEM, T0, FakeDeadLetters, FakePublisher, closed, created, record, reopened, resolved,
)

DAY = timedelta(days=1)
CLOSED_DAYS, TOMBSTONE_DAYS = CLOSED_KEPT_S // 86400, TOMBSTONE_KEPT_S // 86400


def tracker(store: dict | None = None, clock: ManualClock | None = None) -> HandoffTracker:
    return HandoffTracker(HandoffPolicy(), Emitter(SYSTEM, clock or ManualClock(T0)),
                          store if store is not None else {}, FakePublisher(), FakeDeadLetters(),
                          Destinations("events", "notifications"), retention=Retention())


async def closed_case(t: HandoffTracker, handoff_id: str = "h1") -> list:
    """Create, resolve and close ``handoff_id`` on day 0; returns the records (for a replay)."""
    events = [created(handoff_id, T0), resolved(handoff_id, T0 + timedelta(hours=1)),
              closed(handoff_id, T0 + timedelta(hours=2))]
    for event in events:
        assert await t.handle(event, record()) == "applied"
    return events


async def test_a_closed_case_becomes_a_tombstone_then_goes() -> None:
    t = tracker()
    await closed_case(t)
    version = t.store["h1"]["version"]
    assert t.store["h1"]["closed_at_us"] == to_micros(T0 + timedelta(hours=2))
    before = PRUNED.labels(table="state", reason="closed")._value.get()
    await t.handle(created("h2", T0 + (CLOSED_DAYS - 1) * DAY), record())
    assert not is_tombstone(t.store["h1"])  # kept whole the retention of closed cases
    await t.handle(created("h3", T0 + (CLOSED_DAYS + 1) * DAY), record())
    assert t.store["h1"] == {"pruned": True, "handoff_id": "h1", "closed_at_us": to_micros(T0 + timedelta(hours=2)),
                             "version": version, "partition": 0, "next_due_us": None}
    assert PRUNED.labels(table="state", reason="closed")._value.get() == before + 1
    expired = PRUNED.labels(table="tombstones", reason="expired")._value.get()
    await t.handle(created("h4", T0 + (TOMBSTONE_DAYS + 1) * DAY), record())
    assert "h1" not in t.store
    assert PRUNED.labels(table="tombstones", reason="expired")._value.get() == expired + 1
    assert not is_tombstone(t.store["h2"]) and t.store["h2"]["status"] == "ROUTED"  # open cases stay


async def test_a_replayed_creation_after_pruning_recreates_nothing() -> None:
    t = tracker()
    events = await closed_case(t)
    await t.handle(created("h2", T0 + (CLOSED_DAYS + 1) * DAY), record())
    published = len(t.publisher.published)
    for event in events:  # the same records again (a redelivery, a consumer reset to the start of the topic)
        assert await t.handle(event, record()) == "duplicate"
    late_copy = created("h1", T0)  # another id for the same creation (an adapter re-sent it): occurred before the close
    assert await t.handle(late_copy, record()) == "duplicate"
    assert is_tombstone(t.store["h1"])
    assert len(t.publisher.published) == published and t.dead_letters.written == []


async def test_a_change_after_pruning_is_refused() -> None:
    t = tracker()
    await closed_case(t)
    at = T0 + (CLOSED_DAYS + 1) * DAY
    before = ILLEGAL.labels(reason="pruned")._value.get()
    assert await t.handle(reopened("h1", at), record()) == "illegal"
    assert await t.handle(created("h1", at), record()) == "illegal"  # a new case reusing the id of a pruned one
    assert [w["error_type"] for w in t.dead_letters.written] == ["IllegalTransition:pruned"] * 2
    assert ILLEGAL.labels(reason="pruned")._value.get() == before + 2
    assert is_tombstone(t.store["h1"])


async def test_a_creation_older_than_any_tombstone_is_refused() -> None:
    t = tracker()
    await closed_case(t)
    await t.handle(created("h2", T0 + (TOMBSTONE_DAYS + 1) * DAY), record())
    assert "h1" not in t.store
    assert await t.handle(created("h1", T0), record()) == "illegal"  # its tombstone is gone: it must not come back
    assert t.dead_letters.written[-1]["error_type"] == "IllegalTransition:late_creation"
    assert "h1" not in t.store
    recent = T0 + TOMBSTONE_DAYS * DAY
    assert await t.handle(created("h5", recent), record()) == "applied"  # within the tombstones' reach: a new case


async def test_a_replay_or_a_restart_gives_the_same_state() -> None:
    records = [created("h1", T0), resolved("h1", T0 + timedelta(hours=1)), closed("h1", T0 + timedelta(hours=2)),
               created("h2", T0 + DAY), resolved("h2", T0 + 2 * DAY), closed("h2", T0 + 3 * DAY),
               created("h3", T0 + (CLOSED_DAYS + 1) * DAY), reopened("h1", T0 + (CLOSED_DAYS + 1) * DAY),
               reopened("h2", T0 + (CLOSED_DAYS + 2) * DAY), created("h4", T0 + (CLOSED_DAYS + 3) * DAY),
               created("h5", T0 + (TOMBSTONE_DAYS + 2) * DAY)]
    once = tracker()
    for event in records:
        await once.handle(event, record())
    store: dict = {}
    restarted = tracker(store)
    for i, event in enumerate(records):
        if i in (4, 8):  # a restart: a new tracker (its clock starts again) over the same table
            restarted = tracker(store)
        await restarted.handle(event, record())
    assert store == once.store
    assert "h1" not in store  # pruned (its reopen refused), then dropped after the tombstones' retention
    assert store["h2"]["cycle"] == 1  # reopened one day before its retention ended


async def test_omnibus_replay_prunes_as_the_running_tracker_did() -> None:
    records = [created("h1", T0), resolved("h1", T0 + timedelta(hours=1)), closed("h1", T0 + timedelta(hours=2)),
               created("h2", T0 + DAY), resolved("h2", T0 + 2 * DAY), closed("h2", T0 + 3 * DAY),
                              created("h3", T0 + (CLOSED_DAYS + 4) * DAY), created("h1", T0)]  # the last: h1's creation, late
    running = tracker()
    for event in records:
        await running.handle(event, record())
    log = [Replayed("handoff.events.v1", 0, offset, event.value["handoff_id"].encode(), event)
           for offset, event in enumerate(records)]
    rebuilt, _ = await rebuild_states(log, HandoffPolicy(), SYSTEM, to_micros(T0 + (CLOSED_DAYS + 4) * DAY))
    assert is_tombstone(rebuilt["h1"]) and is_tombstone(rebuilt["h2"])
    assert {k: v for k, v in rebuilt.items() if is_tombstone(v)} == {
        k: v for k, v in running.store.items() if is_tombstone(v)}
    assert set(rebuilt) == set(running.store)


async def test_the_wall_clock_never_prunes() -> None:
    clock = ManualClock(T0 + 3 * TOMBSTONE_DAYS * DAY)  # the worker's clock years ahead of the records
    t = tracker(clock=clock)
    await closed_case(t)
    await t.tick(0, to_micros(clock.now()))
    assert not is_tombstone(t.store["h1"]) and t.store["h1"]["status"] == "CLOSED"


async def test_a_resolved_case_never_closed_is_kept() -> None:
    t = tracker()
    await t.handle(created("h1", T0), record())
    await t.handle(resolved("h1", T0 + timedelta(hours=1)), record())
    await t.handle(created("h2", T0 + (TOMBSTONE_DAYS + 1) * DAY), record())
    assert t.store["h1"]["status"] == "RESOLVED"


def test_a_case_closed_before_closings_were_stamped_is_kept_the_retention_from_the_first_sweep() -> None:
    pruner = Pruner(Retention())
    row = {"handoff_id": "h1", "status": "CLOSED", "timers": [], "partition": 0, "version": 4}
    first = pruner.sweep([("h1", row)], 0, 1_000)
    assert first.write == {"h1": {**row, "closed_at_us": 1_000}} and first.closed == 0
    later = pruner.sweep(first.write.items(), 0, 1_000 + int(CLOSED_KEPT_S * 1e6) + 1)
    assert is_tombstone(later.write["h1"]) and later.write["h1"]["version"] == 4


def test_tombstones_must_outlive_the_topic() -> None:
    with pytest.raises(ValueError, match="outlive"):
        Retention(tombstone_s=30 * 86400)
    assert HandoffsSettings().retention == Retention()
    assert HandoffsSettings(closed_retention_s=86400).retention.closed_s == 86400  # the worker's, replay's, verify's
    with pytest.raises(ValueError, match="outlive"):
        HandoffsSettings(tombstone_retention_s=86400).retention
