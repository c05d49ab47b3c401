"""The handoff state machine: ``apply(state, event, ctx) -> Transition`` or ``IllegalTransition``.

==================  =======  ======  ===========  =======  ========  ========  ======
event \\ status      (none)   ROUTED  IN_PROGRESS  WAITING  RESOLVED  CLOSED    notes
==================  =======  ======  ===========  =======  ========  ========  ======
Created             ROUTED   ✗ (6)   ✗ (6)        ✗ (6)    ✗ (6)     ✗ (6)     routes at once; work order out
Routed (by hand)    ✗        ✗       ✗            ✗        ✗         ✗         legal only in CREATED
Acknowledged        ✗ (1)    =       =            =        =         =         stops the ack alarms
Accepted            ✗        IN_PR.  ✗ (2)        =        ✗         ✗         one owner: a second is illegal
Transferred         ✗        (3)     (3)          =        ✗         ✗         from_owner/from_team must match
WaitingOnCustomer   ✗        WAIT.   WAIT.        ✗        ✗         ✗         resolution clock stops
Resumed             ✗        ✗       ✗            (4)      ✗         ✗         deadline moved by the pause
Resolved            ✗        RESOL.  RESOL.       RESOL.   ✗         ✗
Closed              ✗        (5)     (5)          (5)      CLOSED    ✗
Reopened            ✗        ✗       ✗            ✗        (4)       (4)       new cycle, tier 0, new deadline
Escalated (by hand) ✗        =+1     =+1          =+1      ✗         ✗         from_tier must match; chain
FollowedUp          ✗ (1)    =       =            =        =         =         the customer came back: counted
Warning/Breached/   ✗        ✗       ✗            ✗        ✗         ✗         only the tracker emits them
Alarm/StatusChanged
==================  =======  ======  ===========  =======  ========  ========  ======

✗ illegal (dead-lettered with the reason), = same status. (1) an acknowledgement for a handoff nobody
created is reported (dead letter + metric). (2) the same owner accepting again is a no-op. (3) to
IN_PROGRESS with a new owner, to ROUTED for a team queue. (4) to IN_PROGRESS with an owner, else ROUTED.
(5) only WITHDRAWN, DUPLICATE or AUTO_CLOSED close an unresolved handoff. (6) a later version of the source record
the case was opened from (a polled ticket row updated) is the same case: a copy, or its summary and facts revised
(``revisions``). Re-deliveries (same event id)
are no-ops. Every applied change emits a HandoffStatusChanged; customer-visible ones a notification.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bus.clock import to_micros
from bus.errors import OmnibusError
from bus.serde import Event
from processors.handoffs import deadlines
from processors.handoffs.config import HandoffPolicy
from processors.handoffs.customers import initial_tier, names_nobody, needs_a_contact
from processors.handoffs.directory import UNKNOWN, CustomerViews
from processors.handoffs.notifications import change_notifications, first_notification
from processors.handoffs.outputs import (
    ACCEPTED,
    ACKNOWLEDGED,
    CLOSED,
    CREATED,
    ESCALATED,
    FOLLOWED_UP,
    REOPENED,
    RESOLVED,
    RESUMED,
    ROUTED,
    TRACKER_ONLY,
    TRANSFERRED,
    WAITING,
    Emitter,
    Output,
    short_name,
)
from processors.handoffs.revisions import (
    OLDER_VERSION,
    REVISED_FIELDS,
    changed_fields,
    corrected,
    is_later_version,
    is_older_version,
    noted,
    revised,
)
from processors.handoffs.state import HandoffState, Status

# a second HandoffCreated under a used handoff id; one of a web service request is re-issuable
# (``omnibus deadletters redrive --new-id``: ``adapters.web.reissue_creation``)
DUPLICATE_CREATION = "duplicate_creation"


class IllegalTransition(OmnibusError):
    """A lifecycle event that must not be applied; ``code`` is a short, bounded label for metrics."""

    def __init__(self, reason: str, code: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


@dataclass(frozen=True)
class Context:
    policy: HandoffPolicy
    emitter: Emitter
    partition: int | None = None
    directory: CustomerViews | None = None  # None: the tracker does not follow customers


@dataclass
class Transition:
    state: HandoffState
    outputs: list[Output] = field(default_factory=list)
    changed: bool = True  # False for re-deliveries and no-op repeats
    effects: list[tuple[str, Any]] = field(default_factory=list)  # ("bounce", team), ("resolved", seconds)...


@dataclass
class _Change:
    state: HandoffState
    outputs: list[Output] = field(default_factory=list)
    effects: list[tuple[str, Any]] = field(default_factory=list)


Handler = Callable[[HandoffState, dict, int, Context], "_Change | None"]


def apply(state: HandoffState | None, event: Event, ctx: Context) -> Transition:
    value, schema = event.value, event.schema
    event_id, at = value["envelope"]["event_id"], to_micros(value["envelope"]["occurred_at"])
    if schema in TRACKER_ONLY:
        raise IllegalTransition(f"{short_name(schema)} is emitted only by the handoff tracker", "tracker_only")
    if state is None:
        if schema != CREATED:
            raise IllegalTransition(f"{short_name(schema)} for a handoff nobody created", "unknown_handoff")
        return _create(value, at, ctx)
    if state.has_applied(event_id):
        return Transition(state, changed=False)
    if schema == CREATED:
        return _created_again(state, value, at, ctx, event_id)
    handler = HANDLERS.get(schema)
    if handler is None:
        raise IllegalTransition(f"{schema} is not a handoff lifecycle event", "not_lifecycle")
    change = handler(state, value, at, ctx)
    if change is None:  # a repeat of what is already true (same owner accepting twice, second ack)
        return Transition(state, changed=False)
    new_state = change.state.evolve(event_id=event_id)
    if new_state.received_late and not new_state.is_open:  # finished before its breach: no RECEIVED, even if reopened
        new_state = new_state.with_(received_late=False)
    outputs = [*change.outputs, ctx.emitter.status_changed(new_state, schema, at, event_id)]
    outputs += change_notifications(ctx.emitter, new_state, schema, value, at, event_id, ctx.policy)
    return Transition(new_state, outputs, effects=change.effects)


def _create(value: dict, at: int, ctx: Context) -> Transition:
    policy, envelope = ctx.policy, value["envelope"]
    identifiers = tuple(dict(i) for i in value["customer_identifiers"])
    view = (ctx.directory.view(value["handoff_id"], identifiers, policy, wary=True) if ctx.directory is not None
            else UNKNOWN)
    tier = initial_tier(policy, value.get("service_tier"), value["origin_channel"], view)
    state = HandoffState(
        handoff_id=value["handoff_id"], status=Status.CREATED, case_type=value["case_type"], service_tier=tier.tier,
        summary=value["summary"], customer_identifiers=identifiers,
        origin_channel=value["origin_channel"], origin_site=value.get("origin_site"),
        correlation_id=envelope["correlation_id"] or envelope["event_id"], created_at_us=at,
        intake_facts=dict(value.get("intake_facts") or {}), partition=ctx.partition, customer_id=view.customer_id,
        customer_placed=view.placement is not None,
        tier_source=tier.source, tier_event_id=tier.event_id, addresses=view.identifiers,
    )
    team, rule = policy.route(state.case_type, state.service_tier)
    sent_us = _received_us(envelope, at)
    change = _route(state, team, rule, at, ctx, envelope["event_id"], sent_us=sent_us)
    state = change.state.evolve(event_id=envelope["event_id"])
    state = state.with_(needs_contact=needs_a_contact(policy, state))  # on its first status change already
    outputs = [*change.outputs, ctx.emitter.status_changed(state, CREATED, at, envelope["event_id"])]
    # The first notification names no guessed customer: identity's placement may contradict the owner of one
    # identifier (a joint account's keeper), and a notification sent cannot be taken back. Until
    # placed it is keyed by the handoff id, addressed to the handoff's own identifiers only; where only one that
    # changed hands could name a customer (a recycled number) it waits for the placement (``received_notification``).
    # It goes out at the work order's sending and never quotes a deadline already past then (``first_notification``).
    if view.unsettled and view.customer_id is None:
        state = state.with_(received_held=True)
    else:
        state, received = first_notification(ctx.emitter, state, sent_us, envelope["event_id"], policy,
                                             seed=f"notify:v{state.version}")
        outputs += received
    effects = [("received", team), *((("names_nobody", team),) if names_nobody(state) else ())]
    return Transition(state, outputs, effects=effects)


def _route(state: HandoffState, team: str, rule: str | None, at: int, ctx: Context, cause_id: str, *,
           sent_us: int | None = None) -> _Change:
    """Route the case to ``team``: its resolution clock starts at ``at`` (the contact's time: the customer has waited
    since), the work order goes out at ``sent_us`` (default ``at``; later for a case uploaded late: a counter-agent
    offline for days, a late CTR), and the back office's acknowledgement is awaited from then. Warnings already due
    by then are passed over (``deadlines.pass_over_late_warnings``); a breach already due fires once, at the next scan,
    and the next tier's clock starts at the sending (``deadlines.fire_due``), not along the whole chain at once."""
    policy, sent_us = ctx.policy, at if sent_us is None else max(at, sent_us)
    state = state.with_(
        status=Status.ROUTED, team=team, receiving_system=policy.team(team).receiving_system,
        route=state.route + 1, routed_at_us=sent_us, resends=0, acknowledged=False,
    )
    state = deadlines.start_resolution_clock(
        policy, state, at, policy.resolve_within_hours(state.case_type, state.service_tier)
    )
    state = deadlines.pass_over_late_warnings(state, sent_us)
    state = deadlines.start_acknowledgement_clock(policy, state, sent_us)
    return _Change(state, [ctx.emitter.routed(state, at, cause_id, rule)])


