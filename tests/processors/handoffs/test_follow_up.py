"""The case records a customer's follow-up visit (tester29 F7): counted whatever its status, announced on the next
HandoffStatusChanged, shown by ``handoffs show`` and in the month report per customer."""

from __future__ import annotations

from datetime import timedelta
from io import BytesIO

import fastavro
import pytest

from bus.serde import Event
from processors.handoffs.commands import current_views
from processors.handoffs.customer_report import compute_customer_report
from processors.handoffs.transitions import IllegalTransition, apply
from schemas.catalog import default_catalog
from tests.processors.handoffs.factories import T0, accepted, closed, context, created, followed_up, resolved

H = timedelta(hours=1)


def run(*events: Event) -> tuple[object, list[Event]]:
    ctx, state, published = context(), None, []
    for event in events:
        transition = apply(state, event, ctx)
        state = transition.state
        published += [output.event for output in transition.outputs]
    return state, published


def test_a_follow_up_is_counted_on_the_case_and_announced() -> None:
    ctx = context()
    state = apply(apply(None, created("h1"), ctx).state, accepted("h1", T0 + H), ctx).state
    transition = apply(state, followed_up("h1", T0 + 2 * H), ctx)
    state = transition.state
    assert (state.follow_ups, state.status.value, state.owner["id"]) == (1, "IN_PROGRESS", "agent-1")  # type: ignore[index]
    (announced,) = [output.event for output in transition.outputs]  # no notification: the customer was there
    fastavro.schemaless_writer(BytesIO(), default_catalog().get(announced.schema).parsed, announced.value, strict=True)
    assert (announced.schema, announced.value["cause"], announced.value["follow_ups"]) == (
        "omnibus.handoff.HandoffStatusChanged", "omnibus.handoff.HandoffFollowedUp", 1)


@pytest.mark.parametrize("finished", [resolved, closed])
def test_a_follow_up_on_a_finished_case_is_recorded_too(finished) -> None:  # type: ignore[no-untyped-def]
    events = [created("h1"), accepted("h1", T0 + H), resolved("h1", T0 + 2 * H)]
    if finished is closed:
        events.append(closed("h1", T0 + 3 * H))
    state, _ = run(*events, followed_up("h1", T0 + 4 * H), followed_up("h1", T0 + 5 * H))
    assert state.follow_ups == 2 and not state.is_open  # type: ignore[attr-defined]


def test_a_follow_up_of_a_case_nobody_opened_is_refused() -> None:
    with pytest.raises(IllegalTransition) as refused:
        run(followed_up("REC-typo", T0))
    assert refused.value.code == "unknown_handoff"


def test_the_same_follow_up_delivered_twice_counts_once() -> None:
    visit = followed_up("h1", T0 + H)
    state, _ = run(created("h1"), visit, visit)
    assert state.follow_ups == 1  # type: ignore[attr-defined]


def test_show_and_the_month_report_see_the_follow_up() -> None:
    inputs = [created("h1"), followed_up("h1", T0 + H), followed_up("h1", T0 + 2 * H)]
    _, published = run(*inputs)
    placed = [Event(e.schema, {**e.value, "customer_id": "cus_ana"}) if e.schema.endswith("StatusChanged") else e
              for e in published]
    topic = [*inputs, *placed]  # what handoff.events.v1 holds: the adapters' records and the tracker's
    assert current_views(topic)["h1"].describe().endswith(", 2 follow-ups")
    (row,) = compute_customer_report(topic, "2026-11")
    assert (row.customer_id, row.handoffs, row.follow_ups, row.flagged) == ("cus_ana", 1, 2, True)
