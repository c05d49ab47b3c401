"""Prometheus metrics of the handoff tracker.

Labels come from small fixed sets: team names are the configured teams (anything else is counted as
"other"), age buckets and reasons are constants here. No identifier ever becomes a label.
"""

from __future__ import annotations

from collections import Counter as Tally
from collections.abc import Iterable, Mapping
from typing import Any

from prometheus_client import Counter, Gauge, Histogram

from bus.logging import get_logger
from processors.handoffs.config import HandoffPolicy, TierPolicy
from processors.handoffs.outputs import RECALL
from processors.handoffs.revisions import REVISED_FIELDS

log = get_logger(__name__)

HOUR_S = 3600
AGE_BUCKETS: tuple[tuple[str, float], ...] = (
    ("lt_1h", HOUR_S), ("1h_4h", 4 * HOUR_S), ("4h_8h", 8 * HOUR_S), ("8h_24h", 24 * HOUR_S),
    ("1d_3d", 72 * HOUR_S), ("gt_3d", float("inf")),
)
RESOLVE_BUCKETS_S = (900, 3600, 2 * 3600, 4 * 3600, 8 * 3600, 20 * 3600, 24 * 3600, 48 * 3600, 5 * 86400, 10 * 86400)
OPEN_STATUSES = frozenset({"CREATED", "ROUTED", "IN_PROGRESS", "WAITING_ON_CUSTOMER"})

# The label of an age band, on this gauge and on ``omnibus_kpi_open_handoffs`` alike: one name for one idea
# (``age`` here, ``age_band`` there, so no dashboard query could join or reuse them).
AGE_BAND_LABEL = "age_band"
OPEN = Gauge("omnibus_handoff_open", "Open handoffs by team and age band since creation.", ["team", AGE_BAND_LABEL])
UNACKNOWLEDGED = Gauge("omnibus_handoff_unacknowledged", "Open handoffs no receiving system acknowledged.", ["team"])
TRANSITIONS = Counter("omnibus_handoff_transitions_total", "Lifecycle events applied.", ["event"])
ILLEGAL = Counter(
    "omnibus_handoff_illegal_transitions_total", "Lifecycle events refused and dead-lettered.", ["reason"]
)
WARNINGS = Counter("omnibus_handoff_deadline_warnings_total", "Deadline warnings emitted.", ["team", "percent"])
BREACHES = Counter("omnibus_handoff_breaches_total", "Deadlines missed.", ["team"])
OVERDUE = Gauge(
    "omnibus_handoff_overdue",
    "Open handoffs past their resolution deadline now, by team (a paused clock as of its pause).", ["team"],
)
NEEDING_CONTACT = Gauge(
    "omnibus_handoff_needing_contact",
    "Open handoffs no notification can reach (needs_contact: their notifications go out unaddressed): their customer"
    " no longer holds a contact point of the case (recycled, released or claimed), or they name no identifier and"
    " no customer, by team.",
    ["team"],
)
ESCALATIONS = Counter("omnibus_handoff_escalations_total", "Escalations, automatic and by hand.", ["team", "trigger"])
BOUNCES = Counter("omnibus_handoff_bounces_total", "Handoffs passed on by a team (transfers).", ["team"])
UNKNOWN_TEAM_TRANSFERS = Counter(
    "omnibus_handoff_transfers_to_unknown_team_total",
    "Transfers to a team the handoff policy does not name (handled with the default team's rules).",
)
REVISIONS = Counter(
    "omnibus_handoff_revisions_total",
    "Later versions of a case's source record (a polled ticket row updated, a keyed batch line changed, a counter's"
    " transaction corrected and uploaded again) that changed"
    " what its HandoffCreated describes, by field; applied=false: the case keeps its own (case_type,"
    " customer_identifiers, origin_site; corrected customer_identifiers re-address an open case's notices).",
    ["field", "applied"],
)
UNKNOWN_TIER_SOURCES = ("account", "handoff")  # AccountOpened.service_tier, HandoffCreated.service_tier
UNKNOWN_TIERS = Counter(
    "omnibus_handoff_unknown_service_tiers_total",
    "Service tiers not in the policy's tiers.order (compared case-folded): they rank lowest and no tier rule"
    " applies. source: account (AccountOpened, once per event digested), handoff (HandoffCreated).", ["source"],
)
UNKNOWN_TIERS_LOGGED = 1_000  # distinct unknown tier values logged per process (a broken export may write many)
_logged_unknown_tiers: set[str] = set()
for _source in UNKNOWN_TIER_SOURCES:
    UNKNOWN_TIERS.labels(source=_source)
