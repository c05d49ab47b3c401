from processors.handoffs.due_index import DueIndex


def test_due_index_pops_in_order_and_once() -> None:
    index = DueIndex()
    states = [("a", {"next_due_us": 30, "partition": 0}), ("b", {"next_due_us": 10, "partition": 0}),
              ("c", {"next_due_us": 5, "partition": 1}), ("d", None), ("e", {"next_due_us": None, "partition": 0})]
    index.rebuild(states, [0, 1, 2])
    assert index.is_built(2) and len(index) == 3
    index.schedule(0, "b", 20)  # b moved: its old entry goes stale
    assert index.pop_due(0, 25) == ["b"]  # the stale and the fresh entry pop as one id
    assert index.next_due(0) == 30 and index.pop_due(0, 29) == []
    index.schedule(5, "z", 1)  # partition 5 is not built: left to the next rebuild
    assert index.pop_due(5, 100) == []
    index.invalidate()
    assert not index.is_built(0) and len(index) == 0
