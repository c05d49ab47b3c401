from datetime import timedelta

from processors.handoffs.reconcile import NEVER_ROUTED, NOT_ACKNOWLEDGED, UNKNOWN_HANDOFF, reconcile
from tests.processors.handoffs.factories import T0, acknowledged, created
from tests.processors.handoffs.scenario import run_scenario

H = timedelta(hours=1)


async def test_lists_what_one_side_does_not_know() -> None:
    events = await run_scenario()
    events.append(acknowledged("ghost", T0 + 2 * H))
    events.append(created("h4", T0 + 40 * H))  # created, tracker never routed it (e.g. it was down)
    found = {u.handoff_id: u for u in reconcile(events, T0 + 48 * H, timedelta(minutes=30))}
    assert set(found) == {"h3", "ghost", "h4"}
    assert found["h3"].problem == NOT_ACKNOWLEDGED and found["h3"].resends == 3
    assert found["h3"].since == T0 + 7 * H and found["h3"].team == "back-office"
    assert found["ghost"].problem == UNKNOWN_HANDOFF
    assert found["h4"].problem == NEVER_ROUTED and found["h4"].age == 8 * H


async def test_work_orders_in_flight_are_not_listed() -> None:
    events = await run_scenario()
    assert {u.handoff_id for u in reconcile(events, T0 + 7.2 * H, timedelta(minutes=30))} == set()
