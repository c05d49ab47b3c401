"""Twilio TaskRouter event callbacks (form posts to the workspace's EventCallbackUrl) → ``Call``.

A call is a task; its facts arrive in several callbacks: ``task-queue.entered`` (queued),
``reservation.accepted`` (an agent took it), ``task.wrapup`` (the call ended, wrap-up begins), then
``task.completed`` or ``task.canceled`` (the caller hung up, or the workflow gave up:
``task.timeout``). Intermediate callbacks only update the task's ``Timeline`` (kept durably by the
ingress); the terminal callback maps the timeline plus its own fields into one ``Call``.

If the timeline lost a fact, the terminal callback's own fields fill in: ``TaskQueueEnteredDate``,
``TaskDateCreated``, and Flex's ``conversations.queue_time`` attribute for the answer time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from adapters.base import clock, wire
from adapters.base.mapper import MappedRecord
from adapters.base.whole_ids import id_text
from adapters.call_center.attributes import (
    caller_number,
    contact_traits,
    recorded_card_status,
    recorded_handoff,
    recorded_offer,
    supply_points,
    verified_record_keys,
)
from adapters.call_center.errors import RejectedInput, malformed, missing
from adapters.call_center.mapper import Call, MapContext, call_events
from adapters.call_center.outcome import taskrouter_ended
from bus.identifiers.traits import standard_traits
from bus.references import phones_of

SOURCE_SYSTEM = "twilio-taskrouter"
SOURCE = "TaskRouter callback"
ATTRIBUTES = "TaskAttributes"  # the form field holding the task's attributes (a JSON object), as refusals name it
TERMINAL_EVENTS = frozenset({"task.completed", "task.canceled", "task.timeout"})
EARLIEST_S, LATEST_S = clock.EARLIEST.timestamp(), clock.LATEST.timestamp()
MAX_QUEUE_TIME_S = 31 * 24 * 3600
CHANNEL_KINDS = {"voice": "CALL", "chat": "CHAT", "sms": "CHAT", "email": "EMAIL"}


@dataclass(frozen=True)
class Timeline:
    """What earlier callbacks said about a task (first value wins: Twilio may resend a callback)."""

    enqueued_at: datetime | None = None
    queue: str | None = None
    connected_at: datetime | None = None
    agent_id: str | None = None
    wrapped_at: datetime | None = None


def event_time(form: Mapping[str, str]) -> datetime:
    raw = form.get("TimestampMs") or form.get("Timestamp")
    if not raw:
        raise missing("Timestamp", SOURCE)
    return twilio_time(raw, "Timestamp")


def twilio_time(raw: str, field_name: str) -> datetime:
    """Epoch seconds (or milliseconds) as TaskRouter callbacks send them, or ISO-8601; within
    ``clock.EARLIEST..LATEST``."""
    text = raw.strip()
    try:
        if text.isascii() and text.replace(".", "", 1).isdigit():
            number = float(text)
            seconds = number / 1000 if number > 1e11 else number
            if not EARLIEST_S <= seconds < LATEST_S:
                raise ValueError("out of range")
            return datetime.fromtimestamp(seconds, UTC)
        parsed = datetime.fromisoformat(text)
    except (ValueError, OverflowError, OSError) as exc:
        raise malformed(field_name, SOURCE, f"not a time from {clock.EARLIEST.year} to {clock.LATEST.year}: "
                        f"{text[:30]!r}") from exc
    return clock.in_range(parsed, field_name, SOURCE)


def task_sid(form: Mapping[str, str]) -> str:
    """The task's sid (its contact id): ``TaskSid``, else a Task's ``ResourceSid``, white space around it off
    (``whole_ids.id_text``, as every id the adapters read); ``RejectedInput`` (missing) without one."""
    found = form.get("TaskSid") or (form.get("ResourceSid") if form.get("ResourceType") == "Task" else None)
    sid = id_text(found) if found else None
    if not sid:
        raise missing("TaskSid", SOURCE)
    return sid


def record(timeline: Timeline, form: Mapping[str, str]) -> Timeline:
    """The timeline after an intermediate callback (unchanged for callbacks that say nothing new)."""
    kind, at = form.get("EventType", ""), event_time(form)
    if kind in ("task.created", "task-queue.entered", "task-queue.moved") and timeline.enqueued_at is None:
        entered = form.get("TaskQueueEnteredDate")
        return replace(timeline, enqueued_at=twilio_time(entered, "TaskQueueEnteredDate") if entered else at,
                       queue=form.get("TaskQueueName") or timeline.queue)
    if kind == "reservation.accepted" and timeline.connected_at is None:
        return replace(timeline, connected_at=at, agent_id=form.get("WorkerName") or form.get("WorkerSid"))
    if kind == "task.wrapup" and timeline.wrapped_at is None:
        return replace(timeline, wrapped_at=at)
    return timeline


def task_call(form: Mapping[str, str], timeline: Timeline, ctx: MapContext) -> Call:
    kind = form.get("EventType", "")
    if kind not in TERMINAL_EVENTS:
        raise RejectedInput(f"{SOURCE}: {kind or 'an event without EventType'} does not end a task",
                            code="not_terminal")
    sid, ended_at = task_sid(form), event_time(form)
    attributes = _attributes(form)
    found = attributes.get("conversations")
    conversations: dict[str, Any] = found if isinstance(found, dict) else {}
    entered = form.get("TaskQueueEnteredDate")
    enqueued_at = timeline.enqueued_at or (twilio_time(entered, "TaskQueueEnteredDate") if entered else None)
    created = form.get("TaskDateCreated")
    initiated_at = twilio_time(created, "TaskDateCreated") if created else (enqueued_at or ended_at)
    connected_at = timeline.connected_at or _answered_by_flex(conversations, enqueued_at, kind)
    # typed by an agent or a flow: without identifier values, like every free text on a contact
    # (the declared business references written in it kept whole)
    reason = ctx.references.text(str(form.get("TaskCompletedReason") or form.get("TaskCanceledReason") or "")) or None
    outbound = str(attributes.get("direction", "inbound")).startswith("outbound")
    number = (attributes.get("outbound_to") or attributes.get("to")) if outbound else attributes.get("from")
    channel = form.get("TaskChannelUniqueName") or ("voice" if attributes.get("call_sid") else "")
    properties = {"call_sid": attributes.get("call_sid"), "reason": reason, "task_event": kind}
    left_out: dict[str, str] = {}
    handoff, handoff_refused = recorded_handoff(attributes, SOURCE, ATTRIBUTES)  # refused: the call goes without it
    offer, offer_refused = recorded_offer(attributes, SOURCE, ATTRIBUTES)  # refused: the call goes without it
    caller = ctx.normaliser.collect([
        ("PHONE", caller_number(_text(number))), *verified_record_keys(attributes, ctx.settings, left_out),
        *supply_points(attributes, ctx.settings),
    ])
    # the declared references, which may not carry the caller's own number and the notes may quote
    declared = ctx.references.declared_in(attributes, phones_of(caller.records()))
    # refused: the call goes on
    card, card_refused = recorded_card_status(attributes, SOURCE, caller.records(), ATTRIBUTES)
    return Call(
        source_system=SOURCE_SYSTEM,
        contact_id=sid,
        version_id=sid,
        site=ctx.site_name,
        initiation_method="OUTBOUND" if outbound else "INBOUND",
        initiated_at=min(initiated_at, ended_at),
        disconnected_at=timeline.wrapped_at or ended_at,
        queue=timeline.queue or form.get("TaskQueueName") or None,
        enqueued_at=enqueued_at,
        connected_at=connected_at,
        agent_id=(timeline.agent_id or form.get("WorkerName") or form.get("WorkerSid")) if connected_at else None,
        disposition=ctx.references.text(_text(attributes.get("disposition") or conversations.get("outcome")) or "",
                                        declared) or reason,
        transferred_by_source="transfer" in (reason or "").lower() or bool(attributes.get("transferTargetSid")),
        kind=CHANNEL_KINDS.get(channel.lower(), "UNKNOWN"),
        ended=taskrouter_ended(kind, connected=connected_at is not None),
        **Call.customer(caller),
        traits=_traits(attributes, ctx, left_out),
        left_out_traits=left_out,
        offer=offer, offer_refused=offer_refused,
        handoff=handoff, handoff_refused=handoff_refused,
        card_status=card, card_status_refused=card_refused,
        properties={k: str(v) for k, v in properties.items() if v},
        references=declared,
    )


def map_task(form: Mapping[str, str], timeline: Timeline, ctx: MapContext) -> MappedRecord:
    return call_events(task_call(form, timeline, ctx), ctx)


def _attributes(form: Mapping[str, str]) -> dict[str, Any]:
    raw = form.get(ATTRIBUTES)
    if not raw:
        return {}
    try:
        value = wire.loads(raw, ATTRIBUTES)
    except RejectedInput as exc:
        raise malformed(ATTRIBUTES, SOURCE, exc.reason) from exc
    if not isinstance(value, dict):
        raise malformed(ATTRIBUTES, SOURCE, "not a JSON object")
    return value


def _answered_by_flex(conversations: dict[str, Any], enqueued_at: datetime | None, kind: str) -> datetime | None:
    queue_time = conversations.get("queue_time")
    if enqueued_at is None or kind != "task.completed" or queue_time in (None, ""):
        return None
    seconds = wire.finite(queue_time, "TaskAttributes.conversations.queue_time", SOURCE, low=0, high=MAX_QUEUE_TIME_S)
    return enqueued_at + timedelta(seconds=seconds)


# Task attributes Flex fills with something else than a trait: ``name`` is the caller's number, not a person's name.
FLEX_NOT_TRAITS = frozenset(("name",))


def _traits(attributes: dict[str, Any], ctx: MapContext, left_out: dict[str, str]) -> dict[str, str]:
    """The task's attributes read as the Connect CTR mapper reads a contact's (``contact_traits``: ``firstName``,
    ``lastName``, ``dateOfBirth``... and ``trait_attributes``), but Flex's top-level ``name``
    (``FLEX_NOT_TRAITS``), then Flex Insights' ``customers`` object (name, email, city, country...) for the traits
    the attributes do not give (those that did not normalise: key -> why, in ``left_out``)."""
    found = contact_traits(attributes, ctx.settings, left_out, not_traits=FLEX_NOT_TRAITS)
    customers = attributes.get("customers")
    if isinstance(customers, dict):
        found = {**standard_traits(customers, component="call_center", left_out=left_out), **found}
    return found


def _text(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None
