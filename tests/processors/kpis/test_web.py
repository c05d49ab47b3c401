from datetime import timedelta

from processors.kpis.web import render, select
from processors.kpis.windows import to_micros
from tests.processors.kpis.factories import T0

WINDOWS = {
    f"HOUR|{to_micros(T0)}|CALL_CENTER|paris": {"calls_queued": 2, "calls_abandoned": 1},
    f"HOUR|{to_micros(T0 + timedelta(hours=1))}|WEB|": {"contacts": 1, "open_handoffs:gt_3d": 1},
}


def test_render_gives_counts_bands_and_ratios():
    found = render(f"HOUR|{to_micros(T0)}|CALL_CENTER|paris", WINDOWS[f"HOUR|{to_micros(T0)}|CALL_CENTER|paris"])
    assert found["window_start"] == T0.isoformat() and found["site"] == "paris"
    assert found["kpis"]["abandonment_rate"] == 0.5 and found["kpis"]["service_level"] == 0.0
    assert found["open_handoffs"]["gt_3d"] == 0 and found["counts"]["contacts"] == 0


def test_select_filters_by_granularity_time_channel_and_site():
    assert [w["channel"] for w in select(WINDOWS)] == ["CALL_CENTER", "WEB"]
    assert [w["channel"] for w in select(WINDOWS, start=T0 + timedelta(minutes=30))] == ["WEB"]
    assert [w["channel"] for w in select(WINDOWS, end=T0 + timedelta(minutes=30))] == ["CALL_CENTER"]
    assert select(WINDOWS, channel="web", site="")[0]["open_handoffs"]["gt_3d"] == 1
    assert select(WINDOWS, granularity="DAY") == []
