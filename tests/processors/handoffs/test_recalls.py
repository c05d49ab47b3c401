"""A notification published to a contact point its customer then loses is recalled (``recalls``).

Jan's case was notified at his mobile; the number goes to a new subscriber (a recycle's claim) or is released. A gateway
that still holds such a notification unsent (down, behind, waiting for the morning) would deliver it to the new holder:
the tracker publishes a ``CustomerNotificationRecalled`` naming it, under the key it went out with, once, decided by
its state (``HandoffState.sent``), never a timer.
"""

from __future__ import annotations

from typing import Any

from bus.clock import to_micros
from bus.serde import Event, SerdeContext, SingleObjectDeserializer, SingleObjectSerializer
from processors.handoffs.outputs import NOTIFICATION, Output
from processors.handoffs.recalls import ADDRESS_LOST, SENT_KEPT, recall, recalled, remembered
from processors.handoffs.state import HandoffState, Status
from schemas.catalog import default_catalog
from tests.processors.handoffs.factories import SYSTEM, T0, accepted, resolved
from tests.processors.handoffs.test_customers import H, replay
from tests.processors.handoffs.test_customers_placement import Placed
from tests.processors.handoffs.test_customers_recycled import JAN_EMAIL, MOBILE, MOBILE_KEY, jans_case

CATALOG = default_catalog()


def recalls(world: Placed) -> list[Any]:
    return world.published("CustomerNotificationRecalled")


def sent_to(world: Placed, address: dict[str, str]) -> list[Any]:
    return [o for o in world.published("CustomerNotification") if o.event.value["address"] == address]


async def test_the_sample_a_notification_to_the_recycled_number_is_recalled_under_its_own_key() -> None:
    world = Placed()
    await jans_case(world, MOBILE, JAN_EMAIL)
    await world.send(accepted("h1", T0 + 2 * H))
    to_mobile = sent_to(world, MOBILE)
    assert len(to_mobile) == 2  # RECEIVED (keyed by the handoff id, before the placement) and IN_PROGRESS
    world.assign("cus_new", MOBILE)  # the recycle's claim
    await world.tick(T0 + 3 * H)
    got = recalls(world)
    assert [(r.key, r.topic, r.event.value["notification_id"]) for r in got] == [
        (n.key, "notifications", n.event.value["notification_id"]) for n in to_mobile]
    for r in got:
        value = r.event.value
        assert (value["reason"], value["address"], value["channel"], value["customer_id"]) == (
            ADDRESS_LOST, MOBILE, "CALL_CENTER", "cus_jan")
        assert value["envelope"]["source_system"] == SYSTEM
    assert world.state().sent == ()
    await world.tick(T0 + 4 * H)  # decided by the state: once
    await world.send(resolved("h1", T0 + 5 * H))
    assert len(recalls(world)) == 2
    assert sent_to(world, JAN_EMAIL) and [s.address for s in world.state().sent] == [JAN_EMAIL]


async def test_notifications_to_an_address_still_held_and_unaddressed_ones_are_never_recalled() -> None:
    world = Placed()
    await jans_case(world, MOBILE, JAN_EMAIL)
    world.assign("cus_new", MOBILE)
    await world.tick(T0 + 2 * H)
    await world.send(accepted("h1", T0 + 3 * H))  # to Jan's e-mail
    world.directory.assign("EMAIL:jan@example.pl", None)  # released: no contact point left
    await world.tick(T0 + 4 * H)
    await world.send(resolved("h1", T0 + 5 * H))  # unaddressed: nothing a gateway could send to the wrong person
    ids = [r.event.value["notification_id"] for r in recalls(world)]
    published = {o.event.value["notification_id"]: o.event.value for o in world.published("CustomerNotification")}
    assert set(ids) <= set(published) and len(ids) == len(set(ids)) == 2
    assert [published[i]["address"] for i in ids] == [MOBILE, JAN_EMAIL]
    assert published[world.published("CustomerNotification")[-1].event.value["notification_id"]]["address"] is None
    assert world.state().sent == ()


