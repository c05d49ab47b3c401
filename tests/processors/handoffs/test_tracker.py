"""The tracker glue with an in-memory table: publish before save, dead letters, restarts, stale index entries."""

from datetime import timedelta

import pytest

from adapters.web.mapper import SegmentMapper
from bus.config import TopicSettings
from bus.envelope import event_id
from bus.errors import PublishError
from bus.clock import ManualClock, to_micros
from bus.tick_gate import TickGate
from bus.ticks import Tick
from processors.handoffs.config import HandoffPolicy
from processors.handoffs.metrics import ILLEGAL, ORPHAN_ACKS, UNKNOWN_TEAM_TRANSFERS
from processors.handoffs.outputs import Emitter
from processors.handoffs.tracker import Destinations, HandoffTracker
from tests.adapters.web.support import web_settings
from tests.processors.handoffs.factories import (
    AGENT, SYSTEM, T0, FakeDeadLetters, FakePublisher, accepted, acknowledged, closed, created, record, resolved,
    transferred,
)

H = timedelta(hours=1)
DESTINATIONS = Destinations("events", "notifications")


def tracker(store=None, publisher=None, dead=None) -> HandoffTracker:
    return HandoffTracker(
        HandoffPolicy(), Emitter(SYSTEM, ManualClock(T0)), store if store is not None else {},
        publisher or FakePublisher(), dead or FakeDeadLetters(), DESTINATIONS,
    )


async def test_applies_publishes_then_saves() -> None:
    t = tracker()
    assert await t.handle(created("h1"), record(partition=2)) == "applied"
    assert t.publisher.names() == ["HandoffRouted", "HandoffStatusChanged", "CustomerNotification"]
    assert [o.topic for o in t.publisher.published] == ["events", "events", "notifications"]
    assert all(o.key == "h1" for o in t.publisher.published)
    assert t.store["h1"]["status"] == "ROUTED" and t.store["h1"]["partition"] == 2


async def test_own_outputs_coming_back_are_skipped() -> None:
    t = tracker()
    await t.handle(created("h1"), record())
    published = list(t.publisher.published)
    for item in published:
        assert await t.handle(item.event, record()) == "own-output"
    assert len(t.publisher.published) == len(published) and not t.dead_letters.written


async def test_redelivery_is_a_no_op() -> None:
    t = tracker()
    event = created("h1")
    await t.handle(event, record())
    count = len(t.publisher.published)
    assert await t.handle(event, record()) == "duplicate"  # the same record delivered again
    assert await t.handle(acknowledged("h1", T0), record()) == "applied"
    ack = acknowledged("h1", T0)
    assert await t.handle(ack, record()) == "duplicate"  # a second acknowledgement: already true
    assert len(t.publisher.published) == count + 1  # only the first ack's status change


async def test_illegal_transition_goes_to_the_dead_letters_with_the_reason() -> None:
    t = tracker()
    await t.handle(created("h1"), record())
    await t.handle(accepted("h1", T0 + H), record())
    before = ILLEGAL.labels(reason="second_owner")._value.get()
    bad = record(offset=42)
    assert await t.handle(accepted("h1", T0 + 2 * H, owner={"kind": "EMPLOYEE", "id": "x"}), bad) == "illegal"
    (letter,) = t.dead_letters.written
    assert letter["record"] is bad and "second owner" in letter["reason"]
    assert letter["error_type"] == "IllegalTransition:second_owner"
    assert ILLEGAL.labels(reason="second_owner")._value.get() == before + 1
    assert t.store["h1"]["owner"]["id"] == "agent-1"


async def test_acknowledgement_for_a_handoff_nobody_created_is_reported() -> None:
    t = tracker()
    before = ORPHAN_ACKS._value.get()
    assert await t.handle(acknowledged("ghost", T0), record()) == "illegal"
    assert "nobody created" in t.dead_letters.written[0]["reason"]
    assert ORPHAN_ACKS._value.get() == before + 1 and "ghost" not in t.store


async def test_non_lifecycle_events_are_dead_lettered() -> None:
    from bus.serde import Event

    t = tracker()
    assert await t.handle(Event("omnibus.contact.CallCompleted", {"envelope": {}}), record()) == "illegal"
    assert "not a handoff lifecycle event" in t.dead_letters.written[0]["reason"]


