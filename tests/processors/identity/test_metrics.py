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


def test_a_contact_moved_by_a_split_is_not_counted_as_one_more_resolved_event() -> None:
    """#8 point 7: the re-publication under the new customer (``Resolved.moved_by``) is no input event."""
    from processors.identity.graph.outputs import Resolved

    def resolved() -> float:
        return REGISTRY.get_sample_value("omnibus_identity_events_resolved_total", {"outcome": "resolved"}) or 0.0

    before = resolved()
    metrics.observe([Resolved("cus_a", None, "ev-1"), Resolved("cus_b", None, "ev-1", moved_by="split-1")], 0.0)
    assert resolved() == before + 1


def test_graph_messages_among_a_batchs_outputs_move_no_counter() -> None:
    from processors.identity.graph.messages.steps import Assign
    from processors.identity.graph.outputs import Send

    def samples() -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
                for family in REGISTRY.collect() if family.name.startswith("omnibus_identity_")
                for sample in family.samples if not sample.name.endswith("_created")}

    before = samples()
    metrics.observe([Send("cus_a", Assign("cus_a", 1)), Send("PHONE:+33600000001", Assign("cus_a", 2))], 0.0)
    assert samples() == before
