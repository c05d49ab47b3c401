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
