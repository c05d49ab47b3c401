"""``omnibus handoffs show`` says when and by whom the back office acknowledged a case: reported, after
``handoffs acknowledge ID --by X`` only ``version`` moved and ``--json`` had no acknowledgement, so an operator could
not tell whether the back office had picked the case up (what the unacknowledged alarm is about). Each way the tracker
marks a case acknowledged (an acknowledgement, an acceptance, a resolution) and each way it stops being so (a work order
to another receiving system) runs through the real tracker here."""

from __future__ import annotations

import json
from datetime import timedelta

from processors.handoffs.acknowledgements import ACKNOWLEDGING, Acknowledgement, acknowledgement
from processors.handoffs.commands import Request, build, current_views
from processors.handoffs.config import HandoffPolicy, Team
from processors.handoffs.outputs import STATUS_CHANGED, Emitter
from processors.handoffs.tracker import Destinations, HandoffTracker
from tests.processors.handoffs.factories import (
    AGENT,
    SYSTEM,
    T0,
    accepted,
    acknowledged,
    closed,
    created,
    resolved,
    transferred,
)
from tests.processors.handoffs.test_commands import Desk, H

CASE = "counter:T-0101-01:TX-0101-0001"
TESTER = {"kind": "EMPLOYEE", "id": "tester"}


def _line(desk: Desk, handoff_id: str = "h1") -> str | None:
    """The ``  acknowledged: ...`` line of ``show``, without its label; None when there is none."""
    lines = current_views(desk.topic)[handoff_id].lines()
    found = [line.removeprefix("  acknowledged: ") for line in lines if line.startswith("  acknowledged: ")]
    assert len(found) <= 1, lines
    return found[0] if found else None


async def test_the_reported_case_acknowledged_by_hand_shows_when_and_by_whom_in_text_and_json() -> None:
    desk = Desk()
    await desk.send(created(CASE, channel="BRANCH"))
    assert _line(desk, CASE) == "not yet"  # the policy names no receiving system: any may acknowledge
    assert current_views(desk.topic)[CASE].to_json()["acknowledgement"] is None
    view = current_views(desk.topic)[CASE]
    await desk.send(build("acknowledge", view, Request("tester"), T0 + 0.25 * H))
    view = current_views(desk.topic)[CASE]
    assert view.version == 2 and view.acknowledged
    assert _line(desk, CASE) == "2026-11-02T09:15:00+00:00 by tester (receiving system back-office)"
    shown = json.loads(json.dumps(view.to_json()))
    assert shown["acknowledged"] is True
    assert shown["acknowledgement"] == {"at": "2026-11-02T09:15:00+00:00", "event": "HandoffAcknowledged",
                                        "by": TESTER, "receiving_system": "back-office", "external_reference": None}


async def test_an_acknowledgement_by_the_receiving_system_itself_names_the_system_and_its_case() -> None:
    desk = Desk()
    await desk.send(created("h1"))
    await desk.send(acknowledged("h1", T0 + 0.1 * H))  # actor null: the system did it automatically
    assert _line(desk) == "2026-11-02T09:06:00+00:00 by finance-desk (its case F-9)"


async def test_an_acceptance_or_a_resolution_without_an_acknowledgement_acknowledges_and_says_so() -> None:
    desk = Desk()
    await desk.send(created("h1"))
    await desk.send(accepted("h1", T0 + H))
    assert _line(desk) == "2026-11-02T10:00:00+00:00 by agent-1, on accepting it"
    assert current_views(desk.topic)["h1"].acknowledgement.by == AGENT  # type: ignore[union-attr]
    await desk.send(created("h2"))
    await desk.send(resolved("h2", T0 + 2 * H))
    assert _line(desk, "h2") == "2026-11-02T11:00:00+00:00 by agent-1, on resolving it"


async def test_the_first_acknowledgement_stays_the_one_shown() -> None:
    """A second acknowledgement changes nothing in the tracker; nor does an acceptance after it."""
    desk = Desk()
    await desk.send(created("h1"))
    await desk.command("acknowledge", Request("tester", reference="INC-1"), 0.5)
    await desk.send(acknowledged("h1", T0 + H))  # no status change: the tracker had it acknowledged already
    await desk.command("accept", Request("agent-1"), 2)
    assert _line(desk) == "2026-11-02T09:30:00+00:00 by tester (receiving system back-office, its case INC-1)"


