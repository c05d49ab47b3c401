"""What ``omnibus replay handoffs`` compares: a case's ``relinquished`` contact points and its ``needs_contact`` mark
too (the tracker announces every change of them, so a rebuild from ``handoff.events.v1`` has them); a changelog
value written before the fields existed reads as their defaults; the keys it prints are masked."""

from __future__ import annotations

from processors.handoffs.state import HandoffState
from processors.replay.compare import compare
from processors.replay.handoffs import COMPARED, shown, view
from tests.processors.handoffs.factories import T0, created, resolved
from tests.processors.handoffs.test_customers import H, replay
from tests.processors.handoffs.test_customers_placement import Placed
from tests.processors.handoffs.test_customers_recycled import JAN_EMAIL, MOBILE, MOBILE_KEY, jans_case


def test_the_contact_points_lost_and_the_mark_are_compared() -> None:
    assert {"relinquished", "needs_contact"} <= set(COMPARED)


async def test_a_recycled_numbers_case_rebuilt_from_the_log_agrees_on_every_compared_field() -> None:
    """Jan's mobile goes to a new subscriber: his open case loses it, and with it his last contact point."""
    world = Placed()
    await jans_case(world, MOBILE)
    world.assign("cus_new", MOBILE)
    await world.tick(T0 + 2 * H)
    running = world.store["h1"]
    assert (running["relinquished"], running["needs_contact"]) == ([MOBILE_KEY], True)
    rebuilt = (await replay(world, T0 + 3 * H))["h1"]
    assert view(rebuilt) == view(running)


async def test_a_finished_case_that_lost_a_contact_point_agrees_too() -> None:
    """The loss of a resolved case is announced as well (the same status, the next version): rebuilt the same."""
    world = Placed()
    await jans_case(world, MOBILE, JAN_EMAIL)
    await world.send(resolved("h1", T0 + 2 * H))
    world.assign("cus_new", MOBILE)
    await world.tick(T0 + 3 * H)
    running = world.store["h1"]
    assert (running["relinquished"], running["needs_contact"]) == ([MOBILE_KEY], False)
    assert view((await replay(world, T0 + 4 * H))["h1"]) == view(running)


async def test_a_running_state_that_kept_a_lost_number_is_reported_differing_and_masked() -> None:
    """A running tracker whose case still names the number the rebuild says its customer lost differs."""
    world = Placed()
    await jans_case(world, MOBILE)
    world.assign("cus_new", MOBILE)
    await world.tick(T0 + 2 * H)
    rebuilt = {"h1": view((await replay(world, T0 + 3 * H))["h1"])}
    stale = {"h1": view({**world.store["h1"], "relinquished": [], "needs_contact": False})}
    comparison = compare(rebuilt, stale)
    assert [key for key, _, _ in comparison.differing] == ["h1"]
    (line,) = comparison.details(shown=shown)
    assert line.startswith("  h1: ") and "needs_contact rebuilt True running False" in line
    assert "relinquished rebuilt ['PHONE:" in line and MOBILE["value"] not in line


async def test_a_changelog_value_from_before_the_fields_reads_as_their_defaults() -> None:
    """A case the running tracker last wrote before ``relinquished``/``needs_contact`` existed (an upgrade without a
    new record of it) is not reported differing for lacking them."""
    world = Placed()
    world.assign("cus_ana", JAN_EMAIL)
    await world.send(created("h1", identifiers=[JAN_EMAIL]))
    old = {name: value for name, value in world.store["h1"].items() if name not in ("relinquished", "needs_contact")}
    assert view(old) == view(HandoffState.from_dict(world.store["h1"]).to_dict())
    assert compare({"h1": view(world.store["h1"])}, {"h1": view(old)}).equal


def test_shown_masks_identifier_keys_and_keeps_handoff_ids() -> None:
    assert shown("h-roaming-charge") == "h-roaming-charge"
    assert shown("case:42") == "case:42"  # a handoff id with a colon is no identifier key
    masked = shown(MOBILE_KEY)
    assert masked.startswith("PHONE:") and MOBILE["value"] not in masked
