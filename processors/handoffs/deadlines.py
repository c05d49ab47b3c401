"""Deadlines as state: planning the timers of a handoff and firing the due ones, idempotently.

A resolution clock runs per (cycle, escalation tier): warnings at the configured shares of the working
time to the deadline, and the breach at the deadline. A breach below the top of the team's chain
escalates to the next tier, whose clock starts at the missed deadline. Acknowledgement checks run on
wall-clock time from the moment the work order was sent. ``fire_due`` removes each fired timer from
the state and records its marker, so the same state can never fire it again.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from processors.handoffs.calendar import rebase_us
from processors.handoffs.config import EscalationStep, HandoffPolicy
from processors.handoffs.notifications import delayed_notification, late_received
from processors.handoffs.outputs import ESCALATED, Emitter, Output
from processors.handoffs.state import DeadlineLineage, DeadlineRule, HandoffState, Timer, TimerKind

HOUR_US = 3_600_000_000
MINUTE_US = 60_000_000


def resolution_timers(
    policy: HandoffPolicy, state: HandoffState, pivot_us: int, deadline_us: int, *, elapsed_us: int = 0,
) -> tuple[Timer, ...]:
    """Warnings and breach of the state's current (cycle, tier), minus those already fired.

    ``elapsed_us`` of the clock's working time were already used at ``pivot_us`` (0 for a new clock).
    A warning falls when its share of the working time has elapsed; if that instant is not working
    time (the share ran out exactly as a window closed, before a lunch break or the night) it falls when
    work resumes, so nobody is warned during a break. The breach stays at the deadline itself.
    """
    calendar = policy.calendar_of(state.team)
    total = elapsed_us + calendar.working_between_us(pivot_us, deadline_us)
    prefix = f"c{state.cycle}:t{state.tier}"

    def warning_due(percent: int) -> int:
        share = max(0, total * percent // 100 - elapsed_us)
        return min(calendar.next_working_us(calendar.add_working_us(pivot_us, share)), deadline_us)

    timers = [
        Timer(TimerKind.WARNING, percent, warning_due(percent), f"{prefix}:w{percent}")
        for percent in policy.warning_percents
    ]
    timers.append(Timer(TimerKind.BREACH, state.tier, deadline_us, f"{prefix}:breach"))
    return tuple(t for t in timers if t.marker not in state.fired)


def pass_over_late_warnings(state: HandoffState, sent_us: int) -> HandoffState:
    """``state`` with the warnings of its resolution clock due before ``sent_us`` (the work order's sending, later
    than the contact for a case uploaded late) marked fired without firing: nobody could act on them."""
    late = {t.marker for t in state.timers if t.kind is TimerKind.WARNING and t.due_us < sent_us}
    if not late:
        return state
    return state.with_(timers=tuple(t for t in state.timers if t.marker not in late), fired=state.fired | late)


def _acknowledgement_timers(state: HandoffState) -> tuple[Timer, ...]:
    return tuple(t for t in state.timers if t.kind is TimerKind.ACK)


def lineage(
    policy: HandoffPolicy, state: HandoffState, rule: DeadlineRule, hours: float, start_us: int,
    previous_deadline_us: int | None = None,
) -> DeadlineLineage:
    return DeadlineLineage(
        rule=rule, service_tier=state.service_tier, tier_source=state.tier_source, resolve_within_hours=hours,
        calendar=policy.calendar_name(state.team), clock_started_us=start_us, tier_event_id=state.tier_event_id,
        customer_id=state.customer_id, previous_deadline_us=previous_deadline_us,
    )


def start_resolution_clock(
    policy: HandoffPolicy, state: HandoffState, start_us: int, hours: float, rule: DeadlineRule = DeadlineRule.SLA,
) -> HandoffState:
    """Start the clock of the state's current (cycle, tier) at ``start_us`` for ``hours`` working hours."""
    deadline = policy.calendar_of(state.team).add_working_us(start_us, round(hours * HOUR_US))
    state = state.with_(clock_started_us=start_us, deadline_us=deadline,
                        lineage=lineage(policy, state, rule, hours, start_us))
    return state.with_(timers=_acknowledgement_timers(state) + resolution_timers(policy, state, start_us, deadline))