async def test_ticks_fire_each_deadline_once_across_a_restart() -> None:
    store: dict = {}
    first = tracker(store)
    for i in range(3):
        await first.handle(created(f"h{i}"), record(partition=i % 2))
        await first.handle(acknowledged(f"h{i}", T0), record(partition=i % 2))
    assert await first.tick(0, to_micros(T0 + 11 * H)) == 2  # h0 and h2 live in partition 0
    assert await first.tick(1, to_micros(T0 + 11 * H)) == 1
    fired_before = first.publisher.names().count("HandoffDeadlineWarning")
    assert fired_before == 3
    # "Restart": a new tracker on the same (recovered) table, with an empty index rebuilt on the first tick.
    second = tracker(store)
    assert await second.tick(0, to_micros(T0 + 11 * H)) == 0
    assert await second.tick(0, to_micros(T0 + 16 * H)) == 2
    assert second.publisher.names() == ["HandoffDeadlineWarning"] * 2
    assert [o.event.value["percent"] for o in second.publisher.published] == [75, 75]


async def test_failed_publish_saves_nothing_and_the_next_tick_retries() -> None:
    store: dict = {}
    t = tracker(store)
    await t.handle(created("h1"), record())
    await t.handle(acknowledged("h1", T0), record())
    version = store["h1"]["version"]

    class Broken(FakePublisher):
        async def publish_many(self, items):
            raise PublishError("no broker", retriable=False)

    good = t.publisher
    t.publisher = Broken()
    with pytest.raises(PublishError):
        await t.tick(0, to_micros(T0 + 11 * H))
    assert store["h1"]["version"] == version and "c0:t0:w50" not in store["h1"]["fired"]
    t.publisher = good
    assert await t.tick(0, to_micros(T0 + 11 * H)) == 1  # the index was rebuilt from the table
    assert good.names()[-1] == "HandoffDeadlineWarning"


async def test_a_publish_failure_the_producer_gave_up_on_saves_nothing_and_is_not_tried_again_here() -> None:
    # The producer retries a transient failure itself (bus.publish_retry); a second loop here multiplied its
    # give-up time by six.
    store: dict = {}
    publisher = FakePublisher(fail_times=1)
    t = tracker(store, publisher=publisher)
    with pytest.raises(PublishError):
        await t.handle(created("h1"), record())
    assert "h1" not in store and publisher.published == []
    assert await t.handle(created("h1"), record()) == "applied"  # the redelivered record
    assert publisher.names()[0] == "HandoffRouted"


async def test_stale_index_entries_fire_nothing() -> None:
    store: dict = {}
    t = tracker(store)
    await t.handle(created("h1"), record())
    await t.handle(acknowledged("h1", T0), record())
    await t.tick(0, to_micros(T0))  # builds the index
    await t.handle(resolved("h1", T0 + H), record())
    count = len(t.publisher.published)
    assert await t.tick(0, to_micros(T0 + 30 * H)) == 0
    assert len(t.publisher.published) == count


async def test_a_record_the_rules_choke_on_is_dead_lettered_not_fatal(monkeypatch: pytest.MonkeyPatch) -> None:
    import processors.handoffs.tracker as module

    def broken(*_):
        raise ZeroDivisionError("boom")

    t = tracker()
    monkeypatch.setattr(module, "apply", broken)
    assert await t.handle(created("h1"), record()) == "illegal"
    assert t.dead_letters.written[0]["error_type"] == "IllegalTransition:error"
    assert "ZeroDivisionError: boom" in t.dead_letters.written[0]["reason"]


async def test_a_handoff_the_scan_chokes_on_does_not_stop_the_others(monkeypatch: pytest.MonkeyPatch) -> None:
    import processors.handoffs.deadline_scan as module
    from processors.handoffs.metrics import SCAN_ERRORS

    store: dict = {}
    t = tracker(store)
    for h in ("h1", "h2"):
        await t.handle(created(h), record())
        await t.handle(acknowledged(h, T0), record())
    real = module.fire_due

    def choke_on_h1(policy, emitter, state, now_us):
        if state.handoff_id == "h1":
            raise ValueError("bad calendar")
        return real(policy, emitter, state, now_us)

    monkeypatch.setattr(module, "fire_due", choke_on_h1)
    before = SCAN_ERRORS._value.get()
    assert await t.tick(0, to_micros(T0 + 11 * H)) == 1
    assert SCAN_ERRORS._value.get() == before + 1


class RecordedLog:
    def __init__(self) -> None:
        self.warnings: list[tuple[str, dict]] = []

    def warning(self, message: str, **fields: object) -> None:
        self.warnings.append((message, fields))

    def __getattr__(self, _level: str):
        return lambda *_, **__: None


