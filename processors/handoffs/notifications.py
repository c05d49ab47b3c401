"""Customer feedback: every customer-visible change becomes a notification for the channel the case came from.

Internal moves (routing details, acknowledgements, transfers, escalations, warnings) are not told to the
customer; a missed first deadline is ("DELAYED"), once per cycle. Channels render their own text from
``kind`` and ``parameters``; ``message`` is the policy's template in the customer's language
(``notification_templates``; ``parameters["language"]`` names the language it is written in).

``parameters`` (strings): ``handoff_id``, ``case_type``, ``status``, ``language``; ``team`` (the team's id) and
``team_name`` (what customers are told it is called, when the policy gives a name) while the case has a team;
``deadline`` (ISO 8601, UTC) and ``time_zone`` (the IANA zone of the team's calendar, the one ``message`` writes
the deadline in) while the case is open with a deadline (a RECEIVED: one still ahead when it is sent);
``resolution`` on RESOLVED and ``request`` (what is asked of the customer) on WAITING_ON_CUSTOMER when given, both
scrubbed (``bus.redact.free_text``).

Key: the ``customer_id`` the notification names, else its handoff id (``notification_key``).

Envelope ``occurred_at``: when the tracker decided to send it, in the time of the input it followed (state, not the
wall clock: a replay decides the same): a lifecycle record's ``occurred_at``; for a RECEIVED at routing the work
order's sending (``received_at`` of a case uploaded late); for a RECEIVED released by identity's placement the time
of the record or tick that followed it; for a DELAYED, or a RECEIVED sent with a late case's breach, the breach's
decision (the missed deadline, or the sending when the case came in after it).

A RECEIVED never quotes a deadline already past when it is sent (``received_notification``): a case routed at or
after its deadline, or whose held RECEIVED is released after it, sends its RECEIVED with the breach, quoting the
deadline the escalation gives, and no DELAYED (the customer was never told the deadline it missed).
"""

from __future__ import annotations

from bus.clock import from_micros
from bus.references import declared
from bus.serde import Event
from processors.handoffs.config import HandoffPolicy, NotificationPolicy
from processors.handoffs.notification_templates import (
    preferred_language,
    readable_deadline,
    render,
    template_for,
    template_language,
)
from processors.handoffs.outputs import (
    ACCEPTED,
    CLOSED,
    CREATED,
    NOTIFICATION,
    REOPENED,
    RESOLVED,
    RESUMED,
    WAITING,
    Emitter,
    Output,
)
from processors.handoffs.state import HandoffState, TimerKind
from processors.handoffs.tier_facts import identifier_key

KIND_BY_CAUSE = {
    CREATED: "RECEIVED", ACCEPTED: "IN_PROGRESS", WAITING: "WAITING_ON_CUSTOMER", RESUMED: "IN_PROGRESS",
    RESOLVED: "RESOLVED", CLOSED: "CLOSED", REOPENED: "REOPENED",
}
SILENT_CLOSE_REASONS = frozenset({"DUPLICATE"})  # the customer hears about the case that is kept
# The back office's words a notification quotes: the lifecycle record's field, also its placeholder and parameter
QUOTED_FIELDS = {RESOLVED: "resolution", WAITING: "request"}
DEFAULT_POLICY = HandoffPolicy()


def notification_kind(cause: str, cause_value: dict) -> str | None:
    """The notification a lifecycle event deserves, or None when the customer need not hear of it."""
    if cause == CLOSED and cause_value.get("close_reason") in SILENT_CLOSE_REASONS:
        return None
    return KIND_BY_CAUSE.get(cause)