async def test_a_transfer_to_another_receiving_system_awaits_its_acknowledgement_again() -> None:
    desk = Desk()
    policy = HandoffPolicy(teams=(Team(name="back-office", receiving_system="crm"),
                                  Team(name="repair", receiving_system="repair-dispatch")))
    desk.tracker = HandoffTracker(policy, Emitter(SYSTEM, desk.clock), {}, desk.publisher, desk.dead,
                                  Destinations("events", "notifications"))
    await desk.send(created("h1"))
    assert _line(desk) == "not yet (awaited from crm)"
    await desk.command("acknowledge", Request("tester"), 0.5)
    assert _line(desk) == "2026-11-02T09:30:00+00:00 by tester (receiving system crm)"
    await desk.send(transferred("h1", T0 + H, from_owner=None, from_team="back-office", to_team="repair"))
    view = current_views(desk.topic)["h1"]
    assert not view.acknowledged and view.to_json()["acknowledgement"] is None
    assert _line(desk) == "not yet (awaited from repair-dispatch)"
    await desk.command("acknowledge", Request("dispatcher-3", reference="RD-77"), 2)
    assert _line(desk) == "2026-11-02T11:00:00+00:00 by dispatcher-3 (receiving system repair-dispatch, its case RD-77)"


async def test_a_case_withdrawn_unacknowledged_shows_no_acknowledgement_line() -> None:
    desk = Desk()
    await desk.send(created("h1"))
    await desk.send(closed("h1", T0 + H, reason="WITHDRAWN"))
    assert current_views(desk.topic)["h1"].status == "CLOSED" and _line(desk) is None


async def test_the_line_comes_after_the_contact_and_before_the_case_type() -> None:
    desk = Desk()
    await desk.send(created("h1"))
    await desk.send(acknowledged("h1", T0 + 0.1 * H))
    labels = [line.split(":")[0].strip() for line in current_views(desk.topic)["h1"].lines()[1:]]
    assert labels[labels.index("contact") + 1] == "acknowledged" and labels.index("case type") > labels.index("contact")


async def test_an_acknowledgement_whose_event_is_no_longer_on_the_topic_shows_when_and_which_event() -> None:
    """Retention drops the acknowledging event before the status change it caused: the time and kind remain."""
    desk = Desk()
    await desk.send(created("h1"))
    await desk.send(acknowledged("h1", T0 + 0.1 * H, event_id="ack-1"))
    kept = [e for e in desk.topic if e.value["envelope"]["event_id"] != "ack-1"]
    view = current_views(kept)["h1"]
    assert view.acknowledgement == Acknowledgement(T0 + timedelta(minutes=6), "HandoffAcknowledged")
    assert [line for line in view.lines() if "acknowledged" in line] == ["  acknowledged: 2026-11-02T09:06:00+00:00"]


def test_details_of_each_kind_of_acknowledgement() -> None:
    at = T0
    assert Acknowledgement(at, "HandoffAcknowledged", TESTER, "crm", "INC-1").details() == (
        "by tester (receiving system crm, its case INC-1)")
    assert Acknowledgement(at, "HandoffAcknowledged", None, "crm", None).details() == "by crm"
    assert Acknowledgement(at, "HandoffAcknowledged", None, None, "INC-1").details() == "(its case INC-1)"
    assert Acknowledgement(at, "HandoffAccepted").details() == "on accepting it"
    assert Acknowledgement(at, "HandoffAcknowledged").details() == ""


def test_acknowledgement_reads_the_status_change_and_its_cause() -> None:
    changed = {"envelope": {"occurred_at": T0}, "cause": "omnibus.handoff.HandoffResolved"}
    assert acknowledgement(changed, {"actor": AGENT}) == Acknowledgement(T0, "HandoffResolved", AGENT)
    changed = {**changed, "cause": "omnibus.handoff.HandoffAccepted"}
    assert acknowledgement(changed, {"owner": AGENT, "team": None}).by == AGENT
    assert acknowledgement(changed, None) == Acknowledgement(T0, "HandoffAccepted")


async def test_every_status_change_that_turns_acknowledged_names_an_acknowledging_cause() -> None:
    """The view takes who from the event the status change names; the tracker sets the flag on no other event."""
    desk = Desk()
    await desk.send(created("h1"))
    await desk.send(acknowledged("h1", T0 + 0.1 * H))
    await desk.send(created("h2"))
    await desk.send(accepted("h2", T0 + H))
    await desk.send(created("h3"))
    await desk.send(resolved("h3", T0 + H))
    before: dict[str, bool] = {}
    turned = []
    for event in desk.topic:
        if event.schema == STATUS_CHANGED:
            if event.value["acknowledged"] and not before.get(event.value["handoff_id"]):
                turned.append(event.value["cause"])
            before[event.value["handoff_id"]] = event.value["acknowledged"]
    assert len(turned) == 3 and set(turned) <= ACKNOWLEDGING
