"""The identity bench's latency breakdown: each event's time split at its first and last graph record."""

from tests.bench.identity_latency import breakdown, table


def test_an_event_s_latency_is_split_into_intake_graph_hops_and_announce() -> None:
    sent = {"a": 10.0, "b": 20.0, "lost": 30.0}
    graph = {"a": [10.1, 10.4], "b": [20.2]}
    out = {"a": 10.5, "b": 20.25}
    parts = breakdown(["a", "b", "lost"], sent, graph, out)
    assert round(parts["intake"]["mean"]) == 150  # ms: (100 + 200) / 2
    assert round(parts["graph"]["p99"]) == 300 and parts["hops"]["p50"] == 2.0
    assert round(parts["total"]["mean"]) == 375  # "lost" never came out: left out, not counted as 0
    assert table(parts)[2].startswith("| intake (ms) |")


def test_an_event_applied_at_intake_counts_in_the_total_with_no_hop() -> None:
    parts = breakdown(["a", "b"], {"a": 10.0, "b": 20.0}, {"a": [10.1, 10.4]}, {"a": 10.5, "b": 20.05})
    assert parts["hops"]["mean"] == 1.0 and round(parts["intake"]["mean"]) == 100  # only "a" went through the graph
    assert round(parts["total"]["mean"]) == 275  # ms: (500 + 50) / 2
