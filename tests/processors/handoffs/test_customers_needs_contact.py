"""A case whose customer lost its last contact point says so: ``needs_contact`` in its state and on its
``HandoffStatusChanged``, set when the last one goes, cleared when a new one is known (``customers.needs_a_contact``),
counted for open cases by ``omnibus_handoff_needing_contact``; a finished case's loss is announced too, so that
``omnibus replay handoffs`` rebuilds its ``relinquished`` (and ``needs_contact``) from the log.
"""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY
from structlog.testing import capture_logs

from bus.clock import to_micros
from bus.logging import get_logger
from processors.handoffs import tracker
from processors.handoffs.outputs import NOTIFICATION
from processors.handoffs.state import HandoffState
from tests.processors.handoffs.factories import T0, accepted, created, resolved
from tests.processors.handoffs.test_customers import H, replay
from tests.processors.handoffs.test_customers_placement import Placed
from tests.processors.handoffs.test_customers_recycled import JAN_EMAIL, MOBILE, MOBILE_KEY, jans_case, last_change


def needing(team: str = "other") -> float | None:
    return REGISTRY.get_sample_value("omnibus_handoff_needing_contact", {"team": team})


async def test_losing_the_last_contact_point_marks_the_case_and_a_new_one_clears_it() -> None:
    world = Placed()
    await jans_case(world, MOBILE)
    assert not world.state().needs_contact and last_change(world)["needs_contact"] is False
    world.assign("cus_new", MOBILE)
    await world.tick(T0 + 2 * H)
    assert world.state().needs_contact and last_change(world)["needs_contact"] is True
    team = world.tracker.metrics.team(world.state().team)
    world.tracker.refresh_metrics(to_micros(T0 + 2 * H))
    assert needing(team) == 1
    world.assign("cus_jan", JAN_EMAIL)  # identity learns Jan's e-mail (his next web visit)
    await world.tick(T0 + 3 * H)
    assert not world.state().needs_contact and last_change(world)["needs_contact"] is False
    world.tracker.refresh_metrics(to_micros(T0 + 3 * H))
    assert needing(team) == 0


async def test_a_contact_point_left_is_no_need() -> None:
    world = Placed()
    await jans_case(world, MOBILE, JAN_EMAIL)
    world.assign("cus_new", MOBILE)
    await world.tick(T0 + 2 * H)
    assert world.state().relinquished == (MOBILE_KEY,) and not world.state().needs_contact


async def test_a_case_naming_nobody_is_marked_logged_and_counted_from_its_creation(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A counter case with the customer's name only (``identifiers: []``), a call from a withheld number: it was
    routed, its RECEIVED went to ``address: null`` and ``omnibus_handoff_needing_contact`` stayed 0, so nobody learnt
    that the customer will never be told. Marked on its first status change, logged (no value), counted while open."""
    monkeypatch.setattr(tracker, "log", get_logger(tracker.__name__))  # a new lazy logger, used inside capture_logs
    anonymous = Placed()
    nameless = created("h1")
    nameless.value["customer_identifiers"] = []  # ``created`` gives a phone to an empty list
    with capture_logs() as logs:
        await anonymous.send(nameless)
    state = anonymous.state()
    assert state.needs_contact and last_change(anonymous)["needs_contact"] is True and state.version == 1
    assert [entry["event"] for entry in logs if entry.get("origin_channel")] == [
        "handoff created naming no identifier and no customer: its notifications reach nobody and no screen pop "
        "shows it (needs_contact)"]
    team = anonymous.tracker.metrics.team(state.team)
    anonymous.tracker.refresh_metrics(to_micros(T0 + H))
    assert needing(team) == 1
    await anonymous.send(resolved("h1", T0 + 2 * H))
    anonymous.tracker.refresh_metrics(to_micros(T0 + 2 * H))
    assert needing(team) == 0
    named = Placed()
    await named.send(created("h2", identifiers=[MOBILE]))  # an identifier identity has not placed yet: not marked
    assert not named.state("h2").needs_contact


async def test_a_finished_cases_loss_is_announced_and_the_replay_rebuilds_it() -> None:
    world = Placed()
    await jans_case(world, MOBILE)
    await world.send(resolved("h1", T0 + 2 * H))
    version = world.state().version
    world.assign("cus_new", MOBILE)
    await world.tick(T0 + 3 * H)
    state = world.state()
    change = last_change(world)
    assert (state.version, state.relinquished, state.needs_contact) == (version + 1, (MOBILE_KEY,), True)
    assert (change["status"], change["customer_id"], change["needs_contact"], change["customer_identifiers"]) == (
        "RESOLVED", "cus_jan", True, [])
    world.tracker.refresh_metrics(to_micros(T0 + 3 * H))
    assert needing(world.tracker.metrics.team(state.team)) == 0  # a finished case needs nothing more
    rebuilt = HandoffState.from_dict((await replay(world, T0 + 4 * H))["h1"])
    assert (rebuilt.relinquished, rebuilt.needs_contact, rebuilt.customer_id) == ((MOBILE_KEY,), True, "cus_jan")


async def test_the_replay_rebuilds_the_mark_as_announced_without_the_directorys_addresses() -> None:
    """The rebuild has no directory (no ``addresses``): it takes the mark the tracker announced."""
    world = Placed()
    await jans_case(world, MOBILE)
    world.assign("cus_jan", JAN_EMAIL)
    await world.tick(T0 + 2 * H)
    world.assign("cus_new", MOBILE)
    await world.tick(T0 + 3 * H)
    assert world.state().relinquished == (MOBILE_KEY,) and not world.state().needs_contact
    rebuilt = HandoffState.from_dict((await replay(world, T0 + 4 * H))["h1"])
    assert (rebuilt.relinquished, rebuilt.needs_contact) == ((MOBILE_KEY,), False)


async def test_a_received_computed_before_the_loss_was_followed_is_not_addressed_to_the_lost_number() -> None:
    """The record's notification is built from the state before the directory's news is followed; a RECEIVED read
    before identity's placement is not re-addressed for the customer, and is delivered anew all the same: Jan calls
    about his old mobile, which already went to a new subscriber."""
    world = Placed()
    world.assign("cus_jan", MOBILE, JAN_EMAIL)
    world.assign("cus_new", MOBILE)
    await world.send(created("h1", identifiers=[JAN_EMAIL, MOBILE]))  # by the identifier rule: Jan's e-mail
    state = world.state()
    assert (state.customer_id, state.relinquished) == ("cus_jan", (MOBILE_KEY,))
    (sent,) = [o for o in world.publisher.published if o.event.schema == NOTIFICATION]
    assert sent.event.value["address"] != MOBILE and sent.key == "h1"  # keyed as before: no customer named yet
