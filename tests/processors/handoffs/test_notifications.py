from datetime import timedelta

from processors.handoffs.transitions import apply
from tests.processors.handoffs.factories import (
    T0, accepted, closed, context, created, reopened, resolved, resumed, waiting,
)

H = timedelta(hours=1)


def test_every_customer_visible_change_is_told_on_the_origin_channel() -> None:
    ctx = context()
    kinds, state = [], None
    for event in (created("h1", channel="WEB"), accepted("h1", T0 + H), waiting("h1", T0 + 2 * H),
                  resumed("h1", T0 + 3 * H), resolved("h1", T0 + 4 * H), closed("h1", T0 + 5 * H),
                  reopened("h1", T0 + 6 * H)):
        transition = apply(state, event, ctx)
        state = transition.state
        for output in transition.outputs:
            if output.destination == "notifications":
                value = output.event.value
                assert value["channel"] == "WEB" and value["site"] == "lyon"
                assert value["customer_identifiers"] == [{"type": "PHONE", "value": "+33612345678"}]
                assert value["notification_id"] == value["envelope"]["event_id"]
                kinds.append((value["kind"], value["message"], value["parameters"].get("resolution")))
    assert [k for k, _, _ in kinds] == [
        "RECEIVED", "IN_PROGRESS", "WAITING_ON_CUSTOMER", "IN_PROGRESS", "RESOLVED", "CLOSED", "REOPENED",
    ]
    assert kinds[0][1].startswith("We have passed your request to our back-office team")
    assert kinds[4][2] == "Refunded" and "Refunded" in kinds[4][1]


def test_internal_moves_are_not_told() -> None:
    from tests.processors.handoffs.factories import acknowledged

    ctx = context()
    state = apply(None, created("h1"), ctx).state
    assert all(o.destination == "events" for o in apply(state, acknowledged("h1", T0), ctx).outputs)
