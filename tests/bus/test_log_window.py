from bus.log_window import LogWindow


def test_the_first_of_a_kind_is_due_at_once_then_one_line_per_window_with_the_count() -> None:
    now = [0.0]
    window = LogWindow(30.0, clock=lambda: now[0])
    assert window.due("send") == 1
    for second in range(1, 30):
        now[0] = float(second)
        assert window.due("send") is None
    assert window.due("start") == 1  # each kind has its own window
    now[0] = 30.0
    assert window.due("send") == 30  # the 29 held back and this one
    assert window.due("send") is None


def test_a_held_count_is_taken_once_and_starts_the_next_window() -> None:
    now = [0.0]
    window = LogWindow(30.0, clock=lambda: now[0])
    assert window.take("send") == 0 and window.closes_in("send") == 0.0  # nothing yet: nothing to write
    window.due("send")
    now[0] = 10.0
    assert window.due("send") is None and window.due("send") is None
    assert window.held_kinds() == ["send"] and window.closes_in("send") == 20.0
    now[0] = 30.0
    assert window.take("send") == 2  # written at the window's end, not with the next occurrence
    assert window.take("send") == 0 and window.held_kinds() == []
    now[0] = 40.0
    assert window.due("send") is None  # the line at 30 s started a window: still one line per window
    now[0] = 60.0
    assert window.due("send") == 2
