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


def test_pruned_entries_are_counted_by_table_and_reason() -> None:
    expired = value("omnibus_offers_pruned_total", table="pending", reason="expired")
    placements = value("omnibus_offers_pruned_total", table="directory", reason="expired")
    metrics.record([("pruned", ("pending", "expired")), ("pruned", ("pending", "expired")),
                    ("pruned", ("directory", "expired"))])
    assert value("omnibus_offers_pruned_total", table="pending", reason="expired") == expired + 2
    assert value("omnibus_offers_pruned_total", table="directory", reason="expired") == placements + 1
