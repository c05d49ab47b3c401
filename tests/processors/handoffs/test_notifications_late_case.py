"""A late case's first notification: a RECEIVED never quotes a deadline already past when it is sent.

Reported: a counter visit dated four days back, uploaded now, sent the customer "we will answer before 2 December" on
5 December, then at once "your request is taking longer than planned". A case routed at or after its deadline (or
whose RECEIVED, held for identity's placement, is released after it) sends its RECEIVED with the breach, quoting the
deadline the escalation gives, and no DELAYED: the customer was never told the deadline it missed. Each notification's
envelope ``occurred_at`` is when the tracker decided to send it (the sending, the breach), never the contact's time.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bus.clock import to_micros
from bus.serde import Event
from processors.handoffs.config import HandoffPolicy, Team
from processors.handoffs.deadlines import fire_due
from processors.handoffs.notification_templates import BUILT_IN_TEMPLATES, readable_deadline, render
from processors.handoffs.state import HandoffState
from processors.handoffs.transitions import apply
from processors.replay.handoffs import view
from tests.processors.handoffs.factories import T0, context, created, reopened, resolved
from tests.processors.handoffs.test_customers import World, replay
from tests.processors.handoffs.test_customers_recycled import MOBILE, notifications
from tests.processors.handoffs.test_customers_recycled_late import MARIA_EMAIL, recycled
from tests.processors.handoffs.test_deadlines import facts

H = timedelta(hours=1)
LATE = 100 * H  # uploaded four days after the visit; the deadline was 20 h after it


def uploaded(late: timedelta, language: str | None = None, handoff_id: str = "h1") -> Event:
    event = created(handoff_id)
    value = {**event.value, "envelope": {**event.value["envelope"], "received_at": T0 + late}}
    if language:
        value["intake_facts"] = {**value["intake_facts"], "preferred_language": language}
    return Event(event.schema, value)


def told(outputs) -> list[dict]:
    return [o.event.value for o in outputs if o.event.schema.endswith(".CustomerNotification")]


def sent_at(notification: dict) -> datetime:
    return notification["envelope"]["occurred_at"]


@pytest.mark.parametrize("language", sorted(BUILT_IN_TEMPLATES))
def test_the_reported_case_is_told_once_with_the_deadline_it_now_has(language: str) -> None:
    ctx = context()
    creation = apply(None, uploaded(LATE, language), ctx)
    assert told(creation.outputs) == [] and creation.state.received_late
    fired = fire_due(ctx.policy, ctx.emitter, creation.state, to_micros(T0 + LATE + timedelta(seconds=4)))
    assert [(name, detail) for name, detail, _ in facts(fired)] == [
        ("HandoffBreached", None), ("HandoffEscalated", 1), ("HandoffStatusChanged", 1),
        ("CustomerNotification", "RECEIVED")]  # no DELAYED: the customer was never told the missed deadline
    (received,) = told(fired.outputs)
    now_due = T0 + LATE + 20 * H  # the escalation tier's full time, from the sending
    assert received["parameters"]["deadline"] == now_due.isoformat()
    assert received["parameters"]["language"] == language
    written = readable_deadline(now_due, ZoneInfo("UTC"), language, T0 + LATE)
    assert received["message"] == render(BUILT_IN_TEMPLATES[language]["RECEIVED"], lang=language, team="back-office",
                                         deadline=written)
    assert sent_at(received) == T0 + LATE  # decided at the sending, not the contact (four days back)
    assert not fired.state.received_late
    later = fire_due(ctx.policy, ctx.emitter, fired.state, to_micros(now_due + H))
    assert [n["kind"] for n in told(later.outputs)] == []  # the next tier's breach tells the customer nothing


def test_a_late_case_whose_deadline_is_ahead_quotes_it_and_is_told_when_it_was_sent() -> None:
    ctx = context()
    creation = apply(None, uploaded(12 * H), ctx)  # the deadline is 20 h after the contact
    (received,) = told(creation.outputs)
    assert received["kind"] == "RECEIVED" and received["parameters"]["deadline"] == (T0 + 20 * H).isoformat()
    assert sent_at(received) == T0 + 12 * H
    fired = fire_due(ctx.policy, ctx.emitter, creation.state, to_micros(T0 + 21 * H))
    (delayed,) = told(fired.outputs)
    assert delayed["kind"] == "DELAYED" and sent_at(delayed) == T0 + 20 * H  # the breach, as before


def test_a_case_received_as_it_happened_is_told_at_the_contacts_time() -> None:
    ctx = context()
    (received,) = told(apply(None, created("h1"), ctx).outputs)
    assert sent_at(received) == T0 and received["parameters"]["deadline"] == (T0 + 20 * H).isoformat()


def test_a_case_uploaded_at_its_deadline_waits_for_the_breach() -> None:
    ctx = context()
    creation = apply(None, uploaded(20 * H), ctx)
    assert told(creation.outputs) == [] and creation.state.received_late


def test_with_nothing_to_escalate_to_the_received_quotes_no_deadline() -> None:
    ctx = context(HandoffPolicy(teams=(Team(name="back-office", escalation_chain=()),)))
    creation = apply(None, uploaded(LATE, "es"), ctx)
    fired = fire_due(ctx.policy, ctx.emitter, creation.state, to_micros(T0 + LATE))
    (received,) = told(fired.outputs)
    assert received["kind"] == "RECEIVED" and "deadline" not in received["parameters"]
    assert "diciembre" not in received["message"] and "noviembre" not in received["message"]
    assert sent_at(received) == T0 + LATE


@pytest.mark.parametrize(("language", "says"), [
    ("en", "We will get back to you as soon as we can."), ("es", "Le responderemos lo antes posible.")])
def test_a_received_with_no_deadline_to_quote_reads_as_a_sentence_not_the_fallback_word(
        language: str, says: str) -> None:
    """Seen: "We will get back to you by soon." / "Le responderemos antes del pronto." The built-in languages
    write the kind's undated text (``RECEIVED:undated``)."""
    ctx = context(HandoffPolicy(teams=(Team(name="back-office", escalation_chain=()),)))
    creation = apply(None, uploaded(LATE, language), ctx)
    (received,) = told(fire_due(ctx.policy, ctx.emitter, creation.state, to_micros(T0 + LATE)).outputs)
    assert received["message"].endswith(says)
    assert "soon." not in received["message"].replace(says, "") and "pronto" not in received["message"]


