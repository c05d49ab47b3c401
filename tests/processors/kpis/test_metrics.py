"""Prometheus gauges of the current period, with bounded labels."""

from __future__ import annotations

from prometheus_client import REGISTRY

from processors.kpis.config import KpisSettings
from processors.kpis.metrics import KpiMetrics, SiteLabels
from processors.kpis.windows import DAY_US, HOUR_US, to_micros
from tests.processors.kpis.factories import T0

NOW = to_micros(T0) + 30 * 60 * 1_000_000  # 09:30
HOUR, DAY = to_micros(T0), to_micros(T0) - to_micros(T0) % DAY_US


def value(name: str, **labels: str) -> float | None:
    return REGISTRY.get_sample_value(name, labels)


def test_site_labels_are_the_configured_ones_then_the_first_seen_then_other():
    labels = SiteLabels(KpisSettings(sites=("paris",), max_site_labels=1))
    assert [labels(s) for s in ("lyon", "paris", "nice", "lyon")] == ["lyon", "paris", "other", "lyon"]


def test_gauges_show_the_current_hour_and_day_and_sum_sites_beyond_the_bound():
    metrics = KpiMetrics(KpisSettings(max_site_labels=1))
    metrics.refresh({
        f"HOUR|{HOUR}|CALL_CENTER|paris": {"calls_queued": 4, "calls_answered_within_threshold": 3},
        f"HOUR|{HOUR - HOUR_US}|CALL_CENTER|paris": {"calls_queued": 100, "open_handoffs:1h_4h": 2},  # last hour
        f"DAY|{DAY}|CALL_CENTER|lyon": {"calls_queued": 2, "calls_answered_within_threshold": 2},
        f"DAY|{DAY}|CALL_CENTER|nice": {"calls_queued": 2},
    }, NOW)
    assert value("omnibus_kpi_ratio", kpi="service_level", channel="CALL_CENTER", site="paris", period="hour") == 0.75
    # paris took the one free site label: lyon and nice are summed under "other"
    assert value("omnibus_kpi_measure", measure="calls_queued", channel="CALL_CENTER", site="other",
                 period="day") == 4
    assert value("omnibus_kpi_ratio", kpi="service_level", channel="CALL_CENTER", site="other", period="day") == 0.5
    assert value("omnibus_kpi_ratio", kpi="service_level", channel="CALL_CENTER", site="lyon", period="day") is None
    assert value("omnibus_kpi_open_handoffs", channel="CALL_CENTER", site="paris", age_band="1h_4h") == 2
    assert value("omnibus_kpi_ratio", kpi="first_contact_resolution", channel="CALL_CENTER", site="paris",
                 period="hour") is None  # no denominator: no sample rather than a made-up number
    metrics.refresh({}, NOW + DAY_US)  # a new day with nothing yet: yesterday's series are removed
    assert value("omnibus_kpi_ratio", kpi="service_level", channel="CALL_CENTER", site="paris", period="hour") is None