def retime_resolution_clock(
    policy: HandoffPolicy, state: HandoffState, at_us: int, old_hours: float, new_hours: float, rule: DeadlineRule,
    *, forward_only: bool,
) -> HandoffState | None:
    """Re-time the running clock from ``old_hours`` to ``new_hours`` of working time, counting what was already
    worked: the new deadline is ``new_hours`` after the clock's start as far as working time goes (pauses
    and transfers included), but never before ``at_us`` (news about the customer does not breach a case
    retroactively). ``forward_only``: only an earlier deadline is applied. None when nothing changes (the
    deadline already passed, or it would not move)."""
    if state.deadline_us is None or f"c{state.cycle}:t{state.tier}:breach" in state.fired:
        return None
    calendar = policy.calendar_of(state.team)
    pivot = state.paused_at_us if state.paused_at_us is not None else at_us  # a stopped clock counts from the pause
    remaining = calendar.working_between_us(pivot, state.deadline_us)
    elapsed = max(0, round(old_hours * HOUR_US) - remaining)
    deadline = calendar.add_working_us(pivot, max(0, round(new_hours * HOUR_US) - elapsed))
    if deadline == state.deadline_us or (forward_only and deadline > state.deadline_us):
        return None
    new_lineage = lineage(policy, state, rule, new_hours, state.clock_started_us or pivot, state.deadline_us)
    state = state.with_(deadline_us=deadline, lineage=new_lineage)
    timers = resolution_timers(policy, state, pivot, deadline, elapsed_us=min(elapsed, round(new_hours * HOUR_US)))
    others = tuple(t for t in state.timers if not t.on_resolution_clock)
    return state.with_(timers=others + timers)


def start_acknowledgement_clock(policy: HandoffPolicy, state: HandoffState, sent_us: int) -> HandoffState:
    """A new work order was sent: (re)arm the acknowledgement check of this route."""
    others = tuple(t for t in state.timers if t.kind is not TimerKind.ACK)
    due = sent_us + round(policy.acknowledgement.timeout_minutes * MINUTE_US)
    timer = Timer(TimerKind.ACK, state.resends, due, f"r{state.route}:ack{state.resends}")
    return state.with_(timers=others + (timer,))


def stop_acknowledgement_clock(state: HandoffState) -> HandoffState:
    return state.with_(timers=tuple(t for t in state.timers if t.kind is not TimerKind.ACK))


def rebase_resolution_clock(
    policy: HandoffPolicy, state: HandoffState, from_us: int, to_us: int, *, to_team: str | None
) -> HandoffState:
    """Carry the working time left at ``from_us`` over to ``to_us`` in ``to_team``'s calendar (resume, transfer)."""
    before, after = policy.calendar_of(state.team), policy.calendar_of(to_team)

    def move(due_us: int) -> int:
        return rebase_us(due_us, from_us, to_us, before, after)

    timers = tuple(
        dataclasses.replace(t, due_us=move(t.due_us)) if t.on_resolution_clock else t for t in state.timers
    )
    deadline = move(state.deadline_us) if state.deadline_us is not None else None
    lineage = state.lineage
    if lineage is not None and to_team != state.team:  # the hours left are now counted in the new team's calendar
        lineage = dataclasses.replace(lineage, calendar=policy.calendar_name(to_team))
    return state.with_(timers=timers, deadline_us=deadline, team=to_team, lineage=lineage)


def escalation_step(policy: HandoffPolicy, state: HandoffState) -> EscalationStep | None:
    """The step above the state's tier in its team's chain; None at the top."""
    chain = policy.chain(state.team)
    return chain[state.tier] if state.tier < len(chain) else None


