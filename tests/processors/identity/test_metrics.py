"""Identity metrics: what a batch of graph outputs moves."""

from __future__ import annotations

from prometheus_client import REGISTRY

from processors.identity import metrics
from processors.identity.graph.outputs import SharedMarked, SharedRevoked


def test_a_revoked_shared_flag_is_counted_by_type_apart_from_the_marked_ones() -> None:
    def value(name: str) -> float:
        return REGISTRY.get_sample_value(name, {"type": "PHONE"}) or 0.0

    revoked, marked = value("omnibus_identity_shared_revoked_total"), value("omnibus_identity_shared_identifiers_total")
    metrics.observe([SharedRevoked("PHONE:+33600000001", 0), SharedMarked("PHONE:+33600000002", 4)], 0.0)
    assert value("omnibus_identity_shared_revoked_total") == revoked + 1
    assert value("omnibus_identity_shared_identifiers_total") == marked + 1