def test_a_late_case_resolved_before_its_breach_is_never_told_received_even_once_reopened() -> None:
    ctx = context()
    state = apply(None, uploaded(LATE), ctx).state
    resolution = apply(state, resolved("h1", T0 + LATE + timedelta(seconds=1)), ctx)
    assert [n["kind"] for n in told(resolution.outputs)] == ["RESOLVED"] and not resolution.state.received_late
    fired = fire_due(ctx.policy, ctx.emitter, resolution.state, to_micros(T0 + LATE + H))
    assert told(fired.outputs) == []
    again = apply(resolution.state, reopened("h1", T0 + LATE + 2 * H), ctx)
    fired = fire_due(ctx.policy, ctx.emitter, again.state, to_micros(T0 + LATE + 30 * H))
    assert [n["kind"] for n in told(fired.outputs)] == ["DELAYED"]  # the reopened cycle's, as for any case


def test_a_deadline_passing_before_the_tracker_reads_the_case_is_decided_at_its_sending() -> None:
    """The work order went out a minute before the deadline and the tracker read it after (consumer lag): the
    tracker decides in its input's time, as a replay would, so the RECEIVED quotes the deadline still ahead at the
    sending and the breach then sends the DELAYED."""
    ctx = context()
    creation = apply(None, uploaded(20 * H - timedelta(minutes=1)), ctx)
    (received,) = told(creation.outputs)
    assert received["parameters"]["deadline"] == (T0 + 20 * H).isoformat()
    fired = fire_due(ctx.policy, ctx.emitter, creation.state, to_micros(T0 + 20 * H + timedelta(minutes=5)))
    assert [n["kind"] for n in told(fired.outputs)] == ["DELAYED"]


async def test_a_held_received_released_after_the_breach_quotes_the_escalated_deadline() -> None:
    world = recycled()
    late = created("h1", identifiers=[MOBILE])
    await world.send(late)
    await world.tick(T0 + 21 * H)  # breached (and escalated) while the RECEIVED waits for identity's placement
    assert notifications(world) == []  # no DELAYED: nobody was told a deadline
    world.contact("cus_maria", late)
    await world.tick(T0 + 22 * H)
    (received,) = notifications(world)
    assert (received["kind"], received["customer_id"], received["address"]) == ("RECEIVED", "cus_maria", MARIA_EMAIL)
    assert received["parameters"]["deadline"] == (T0 + 40 * H).isoformat()
    assert sent_at(received) == T0 + 22 * H


async def test_a_held_received_released_after_its_deadline_waits_for_the_breach() -> None:
    world = recycled()
    late = created("h1", identifiers=[MOBILE])
    await world.send(late)
    world.contact("cus_maria", late)  # the placement is read at the tick after the deadline: it follows first
    await world.tick(T0 + 21 * H)
    (received,) = notifications(world)
    assert received["kind"] == "RECEIVED" and received["parameters"]["deadline"] == (T0 + 40 * H).isoformat()
    assert received["customer_id"] == "cus_maria" and not world.state().received_late
    await world.tick(T0 + 22 * H)
    assert len(notifications(world)) == 1


async def test_the_tracker_tells_the_reported_case_once() -> None:
    world = World()
    await world.send(uploaded(LATE, "es"))
    await world.tick(T0 + LATE + timedelta(seconds=4))
    assert [n["kind"] for n in notifications(world)] == ["RECEIVED"]
    assert notifications(world)[0]["parameters"]["deadline"] == (T0 + LATE + 20 * H).isoformat()


@pytest.mark.parametrize("placed_late", [False, True], ids=["a case routed late", "a held RECEIVED released late"])
async def test_a_rebuild_from_the_topic_equals_the_running_tracker(placed_late: bool) -> None:
    """``omnibus replay``/``verify`` rebuild the table from ``handoff.events.v1``: the same rules give the same row."""
    world = recycled()
    late = created("h1", identifiers=[MOBILE]) if placed_late else uploaded(LATE)
    await world.send(late)
    until = T0 + 21 * H if placed_late else T0 + LATE + H
    if placed_late:
        world.contact("cus_maria", late)
    await world.tick(until)
    live = world.state()
    rebuilt = HandoffState.from_dict((await replay(world, until))["h1"])
    assert view(rebuilt.to_dict()) == view(live.to_dict())
    assert (rebuilt.received_late, rebuilt.received_held, rebuilt.tier) == (False, False, 1) == (
        live.received_late, live.received_held, live.tier)
