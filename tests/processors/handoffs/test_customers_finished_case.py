"""A handoff follows identity's placement whatever its status (tester25 F1).

The tracker used to stop following a case once it was resolved or closed: a demo web handoff resolved before the
tracker read identity's placement stayed with ``customer_id: null`` and its notifications keyed by the handoff id,
and a resolved handoff an operator repaired identity for (a split and a merge, or a contact move) stayed on the
wrong customer, where ``omnibus report handoffs --by customer`` counted it. Now a resolved or closed handoff is
re-announced (HandoffStatusChanged with the new customer, the same status, the next version), and a notification
goes out under the customer the directory knows when its record is applied.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from bus.serde import Event
from processors.handoffs.customer_report import compute_customer_report
from processors.handoffs.customers import CUSTOMER_CAUSE, PLACEMENT_CAUSE
from processors.replay.handoffs import COMPARED
from tests.processors.handoffs.factories import T0, accepted, closed, created, reopened, resolved
from tests.processors.handoffs.test_customers import H, opened, replay
from tests.processors.handoffs.test_customers_moved_contact import call, opened_during
from tests.processors.handoffs.test_customers_placement import JEAN_ACCOUNT, LANDLINE, Placed, moved

WEB_USER = {"type": "USER_ID", "value": "u-demo-7"}  # identity had assigned no identifier the tracker looked up


def web_handoff() -> Event:
    return created("h1", channel="WEB", tier=None, identifiers=[WEB_USER])


def changes(world: Placed) -> list[dict[str, Any]]:
    return [o.event.value for o in world.published("HandoffStatusChanged")]


def assert_versions_only_grow(world: Placed) -> None:
    versions = [value["version"] for value in changes(world)]
    assert versions == sorted(set(versions)), versions


async def test_the_reported_demo_handoff_resolved_before_the_placement_is_re_announced_on_its_customer() -> None:
    """The sample: created, accepted and resolved before the tracker read identity's placement on Jean."""
    world, handoff = Placed(), web_handoff()
    await world.send(handoff)
    await world.send(accepted("h1", T0 + H))
    await world.send(resolved("h1", T0 + 2 * H))
    assert world.state().customer_id is None
    world.contact("cus_jean", handoff)
    await world.tick(T0 + 3 * H)
    last = changes(world)[-1]
    assert (last["customer_id"], last["status"], last["cause"]) == ("cus_jean", "RESOLVED", PLACEMENT_CAUSE)
    assert last["version"] == changes(world)[-2]["version"] + 1
    assert world.state().customer_id == "cus_jean" and world.state().status.value == "RESOLVED"
    assert_versions_only_grow(world)
    rebuilt = (await replay(world, T0 + 4 * H))["h1"]
    assert rebuilt["customer_id"] == "cus_jean"
    assert {k: rebuilt[k] for k in COMPARED} == {k: world.store["h1"][k] for k in COMPARED}


async def test_a_placement_read_while_the_case_is_worked_keys_the_next_notifications_by_the_customer() -> None:
    """The sibling handoff: its IN_PROGRESS went out keyed by the handoff id though identity had placed it; a record
    applied after the placement is read follows it first, whether or not a tick came in between."""
    world, handoff = Placed(), web_handoff()
    await world.send(handoff)
    world.contact("cus_jean", handoff)
    await world.send(accepted("h1", T0 + H))  # no tick since the placement was read
    await world.send(resolved("h1", T0 + 2 * H))
    notifications = world.published("CustomerNotification")
    assert [(o.event.value["kind"], o.key) for o in notifications] == [
        ("RECEIVED", "h1"), ("IN_PROGRESS", "cus_jean"), ("RESOLVED", "cus_jean")]
    assert all(o.event.value["customer_id"] == "cus_jean" for o in notifications[1:])
    assert changes(world)[-1]["customer_id"] == "cus_jean"
    assert_versions_only_grow(world)


STEPS = ("creation", "placement", "move", "resolution")


@pytest.mark.parametrize("order", [o for o in itertools.permutations(STEPS)
                                   if o.index("creation") < o.index("resolution")], ids="-".join)
@pytest.mark.parametrize("ticks", [True, False], ids=["tick-after-each", "one-tick-at-the-end"])
async def test_every_order_of_creation_placement_contact_move_and_resolution_ends_on_the_contacts_customer(
        order: tuple[str, ...], ticks: bool) -> None:
    """Identity placed the call's handoff on Claire (the shared landline) and an operator moved the call to Jean.
    In every arrival order (a resolution before its creation is dead-lettered, so it comes after), the handoff
    ends on Jean, announced on its latest HandoffStatusChanged with status RESOLVED, versions only growing; the
    RESOLVED notification is keyed by the customer the directory placed the case on when it was applied; the
    rebuild from the topic agrees."""
    world, handoff = Placed(), opened_during()
    read: list[str] = []
    steps: dict[str, Callable[[], Coroutine[Any, Any, Any]]] = {
        "creation": lambda: world.send(handoff),
        "resolution": lambda: world.send(resolved("h1", T0 + H)),
    }

    async def placement() -> None:
        world.contact("cus_claire", call())
        world.contact("cus_claire", handoff)

    async def move() -> None:
        world.contact("cus_jean", moved(call(), "moved-call-9"), moved_from="cus_claire", at_ms=5)

    steps["placement"], steps["move"] = placement, move
    for at, step in enumerate(order):
        await steps[step]()
        read.append(step)
        if step == "resolution":
            # the move takes the handoff once its placement names the call; before it, the landline's owner
            expected = "cus_jean" if {"move", "placement"} <= set(read) else "cus_claire"
            assert world.published("CustomerNotification")[-1].key == expected, order
        if ticks:
            await world.tick(T0 + (at + 2) * H)
    await world.tick(T0 + 9 * H)
    last = changes(world)[-1]
    assert (last["customer_id"], last["status"]) == ("cus_jean", "RESOLVED"), order
    assert world.state().customer_id == "cus_jean"
    assert_versions_only_grow(world)
    rebuilt = (await replay(world, T0 + 10 * H))["h1"]
    assert rebuilt["customer_id"] == "cus_jean", order
    assert {k: rebuilt[k] for k in COMPARED} == {k: world.store["h1"][k] for k in COMPARED}, order