def notification(
    emitter: Emitter, state: HandoffState, kind: str, occurred_us: int, causation_id: str | None,
    *, seed: str, quoted: dict[str, str] | None = None, policy: HandoffPolicy = DEFAULT_POLICY,
    quote_deadline: bool = True,
) -> Output:
    """The notification ``kind`` of ``state``; ``quoted``: the back office's words it quotes, by placeholder
    (``QUOTED_FIELDS``), already scrubbed; ``quote_deadline`` False: no deadline in its text or parameters."""
    notices = policy.notifications
    parameters = {"handoff_id": state.handoff_id, "case_type": state.case_type, "status": state.status.value}
    lang = template_language(preferred_language(state.intake_facts), notices.templates, notices.default_language)
    team_name = policy.customer_team_name(state.team, lang)
    if state.team:
        parameters["team"] = state.team
    if team_name:
        parameters["team_name"] = team_name
    deadline = None
    if state.deadline_us is not None and state.is_open and quote_deadline:
        zone = policy.calendar_of(state.team).timezone
        parameters["deadline"] = from_micros(state.deadline_us).isoformat()
        parameters["time_zone"] = zone.key
        deadline = readable_deadline(from_micros(state.deadline_us), zone, lang, from_micros(occurred_us))
    parameters.update(quoted or {})
    parameters["language"] = lang
    template = template_for(notices.templates[lang], kind, dated=deadline is not None)
    message = render(template, lang=lang, team=team_name or state.team, deadline=deadline,
                     **(quoted or {}))
    channel, address = delivery(notices, state)
    envelope = emitter.envelope(state, seed, occurred_us, causation_id)
    value = {
        "envelope": envelope, "notification_id": envelope["event_id"], "handoff_id": state.handoff_id,
        "customer_identifiers": [dict(i) for i in state.held_identifiers],
        "channel": channel, "site": state.origin_site if channel == state.origin_channel else None, "kind": kind,
        "message": message, "parameters": parameters, "customer_id": state.customer_id, "address": address,
        "origin_channel": state.origin_channel,
    }
    return Output("notifications", notification_key(state), Event(NOTIFICATION, value))


def notification_key(state: HandoffState) -> str:
    """Notifications are keyed by customer id, so each customer's are in order on one partition (issue #15); a
    notification whose ``customer_id`` is null is keyed by its handoff id. One rule, every notification:
    key = ``customer_id`` if not null, else ``handoff_id``. A handoff's customer is null until the tracker knows
    it; so it is on a RECEIVED sent before identity's placement is read (``transitions._create``).
    A customer the directory knows when a record is applied is followed before its notification goes out
    (``HandoffTracker.handle``)."""
    return state.customer_id or state.handoff_id


def readdressed(outputs: list[Output], state: HandoffState,
                policy: NotificationPolicy = DEFAULT_POLICY.notifications) -> list[Output]:
    """``outputs`` with every customer notification keyed, named and addressed as for ``state``'s customer (the one
    the tracker followed right after the record that caused them); its id, kind and text are unchanged."""
    channel, address = delivery(policy, state)
    again = {"customer_id": state.customer_id, "channel": channel, "address": address,
             "site": state.origin_site if channel == state.origin_channel else None}
    return [Output(o.destination, notification_key(state), Event(NOTIFICATION, {**o.event.value, **again}))
            if o.event.schema == NOTIFICATION else o for o in outputs]


def held_delivery(outputs: list[Output], state: HandoffState,
                  policy: NotificationPolicy = DEFAULT_POLICY.notifications) -> list[Output]:
    """``outputs`` with every customer notification of ``state``'s handoff addressed to an identifier its customer no
    longer holds (``relinquished``) delivered anew (``delivery``), its key and customer unchanged: a record applied
    before the directory's news was followed, and not re-addressed (a RECEIVED before identity's placement), was
    addressed with the number its customer has lost since."""
    def lost(value: dict) -> bool:
        return bool(value.get("address")) and identifier_key(value["address"]) in state.relinquished

    channel, address = delivery(policy, state)
    again = {"channel": channel, "address": address, "site": state.origin_site if channel == state.origin_channel
             else None}
    return [Output(o.destination, o.key, Event(NOTIFICATION, {**o.event.value, **again}))
            if o.event.schema == NOTIFICATION and o.event.value["handoff_id"] == state.handoff_id
            and lost(o.event.value) else o for o in outputs]


def delivery(policy: NotificationPolicy, state: HandoffState) -> tuple[str, dict[str, str] | None]:
    """(channel, address): the origin channel at an identifier it can reach (those the handoff came with
    first: the ones seen there), else the first fallback channel that can reach a known identifier, else
    the origin channel without an address (``NotificationPolicy``). Never an identifier its customer no longer
    holds (``HandoffState.relinquished``: a recycled number's new subscriber hears nothing of the case).
    A case whose contact identifiers a later version corrected (``HandoffState.corrected_identifiers``) reaches only
    a corrected one its customer holds (``addresses``, as identity places them), else no address (``revisions``)."""
    known = (*state.held_identifiers, *state.addresses) if not state.corrected_identifiers else corrected_held(state)
    origin = state.origin_channel
    for channel, candidates in ((origin, known), *((c, known) for c in policy.fallback if c != origin)):
        for kind in policy.addresses.get(channel, ()):
            for identifier in candidates:
                if identifier["type"] == kind:
                    return channel, {"type": identifier["type"], "value": identifier["value"]}
    return origin, None