def _received_us(envelope: dict, at: int) -> int:
    """When the adapter received the record (``envelope.received_at``, µs), never before its ``occurred_at``."""
    received = envelope.get("received_at")
    return at if received is None else max(at, to_micros(received))


def _created_again(state: HandoffState, value: dict, at: int, ctx: Context, event_id: str) -> Transition:
    """A ``HandoffCreated`` under a held id: a later version of the same source record is the same case (a copy, or
    its summary and facts revised: ``revisions``); anything else is refused, ``duplicate_creation``."""
    if not is_later_version(state, value):
        raise IllegalTransition("a handoff with this id already exists", DUPLICATE_CREATION)
    if is_older_version(state, value):  # a refused row re-driven after the source updated it: the case keeps the newer
        return Transition(noted(state, event_id), effects=[("revised", OLDER_VERSION)])
    changed = changed_fields(state, value)
    if not changed:
        return Transition(state, changed=False)
    effects = [("revised", name) for name in changed]
    if not set(changed) & set(REVISED_FIELDS):  # only what the case keeps: counted, the case as announced unchanged
        return Transition(corrected(noted(state, event_id), value), effects=effects)
    new_state = corrected(revised(state, value), value).evolve(event_id=event_id)
    # status unchanged and no notification: the customer heard of the case when it was created
    return Transition(new_state, [ctx.emitter.status_changed(new_state, CREATED, at, event_id)], effects=effects)


