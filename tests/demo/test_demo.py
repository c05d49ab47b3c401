"""The README's main command, end to end: its own stack, every component, traffic, the screen pop."""

import pytest

from demo.people import customers, resident_id
from tests.support.demo_run import DemoRun, counted


def test_demo_customers_are_distinct_and_valid() -> None:
    people = customers(50)
    for field in ("email", "phone", "national_id", "account", "user_id"):
        assert len({getattr(p, field) for p in people}) == 50, field
    assert resident_id("11010519491231002") == "11010519491231002X"  # the standard's worked example


@pytest.mark.kafka
@pytest.mark.registry
@pytest.mark.timeout(900)  # the session's one demo run (tests/fixtures/demo.py) may start here
@pytest.mark.xdist_group("demo_run")  # on the worker of the other test of the same run: one demo, not two
def test_demo_reaches_a_screen_pop_from_every_channel(demo_run: DemoRun) -> None:
    assert demo_run.ok, demo_run.console
    # The demo runs the KPI processor too: the day's contacts are counted. Its one /metrics (printed under
    # "Still running") serves every component's metrics: adapters' and processors' alike.
    samples = [line for line in demo_run.metrics.splitlines() if not line.startswith("#")]
    for metric in ("omnibus_adapter_events_published_total", "omnibus_identity_customers_created_total"):
        assert any(line.startswith(metric) for line in samples), (metric, demo_run.metrics[:300])
    aggregates, offers = counted(demo_run.kpi_days)
    assert aggregates, "no KPI aggregate with contacts"
    assert offers and offers[-1]["offer_acceptance"] is not None, \
        "no WEB aggregate counted the offer shown and accepted"
    shown = demo_run.console
    assert "Screen pop for" in shown and "HTTP 400" in shown
    for secret in [p.email for p in customers(4)] + [p.phone for p in customers(4)]:
        assert secret not in shown  # identifiers are masked in what the demo shows
