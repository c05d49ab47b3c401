import importlib
import os
import pkgutil
import shutil
import subprocess
import urllib.error
import urllib.request

import pytest
from structlog.testing import capture_logs

from bus.config import MetricsSettings
from bus.metrics import DEAD_LETTERS, EVENTS_PUBLISHED, PUBLISH_LATENCY, serve_metrics


def import_every_metrics_module() -> list[str]:
    """Metrics are declared at import: load every ``metrics`` module so all of them are checked."""
    names = []
    for package in ("bus", "adapters", "processors"):
        root = importlib.import_module(package)
        for info in pkgutil.walk_packages(root.__path__, prefix=f"{package}."):
            if info.name.rsplit(".", 1)[-1] == "metrics":
                importlib.import_module(info.name)
                names.append(info.name)
    return names


@pytest.fixture
def scraped() -> str:
    import_every_metrics_module()
    EVENTS_PUBLISHED.labels(topic="omnibus.contact.events.v1").inc()
    PUBLISH_LATENCY.labels(topic="omnibus.contact.events.v1").observe(0.004)
    DEAD_LETTERS.labels(component="adapter.web", error_type="RejectedInput.bad_json").inc()
    server = serve_metrics(MetricsSettings(port=0), component="test")
    assert server is not None
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/metrics", timeout=5) as response:
            return response.read().decode()
    finally:
        server.stop()


def test_metrics_are_served_over_http(scraped: str) -> None:
    assert 'omnibus_events_published_total{topic="omnibus.contact.events.v1"}' in scraped
    assert "omnibus_publish_latency_seconds_bucket" in scraped
    assert 'omnibus_dead_letters_total{component="adapter.web",error_type="RejectedInput.bad_json"}' in scraped


def test_no_created_series_are_exported(scraped: str) -> None:
    """tester11 #6: every counter also exported ``*_created`` (prometheus_client's default), doubling the series."""
    assert [line for line in scraped.splitlines() if "_created{" in line or "_created " in line] == []


def test_one_idea_has_one_label_name_across_metrics() -> None:
    """tester11 #6: ``omnibus_handoff_open{age}`` and ``omnibus_kpi_open_handoffs{age_band}`` named one idea twice."""
    from prometheus_client import REGISTRY

    import_every_metrics_module()
    labels = {name for collector in list(REGISTRY._collector_to_names)  # noqa: SLF001
              if any(n.startswith("omnibus_") for n in REGISTRY._collector_to_names[collector])  # noqa: SLF001
              for name in getattr(collector, "_labelnames", ())}
    assert "age" not in labels and "age_band" in labels


def test_promtool_finds_no_naming_problems(scraped: str) -> None:
    if shutil.which("promtool") is None:
        pytest.fail("promtool is missing: scripts/bootstrap.sh installs it from Debian's prometheus package")
    result = subprocess.run(["promtool", "check", "metrics"], input=scraped, capture_output=True, text=True)
    assert result.returncode == 0 and not result.stdout.strip() and not result.stderr.strip(), (
        result.stdout + result.stderr
    )


def test_only_the_metrics_path_is_served() -> None:
    """A probe pointed at the metrics port by mistake (``/ready``, ``/``) gets a 404, not the metrics page."""
    server = serve_metrics(MetricsSettings(port=0), component="test")
    assert server is not None
    try:
        for path in ("/ready", "/", "/metricsx"):
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(f"http://127.0.0.1:{server.port}{path}", timeout=5)
            assert refused.value.code == 404, path
        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/metrics?name[]=x", timeout=5) as response:  # noqa: S310
            assert response.status == 200
    finally:
        server.stop()


def test_the_line_giving_the_metrics_port_names_whose_it_is(monkeypatch: pytest.MonkeyPatch) -> None:
    """tester35 F11: with OMNIBUS_METRICS__PORT=0 beside several processes, "metrics endpoint listening" named a port
    and no component: the reader had to know which process wrote it."""
    from bus import metrics as metrics_module
    from bus.logging import get_logger

    # a new lazy logger, first used inside capture_logs: the module's own may be cached by an earlier test in this
    # process (structlog's cache_logger_on_first_use), and then capture_logs sees nothing (CI, 2026-12-04)
    monkeypatch.setattr(metrics_module, "log", get_logger(metrics_module.__name__))
    with capture_logs() as lines:
        server = serve_metrics(MetricsSettings(port=0), component="adapter.web")
    assert server is not None
    server.stop()
    (line,) = [line for line in lines if line["event"] == "metrics endpoint listening"]
    assert (line["component"], line["pid"], line["port"]) == ("adapter.web", os.getpid(), server.port)


def test_disabled_metrics_serve_nothing() -> None:
    assert serve_metrics(MetricsSettings(enabled=False), component="test") is None


def test_a_heartbeat_is_served_as_live_on_the_metrics_port() -> None:
    """tester11 #8: the legacy relay serves no HTTP besides /metrics; its loop's heartbeat is its /live."""
    import json

    from bus.heartbeat import Heartbeat

    now = [100.0]
    heartbeat = Heartbeat("adapter.legacy", 30, clock=lambda: now[0])
    server = serve_metrics(MetricsSettings(port=0), heartbeat, component="test")
    assert server is not None
    try:
        url = f"http://127.0.0.1:{server.port}/live"
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310
            assert response.status == 200 and json.loads(response.read())["live"] is True
        now[0] += 31
        with pytest.raises(urllib.error.HTTPError) as wedged:
            urllib.request.urlopen(url, timeout=5)  # noqa: S310
        body = json.loads(wedged.value.read())
        assert wedged.value.code == 503 and body["reason"] == "its loop has not moved for 31 s (limit 30 s)"
        heartbeat.beat()
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310
            assert response.status == 200
    finally:
        server.stop()
    plain = serve_metrics(MetricsSettings(port=0), component="test")  # no heartbeat: /live is not served
    assert plain is not None
    try:
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(f"http://127.0.0.1:{plain.port}/live", timeout=5)  # noqa: S310
        assert missing.value.code == 404
    finally:
        plain.stop()
