import pytest

from processors.identity.graph.engine import IdentityGraph, thaw
from processors.identity.graph.local import MemoryStore
from processors.identity.rules import LinkPolicy
from processors.profile.book import ProfileBook
from tests.processors.identity.support import settings


def test_thaw_copies_containers_so_stored_states_never_change_in_place() -> None:
    stored = {"m": {"A:1": 1}, "q": [{"k": "x"}], "o": "cus_1"}
    copy = thaw(stored)
    copy["m"]["B:2"] = 1
    copy["q"].append({"k": "y"})
    assert stored == {"m": {"A:1": 1}, "q": [{"k": "x"}], "o": "cus_1"}
    assert thaw(None) == {}


def test_unknown_message_kinds_are_errors_and_leave_no_state() -> None:
    graph = IdentityGraph(LinkPolicy(settings()), ProfileBook([]), lambda ref: None)  # type: ignore[arg-type, return-value]
    store = MemoryStore()
    with pytest.raises(ValueError, match="no handler"):
        graph.handle(store, "EMAIL:a@x.org", {"k": "frobnicate"})
    with pytest.raises(ValueError, match="no handler"):
        graph.handle(store, "cus_1", {"k": "visit"})
    assert store.nodes == {}


def test_a_node_keeps_its_deferred_messages_within_a_bound_and_parks_the_rest_on_the_topic() -> None:
    """#13 case 5: 10,000 tracks of a new customer in one batch queued ~5 MB on its identifier node,
    a state record Kafka refuses; now the queue stays under ``MAX_DEFERRED_BYTES`` and every event still
    settles (parked messages come back through the topic)."""
    import json

    from processors.identity.graph.engine import MAX_DEFERRED_BYTES
    from processors.identity.graph.outputs import Resolved, Send
    from tests.processors.identity.support import Harness, interaction

    harness, largest, parked = Harness(), 0, 0
    put_node, submit = harness.local.store.put_node, harness.local.submit

    def measured(key: str, state: dict | None) -> None:
        nonlocal largest
        largest = max(largest, len(json.dumps(state or {}, separators=(",", ":"))))
        put_node(key, state)

    def counted(outputs: list) -> None:
        nonlocal parked
        parked += sum(1 for output in outputs if isinstance(output, Send) and output.parked)
        submit(outputs)

    harness.local.store.put_node, harness.local.submit = measured, counted  # type: ignore[method-assign]
    events = [harness.feed(interaction([("USER_ID", "u-1")]), settle=False) for _ in range(1500)]
    harness.local.run()
    assert parked > 0
    assert MAX_DEFERRED_BYTES // 2 < largest <= MAX_DEFERRED_BYTES + 4096
    resolved = {d.triggering_event_id for d in harness.decisions(Resolved)}
    assert resolved == {event.value["envelope"]["event_id"] for event in events}
    assert len({d.customer_id for d in harness.decisions(Resolved)}) == 1
