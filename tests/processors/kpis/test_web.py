from datetime import timedelta

import pytest

from processors.kpis.web import BadQuery, filters, render, select
from processors.kpis.windows import to_micros
from tests.processors.kpis.factories import T0

WINDOWS = {
    f"HOUR|{to_micros(T0)}|CALL_CENTER|paris": {"calls_queued": 2, "calls_abandoned": 1},
    f"HOUR|{to_micros(T0 + timedelta(hours=1))}|WEB|": {"contacts": 1, "open_handoffs:gt_3d": 1},
}


def test_render_gives_counts_bands_and_ratios():
    found = render(f"HOUR|{to_micros(T0)}|CALL_CENTER|paris", WINDOWS[f"HOUR|{to_micros(T0)}|CALL_CENTER|paris"])
    assert found["window_start"] == T0.isoformat() and found["site"] == "paris"
    assert found["kpis"]["abandonment_rate"] == 0.5 and found["kpis"]["service_level"] == 0.0
    assert found["open_handoffs"]["gt_3d"] == 0 and found["counts"]["contacts"] == 0


def test_a_window_that_has_not_ended_has_no_open_handoff_snapshot_yet():
    """Before its end a window's open handoffs are unknown, not 0: the snapshot is taken when the window ends."""
    key = f"HOUR|{to_micros(T0)}|CALL_CENTER|paris"
    end_us = to_micros(T0 + timedelta(hours=1))
    assert render(key, {"contacts": 3}, now_us=end_us - 1)["open_handoffs"] is None
    assert render(key, {"contacts": 3}, now_us=end_us)["open_handoffs"]["lt_1h"] == 0


def test_select_filters_by_granularity_time_channel_and_site():
    assert [w["channel"] for w in select(WINDOWS)] == ["CALL_CENTER", "WEB"]
    assert [w["channel"] for w in select(WINDOWS, start=T0 + timedelta(minutes=30))] == ["WEB"]
    assert [w["channel"] for w in select(WINDOWS, end=T0 + timedelta(minutes=30))] == ["CALL_CENTER"]
    assert select(WINDOWS, channel="web", site="")[0]["open_handoffs"]["gt_3d"] == 1
    assert select(WINDOWS, granularity="DAY") == []


def test_query_filters_are_read_case_insensitively_and_bad_values_refused_with_what_is_accepted():
    assert filters({"granularity": "day", "channel": "web", "from": T0.isoformat()}) == {
        "granularity": "day", "start": T0, "end": None, "channel": "web", "site": None}
    assert filters({}) == {"granularity": None, "start": None, "end": None, "channel": None, "site": None}
    for query, says in (({"granularity": "WEEK"}, "granularity must be one of HOUR, DAY, not 'WEEK'"),
                        ({"channel": "fax"}, "channel must be one of "),
                        ({"from": "yesterday"}, "from/to must be ISO-8601 instants")):
        with pytest.raises(BadQuery, match=says):
            filters(query)


async def test_the_view_answers_503_with_retry_after_while_the_worker_cannot_read_its_tables() -> None:
    """While the worker starts, stops or rebalances the view answered from tables not yet recovered, and asked
    faust's consumer for its assignment, which raises ConsumerNotStarted before the consumer runs (a 500). Now
    503 + Retry-After, as the other processors' views answer then."""
    from types import SimpleNamespace
    from typing import Any

    from faust.exceptions import ConsumerNotStarted

    from processors.kpis.web import register_views

    views: dict[str, Any] = {}
    app = SimpleNamespace(page=lambda path, name: lambda handler: views.setdefault(path, handler))
    answers: list[tuple[int, dict[str, str]]] = []
    view = SimpleNamespace(json=lambda body, status=200, headers=None: answers.append((status, headers or {})))

    def not_started() -> dict:
        raise ConsumerNotStarted("Consumer thread not yet started")

    waiting: list[str | None] = ["the worker is starting or stopping"]
    register_views(app, not_started, lambda: False, cannot_serve=lambda: waiting[0])
    await views["/kpis"](view, SimpleNamespace(query={}))
    assert answers == [(503, {"Retry-After": "2"})]
    waiting[0] = None
    views.clear()
    register_views(app, lambda: {}, lambda: False, cannot_serve=lambda: waiting[0])
    await views["/kpis"](view, SimpleNamespace(query={}))
    assert answers[-1][0] == 200
