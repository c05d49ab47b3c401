"""The month-end accountability report, computed from ``handoff.events.v1`` alone.

Per team and per person: handoffs received, resolved, median and 90th-percentile time to resolve
(creation to resolution, wall-clock), deadlines breached, escalations, and bounces (cases passed on
by transfer instead of solved). Events are attributed to the month their ``occurred_at`` falls in; a
replay of the same topic gives the same report because the function is pure and dedupes on event ids.
"""

from __future__ import annotations

import csv
import io
import math
import statistics
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bus.serde import Event
from processors.handoffs.outputs import (
    ACCEPTED,
    BREACHED,
    CREATED,
    ESCALATED,
    RESOLVED,
    ROUTED,
    TRANSFERRED,
)


@dataclass
class _Tally:
    received: int = 0
    resolved: int = 0
    resolve_seconds: list[float] = field(default_factory=list)
    breached: int = 0
    escalated: int = 0
    bounced: int = 0


@dataclass(frozen=True)
class ReportRow:
    scope: str  # "team" or "person"
    name: str
    received: int
    resolved: int
    median_resolve_s: float | None
    p90_resolve_s: float | None
    breached: int
    escalated: int
    bounced: int


def month_bounds(month: str, timezone: str = "UTC") -> tuple[datetime, datetime]:
    """[first instant, first instant of the next month) of ``YYYY-MM`` in ``timezone`` (an IANA zone name).

    Raises ``ValueError`` naming the bad month or time zone."""
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {timezone!r} (an IANA name such as Europe/Paris)") from exc
    try:
        year, number = (int(part) for part in month.split("-"))
        start = datetime(year, number, 1, tzinfo=zone)
    except ValueError as exc:
        raise ValueError(f"month must be YYYY-MM, got {month!r}") from exc
    end = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=zone)
    return start, end


def person(actor: dict | None) -> str | None:
    if not actor:
        return None
    return actor["id"] if actor.get("kind") == "EMPLOYEE" else f"{str(actor.get('kind', '')).lower()}:{actor['id']}"


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile (a value that occurred, the usual reading for SLA reports)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def compute_report(events: Iterable[Event], month: str, timezone: str = "UTC") -> list[ReportRow]:
    start, end = month_bounds(month, timezone)
    teams: dict[str, _Tally] = {}
    people: dict[str, _Tally] = {}
    created_at: dict[str, datetime] = {}
    holder: dict[str, tuple[str | None, str | None]] = {}  # handoff -> (team, person) now holding it
    seen: set[str] = set()

    def tally(scope: dict[str, _Tally], name: str | None) -> _Tally:
        return scope.setdefault(name, _Tally()) if name else _Tally()

    for event in events:
        value = event.value
        envelope = value["envelope"]
        if envelope["event_id"] in seen:
            continue
        seen.add(envelope["event_id"])
        handoff_id: str = value.get("handoff_id") or ""  # every handoff record carries one
        schema, at = event.schema, envelope["occurred_at"]
        team, who = holder.get(handoff_id, (None, None))
        in_month = start <= at < end
        if schema == CREATED:
            created_at.setdefault(handoff_id, at)
        elif schema == ROUTED:
            if team is None and in_month:  # the first routing; later work orders are transfers or re-sends
                tally(teams, value["team"]).received += 1
            holder[handoff_id] = (value["team"], who) if team is None else (team, who)
        elif schema == ACCEPTED:
            if in_month:
                tally(people, person(value["owner"])).received += 1
            holder[handoff_id] = (value.get("team") or team, person(value["owner"]))
        elif schema == TRANSFERRED:
            to_person = person(value.get("to_owner"))
            if in_month:
                tally(teams, value["from_team"]).bounced += 1
                tally(people, person(value.get("from_owner")) or person(value["actor"])).bounced += 1
                if value["to_team"] != value["from_team"]:
                    tally(teams, value["to_team"]).received += 1
                if to_person and to_person != person(value.get("from_owner")):
                    tally(people, to_person).received += 1
            holder[handoff_id] = (value["to_team"], to_person)
        elif schema == RESOLVED and in_month:
            seconds = (at - created_at[handoff_id]).total_seconds() if handoff_id in created_at else None
            for scope, name in ((teams, value.get("team") or team), (people, person(value["actor"]))):
                entry = tally(scope, name)
                entry.resolved += 1
                if seconds is not None:  # None only if the creation was deleted by retention
                    entry.resolve_seconds.append(seconds)
        elif schema == BREACHED and in_month:
            tally(teams, value.get("team") or team).breached += 1
            tally(people, person(value.get("owner"))).breached += 1
        elif schema == ESCALATED and in_month:
            tally(teams, value.get("from_team") or team).escalated += 1
            tally(people, person(value.get("from_owner")) or who).escalated += 1
    return [_row("team", n, t) for n, t in sorted(teams.items())] + [
        _row("person", n, t) for n, t in sorted(people.items())
    ]


def _row(scope: str, name: str, tally: _Tally) -> ReportRow:
    durations = tally.resolve_seconds
    return ReportRow(
        scope, name, tally.received, tally.resolved,
        statistics.median(durations) if durations else None, percentile(durations, 0.9) if durations else None,
        tally.breached, tally.escalated, tally.bounced,
    )


# --- output formats -----------------------------------------------------------------------------


def to_csv(rows: list[ReportRow]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(ReportRow.__dataclass_fields__), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(asdict(row))
    return buffer.getvalue()


def hours_minutes(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    minutes = round(seconds / 60)
    return f"{minutes // 60}:{minutes % 60:02d}"
