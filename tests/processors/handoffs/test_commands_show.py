"""``omnibus handoffs show`` says what the case describes as the tracker last announced it: reported, a user could
not see with it whether a corrected upload was applied (only ``version`` moved): no summary, case type or source
record."""

from __future__ import annotations

from bus.handoff_revisions import SOURCE_RECORD_FACT
from bus.serde import Event
from processors.handoffs.commands import current_views
from tests.processors.handoffs.factories import created
from tests.processors.handoffs.test_commands import Desk

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