ALARMS = Counter("omnibus_handoff_unacknowledged_alarms_total", "Lost-handoff alarms.", ["team"])
RESENDS = Counter("omnibus_handoff_resends_total", "Work orders re-sent to a receiving system.", ["team"])
ORPHAN_ACKS = Counter(
    "omnibus_handoff_orphan_acknowledgements_total", "Acknowledgements for handoffs nobody created."
)
PRUNED = Counter(
    "omnibus_handoff_pruned_total", "Rows of the handoff table pruned by event-time retention (retention.py): "
    "table=state reason=closed (a closed case became a tombstone), table=tombstones reason=expired (dropped).",
    ["table", "reason"],
)
SCAN_ERRORS = Counter(
    "omnibus_handoff_scan_errors_total", "Handoffs the deadline scan could not process (see the logs)."
)
NOTIFICATIONS = Counter(
    "omnibus_handoff_notifications_total",
    "Customer notifications published, by channel, kind and addressed: true when the notification names an identifier"
    " the channel can reach the customer at, false when no channel the policy allows can (an anonymous call, a web"
    " visitor with no user id): the channel can only tell the customer at their next contact.",
    ["channel", "kind", "addressed"],
)
RECALLS = Counter(
    "omnibus_handoff_notifications_recalled_total",
    "Customer notifications recalled (CustomerNotificationRecalled), by channel: published to a phone or e-mail the"
    " customer lost since (recycled, released or claimed); a gateway still holding one drops it.", ["channel"],
)
CUSTOMER_UPDATES = Counter(
    "omnibus_handoff_customer_updates_total",
    "Handoffs updated from what identity and the legacy systems published: resolved (customer first known),"
    " moved (merge or split), tier (service tier changed), retimed (deadline re-timed), relinquished (its customer"
    " no longer holds one of the handoff's phones or e-mails: recycled, released or claimed; never told there again).",
    ["change"],
)
BOUNCES_TO_RESOLVE = Histogram(
    "omnibus_handoff_bounces_to_resolve", "Transfers a handoff went through before it was resolved.", ["team"],
    buckets=(0, 1, 2, 3, 5, 8),
)
TIME_TO_RESOLVE = Histogram(
    "omnibus_handoff_time_to_resolve_seconds", "Time from creation to resolution.", ["team"],
    buckets=RESOLVE_BUCKETS_S,
)


class HandoffMetrics:
    """Records into the module's metrics, mapping team names onto the bounded, configured set."""

    def __init__(self, policy: HandoffPolicy) -> None:
        self._policy = policy
        self._gauge_keys: set[tuple[str, str]] = set()
        # Every team's series exists from the start: increase() over a counter born at its first
        # breach sees nothing, so the first breach of each team after a start never alerted.
        self._teams = (*(team.name for team in policy.teams), "other")
        for team in self._teams:
            BREACHES.labels(team=team)
            OVERDUE.labels(team=team).set(0)

    def team(self, name: str | None) -> str:
        return name if name is not None and self._policy.is_known_team(name) else "other"

    def applied(self, schema: str, team: str | None, effects: Iterable[tuple[str, Any]]) -> None:
        TRANSITIONS.labels(event=schema.rpartition(".")[2]).inc()
        for effect, detail in effects:
            if effect == "bounce":
                BOUNCES.labels(team=self.team(detail)).inc()
            elif effect == "resolved":
                TIME_TO_RESOLVE.labels(team=self.team(team)).observe(detail)
            elif effect == "bounces_to_resolve":
                BOUNCES_TO_RESOLVE.labels(team=self.team(team)).observe(detail)
            elif effect == "escalated":
                ESCALATIONS.labels(team=self.team(team), trigger=str(detail)).inc()
            elif effect == "unknown_team":
                UNKNOWN_TEAM_TRANSFERS.inc()
            elif effect == "revised":
                REVISIONS.labels(field=detail, applied=str(detail in REVISED_FIELDS).lower()).inc()

    def notified(self, outputs: Iterable[Any]) -> None:
        """Count the CustomerNotification and CustomerNotificationRecalled outputs among ``outputs``
        (``outputs.Output``), once published."""
        for output in outputs:
            if output.destination != "notifications":
                continue
            value = output.event.value
            if output.event.schema == RECALL:
                RECALLS.labels(channel=value["channel"]).inc()
            else:
                NOTIFICATIONS.labels(channel=value["channel"], kind=value["kind"],
                                     addressed="true" if value["address"] is not None else "false").inc()

    def customer_update(self, old: Any, new: Any, retimed: Any) -> None:
        if new.customer_id != old.customer_id:
            CUSTOMER_UPDATES.labels(change="resolved" if old.customer_id is None else "moved").inc()
        if new.service_tier != old.service_tier:
            CUSTOMER_UPDATES.labels(change="tier").inc()
        if retimed is not None:
            CUSTOMER_UPDATES.labels(change="retimed").inc()
        if set(new.relinquished) - set(old.relinquished):
            CUSTOMER_UPDATES.labels(change="relinquished").inc()
            # no identifier value: how many went, and whether a contact point the customer holds is left
            log.info("a handoff's customer no longer holds some of its contact points", handoff_id=new.handoff_id,
                     relinquished=len(new.relinquished), contact_left=bool(new.held_identifiers))

    def illegal(self, code: str, *, orphan_ack: bool = False) -> None:
        ILLEGAL.labels(reason=code).inc()
        if orphan_ack:
            ORPHAN_ACKS.inc()

    def pruned(self, closed: int, expired: int) -> None:
        if closed:
            PRUNED.labels(table="state", reason="closed").inc(closed)
        if expired:
            PRUNED.labels(table="tombstones", reason="expired").inc(expired)

    def scan_error(self) -> None:
        SCAN_ERRORS.inc()

    def fired(self, team: str | None, kinds: Iterable[tuple[str, int]], escalations: int, resends: int) -> None:
        label = self.team(team)
        for kind, step in kinds:
            if kind == "warning":
                WARNINGS.labels(team=label, percent=str(step)).inc()
            elif kind == "breach":
                BREACHES.labels(team=label).inc()
            elif kind == "ack":
                ALARMS.labels(team=label).inc()
        if escalations:
            ESCALATIONS.labels(team=label, trigger="DEADLINE_BREACHED").inc(escalations)
        if resends:
            RESENDS.labels(team=label).inc(resends)

    def refresh_open(self, states: Iterable[Mapping[str, Any]], now_us: int) -> None:
        """Recompute the open-handoff gauges from the table (run periodically, not per event)."""
        open_counts, unacked = count_open(states, now_us, self.team)
        keys = set(open_counts)
        for team, band in self._gauge_keys - keys:
            OPEN.labels(team, band).set(0)
        for (team, band), count in open_counts.items():
            OPEN.labels(team, band).set(count)
        self._gauge_keys = keys
        for team in {t for t, _ in keys} | set(unacked):
            UNACKNOWLEDGED.labels(team=team).set(unacked.get(team, 0))
        overdue = count_overdue(states, now_us, self.team)
        for team in set(self._teams) | set(overdue):
            OVERDUE.labels(team=team).set(overdue.get(team, 0))
        needing = count_needing_contact(states, self.team)
        for team in set(self._teams) | set(needing):
            NEEDING_CONTACT.labels(team=team).set(needing.get(team, 0))


