"""A back office's commands (``commands.build``) through the real tracker: every event the CLI builds is
schema-valid (fastavro strict), applied by the tracker, and a repeated command is one event id."""

from __future__ import annotations

import json
from datetime import timedelta
from io import BytesIO

import fastavro
import pytest

from bus.clock import ManualClock
from bus.serde import Event
from processors.handoffs.commands import (
    ACTIONS,
    CommandRefused,
    HandoffView,
    Request,
    build,
    current_views,
    refusal,
)
from processors.handoffs.outputs import STATUS_CHANGED, Emitter
from processors.handoffs.tracker import Destinations, HandoffTracker
from schemas.catalog import default_catalog
from tests.processors.handoffs.factories import SYSTEM, T0, FakeDeadLetters, FakePublisher, created, record
from tests.processors.handoffs.scenario import POLICY
from tests.security.identifier_scan import find_identifiers
from tests.support.references import declared_references

H = timedelta(hours=1)


class Desk:
    """The tracker with the topic it writes, in order."""

    def __init__(self) -> None:
        self.clock = ManualClock(T0)
        self.publisher, self.dead = FakePublisher(), FakeDeadLetters()
        self.tracker = HandoffTracker(POLICY, Emitter(SYSTEM, self.clock), {}, self.publisher, self.dead,
                                      Destinations("events", "notifications"))
        self.topic: list[Event] = []

    async def send(self, event: Event) -> list[Event]:
        self.topic.append(event)
        start = len(self.publisher.published)
        await self.tracker.handle(event, record())
        out = [o.event for o in self.publisher.published[start:] if o.topic == "events"]
        self.topic.extend(out)
        return out

    async def command(self, action: str, request: Request, hours: float) -> Event:
        view = current_views(self.topic)["h1"]
        assert refusal(action, view) is None, refusal(action, view)
        event = build(action, view, request, T0 + hours * H)
        fastavro.schemaless_writer(BytesIO(), default_catalog().get(event.schema).parsed, event.value, strict=True)
        changed = [e for e in await self.send(event) if e.schema == STATUS_CHANGED]
        assert changed and not self.dead.written, (action, self.dead.written)
        return event


async def test_every_command_is_applied_by_the_tracker_and_the_view_follows() -> None:
    desk = Desk()
    await desk.send(created("h1", tier="standard"))
    assert current_views(desk.topic)["h1"].status == "ROUTED"
    await desk.command("acknowledge", Request("finance-desk", reference="F-9"), 0.5)
    assert current_views(desk.topic)["h1"].version == 2
    await desk.command("accept", Request("agent-1"), 1)
    view = current_views(desk.topic)["h1"]
    assert (view.status, view.owner, view.team) == ("IN_PROGRESS", {"kind": "EMPLOYEE", "id": "agent-1"},
                                                     "back-office")
    await desk.command("hold", Request("agent-1", reason="send the meter photo"), 2)
    await desk.command("resume", Request("agent-1"), 3)
    await desk.command("transfer", Request("agent-1", team="repair", reason="a line fault"), 4)
    assert (current_views(desk.topic)["h1"].team, current_views(desk.topic)["h1"].owner) == ("repair", None)
    await desk.command("accept", Request("agent-2"), 5)
    await desk.command("escalate", Request("lead-1"), 6)
    assert current_views(desk.topic)["h1"].escalation_tier == 1
    await desk.command("resolve", Request("agent-2", reason="line repaired", code="FIXED"), 7)
    view = current_views(desk.topic)["h1"]
    assert view.status == "RESOLVED" and view.resolved_by == {"kind": "EMPLOYEE", "id": "agent-2"}
    assert refusal("resolve", view) == "handoff h1 is resolved by agent-2; `omnibus handoffs reopen` it first"
    await desk.command("reopen", Request("lead-1", reason="the customer called again"), 8)
    await desk.command("resolve", Request("agent-2", reason="line repaired again"), 9)
    await desk.command("close", Request("lead-1"), 10)
    assert current_views(desk.topic)["h1"].status == "CLOSED"
    assert set(ACTIONS) == {"acknowledge", "accept", "transfer", "hold", "resume", "resolve", "close", "reopen",
                            "escalate"}


async def test_a_repeated_command_is_one_event_id_the_tracker_drops() -> None:
    desk = Desk()
    await desk.send(created("h1"))
    view = current_views(desk.topic)["h1"]
    first = build("accept", view, Request("agent-1"), T0 + H)
    again = build("accept", view, Request("agent-1"), T0 + 2 * H)  # typed twice before the tracker answered
    other = build("accept", view, Request("agent-2"), T0 + H)
    assert first.value["envelope"]["event_id"] == again.value["envelope"]["event_id"]
    assert other.value["envelope"]["event_id"] != first.value["envelope"]["event_id"]
    assert [e.schema for e in await desk.send(first)] == [STATUS_CHANGED]
    assert await desk.send(again) == [] and not desk.dead.written


def test_missing_options_are_refused_in_one_line() -> None:
    routed = HandoffView("h1", "c1", status="ROUTED", version=1, team="finance")
    with pytest.raises(CommandRefused, match="transfer needs --reason"):
        build("transfer", routed, Request("a"), T0)
    with pytest.raises(CommandRefused, match="nothing to transfer from"):
        build("transfer", HandoffView("h1", "c1"), Request("a", reason="r"), T0)
    with pytest.raises(CommandRefused, match="resolve needs --reason"):
        build("resolve", routed, Request("a"), T0)
    assert refusal("reopen", routed) is not None and refusal("accept", routed) is None