async def test_a_finished_cases_notification_is_recalled_too() -> None:
    """The RESOLVED notification is the one most likely still queued when the number changes hands."""
    world = Placed()
    await jans_case(world, MOBILE)
    await world.send(resolved("h1", T0 + 2 * H))
    (last,) = sent_to(world, MOBILE)[-1:]
    world.assign("cus_new", MOBILE)
    await world.tick(T0 + 3 * H)
    assert recalls(world)[-1].event.value["notification_id"] == last.event.value["notification_id"]


async def test_a_publish_that_failed_is_recalled_again_with_the_same_id_and_only_then_forgotten() -> None:
    """At least once: the recalls and the state are saved only after Kafka acknowledged; a redelivery is the same
    record (same event id), which a gateway that already dropped the notification ignores."""
    world = Placed()
    await jans_case(world, MOBILE, JAN_EMAIL)
    before = world.state()
    world.assign("cus_new", MOBILE)
    world.publisher.fail_times = 1
    try:
        await world.tick(T0 + 2 * H)
    except Exception:  # the worker stops on it; nothing saved
        pass
    assert world.state().sent == before.sent and not recalls(world)
    await world.tick(T0 + 2 * H)
    (first,) = recalls(world)
    again = recall(world.tracker.emitter, before.with_(customer_id="cus_jan"), before.sent[0], to_micros(T0 + 2 * H),
                   None)
    assert again.event.value["envelope"]["event_id"] == first.event.value["envelope"]["event_id"]


def test_remembered_keeps_the_newest_addressed_notifications_of_its_handoff_only() -> None:
    world = Placed()
    state = HandoffState("h1", Status.CREATED, "billing-dispute", "standard", "", (MOBILE,), "CALL_CENTER", None,
                         "c-1", 0)
    outputs = [note(i, MOBILE) for i in range(SENT_KEPT + 2)] + [note(99, None), note(98, MOBILE, "h2")]
    kept = remembered(state, outputs)
    assert [s.notification_id for s in kept.sent] == [f"n-{i}" for i in range(2, SENT_KEPT + 2)]
    assert remembered(kept, outputs[-5:]) == kept  # a notification published again is not remembered twice
    assert recalled(world.tracker.emitter, kept, 0, None) == (kept, [])  # nothing relinquished: nothing recalled


def test_a_recall_is_the_contracts_record() -> None:
    state = HandoffState("h1", Status.CREATED, "billing-dispute", "standard", "", (MOBILE,), "CALL_CENTER", None,
                         "c-1", 0, customer_id="cus_jan", relinquished=(MOBILE_KEY,))
    state, (out,) = recalled(Placed().tracker.emitter, remembered(state, [note(1, MOBILE)]), to_micros(T0), "e-9")
    ctx = SerdeContext(topic="omnibus.handoff.notifications.v1")
    decoded = SingleObjectDeserializer(CATALOG)(SingleObjectSerializer(CATALOG)(out.event, ctx), ctx)
    assert decoded.value["notification_id"] == "n-1" and decoded.value["envelope"]["causation_id"] == "e-9"
    assert out.key == "cus_jan" and state.sent == ()


def note(i: int, address: dict[str, str] | None, handoff_id: str = "h1") -> Output:
    value = {"notification_id": f"n-{i}", "handoff_id": handoff_id, "channel": "CALL_CENTER", "address": address}
    return Output("notifications", "cus_jan", Event(NOTIFICATION, value))


async def test_the_replay_forgets_what_the_running_tracker_recalled() -> None:
    world = Placed()
    await jans_case(world, MOBILE, JAN_EMAIL)
    world.assign("cus_new", MOBILE)
    await world.tick(T0 + 2 * H)
    rebuilt = HandoffState.from_dict((await replay(world, T0 + 3 * H))["h1"])
    assert rebuilt.relinquished == (MOBILE_KEY,)
    assert all(s.address != MOBILE for s in rebuilt.sent)

