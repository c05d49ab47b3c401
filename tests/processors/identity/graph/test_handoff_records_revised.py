"""A case revised by a later version of its source record shows once on the customer's screen pop.

A counter transaction handed a case off, and the terminal uploaded it again corrected (same transaction, a new
``event_id``: ``tests/adapters/branch/test_mapper_handoff_versions.py``). Identity records both ``HandoffCreated``
(``graph/handoff_records.py``, each under its own event id), and the tracker's status events of both versions feed the
screen pop. The customer's ``open_handoffs`` lists the case once, with the corrected summary, and ``recent_contacts``
the visit once (both keyed by their id, not by the version).
"""

from __future__ import annotations

from bus.serde import Event
from tests.adapters.branch.test_mapper import mapped
from tests.adapters.branch.test_mapper_handoff_versions import upload
from tests.processors.handoffs.test_profile_section import status_events
from tests.processors.identity.support import Harness, settings

CORRECTED = "Reading 40 times too high"


def fed(h: Harness, sent: dict) -> tuple[Event, str]:
    """Every event the counter mapper makes of ``sent``, fed on its topic; (its HandoffCreated, its customer)."""
    created = None
    for out in mapped(sent).events:
        h.feed(out.event, out.topic.removeprefix("omnibus."))
        if out.event.schema.endswith("HandoffCreated"):
            created = out.event
    assert created is not None
    return created, h.customer("ACCOUNT", "ACC-0042-7781") or ""


def test_a_corrected_counter_upload_shows_its_case_and_its_visit_once() -> None:
    h = Harness(settings())
    first, customer = fed(h, upload())
    again, same = fed(h, upload("0b7e1f7c-2d1a-4c55-9e0a-7f3c2b1d4e55", summary=CORRECTED))
    assert customer and same == customer
    assert again.value["envelope"]["event_id"] != first.value["envelope"]["event_id"]
    for status in status_events(first, again):
        h.feed(status, "handoff.events.v1")
    profile = h.book.render(h.local.store.get_profile(customer))
    (case,) = profile["open_handoffs"]
    assert (case["handoff_id"], case["summary"]) == (first.value["handoff_id"], CORRECTED)
    assert [c["id"] for c in profile["recent_contacts"] if c["channel"] == "BRANCH"] == [
        "counter:CT-0142-03:TX-CT-0142-03-000981"]
