import pytest

from processors.identity.graph.engine import IdentityGraph
from processors.identity.graph.local import MemoryStore
from processors.identity.graph.messages.steps import Assign, Block, Visit
from processors.identity.graph.saga import new_saga
from processors.identity.graph.state import BlockEntry, BlockState, CustomerState, IdentifierState, thaw
from processors.identity.rules import LinkPolicy
from processors.profile.book import ProfileBook
from tests.processors.identity.support import settings


def test_thaw_copies_containers_so_stored_states_never_change_in_place() -> None:
    stored = CustomerState(created=True, members={"A:1": (1, 0)}, waiting=[Assign("cus_1", 1)])
    copy = thaw(stored)
    copy.members["B:2"] = (1, 0)
    copy.waiting.append(Assign("cus_2", 2))
    assert stored == CustomerState(created=True, members={"A:1": (1, 0)}, waiting=[Assign("cus_1", 1)])


@pytest.mark.parametrize("stored", [
    CustomerState(created=True, members={"A:1": (1, 0)}, traits={"name": ["ann"]}, waiting=[Assign("cus_1", 1)],
                  do_not_merge=["cus_9"], aliases=["cus_8"], shared=["A:1"]),
    IdentifierState(owner="cus_1", waiting=[Assign("cus_1", 1)], refused_with=["cus_2"]),
    BlockState(entries={"cus_1": BlockEntry({"name": ["ann"]}, ["EMAIL"])}),
])
def test_thaw_copies_every_list_and_dict_of_every_state_kind(stored: object) -> None:
    copy = thaw(stored)  # type: ignore[type-var]
    containers = [name for name in stored.__struct_fields__  # type: ignore[attr-defined]
                  if isinstance(getattr(stored, name), list | dict)]
    assert containers and copy == stored
    assert all(getattr(copy, name) is not getattr(stored, name) for name in containers)


def test_message_kinds_a_node_does_not_take_are_errors_and_leave_no_state() -> None:
    graph = IdentityGraph(LinkPolicy(settings()), ProfileBook([]), lambda ref: None)  # type: ignore[arg-type, return-value]
    store = MemoryStore()
    with pytest.raises(ValueError, match="no handler"):
        graph.handle(store, "EMAIL:a@x.org", Block("cus_1", {}, []))
    with pytest.raises(ValueError, match="no handler"):
        graph.handle(store, "cus_1", Visit(new_saga("e", "WEB", 0, ["EMAIL:a@x.org"], None, 0.0)))
    assert store.nodes == {}


def test_the_node_modules_never_import_the_engine_so_there_is_no_cycle() -> None:
    """``engine.py`` imports the node modules at its top; they import ``context.py``, never the engine."""
    import ast
    from pathlib import Path

    import processors.identity.graph as graph

    folder = Path(graph.__file__).parent
    for module in ("identifier_node", "customer_node", "rank_node", "blocking_node", "evidence", "saga", "limits",
                   "context", "messages/__init__", "messages/base", "messages/steps", "messages/claims",
                   "messages/commands", "state", "outputs", "legacy"):
        tree = ast.parse((folder / f"{module}.py").read_text())
        imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
        assert "processors.identity.graph.engine" not in imported, module


def test_the_event_record_is_decoded_only_where_a_profile_section_reads_it() -> None:
    from processors.identity.graph.messages.base import EventRef
    from processors.identity.intake import ref_loader
    from tests.processors.identity.support import DESERIALIZER, Harness, interaction, observed

    h = Harness()
    decoded: list[str] = []
    load = ref_loader(DESERIALIZER)

    def counting(ref: EventRef):  # type: ignore[no-untyped-def]
        decoded.append(ref.schema)
        return load(ref)

    h.local.graph = IdentityGraph(LinkPolicy(h.config), h.book, counting, dedupe_window=h.config.dedupe_window)
    h.feed(observed([("EMAIL", "a@x.org")]))  # no profile section wants an IdentifiersObserved without a name
    h.feed(interaction([("EMAIL", "a@x.org"), ("PHONE", "13900000001")]))
    assert decoded == ["omnibus.contact.InteractionRecorded"]
    assert len(h.local.store.profiles) == 1
def test_a_node_keeps_its_deferred_messages_within_a_bound_and_parks_the_rest_on_the_topic() -> None:
    """#13 case 5: 10,000 tracks of a new customer in one batch queued ~5 MB on its identifier node,
    a state record Kafka refuses; now the queue stays under ``MAX_DEFERRED_BYTES`` and every event still
    settles (parked messages come back through the topic)."""
    from processors.identity.graph.context import MAX_DEFERRED_BYTES
    from processors.identity.graph.outputs import Resolved, Send
    from processors.identity.graph.state import NodeState, encode_state
    from tests.processors.identity.support import Harness, interaction

    harness, largest, parked = Harness(), 0, 0
    put_node, submit = harness.local.store.put_node, harness.local.submit

    def measured(key: str, state: NodeState | None) -> None:
        nonlocal largest
        largest = max(largest, len(encode_state(state)) if state is not None else 0)
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
