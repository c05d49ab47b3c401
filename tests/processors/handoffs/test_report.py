import csv
import io
import json
from datetime import datetime

import pytest

from bus.cli.json_lines import json_line
from bus.clock import UTC
from processors.handoffs.report import ReportRow, compute_report, month_bounds, percentile, to_csv
from tests.processors.handoffs.scenario import run_scenario

MONTH = "2026-11"


def by_name(rows: list[ReportRow]) -> dict[tuple[str, str], ReportRow]:
    return {(r.scope, r.name): r for r in rows}


async def test_month_report_per_team_and_person() -> None:
    rows = by_name(compute_report(await run_scenario(), MONTH))
    office, repair = rows[("team", "back-office")], rows[("team", "repair")]
    # h3, never acknowledged nor accepted, missed its deadline at +27 h with back-office and escalated.
    assert (office.received, office.resolved, office.bounced, office.breached, office.escalated) == (3, 1, 1, 1, 1)
    assert office.median_resolve_s == 5 * 3600 and office.p90_resolve_s == 5 * 3600
    # h2 missed its 20 h deadline (created +1 h, so at +21 h) while with repair, and escalated once.
    assert (repair.received, repair.resolved, repair.breached, repair.escalated, repair.bounced) == (1, 1, 1, 1, 0)
    assert repair.median_resolve_s == 30 * 3600
    agent1, agent2 = rows[("person", "agent-1")], rows[("person", "agent-2")]
    assert (agent1.received, agent1.resolved, agent1.bounced) == (2, 1, 1)
    assert (agent2.received, agent2.resolved, agent2.breached, agent2.escalated) == (1, 1, 1, 1)


async def test_a_replay_with_duplicates_gives_the_same_report() -> None:
    events = await run_scenario()
    assert compute_report(events + events[::3], MONTH) == compute_report(events, MONTH)


async def test_only_the_month_asked_counts() -> None:
    events = await run_scenario()
    assert all(r.received == r.resolved == r.breached == 0 for r in compute_report(events, "2026-10"))
    assert compute_report(events, "2026-12") == [] or all(r.received == 0 for r in compute_report(events, "2026-12"))


def test_month_bounds_and_time_zones() -> None:
    assert month_bounds("2026-12") == (datetime(2026, 12, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))
    start, _ = month_bounds("2026-11", "Europe/Paris")
    assert start.astimezone(UTC) == datetime(2026, 10, 31, 23, tzinfo=UTC)
    with pytest.raises(ValueError, match="YYYY-MM"):
        month_bounds("November")


def test_percentile_is_nearest_rank() -> None:
    assert percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9) == 9
    assert percentile([7], 0.9) == 7


async def test_csv_and_json_outputs() -> None:
    rows = compute_report(await run_scenario(), MONTH)
    parsed = list(csv.DictReader(io.StringIO(to_csv(rows))))
    assert parsed[0]["scope"] == "team" and len(parsed) == len(rows)
    assert json.loads(json_line(rows[0]))["name"] == rows[0].name  # what `report handoffs --json` prints a row as
