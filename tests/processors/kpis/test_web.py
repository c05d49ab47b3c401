from datetime import UTC, datetime, timedelta

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
                        ({"from": "yesterday"}, "from must be an ISO-8601 date or instant"),
                        ({"to": "2026-13-01"}, "to must be an ISO-8601 date or instant")):
        with pytest.raises(BadQuery, match=says):
            filters(query)


async def test_the_view_answers_503_with_retry_after_while_the_worker_cannot_read_its_tables() -> None:
    """While the worker starts, stops or rebalances the view answered from tables not yet recovered, and asked
    faust's consumer for its assignment, which raises ConsumerNotStarted before the consumer runs (a 500). Now
    503 + Retry-After, as the other processors' views answer then."""
    from types import SimpleNamespace
    from typing import Any

    from faust.exceptions import ConsumerNotStarted

    from processors.kpis.peers import Held
    from processors.kpis.web import register_views

    views: dict[str, Any] = {}
    app = SimpleNamespace(page=lambda path, name: lambda handler: views.setdefault(path, handler))
    answers: list[tuple[int, dict[str, str]]] = []
    view = SimpleNamespace(json=lambda body, status=200, headers=None: answers.append((status, headers or {})))

    def not_started() -> dict:
        raise ConsumerNotStarted("Consumer thread not yet started")

    waiting: list[str | None] = ["the worker is starting or stopping"]
    register_views(app, Held(1, not_started, lambda partitions: {}), cannot_serve=lambda: waiting[0])
    await views["/kpis"](view, SimpleNamespace(query={}))
    assert answers == [(503, {"Retry-After": "2"})]
    waiting[0] = None
    views.clear()
    register_views(app, Held(1, lambda: {0}, lambda partitions: {}), cannot_serve=lambda: waiting[0])
    await views["/kpis"](view, SimpleNamespace(query={}))
    assert answers[-1][0] == 200


@pytest.mark.parametrize(("given", "read"), [
    ("2026-12-05", datetime(2026, 12, 5, tzinfo=UTC)),  # a plain date: its UTC midnight
    ("2026-12-05T10:00:00", datetime(2026, 12, 5, 10, tzinfo=UTC)),  # a time without zone: UTC's
    ("2026-12-05T10:00:00+01:00", datetime(2026, 12, 5, 9, tzinfo=UTC)),
    ("2026-12-05T10:00:00Z", datetime(2026, 12, 5, 10, tzinfo=UTC)),
])
def test_a_date_or_a_time_without_zone_is_read_as_utc_as_the_report_command_reads_it(given, read):
    """``from=2026-12-05`` (or a time without zone) was answered 500: the naive datetime reached ``to_micros``.
    Now both parameters read it as ``omnibus report kpis --from`` does (UTC when no zone is named)."""
    wanted = filters({"from": given, "to": given})
    assert wanted["start"] == read and wanted["end"] == read
    select(WINDOWS, **wanted)  # no naive datetime reaches to_micros


def test_the_report_command_and_the_view_read_an_instant_by_one_rule():
    from processors.kpis.cli import _instant

    for given in ("2026-12-05", "2026-12-05T10:00:00", "2026-12-05T10:00:00-05:00"):
        assert _instant(given) == filters({"from": given})["start"]


class _Answers(list):
    def __call__(self, body, status=200, headers=None):
        self.append((status, body))


def _view_app(held, fetch=None):
    from types import SimpleNamespace

    from processors.kpis.web import register_views

    views: dict = {}
    app = SimpleNamespace(page=lambda path, name: lambda handler: views.setdefault(path, handler))
    register_views(app, held, fetch)
    answers = _Answers()
    view = SimpleNamespace(json=answers, error=lambda status, text: answers.append((status, {"error": text})))
    return views, view, answers


async def test_the_view_answers_a_plain_date_not_500():
    from types import SimpleNamespace

    from processors.kpis.peers import Held

    views, view, answers = _view_app(Held(1, lambda: {0}, lambda partitions: dict(WINDOWS)))
    await views["/kpis"](view, SimpleNamespace(query={"from": "2026-03-02", "to": "2026-03-03"}))
    assert answers[-1][0] == 200 and len(answers[-1][1]["aggregates"]) == 2
    await views["/kpis"](view, SimpleNamespace(query={"from": "2026-03-02T10:00:00"}))
    assert [a["channel"] for a in answers[-1][1]["aggregates"]] == ["WEB"]
    await views["/kpis"](view, SimpleNamespace(query={"to": "tomorrow"}))
    assert answers[-1][0] == 400 and answers[-1][1]["error"].startswith("to must be")


async def test_the_view_says_when_its_counts_lack_records_that_wait() -> None:
    """During a registry outage ``/kpis`` answered 200 with counts lacking the records waiting, and nothing said so
    (``/ready`` was 503). The answer's ``held_back`` is the worker's ``/ready`` reason then, with the header; null and
    no header when it is ready."""
    from types import SimpleNamespace

    from bus.readiness import HELD_BACK_HEADER
    from processors.kpis.peers import Held
    from processors.kpis.web import register_views

    views: dict = {}
    app = SimpleNamespace(page=lambda path, name: lambda handler: views.setdefault(path, handler))
    answers: list = []
    view = SimpleNamespace(json=lambda body, status=200, headers=None: answers.append((status, body, headers)))
    held_back: list[str | None] = ["the schema registry has not answered for 20 s: processing waits and retries (...)"]
    register_views(app, Held(1, lambda: {0}, lambda partitions: dict(WINDOWS)), held_back=lambda: held_back[0])
    await views["/kpis"](view, SimpleNamespace(query={}))
    status, body, headers = answers[-1]
    assert status == 200 and len(body["aggregates"]) == len(WINDOWS)
    assert body["held_back"] == held_back[0] and headers == {HELD_BACK_HEADER: "true"}
    held_back[0] = None
    await views["/kpis"](view, SimpleNamespace(query={}))
    status, body, headers = answers[-1]
    assert status == 200 and body["held_back"] is None and not headers
