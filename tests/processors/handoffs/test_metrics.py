from datetime import timedelta

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
    assert OPEN.labels(team="back-office", age="lt_1h")._value.get() == 1
    assert UNACKNOWLEDGED.labels(team="back-office")._value.get() == 1
    metrics.refresh_open([], now)
    assert OPEN.labels(team="back-office", age="lt_1h")._value.get() == 0
    assert age_bucket(10 * 86400) == "gt_3d"
