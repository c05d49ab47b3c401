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
