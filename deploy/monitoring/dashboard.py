"""The Grafana dashboard of Omnibus: the KPIs, then the health of every process, declared once.

``render()`` returns the dashboard JSON (Grafana's dashboard model, schemaVersion 39) with a
``datasource`` template variable, so it imports into any Grafana with a Prometheus data source.
Every query names only metrics that a module of Omnibus registers, Prometheus' own ``up``, or a KPI
metric listed in ``KPI_METRICS`` (the KPI processor's names, see docs/kpis.md); a test checks it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

UID = "omnibus-overview"
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
GRID_WIDTH, PANEL_HEIGHT = 24, 8

# The KPI processor's gauges (processors/kpis/metrics.py, definitions in docs/kpis.md): labels kpi or
# measure, channel, site, period (hour, day); open handoffs by age_band.
KPI_METRICS = ("omnibus_kpi_ratio", "omnibus_kpi_measure", "omnibus_kpi_open_handoffs")


@dataclass(frozen=True, slots=True)
class Panel:
    title: str
    queries: tuple[tuple[str, str], ...]  # (PromQL, legend)
    unit: str = "short"  # Grafana unit id: short, percentunit, s, reqps
    width: int = 8
    kind: str = "timeseries"


def _measure(name: str, period: str, by: str) -> str:
    return f'sum by ({by}) (omnibus_kpi_measure{{measure="{name}",period="{period}"}})'


def _share(numerator: str, denominator: str, period: str, by: str) -> str:
    """A KPI re-aggregated over sites from its measures (a mean of per-site ratios would be wrong)."""
    return f"{_measure(numerator, period, by)}\n/ {_measure(denominator, period, by)}"


KPIS = (
    Panel("Contacts per channel (this hour)", ((_measure("contacts", "hour", "channel"), "{{channel}}"),),
          kind="barchart"),
    Panel("Call-center service level (this hour)", (
        ('omnibus_kpi_ratio{kpi="service_level",period="hour"}', "{{site}}"),), unit="percentunit"),
    Panel("Abandonment (this hour)", (('omnibus_kpi_ratio{kpi="abandonment_rate",period="hour"}', "{{site}}"),),
          unit="percentunit"),
    Panel("First-contact resolution (today)", ((_share("fcr_resolved", "fcr_eligible", "day", "channel"),
                                                "{{channel}}"),), unit="percentunit"),
    Panel("Repeat contacts within 7 days (today)", ((_share("repeat_contacts_7d", "identified_contacts", "day",
                                                            "channel"), "{{channel}}"),), unit="percentunit"),
    Panel("Handoff deadline compliance (today)", ((_share("handoffs_resolved_within_deadline", "handoffs_resolved",
                                                          "day", "site"), "{{site}}"),), unit="percentunit"),
    Panel("Open handoffs by age (end of last hour)", (("sum by (age_band) (omnibus_kpi_open_handoffs)",
                                                       "{{age_band}}"),)),
    Panel("Offer acceptance (today)", ((_share("offers_accepted", "offers_presented", "day", "channel"),
                                        "{{channel}}"),), unit="percentunit"),
)

HEALTH = (
    Panel("Processes up", (('up{job=~"omnibus-.*"}', "{{job}} {{instance}}"),), kind="stat"),
    Panel("Workers ready", (("omnibus_processor_ready", "{{component}}"),), kind="stat"),
    Panel("Consumer lag (records)", (("sum by (component, topic) (omnibus_consumer_lag)", "{{component}} {{topic}}"),)),
    Panel("Offsets committed per second", (
        ("sum by (component) (deriv(omnibus_consumer_committed_offset[5m]))", "{{component}}"),)),
    Panel("Events published per second", (("sum by (topic) (rate(omnibus_events_published_total[5m]))", "{{topic}}"),),
          unit="reqps"),
    Panel("Publish latency p99", ((
        "histogram_quantile(0.99, sum by (le, topic) (rate(omnibus_publish_latency_seconds_bucket[5m])))",
        "{{topic}}"),), unit="s"),
    Panel("Dead letters per second", ((
        "sum by (component, error_type) (rate(omnibus_dead_letters_total[5m]))", "{{component}} {{error_type}}"),),
        unit="reqps"),
    Panel("Adapter input: received and refused", (
        ("sum by (adapter) (rate(omnibus_adapter_records_received_total[5m]))", "{{adapter}} received"),
        ("sum by (adapter) (rate(omnibus_adapter_records_rejected_total[5m]))", "{{adapter}} refused"),
        ("sum by (adapter) (rate(omnibus_adapter_unavailable_total[5m]))", "{{adapter}} 503 (Kafka)"),
    ), unit="reqps"),
    Panel("Requests refused for their credentials (401)", ((
        "sum by (component, reason) (rate(omnibus_requests_unauthorized_total[5m]))", "{{component}} {{reason}}"),),
        unit="reqps"),
    Panel("Adapter request-to-ack p99", ((
        "histogram_quantile(0.99, sum by (le, adapter) (rate(omnibus_adapter_ack_latency_seconds_bucket[5m])))",
        "{{adapter}}"),), unit="s"),
    Panel("Identity: events resolved per second", ((
        "sum by (outcome) (rate(omnibus_identity_events_resolved_total[5m]))", "{{outcome}}"),), unit="reqps"),
    Panel("Identity: graph update latency p99", ((
        "histogram_quantile(0.99, sum by (le) (rate(omnibus_identity_graph_update_latency_seconds_bucket[5m])))",
        "p99"),), unit="s"),
    Panel("Open handoffs by age", (("sum by (age_band) (omnibus_handoff_open)", "{{age_band}}"),)),
    Panel("Handoffs unacknowledged, breaches", (
        ("sum by (team) (omnibus_handoff_unacknowledged)", "{{team}} unacknowledged"),
        ("sum by (team) (increase(omnibus_handoff_breaches_total[1h]))", "{{team}} breaches/h"),
    )),
)

ROWS: tuple[tuple[str, tuple[Panel, ...]], ...] = (("KPIs", KPIS), ("Health of every process", HEALTH))


def _panel(panel: Panel, panel_id: int, x: int, y: int) -> dict[str, Any]:
    return {
        "id": panel_id, "type": panel.kind, "title": panel.title, "datasource": DATASOURCE,
        "gridPos": {"h": PANEL_HEIGHT, "w": panel.width, "x": x, "y": y},
        "fieldConfig": {"defaults": {"unit": panel.unit}, "overrides": []},
        "targets": [{"refId": chr(ord("A") + n), "datasource": DATASOURCE, "expr": expr, "legendFormat": legend}
                    for n, (expr, legend) in enumerate(panel.queries)],
    }


def render() -> dict[str, Any]:
    panels: list[dict[str, Any]] = []
    y = 0
    for title, row in ROWS:
        panels.append({"id": len(panels) + 1, "type": "row", "title": title, "collapsed": False,
                       "gridPos": {"h": 1, "w": GRID_WIDTH, "x": 0, "y": y}, "panels": []})
        y += 1
        x = 0
        for panel in row:
            if x + panel.width > GRID_WIDTH:
                x, y = 0, y + PANEL_HEIGHT
            panels.append(_panel(panel, len(panels) + 1, x, y))
            x += panel.width
        y += PANEL_HEIGHT
    return {
        "uid": UID, "title": "Omnibus", "tags": ["omnibus"], "timezone": "browser", "schemaVersion": 39,
        "editable": True, "refresh": "30s", "time": {"from": "now-24h", "to": "now"},
        "templating": {"list": [{"name": "datasource", "type": "datasource", "query": "prometheus",
                                 "label": "Prometheus", "current": {}, "hide": 0}]},
        "panels": panels,
    }


def queries() -> list[str]:
    """Every PromQL expression of the dashboard."""
    return [expr for _, row in ROWS for panel in row for expr, _ in panel.queries]