def corrected_held(state: HandoffState) -> tuple[dict[str, str], ...]:
    """The corrected contact identifiers of ``state`` its customer holds (``addresses``) and did not lose."""
    held = {identifier_key(a) for a in state.addresses} - set(state.relinquished)
    return tuple(i for i in state.corrected_identifiers if identifier_key(i) in held)


def change_notifications(
    emitter: Emitter, state: HandoffState, cause: str, cause_value: dict, occurred_us: int, causation_id: str,
    policy: HandoffPolicy = DEFAULT_POLICY,
) -> list[Output]:
    kind = notification_kind(cause, cause_value)
    if kind is None:
        return []
    # A back office that speaks Kafka publishes HandoffResolved (or HandoffWaitingOnCustomer) itself, unscrubbed: the
    # words the customer is quoted are scrubbed here as the commands scrub theirs (bus.redact.free_text; text already
    # scrubbed is returned as it is), keeping the deployment's declared references (a meter point id:
    # bus.references.declared), whole when the handoff's intake facts hold it under that name.
    field = QUOTED_FIELDS.get(cause)
    words = declared().text(cause_value.get(field) or "", state.intake_facts) if field else ""
    return [notification(emitter, state, kind, occurred_us, causation_id, seed=f"notify:v{state.version}",
                         quoted={field: words} if field and words else None, policy=policy)]


def received_notification(
    emitter: Emitter, state: HandoffState, at_us: int, causation_id: str | None, policy: HandoffPolicy = DEFAULT_POLICY,
) -> tuple[HandoffState, list[Output]]:
    """The RECEIVED notification held at creation (``HandoffState.received_held``: an identifier of the case changed
    hands, so its holder may not be the contact's customer), now (``at_us``) that identity has placed the case:
    ``state`` with it no longer held, and the notification as ``first_notification`` decides it (addressed as for the
    placed customer, never an identifier they no longer hold); none for a case finished meanwhile. ``state``
    unchanged and no output while not held or not placed."""
    if not state.received_held or not state.customer_placed:
        return state, []
    return first_notification(emitter, state.with_(received_held=False), at_us, causation_id or state.handoff_id,
                              policy, seed=f"notify:v{state.version}")


def first_notification(
    emitter: Emitter, state: HandoffState, at_us: int, causation_id: str | None, policy: HandoffPolicy = DEFAULT_POLICY,
    *, seed: str,
) -> tuple[HandoffState, list[Output]]:
    """The RECEIVED of ``state`` decided at ``at_us`` (µs; its envelope's ``occurred_at``): ``state`` and the
    notification, which never quotes a deadline already past at ``at_us``. A deadline past whose breach is still to
    fire (a case routed after it, a held RECEIVED released after it): none yet, ``state`` marked ``received_late``
    (the breach sends it, quoting the deadline its escalation gives: ``late_received``). A deadline past whose breach
    fired with nothing left to escalate to: the RECEIVED quotes none (the language's fallback words). None for a
    finished case. Keyed and named by its customer once identity placed the case, else by the handoff alone
    (``transitions._create``)."""
    if not state.is_open:
        return state.with_(received_late=False), []
    past = state.deadline_us is not None and state.deadline_us <= at_us
    if past and state.paused_at_us is None and any(t.kind is TimerKind.BREACH for t in state.timers):
        return state.with_(received_late=True), []
    told = state if state.customer_placed else state.with_(customer_id=None, addresses=())
    return state.with_(received_late=False), [notification(
        emitter, told, "RECEIVED", at_us, causation_id, seed=seed, policy=policy, quote_deadline=not past)]


def late_received(
    emitter: Emitter, state: HandoffState, at_us: int, policy: HandoffPolicy = DEFAULT_POLICY,
) -> tuple[HandoffState, list[Output]]:
    """At a breach decided at ``at_us`` (after its escalation, if any): the RECEIVED that waited for it
    (``received_late``), as ``first_notification`` decides it; ``state`` unchanged and no output otherwise."""
    if not state.received_late:
        return state, []
    return first_notification(emitter, state, at_us, None, policy, seed=f"notify:c{state.cycle}:received-late")


def delayed_notification(
    emitter: Emitter, state: HandoffState, occurred_us: int, policy: HandoffPolicy = DEFAULT_POLICY,
) -> list[Output]:
    """The DELAYED of a first deadline missed, decided at ``occurred_us``; none while the customer was never told a
    deadline (its RECEIVED still held or waiting for this breach: ``first_notification``)."""
    if state.received_held or state.received_late:
        return []
    return [notification(emitter, state, "DELAYED", occurred_us, None, seed=f"notify:c{state.cycle}:delayed",
                         policy=policy)]
