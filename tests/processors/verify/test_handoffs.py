"""The handoff checks: an accepted event must be in the table; the table must equal the recomputation."""

from __future__ import annotations

from bus.serde import Event
from processors.replay import Replayed
from processors.verify.handoffs import check_handoffs
from processors.verify.report import Report

TOPIC = "v.handoff.events.v1"


def created(handoff_id: str, offset: int, source: str = "crm") -> Replayed:
    return Replayed(TOPIC, 0, offset, handoff_id.encode(), Event("omnibus.handoff.HandoffCreated", {
        "envelope": {"event_id": f"e{offset}", "source_system": source}, "handoff_id": handoff_id}), b"x")


def test_an_accepted_event_not_in_the_table_is_lost_unless_dead_lettered() -> None:
    inputs = [created("h1", 0), created("h2", 1), created("h3", 2, source="omnibus-handoffs")]
    view = {"h1": {"status": "OPEN"}}
    report = Report()
    check_handoffs(inputs, "omnibus-handoffs", view, view, set(), report)
    assert report.figures == {"events": 2, "lost": 1}
    assert report.failures() == ["handoffs: every accepted handoff event is in the tracker's table: handoff h2 "
                                 f"(HandoffCreated at {TOPIC}[0]@1) is not in the table"]
    report = Report()
    check_handoffs(inputs, "omnibus-handoffs", view, view, {(TOPIC, 0, 1)}, report)
    assert report.ok


def test_a_table_that_differs_from_the_recomputation_fails() -> None:
    report = Report()
    check_handoffs([created("h1", 0)], "omnibus-handoffs", {"h1": {"status": "OPEN"}},
                   {"h1": {"status": "RESOLVED"}}, set(), report)
    check = report.check("handoffs: tracker table equals the recomputation from its inputs")
    assert check.failures == ["  h1: status rebuilt 'OPEN' running 'RESOLVED'"]
