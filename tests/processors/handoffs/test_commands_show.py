"""``omnibus handoffs show`` says what the case describes as the tracker last announced it: reported, a user could
not see with it whether a corrected upload was applied (only ``version`` moved): no summary, case type or source
record."""

from __future__ import annotations

import json
from datetime import timedelta

from bus.clock import to_micros
from bus.handoff_revisions import SOURCE_RECORD_FACT
from bus.serde import Event
from processors.handoffs.commands import current_views
from tests.processors.handoffs.factories import T0, created
from tests.processors.handoffs.test_commands import Desk, H

CASE = "counter:T-0101-01:TX-0101-0001"


def version(summary: str, case_type: str = "card-dispute", event_id: str = "e-1") -> Event:
    event = created(CASE, case_type=case_type, event_id=event_id)
    return Event(event.schema, {**event.value, "summary": summary, "intake_facts": {SOURCE_RECORD_FACT: CASE}})


async def test_the_view_shows_the_summary_the_tracker_applied_and_the_case_type_it_kept() -> None:
    desk = Desk()
    await desk.send(version("Tarjeta retenida"))
    view = current_views(desk.topic)[CASE]
    assert (view.case_type, view.summary, view.source_record) == ("card-dispute", "Tarjeta retenida", CASE)
    assert view.service_tier == "standard"
    await desk.send(version("Tarjeta retenida en el cajero de la oficina 0101", event_id="e-2"))  # corrected
    assert current_views(desk.topic)[CASE].summary == "Tarjeta retenida en el cajero de la oficina 0101"
    await desk.send(version("Tarjeta retenida en el cajero de la oficina 0101", "loan", event_id="e-3"))
    assert current_views(desk.topic)[CASE].case_type == "card-dispute"  # the case keeps its own (counted)


async def test_a_late_breached_escalated_case_shows_its_tier_the_deadline_it_missed_and_its_contact() -> None:
    """Reported: the text of a case uploaded four days late, breached and at escalation tier 1, read as a fresh case
    (no tier, no breach, no contact time) with a deadline to the microsecond."""
    desk = Desk()
    late = version("Cargo no reconocido")
    sent = T0 + 100 * H + timedelta(microseconds=371812)
    await desk.send(Event(late.schema, {**late.value, "envelope": {**late.value["envelope"], "received_at": sent}}))
    start = len(desk.publisher.published)
    await desk.tracker.tick(0, to_micros(sent + timedelta(seconds=4)))
    desk.topic.extend(o.event for o in desk.publisher.published[start:] if o.topic == "events")
    view = current_views(desk.topic)[CASE]
    assert view.escalation_tier == 1
    assert view.lines()[:6] == [  # as docs/handoffs.md shows a late case
        f"{CASE}: ROUTED with team back-office, version 2, deadline 2026-11-07T09:00:00+00:00",
        "  escalation tier: 1",
        "  deadlines missed: 2026-11-03T05:00:00+00:00 (tier 0)",
        "  contact: 2026-11-02T09:00:00+00:00, received 2026-11-06T13:00:00+00:00",
        "  acknowledged: not yet",
        "  case type: card-dispute",
    ]
    shown = view.to_json()
    assert shown["escalation_tier"] == 1 and shown["deadline_at"] == "2026-11-07T09:00:00.371812+00:00"
    assert shown["breaches"] == [{"deadline_at": "2026-11-03T05:00:00+00:00", "escalation_tier": 0}]
    assert shown["contact_at"] == "2026-11-02T09:00:00+00:00"
    json.dumps(shown)


async def test_a_case_on_time_shows_no_tier_no_breach_and_its_contact_alone() -> None:
    desk = Desk()
    await desk.send(version("Tarjeta retenida"))
    lines = current_views(desk.topic)[CASE].lines()
    assert lines[0].endswith("deadline 2026-11-03T05:00:00+00:00")
    assert "  contact: 2026-11-02T09:00:00+00:00" in lines
    assert not any(line.startswith(("  escalation tier", "  deadlines missed")) for line in lines)