@pytest.mark.parametrize(
    ("to_team", "warned"),
    [("finanse", True), ("back-office/manager", False), ("back-office", False)],
    ids=["a team the policy does not name", "an escalation queue", "a policy team"],
)
async def test_a_transfer_to_a_team_the_policy_does_not_name_is_applied_warned_and_counted(
    monkeypatch: pytest.MonkeyPatch, to_team: str, warned: bool,
) -> None:
    """tester10 #5: a transfer to a team missing from the policy was accepted in silence."""
    import processors.handoffs.tracker as module

    recorded = RecordedLog()
    monkeypatch.setattr(module, "log", recorded)
    t = tracker()
    await t.handle(created("+33612345678"), record())  # a handoff id may be free text from a legacy system
    await t.handle(accepted("+33612345678", T0 + H), record())
    before = UNKNOWN_TEAM_TRANSFERS._value.get()
    move = transferred("+33612345678", T0 + 2 * H, from_owner=AGENT, from_team="back-office", to_team=to_team)
    assert await t.handle(move, record()) == "applied"  # allowed on purpose (HandoffPolicy.team)
    assert t.store["+33612345678"]["team"] == to_team
    assert UNKNOWN_TEAM_TRANSFERS._value.get() == before + warned
    if not warned:
        assert not recorded.warnings
        return
    ((message, fields),) = recorded.warnings
    assert "does not name" in message and fields["team"] == "finanse"
    assert fields["event_id"] == move.value["envelope"]["event_id"]
    assert "+33612345678" not in repr(recorded.warnings)


# --- the order of ticks and records (bus.tick_gate) -----------------------------------------------------------

EVENTS = "omnibus.handoff.events.v1"  # the topic of ``factories.record``


def handoffs_of(t: HandoffTracker, schema: str) -> list[str]:
    return [o.event.value["handoff_id"] for o in t.publisher.published if o.event.schema.endswith("." + schema)]


async def test_a_tick_read_ahead_of_the_acknowledgement_and_the_resolution_waits_for_them() -> None:
    """The live race after a restart: the tick (published after every record below) is read before the
    acknowledgement and the resolution. It must not resend an acknowledged work order nor breach a case resolved
    in time; the handoff that is truly overdue fires once, when the scan runs."""
    t = tracker()
    backlog = [created("h-late", T0), created("h-done", T0), created("h-solved", T0),
               acknowledged("h-done", T0 + 2 * H), resolved("h-solved", T0 + 3 * H)]
    tick = Tick(to_micros(T0 + 30 * H), {EVENTS: len(backlog)})  # every SLA breached and every ack overdue by then
    for offset, event in enumerate(backlog[:3]):
        await t.handle(event, record(offset=offset))
        assert await t.input_read(record(offset=offset)) == 0
    assert await t.on_tick(0, tick) == 0  # deferred: two records published before the tick are unread
    assert not handoffs_of(t, "HandoffUnacknowledgedAlarm") and not handoffs_of(t, "HandoffBreached")
    await t.handle(backlog[3], record(offset=3))
    assert await t.input_read(record(offset=3)) == 0
    await t.handle(backlog[4], record(offset=4))
    assert await t.input_read(record(offset=4)) == 2  # the deferred scan, on the record that completed it
    assert set(handoffs_of(t, "HandoffUnacknowledgedAlarm")) == {"h-late"}  # its alarms and resends, 30 min apart
    assert set(handoffs_of(t, "HandoffBreached")) == {"h-late", "h-done"}  # h-done: acknowledged, never resolved
    assert t.store["h-done"]["resends"] == 0 and t.store["h-late"]["resends"] == 3  # the policy's max_resends
    assert not t.store["h-solved"]["fired"]
    assert await t.on_tick(0, tick) == 0  # the same tick redelivered: everything due already fired


async def test_a_tick_whose_records_were_read_scans_at_once() -> None:
    t = tracker()
    await t.handle(created("h1", T0), record(offset=0))
    await t.input_read(record(offset=0))
    assert await t.on_tick(0, Tick(to_micros(T0 + 0.75 * H), {EVENTS: 1})) == 1  # the ack was due at 30 min
    assert handoffs_of(t, "HandoffUnacknowledgedAlarm") == ["h1"]