def age_bucket(age_s: float) -> str:
    for name, upper in AGE_BUCKETS:
        if age_s < upper:
            return name
    return AGE_BUCKETS[-1][0]


def count_open(
    states: Iterable[Mapping[str, Any]], now_us: int, team_label: Any = lambda t: t or "other"
) -> tuple[Tally[tuple[str, str]], Tally[str]]:
    open_counts: Tally[tuple[str, str]] = Tally()
    unacked: Tally[str] = Tally()
    for state in states:
        if not state or state.get("status") not in OPEN_STATUSES:
            continue
        team = team_label(state.get("team"))
        open_counts[(team, age_bucket((now_us - state["created_at_us"]) / 1e6))] += 1
        if not state.get("acknowledged"):
            unacked[team] += 1
    return open_counts, unacked


def count_overdue(
    states: Iterable[Mapping[str, Any]], now_us: int, team_label: Any = lambda t: t or "other"
) -> Tally[str]:
    """Open handoffs whose resolution deadline (``deadline_us``) has passed, per team: now, or at the pause for a
    clock paused (``paused_at_us``) while waiting on the customer."""
    overdue: Tally[str] = Tally()
    for state in states:
        if not state or state.get("status") not in OPEN_STATUSES or state.get("deadline_us") is None:
            continue
        if state["deadline_us"] < (state.get("paused_at_us") or now_us):
            overdue[team_label(state.get("team"))] += 1
    return overdue


def count_needing_contact(
    states: Iterable[Mapping[str, Any]], team_label: Any = lambda t: t or "other"
) -> Tally[str]:
    """Open handoffs marked ``needs_contact`` (``customers.needs_a_contact``), per team."""
    return Tally(team_label(state.get("team")) for state in states
                 if state and state.get("status") in OPEN_STATUSES and state.get("needs_contact"))


def count_unknown_tier(tiers: TierPolicy, tier: str, source: str) -> bool:
    """Count ``tier`` (``tier_key`` form) if ``tiers.order`` does not list it, logging each such value once per
    process (tier codes are not personal data); True if unknown. ``source``: one of ``UNKNOWN_TIER_SOURCES``."""
    if tier in tiers.order:
        return False
    UNKNOWN_TIERS.labels(source=source).inc()
    if tier not in _logged_unknown_tiers and len(_logged_unknown_tiers) < UNKNOWN_TIERS_LOGGED:
        _logged_unknown_tiers.add(tier)
        log.warning("service tier not in the policy's tiers.order: it ranks lowest and only sla/routing rules naming "
                    "it honour it, else its handoffs are timed as any tier's (declare it: tiers.order and sla)",
                    service_tier=tier, source=source, known=list(tiers.order))
    return True