def escalate(policy: HandoffPolicy, state: HandoffState, at_us: int) -> tuple[HandoffState, EscalationStep]:
    step = escalation_step(policy, state)
    if step is None:
        raise ValueError("the handoff is at the top of its escalation chain")
    state = state.with_(tier=state.tier + 1)
    return start_resolution_clock(policy, state, at_us, step.resolve_within_hours, DeadlineRule.ESCALATION), step


def escalation_target(state: HandoffState, step: EscalationStep) -> tuple[str, dict[str, str] | None]:
    owner = {"kind": "EMPLOYEE", "id": step.owner_id} if step.owner_id else None
    return step.queue(state.team), owner


@dataclass
class Fired:
    """What one scan of one handoff produced."""

    state: HandoffState
    outputs: list[Output] = field(default_factory=list)
    kinds: list[tuple[TimerKind, int]] = field(default_factory=list)  # (kind, step) fired, for metrics
    escalations: int = 0
    resends: int = 0


def fire_due(policy: HandoffPolicy, emitter: Emitter, state: HandoffState, now_us: int) -> Fired:
    """Fire, in due order, every eligible timer of ``state`` due at ``now_us``."""
    fired = Fired(state)
    while True:
        due = [t for t in fired.state.timers if t.due_us <= now_us and fired.state.eligible(t)]
        if not due:
            return fired
        timer = min(due, key=lambda t: (t.due_us, t.marker))
        current = fired.state.with_(
            timers=tuple(t for t in fired.state.timers if t is not timer), fired=fired.state.fired | {timer.marker},
        )
        fired.kinds.append((timer.kind, timer.step))
        if timer.kind is TimerKind.WARNING:
            fired.outputs.append(emitter.warning(current, timer))
        elif timer.kind is TimerKind.ACK:
            current = _alarm_and_resend(policy, emitter, current, timer, fired)
        else:
            current = _breach(policy, emitter, current, timer, fired)
        fired.state = current


def _alarm_and_resend(
    policy: HandoffPolicy, emitter: Emitter, state: HandoffState, timer: Timer, fired: Fired
) -> HandoffState:
    fired.outputs.append(emitter.alarm(state, timer))
    if state.resends >= policy.acknowledgement.max_resends:
        return state  # alarms stop here; `omnibus handoffs reconcile` keeps listing it
    state = state.with_(resends=state.resends + 1)
    fired.outputs.append(emitter.routed(state, timer.due_us, None))
    fired.resends += 1
    return start_acknowledgement_clock(policy, state, timer.due_us)


def _breach(policy: HandoffPolicy, emitter: Emitter, state: HandoffState, timer: Timer, fired: Fired) -> HandoffState:
    fired.outputs.append(emitter.breached(state, timer))
    # Decided at the breach, or at the work order's sending when the case came in late (already breached): the next
    # tier's clock starts then (else each tier of the chain would breach at once: ``transitions._route``), and the
    # customer's notification is sent then.
    started = max(timer.due_us, state.routed_at_us or timer.due_us)
    if state.tier == 0:
        fired.outputs.extend(delayed_notification(emitter, state, started, policy))
    if escalation_step(policy, state) is None:  # the top of the chain missed its deadline too: nothing to escalate to
        state, received = late_received(emitter, state, started, policy)
        fired.outputs.extend(received)
        return state
    from_team, from_owner, from_tier = state.team, state.owner, state.tier
    state, step = escalate(policy, state, started)
    to_team, to_owner = escalation_target(state, step)
    state = state.evolve()
    fired.outputs.append(emitter.escalated(
        state, f"{timer.marker}:escalated", timer.due_us, from_tier=from_tier, to_team=to_team, to_owner=to_owner,
        from_team=from_team, from_owner=from_owner,
    ))
    fired.outputs.append(emitter.status_changed(state, ESCALATED, timer.due_us, None))
    fired.escalations += 1
    state, received = late_received(emitter, state, started, policy)  # quoting the deadline the escalation gave
    fired.outputs.extend(received)
    return state