async def test_a_deferred_scan_is_forced_after_max_defer_s() -> None:
    """A partition that never catches up still fires its deadlines, ``max_defer_s`` (tick time) late at most."""
    t = tracker()
    t.gate = TickGate(max_defer_s=60)
    await t.handle(created("h1", T0), record(offset=0))
    await t.input_read(record(offset=0))
    at = T0 + 0.75 * H  # the ack was due at 30 min
    assert await t.on_tick(0, Tick(to_micros(at), {EVENTS: 5})) == 0
    assert await t.on_tick(0, Tick(to_micros(at + timedelta(seconds=30)), {EVENTS: 9})) == 0
    assert await t.on_tick(0, Tick(to_micros(at + timedelta(seconds=60)), {EVENTS: 12})) == 1
    assert handoffs_of(t, "HandoffUnacknowledgedAlarm") == ["h1"]


async def test_notifications_are_counted_by_whether_they_carry_an_address() -> None:
    """A call from a withheld number whose caller gave only an account number opens a handoff that no channel can
    tell the customer about: its notifications go out without an address, and ops can see how many."""
    from prometheus_client import REGISTRY

    def count(addressed: str) -> float:
        return REGISTRY.get_sample_value("omnibus_handoff_notifications_total",
                                         {"channel": "CALL_CENTER", "kind": "RECEIVED", "addressed": addressed}) or 0.0

    before = {flag: count(flag) for flag in ("true", "false")}
    t = tracker()
    await t.handle(created("h-withheld", identifiers=[{"type": "ACCOUNT", "value": "1000001"}]), record())
    (note,) = [o.event.value for o in t.publisher.published if o.topic == "notifications"]
    assert note["address"] is None
    assert count("false") == before["false"] + 1 and count("true") == before["true"]
    await t.handle(created("h-phone"), record())  # the caller's phone: the call center can call back
    assert count("true") == before["true"] + 1 and count("false") == before["false"] + 1


async def test_a_notification_whose_publish_failed_is_not_counted() -> None:
    from prometheus_client import REGISTRY

    class Failing(FakePublisher):
        async def publish_many(self, items):
            raise PublishError("broker gone", retriable=False)

    labels = {"channel": "CALL_CENTER", "kind": "RECEIVED", "addressed": "true"}
    before = REGISTRY.get_sample_value("omnibus_handoff_notifications_total", labels) or 0.0
    with pytest.raises(PublishError):
        await tracker(publisher=Failing()).handle(created("h-lost"), record())
    assert (REGISTRY.get_sample_value("omnibus_handoff_notifications_total", labels) or 0.0) == before


async def test_a_web_request_resent_across_the_upgrade_to_content_named_ids_opens_a_second_handoff() -> None:
    """README's upgrade note: a web service request without a case id of its own was named ``web:<source>:<messageId>``
    before; re-sent after the upgrade to a replica whose dedupe file does not hold it, it is named with its content's
    digest too: another handoff id, so the tracker opens a second handoff (not refused as a duplicate creation). The
    back office closes it with ``close --reason DUPLICATE``; a later re-send of it is a copy the tracker drops."""
    settings = web_settings()
    message = {"userId": "portal-luc", "messageId": "m-upgrade-1", "event": "Service Request Submitted",
               "timestamp": T0.isoformat(), "properties": {"case_type": "billing-dispute", "summary": "Charged twice"}}
    mapped = SegmentMapper(settings, TopicSettings())(message, source="portal-web", call="track", received_at=T0)
    (now,) = [o.event for o in mapped.events if o.event.schema.endswith("HandoffCreated")]
    before = type(now)(now.schema, {  # what the release before published for the same message
        **now.value, "handoff_id": "web:portal-web:m-upgrade-1", "origin_interaction_id": "m-upgrade-1",
        "envelope": {**now.value["envelope"],
                     "event_id": event_id(settings.source_system, "m-upgrade-1", "portal-web/handoff")}})
    t = tracker()
    assert await t.handle(before, record(offset=1)) == "applied"
    assert await t.handle(now, record(offset=2)) == "applied"
    assert now.value["handoff_id"].startswith("web:portal-web:m-upgrade-1:")
    assert sorted(t.store) == sorted([before.value["handoff_id"], now.value["handoff_id"]])
    assert not t.dead_letters.written
    assert await t.handle(closed(now.value["handoff_id"], T0 + H, reason="DUPLICATE"), record(offset=3)) == "applied"
    assert t.store[now.value["handoff_id"]]["status"] == "CLOSED"
    assert await t.handle(now, record(offset=4)) == "duplicate"
