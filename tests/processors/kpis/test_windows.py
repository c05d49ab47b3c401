"""mends32: KPI days cut at local midnight in the KPI time zone (``KpisSettings.timezone``), UTC by default.

A Spanish operator's "yesterday" is Madrid's yesterday: a contact at 23:30 UTC on a winter evening is the next
local day's; the days the clocks change last 23 and 25 hours (EU rule: the last Sundays of March and October).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from processors.kpis import rules
from processors.kpis.config import KpisSettings
from processors.kpis.state import split_contribution
from processors.kpis.windows import DAY_US, HOUR_US, Granularity, WindowKey, to_micros, windows_ending_between
from tests.processors.kpis.factories import D, H, handoff, interaction
from tests.processors.kpis.test_rules import handoff_facts

MADRID = KpisSettings(timezone="Europe/Madrid")


def day_windows(contributions: dict[str, int]) -> set[WindowKey]:
    return {WindowKey.parse(split_contribution(key)[0]) for key in contributions
            if split_contribution(key)[0].startswith("DAY")}


def test_by_default_days_are_cut_at_utc_midnight_with_the_keys_as_before() -> None:
    at = datetime(2026, 1, 14, 23, 30, tzinfo=UTC)
    (day,) = day_windows(rules.one_shot(interaction(at)).contributions)  # type: ignore[union-attr]
    assert day.text() == f"DAY|{to_micros(datetime(2026, 1, 14, tzinfo=UTC))}|CALL_CENTER|paris"
    assert KpisSettings().day_zone == ""


def test_a_contact_at_2330_utc_is_the_next_local_day_in_madrid() -> None:
    at = datetime(2026, 1, 14, 23, 30, tzinfo=UTC)  # 00:30 on the 15th in Madrid (UTC+1)
    (day,) = day_windows(rules.one_shot(interaction(at), MADRID.day_zone).contributions)  # type: ignore[union-attr]
    assert day.start_us == to_micros(datetime(2026, 1, 14, 23, tzinfo=UTC))  # Madrid's midnight
    assert day.end_us - day.start_us == DAY_US
    assert WindowKey.parse(day.text()) == day and day.text().startswith("DAY@Europe/Madrid|")
    customer = rules.customer_update(None, interaction(at, outcome="RESOLVED"))
    assert customer is not None
    assert day_windows(rules.customer_contributions(customer, MADRID)) == {day}


@pytest.mark.parametrize(("day", "hours"), [(datetime(2026, 3, 29, 12, tzinfo=UTC), 23),
                                            (datetime(2026, 10, 25, 12, tzinfo=UTC), 25),
                                            (datetime(2026, 3, 28, 12, tzinfo=UTC), 24)])
def test_the_days_of_the_daylight_saving_changes_last_23_and_25_hours(day: datetime, hours: int) -> None:
    start = Granularity.DAY.start_of(to_micros(day), "Europe/Madrid")
    assert Granularity.DAY.end_of(start, "Europe/Madrid") - start == hours * HOUR_US
    assert Granularity.DAY.start_of(Granularity.DAY.end_of(start, "Europe/Madrid") - 1, "Europe/Madrid") == start


def test_open_handoffs_are_counted_at_local_midnights_across_the_change() -> None:
    created = datetime(2026, 10, 24, 8, tzinfo=UTC)
    facts = handoff_facts(handoff("HandoffCreated", "h", created))
    closed_through = to_micros(created + 3 * D)
    ends = sorted(WindowKey.parse(split_contribution(key)[0]).end_us
                  for key in rules.handoff_contributions(facts, closed_through, 0, MADRID.day_zone)
                  if key.startswith("DAY") and "open_handoffs" in key)
    assert ends == [to_micros(datetime(2026, 10, 24, 22, tzinfo=UTC)),  # CEST midnight, UTC+2
                    to_micros(datetime(2026, 10, 25, 23, tzinfo=UTC)),  # CET midnight after a 25-hour day
                    to_micros(datetime(2026, 10, 26, 23, tzinfo=UTC))]
    hours = windows_ending_between(to_micros(created), to_micros(created + 3 * H), Granularity.HOUR, "Europe/Madrid")
    assert [w.zone for w in hours] == ["", "", ""]  # hours stay UTC hours


def test_an_unknown_time_zone_is_refused_at_load() -> None:
    with pytest.raises(ValidationError):
        KpisSettings(timezone="Europe/Atlantis")
