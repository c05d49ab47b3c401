from processors.replay.compare import compare


def test_compare_lists_what_differs_field_by_field_and_what_one_side_lacks():
    result = compare({"a": {"x": 1}, "b": {"x": 1, "y": 2}, "c": {}}, {"a": {"x": 1}, "b": {"x": 1, "y": 3}, "d": {}})
    assert (result.same, result.only_rebuilt, result.only_running) == (1, ["c"], ["d"])
    assert not result.equal
    assert result.details() == ["  b: y rebuilt 2 running 3", "  c: only in the rebuilt state",
                                "  d: only in the running state"]
    assert compare({"a": 1}, {"a": 1}).equal