# tester24 F5: what an operator typed went raw onto handoff.events.v1 and into the customer's notification.
HOLD_SAMPLE = "Please send us your last invoice, card 4111 1111 1111 1111 ending"
RESOLVE_SAMPLE = ("Technician replaced the box; call us back on 01 70 00 00 00 or write to support@example.fr, "
                  "ref card 4111111111111111")


def _identifiers(value: object) -> list[tuple[str, str]]:
    return list(find_identifiers(json.dumps(value, default=str), region="FR"))


async def test_a_hold_request_with_a_card_number_is_published_scrubbed() -> None:
    desk = Desk()
    await desk.send(created("h1"))
    await desk.command("accept", Request("fin-9"), 1)
    event = await desk.command("hold", Request("fin-9", reason=HOLD_SAMPLE), 2)
    assert event.value["request"] == "Please send us your last invoice, card [digits] ending"
    assert not _identifiers(event.value)


async def test_a_resolution_with_a_card_phone_and_e_mail_reaches_topic_and_notification_scrubbed() -> None:
    desk = Desk()
    await desk.send(created("h1"))
    await desk.command("accept", Request("tech-anna"), 1)
    event = await desk.command("resolve", Request("tech-anna", reason=RESOLVE_SAMPLE), 2)
    assert event.value["resolution"] == ("Technician replaced the box; call us back on [digits] or write to "
                                         "[email], ref card [digits]")
    messages = [o.event.value["message"] for o in desk.publisher.published if o.topic == "notifications"]
    assert any("Technician replaced the box" in message for message in messages), messages
    assert not _identifiers(event.value) and not _identifiers(messages)


FREE_TEXT_ACTIONS = {"transfer": "reason", "hold": "request", "resolve": "resolution", "reopen": "reason"}


@pytest.mark.parametrize("action", sorted(FREE_TEXT_ACTIONS))
@pytest.mark.parametrize("text", ["ref card 4111111111111111", "card 3782 822463 10005", "IBAN FR76 3000 6000 "
                                  "0112 3456 7890 189", "NIR 1 85 05 78 006 084 36", "call 06 12 34 56 78",
                                  "write to jean.dupont@example.fr"])
def test_no_command_puts_an_identifier_written_in_its_reason_on_the_event(action: str, text: str) -> None:
    view = HandoffView("h1", "c1", status="RESOLVED" if action == "reopen" else "IN_PROGRESS", version=3,
                       team="finance")
    event = build(action, view, Request("agent-1", reason=f"{text}, thanks"), T0)
    published = event.value[FREE_TEXT_ACTIONS[action]]
    assert published.endswith(", thanks") and ("[digits]" in published or "[email]" in published), published
    assert not _identifiers(event.value)


def test_scrubbed_says_what_it_masked_and_leaves_plain_text_as_typed() -> None:
    from processors.handoffs.commands import scrubbed

    request, masked = scrubbed(Request("tech-anna", reason=RESOLVE_SAMPLE))
    assert masked == ("number", "e-mail address", "card number") and "4111" not in (request.reason or "")
    plain = Request("agent-1", reason="line repaired, invoice BILL-2024-04 of 89.90 EUR credited")
    assert scrubbed(plain) == (plain, ())
    assert scrubbed(Request("agent-1")) == (Request("agent-1"), ())


@pytest.mark.parametrize("action", sorted(FREE_TEXT_ACTIONS))
def test_tester26_f8_a_declared_reference_in_a_reason_is_published_and_not_counted_as_masked(action: str) -> None:
    """``handoffs resolve --reason "Contract started; meter_point_id 14500000000001 index 0048211"`` told the customer
    "meter_point_id [digits]": every command's free text keeps the deployment's declared references."""
    from processors.handoffs.commands import scrubbed

    view = HandoffView("h1", "c1", status="RESOLVED" if action == "reopen" else "IN_PROGRESS", version=3,
                       team="finance")
    typed = Request("E2000", reason="Contract started; meter_point_id 14500000000001 index 0048211")
    with declared_references("meter_point_id"):
        request, masked = scrubbed(typed)
        event = build(action, view, request, T0)
    assert event.value[FREE_TEXT_ACTIONS[action]] == "Contract started; meter_point_id 14500000000001 index [digits]"
    assert masked == ("number",)


def test_the_commands_refusing_altered_text_are_those_whose_event_the_customer_s_notification_quotes() -> None:
    """``CUSTOMER_QUOTED`` (the CLI's refusal, tester32 F7) and ``notifications.QUOTED_FIELDS`` (what a notification
    quotes, F6) name the same texts: a new quoted text cannot be sent altered without a word."""
    from processors.handoffs.commands import CUSTOMER_QUOTED
    from processors.handoffs.notifications import QUOTED_FIELDS

    routed = HandoffView("h1", "c1", status="ROUTED", version=1, team="finance")
    quoting = {action for action in ACTIONS
               if build(action, routed, Request("a", reason="r", owner="b"), T0).schema in QUOTED_FIELDS}
    assert quoting == CUSTOMER_QUOTED