def _routed_by_hand(state: HandoffState, value: dict, at: int, ctx: Context) -> _Change:
    if state.status is not Status.CREATED:
        raise IllegalTransition("the handoff is already routed; transfer it instead", "already_routed")
    return _route(state, value["team"], value.get("routing_rule"), at, ctx, value["envelope"]["event_id"])


def _acknowledged(state: HandoffState, value: dict, at: int, ctx: Context) -> _Change | None:
    if state.acknowledged:
        return None
    return _Change(deadlines.stop_acknowledgement_clock(state.with_(acknowledged=True)))


def _require_open(state: HandoffState, action: str) -> None:
    if not state.is_open:
        raise IllegalTransition(f"cannot {action} a {state.status.value.lower()} handoff", "not_open")


def _same_actor(a: dict | None, b: dict | None) -> bool:
    if a is None or b is None:
        return a is b
    return (a.get("kind"), a.get("id")) == (b.get("kind"), b.get("id"))


def _working_status(state: HandoffState, owner: dict | None) -> Status:
    if state.status is Status.WAITING_ON_CUSTOMER:
        return state.status
    return Status.IN_PROGRESS if owner is not None else Status.ROUTED


def _accepted(state: HandoffState, value: dict, at: int, ctx: Context) -> _Change | None:
    _require_open(state, "accept")
    owner = value["owner"]
    if _same_actor(state.owner, owner):
        return None
    if state.owner is not None:
        raise IllegalTransition("the handoff already has an owner; a second owner is not allowed (transfer it)",
                                "second_owner")
    if value.get("team") and state.team and value["team"] != state.team:
        raise IllegalTransition(f"accepted for team {value['team']!r} but the handoff is with {state.team!r}",
                                "wrong_team")
    state = deadlines.stop_acknowledgement_clock(state)
    state = state.with_(owner=owner, status=_working_status(state, owner), acknowledged=True)
    return _Change(state, effects=[("accepted", owner)])


def _transferred(state: HandoffState, value: dict, at: int, ctx: Context) -> _Change:
    _require_open(state, "transfer")
    if not _same_actor(value.get("from_owner"), state.owner) or value["from_team"] != state.team:
        raise IllegalTransition("transfer from an owner or team that does not hold the handoff", "stale_transfer")
    to_owner, to_team = value.get("to_owner"), value["to_team"]
    if _same_actor(to_owner, state.owner) and to_team == state.team:
        raise IllegalTransition("transfer to the current owner and team", "no_change")
    policy, outputs = ctx.policy, []
    if to_team != state.team:  # the time left is re-counted in the new team's working hours
        pivot = state.paused_at_us if state.paused_at_us is not None else at
        state = deadlines.rebase_resolution_clock(policy, state, pivot, pivot, to_team=to_team)
    state = state.with_(owner=to_owner, status=_working_status(state, to_owner), bounces=state.bounces + 1)
    new_system = policy.team(to_team).receiving_system
    if new_system != state.receiving_system:  # another system must now confirm it has the case
        state = state.with_(receiving_system=new_system, route=state.route + 1, resends=0, acknowledged=False,
                            routed_at_us=at)
        state = deadlines.start_acknowledgement_clock(policy, state, at)
        outputs.append(ctx.emitter.routed(state, at, value["envelope"]["event_id"]))
    effects: list[tuple[str, Any]] = [("bounce", value["from_team"])]
    if to_team != value["from_team"] and not policy.knows_destination(to_team):
        effects.append(("unknown_team", to_team))  # allowed, but seen (HandoffPolicy.team says why)
    return _Change(state, outputs, effects=effects)