async def resolved_on_claire() -> tuple[Placed, Event]:
    """tester25 F1's repair: identity moved the call to Claire (a typed account, F2), the case was resolved there."""
    world, handoff = Placed(), opened_during()
    world.contact("cus_jean", call())
    world.contact("cus_jean", handoff)
    await world.send(handoff)
    world.contact("cus_claire", moved(call(), "moved-call-9"), moved_from="cus_jean", at_ms=5)
    await world.tick(T0 + H)
    await world.send(resolved("h1", T0 + 2 * H))
    assert world.state().customer_id == "cus_claire"
    return world, handoff


async def split_and_merge(world: Placed) -> None:
    """``identity split`` takes the call to a new customer, ``identity merge`` puts that customer into Jean."""
    world.contact("cus_new", moved(call(), "split-call-9"), moved_from="cus_claire", at_ms=9)
    world.merged("cus_new", "cus_jean")


async def move_back(world: Placed) -> None:
    """``identity move-contact`` takes the call back to Jean."""
    world.contact("cus_jean", moved(call(), "moved-back-call-9"), moved_from="cus_claire", at_ms=9)


@pytest.mark.parametrize("repair", [split_and_merge, move_back], ids=["split-and-merge", "move-contact"])
async def test_a_repair_after_the_resolution_takes_the_resolved_case_and_the_month_report_to_jean(
        repair: Callable[[Placed], Coroutine[Any, Any, None]]) -> None:
    world, _ = await resolved_on_claire()
    rows = {row.customer_id for row in compute_customer_report(world.topic, "2026-11")}
    assert rows == {"cus_claire"}
    await repair(world)
    await world.tick(T0 + 3 * H)
    last = changes(world)[-1]
    assert (last["customer_id"], last["status"]) == ("cus_jean", "RESOLVED")
    assert world.state().customer_id == "cus_jean"
    assert_versions_only_grow(world)
    report = {row.customer_id: row for row in compute_customer_report(world.topic, "2026-11")}
    assert set(report) == {"cus_jean"} and (report["cus_jean"].handoffs, report["cus_jean"].resolved) == (1, 1)
    rebuilt = (await replay(world, T0 + 4 * H))["h1"]
    assert rebuilt["customer_id"] == "cus_jean"


async def test_a_closed_case_follows_too_and_a_reopened_one_goes_on_there() -> None:
    world, _ = await resolved_on_claire()
    await world.send(closed("h1", T0 + 3 * H))
    await move_back(world)
    await world.tick(T0 + 4 * H)
    assert (changes(world)[-1]["customer_id"], changes(world)[-1]["status"]) == ("cus_jean", "CLOSED")
    await world.send(reopened("h1", T0 + 5 * H))
    assert world.published("CustomerNotification")[-1].key == "cus_jean"


async def test_a_finished_case_never_takes_an_identifiers_new_owner_nor_a_tier() -> None:
    """A resolved case follows identity's placement and merges only: an identifier given to someone else later (a
    recycled number) is not this past case's, and its tier and deadline are history."""
    world = Placed()
    await world.send(created("h1", tier=None, identifiers=[LANDLINE]))  # not placed: Claire, by the landline
    await world.send(resolved("h1", T0 + H))
    state = world.state()
    world.assign("cus_jean", LANDLINE)
    world.assign("cus_jean", JEAN_ACCOUNT)
    world.business(opened("C-100200", "premium"))
    await world.tick(T0 + 2 * H)
    kept = world.state()
    assert (kept.customer_id, kept.service_tier, kept.deadline_us) == ("cus_claire", state.service_tier,
                                                                       state.deadline_us)
    # what Claire lost is announced (the next version, RESOLVED still), so a replay rebuilds it
    assert kept.relinquished == ("PHONE:" + LANDLINE["value"],) and kept.version == state.version + 1
    assert (changes(world)[-1]["customer_id"], changes(world)[-1]["status"]) == ("cus_claire", "RESOLVED")
    world.merged("cus_claire", "cus_luc")  # a merge of the customer it has is followed
    await world.tick(T0 + 3 * H)
    after = world.state()
    assert (after.customer_id, after.service_tier, after.status.value) == ("cus_luc", state.service_tier, "RESOLVED")
    assert changes(world)[-1]["cause"] == CUSTOMER_CAUSE
