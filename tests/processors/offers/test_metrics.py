from prometheus_client import REGISTRY

from processors.offers import metrics


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_batch_counts_reach_the_counters() -> None:
    before = value("omnibus_offers_suppressed_total", reason="quiet_hours", channel="WEB")
    drift = value("omnibus_offers_version_drift_total", channel="BRANCH")
    skipped = value("omnibus_offers_unresolved_total", outcome="skipped")
    metrics.record([("suppressed", ("quiet_hours", "WEB")), ("version_drift", ("BRANCH",)),
                    ("signal", ("REPEAT_CONTACT",)), ("unresolved_parked", ()), ("unresolved_skipped", ())])
    assert value("omnibus_offers_unresolved_total", outcome="skipped") == skipped + 1
    assert value("omnibus_offers_suppressed_total", reason="quiet_hours", channel="WEB") == before + 1
    assert value("omnibus_offers_version_drift_total", channel="BRANCH") == drift + 1
    count = value("omnibus_offers_accept_to_withdraw_seconds_count")
    metrics.accept_to_withdraw([0.2, 0.4])
    assert value("omnibus_offers_accept_to_withdraw_seconds_count") == count + 2