def _waiting(state: HandoffState, value: dict, at: int, ctx: Context) -> _Change:
    _require_open(state, "put on hold")
    if state.paused:
        raise IllegalTransition("the handoff is already waiting on the customer", "already_waiting")
    return _Change(state.with_(status=Status.WAITING_ON_CUSTOMER, paused_at_us=at))


def _resumed(state: HandoffState, value: dict, at: int, ctx: Context) -> _Change:
    if state.paused_at_us is None:
        raise IllegalTransition("the handoff is not waiting on the customer", "not_waiting")
    paused_at = state.paused_at_us
    state = deadlines.rebase_resolution_clock(ctx.policy, state, paused_at, max(at, paused_at), to_team=state.team)
    status = Status.IN_PROGRESS if state.owner is not None else Status.ROUTED
    return _Change(state.with_(paused_at_us=None, status=status))


def _resolved(state: HandoffState, value: dict, at: int, ctx: Context) -> _Change:
    _require_open(state, "resolve")
    state = state.with_(
        status=Status.RESOLVED, resolved_at_us=at, resolved_by=value["actor"], paused_at_us=None, timers=(),
        acknowledged=True,
    )
    return _Change(state, effects=[("resolved", max(0, at - state.created_at_us) / 1e6),
                                   ("bounces_to_resolve", state.bounces)])


def _closed(state: HandoffState, value: dict, at: int, ctx: Context) -> _Change:
    if state.status is Status.CLOSED:
        raise IllegalTransition("the handoff is already closed", "not_open")
    if state.is_open and value["close_reason"] not in ("WITHDRAWN", "DUPLICATE", "AUTO_CLOSED"):
        raise IllegalTransition(f"cannot close an unresolved handoff as {value['close_reason']}", "not_resolved")
    return _Change(state.with_(status=Status.CLOSED, paused_at_us=None, timers=(), closed_at_us=at))


def _reopened(state: HandoffState, value: dict, at: int, ctx: Context) -> _Change:
    if state.is_open:
        raise IllegalTransition("only a resolved or closed handoff can be reopened", "not_resolved")
    state = state.with_(cycle=state.cycle + 1, tier=0, resolved_at_us=None, resolved_by=None, closed_at_us=None,
                        status=Status.IN_PROGRESS if state.owner else Status.ROUTED)
    hours = ctx.policy.resolve_within_hours(state.case_type, state.service_tier)
    return _Change(deadlines.start_resolution_clock(ctx.policy, state, at, hours))


def _followed_up(state: HandoffState, value: dict, at: int, ctx: Context) -> _Change:
    """The customer came back about the case (a follow-up visit at a counter): whatever its status,
    the case counts it; the status, owner and deadline stay (the back office decides what it changes)."""
    latest = max(at, state.followed_up_at_us) if state.followed_up_at_us is not None else at
    return _Change(state.with_(follow_ups=state.follow_ups + 1, followed_up_at_us=latest))


def _escalated_by_hand(state: HandoffState, value: dict, at: int, ctx: Context) -> _Change:
    _require_open(state, "escalate")
    if value["from_tier"] != state.tier or value["to_tier"] != state.tier + 1:
        raise IllegalTransition(f"escalation from tier {value['from_tier']} but the handoff is at tier {state.tier}",
                                "stale_escalation")
    if deadlines.escalation_step(ctx.policy, state) is None:
        raise IllegalTransition("the handoff is at the top of its escalation chain", "top_of_chain")
    state, _ = deadlines.escalate(ctx.policy, state, state.paused_at_us if state.paused_at_us is not None else at)
    return _Change(state, effects=[("escalated", value.get("trigger", "MANUAL"))])


HANDLERS: dict[str, Handler] = {
    ROUTED: _routed_by_hand, ACKNOWLEDGED: _acknowledged, ACCEPTED: _accepted,
    TRANSFERRED: _transferred,
    WAITING: _waiting, RESUMED: _resumed, RESOLVED: _resolved, CLOSED: _closed, REOPENED: _reopened,
    ESCALATED: _escalated_by_hand, FOLLOWED_UP: _followed_up,
}
