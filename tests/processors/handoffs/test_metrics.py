from datetime import timedelta

import pytest

from bus.clock import to_micros
from processors.handoffs.config import HandoffPolicy
from processors.handoffs.metrics import OPEN, UNACKNOWLEDGED, HandoffMetrics, age_bucket, count_open
from tests.processors.handoffs.factories import T0

H = timedelta(hours=1)


def test_gauges_count_open_handoffs_by_team_and_age() -> None:
    now = to_micros(T0 + 30 * H)
    states = [
        {"status": "ROUTED", "team": "back-office", "created_at_us": to_micros(T0 + 29.5 * H), "acknowledged": False},
        {"status": "IN_PROGRESS", "team": "back-office", "created_at_us": to_micros(T0), "acknowledged": True},
        {"status": "CLOSED", "team": "back-office", "created_at_us": to_micros(T0), "acknowledged": True},
        {"status": "ROUTED", "team": "ghost-team", "created_at_us": to_micros(T0), "acknowledged": True},
    ]
    metrics = HandoffMetrics(HandoffPolicy())
    counts, unacked = count_open(states, now, metrics.team)
    assert counts == {("back-office", "lt_1h"): 1, ("back-office", "1d_3d"): 1, ("other", "1d_3d"): 1}
    assert unacked == {"back-office": 1}
    metrics.refresh_open(states, now)
    assert OPEN.labels(team="back-office", age_band="lt_1h")._value.get() == 1  # tester11 #6: was ``age``
    assert UNACKNOWLEDGED.labels(team="back-office")._value.get() == 1
    metrics.refresh_open([], now)
    assert OPEN.labels(team="back-office", age_band="lt_1h")._value.get() == 0
    assert age_bucket(10 * 86400) == "gt_3d"


def test_every_policy_team_has_a_breach_series_before_its_first_breach() -> None:
    """tester11 #2a: ``increase(omnibus_handoff_breaches_total[1h])`` missed each team's first breach after a start,
    because the series was born with it."""
    from prometheus_client import REGISTRY

    from processors.handoffs.config import Team

    HandoffMetrics(HandoffPolicy(teams=(Team(name="back-office"), Team(name="t11-finance"))))
    for team in ("back-office", "t11-finance", "other"):
        assert REGISTRY.get_sample_value("omnibus_handoff_breaches_total", {"team": team}) is not None, team
        assert REGISTRY.get_sample_value("omnibus_handoff_overdue", {"team": team}) is not None, team


def test_the_overdue_gauge_counts_open_handoffs_past_their_deadline_now() -> None:
    """tester11 #2b: no figure said how many handoffs are past their deadline right now."""
    from processors.handoffs.metrics import OVERDUE, count_overdue

    now = to_micros(T0 + 30 * H)
    past, ahead = to_micros(T0 + 29 * H), to_micros(T0 + 31 * H)
    states = [
        {"status": "ROUTED", "team": "back-office", "created_at_us": to_micros(T0), "deadline_us": past},
        {"status": "IN_PROGRESS", "team": "back-office", "created_at_us": to_micros(T0), "deadline_us": ahead},
        {"status": "RESOLVED", "team": "back-office", "created_at_us": to_micros(T0), "deadline_us": past},
        # paused before its deadline: not overdue while the customer is awaited
        {"status": "WAITING_ON_CUSTOMER", "team": "back-office", "created_at_us": to_micros(T0), "deadline_us": past,
         "paused_at_us": to_micros(T0 + 28 * H)},
        {"status": "ROUTED", "team": "ghost-team", "created_at_us": to_micros(T0), "deadline_us": past},
        {"status": "CREATED", "team": "back-office", "created_at_us": to_micros(T0), "deadline_us": None},
    ]
    metrics = HandoffMetrics(HandoffPolicy())
    assert count_overdue(states, now, metrics.team) == {"back-office": 1, "other": 1}
    metrics.refresh_open(states, now)
    assert OVERDUE.labels(team="back-office")._value.get() == 1
    metrics.refresh_open([], now)
    assert OVERDUE.labels(team="back-office")._value.get() == 0


def test_an_unknown_tier_is_counted_each_time_and_logged_once_per_value(monkeypatch: pytest.MonkeyPatch) -> None:
    """tester20 F5: a tier the policy does not list got the default deadline silently."""
    from prometheus_client import REGISTRY
    from structlog.testing import capture_logs

    from bus.logging import get_logger
    from processors.handoffs import metrics
    from processors.handoffs.config import TierPolicy
    from processors.handoffs.metrics import count_unknown_tier

    # a new lazy logger, first used inside capture_logs (see tests/bus/test_lag_watchdog.py)
    monkeypatch.setattr(metrics, "log", get_logger(metrics.__name__))
    monkeypatch.setattr(metrics, "_logged_unknown_tiers", set())

    def counted() -> float:
        return REGISTRY.get_sample_value("omnibus_handoff_unknown_service_tiers_total", {"source": "account"}) or 0

    tiers, before = TierPolicy(), counted()
    with capture_logs() as logs:
        assert count_unknown_tier(tiers, "vip-t20", "account") and count_unknown_tier(tiers, "vip-t20", "account")
        assert not count_unknown_tier(tiers, "gold", "account")
    assert counted() == before + 2
    assert [(entry["service_tier"], entry["source"]) for entry in logs] == [("vip-t20", "account")]
    assert REGISTRY.get_sample_value("omnibus_handoff_unknown_service_tiers_total", {"source": "handoff"}) is not None


def test_the_readme_names_the_unknown_tier_metric_and_the_tier_form() -> None:
    from pathlib import Path

    from processors.handoffs import metrics

    readme = " ".join(Path(metrics.__file__).with_name("README.md").read_text().split())
    assert f"`{metrics.UNKNOWN_TIERS._name}_total`" in readme
    assert all(f"`{source}`" in readme for source in metrics.UNKNOWN_TIER_SOURCES)
    assert "a billing export's `GOLD` is the policy's `gold`" in readme
