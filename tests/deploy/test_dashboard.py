"""The Grafana dashboard queries only metrics that Omnibus registers (or the KPI processor declares)."""

from __future__ import annotations

import importlib
import json
import pkgutil
import re

from prometheus_client import REGISTRY

from deploy.monitoring import dashboard
from deploy.outputs import ROOT

PROMETHEUS_OWN = {"up"}  # written by Prometheus for every scrape target
SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "gauge": ("",), "summary": ("_sum", "_count", "")}
METRIC = re.compile(r"\b(omnibus_[a-z0-9_]+|up)\b")


def registered_metrics() -> set[str]:
    """Sample names of every metric declared by a module of bus, adapters and processors."""
    for package in ("bus", "adapters", "processors"):
        root = importlib.import_module(package)
        for module in pkgutil.walk_packages(root.__path__, prefix=f"{package}."):
            source = (ROOT / (module.name.replace(".", "/") + ".py"))
            if source.is_file() and re.search(r"\b(Counter|Gauge|Histogram)\(\s*\"omnibus_", source.read_text()):
                importlib.import_module(module.name)
    names: set[str] = set()
    for metric in REGISTRY.collect():
        names.update(metric.name + suffix for suffix in SUFFIXES.get(metric.type, ("",)))
    return names


def test_every_query_names_a_metric_that_exists() -> None:
    known = registered_metrics() | PROMETHEUS_OWN | set(dashboard.KPI_METRICS)
    used = {name for expr in dashboard.queries() for name in METRIC.findall(expr)}
    assert used and used <= known, f"unknown metrics in the dashboard: {sorted(used - known)}"


def test_kpi_metrics_match_the_kpi_processor_once_it_registers_them() -> None:
    registered = {name for name in registered_metrics() if name.startswith("omnibus_kpi_")}
    if registered:  # the KPI processor has landed: the dashboard must use its real names
        assert set(dashboard.KPI_METRICS) <= registered, sorted(set(dashboard.KPI_METRICS) - registered)


def test_kpi_and_measure_labels_name_what_the_kpi_processor_computes() -> None:
    try:
        measures = importlib.import_module("processors.kpis.measures")
    except ModuleNotFoundError:  # the KPI processor is on its way (issue #12 item 1)
        return
    kpis = {kpi.name for kpi in measures.KPIS}
    names = {member.value for member in measures.Measure}
    for expr in dashboard.queries():
        assert set(re.findall(r'kpi="([^"]+)"', expr)) <= kpis, expr
        assert set(re.findall(r'measure="([^"]+)"', expr)) <= names, expr


def test_the_dashboard_file_is_valid_grafana_json() -> None:
    model = json.loads((ROOT / "deploy/monitoring/grafana/omnibus.json").read_text())
    titles = [panel["title"] for panel in model["panels"]]
    for wanted in ("Contacts per channel", "Call-center service level", "First-contact resolution",
                   "Repeat contacts within 7 days", "Handoff deadline compliance", "Processes up", "Consumer lag"):
        assert any(title.startswith(wanted) for title in titles), wanted
    ids = [panel["id"] for panel in model["panels"]]
    assert len(ids) == len(set(ids))
    assert all(target["expr"] for panel in model["panels"] for target in panel.get("targets", []))
