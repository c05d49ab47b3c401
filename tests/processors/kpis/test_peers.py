"""Any worker answers every window: the asked worker gathers the other partitions' windows from their owners."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from processors.kpis.peers import NOT_OWNED, Held, PeerUnavailable, gather
from processors.kpis.rollup import partition_of
from processors.kpis.web import filters, matching, register_views
from processors.kpis.windows import to_micros
from tests.processors.kpis.factories import T0

COUNT = 4
# hours of three channels: windows on every one of the four partitions
ALL = {f"HOUR|{to_micros(T0 + timedelta(hours=h))}|{channel}|": {"contacts": h + 1}
       for h in range(8) for channel in ("WEB", "BRANCH", "CALL_CENTER")}
assert {partition_of(key, COUNT) for key in ALL} == set(range(COUNT))


def of(partitions: set[int]) -> dict[str, dict[str, int]]:
    return {key: counts for key, counts in ALL.items() if partition_of(key, COUNT) in partitions}


class Worker:
    """A worker owning ``partitions``, answering ``/kpis/partitions`` through its registered view."""

    def __init__(self, partitions: set[int], peers: dict[str, Worker] | None = None) -> None:
        self.partitions, self.peers, self.views, self.asked = partitions, peers or {}, {}, []
        self.stopped = False  # its web server does not answer (the asker's fetch times out)
        app = SimpleNamespace(page=lambda path, name: lambda handler: self.views.setdefault(path, handler))
        held = Held(COUNT, lambda: self.partitions, of,
                    lambda: {url: peer.partitions for url, peer in self.peers.items()})
        register_views(app, held, self.fetch)

    async def fetch(self, url: str, query: Mapping[str, str]) -> dict[str, Any]:
        peer = self.peers[url]
        self.asked.append((url, dict(query)))
        if peer.stopped:
            raise PeerUnavailable("TimeoutError")
        status, body = await peer.call("/kpis/partitions", query)
        if status != 200:
            raise PeerUnavailable(f"it answered {status}")
        return body

    async def call(self, path: str, query: Mapping[str, str]) -> tuple[int, dict[str, Any]]:
        answers: list[tuple[int, dict[str, Any]]] = []
        view = SimpleNamespace(json=lambda body, status=200, headers=None: answers.append((status, body)),
                               error=lambda status, text: answers.append((status, {"error": text})))
        await self.views[path](view, SimpleNamespace(query=dict(query)))
        return answers[0]


def keys(answer: dict[str, Any]) -> set[tuple[str, str]]:
    return {(a["window_start"], a["channel"]) for a in answer["aggregates"]}


EVERY = {(a["window_start"], a["channel"]) for a in
         [{"window_start": (T0 + timedelta(hours=h)).isoformat(), "channel": c}
          for h in range(8) for c in ("WEB", "BRANCH", "CALL_CENTER")]}


async def test_either_of_two_workers_answers_every_window_not_partial() -> None:
    """With two workers each answered only its windows (``partial: true``): a dashboard behind a Service got a
    different half per request. Now the worker asked gathers the other's, and the same query answers the same."""
    one, two = Worker({0, 2}), Worker({1, 3})
    one.peers, two.peers = {"http://two:6066": two}, {"http://one:6066": one}
    for worker in (one, two):
        status, answer = await worker.call("/kpis", {"granularity": "HOUR"})
        assert status == 200 and answer["partial"] is False and answer["missing"] == []
        assert keys(answer) == EVERY
    assert one.asked[0][1]["partitions"] == "1,3" and one.asked[0][1]["granularity"] == "HOUR"


async def test_the_filters_are_passed_on_and_read_by_the_owner_as_by_the_asked() -> None:
    one, two = Worker({0, 1}), Worker({2, 3})
    one.peers = {"http://two:6066": two}
    query = {"channel": "web", "from": (T0 + timedelta(hours=2)).replace(tzinfo=None).isoformat(), "to": "2026-03-03"}
    status, answer = await one.call("/kpis", query)
    assert status == 200 and answer["partial"] is False
    assert keys(answer) == {(s, c) for s, c in EVERY if c == "WEB" and s >= (T0 + timedelta(hours=2)).isoformat()}
    assert {k: v for k, v in one.asked[0][1].items() if k != "partitions"} == query


async def test_an_owner_that_does_not_answer_makes_the_answer_partial_naming_its_partitions_and_why() -> None:
    one, two, three = Worker({0}), Worker({1, 2}), Worker({3})
    three.stopped = True
    one.peers = {"http://two:6066": two, "http://three:6066": three}
    status, answer = await one.call("/kpis", {})
    assert status == 200 and answer["partial"] is True
    assert answer["missing"] == [{"partitions": [3], "reason": "the worker at http://three:6066 that owns them did "
                                                             "not answer: TimeoutError"}]
    assert {(a["window_start"], a["channel"]) for a in answer["aggregates"]} == {
        (s, c) for s, c in EVERY if partition_of(f"HOUR|{to_micros(_at(s))}|{c}|", COUNT) != 3}


def _at(iso: str) -> Any:
    from datetime import datetime

    return datetime.fromisoformat(iso)


async def test_partitions_no_member_owns_or_an_owner_gave_up_are_named_too() -> None:
    """A rebalance: the assignment the asked worker knows is older than the owner's, or names no owner."""
    two = Worker({1})  # the group's assignment says {1, 2}; it no longer owns 2
    found = await gather({1, 2, 3}, Held(COUNT, lambda: {0}, of, lambda: {"http://two:6066": {1, 2}}), {},
                         Worker({0}, {"http://two:6066": two}).fetch)
    assert set(found.windows) == set(of({1}))
    assert found.missing == [
        {"partitions": [2], "reason": "the worker at http://two:6066 no longer owns them (a rebalance under way)"},
        {"partitions": [3], "reason": NOT_OWNED}]


async def test_a_partition_two_members_answer_for_is_taken_once() -> None:
    one, two = Worker({1, 2}), Worker({2, 3})
    found = await gather({1, 2, 3}, Held(COUNT, lambda: {0}, of,
                                         lambda: {"http://one:6066": {1, 2}, "http://two:6066": {2, 3}}), {},
                         Worker({0}, {"http://one:6066": one, "http://two:6066": two}).fetch)
    assert found.windows == of({1, 2, 3}) and found.missing == []


async def test_the_internal_view_answers_only_the_asked_partitions_it_owns_and_refuses_bad_ones() -> None:
    worker = Worker({0, 1})
    status, answer = await worker.call("/kpis/partitions", {"partitions": "1,2", "channel": "WEB"})
    assert status == 200 and answer["partitions"] == [1]
    assert answer["windows"] == matching(of({1}), **filters({"channel": "WEB"}))
    for bad in ("x", "4", "-1"):
        status, answer = await worker.call("/kpis/partitions", {"partitions": bad})
        assert status == 400 and answer["error"].startswith("partitions must")


async def test_without_a_way_to_ask_the_others_the_answer_says_which_partitions_it_lacks() -> None:
    views: dict[str, Any] = {}
    register_views(SimpleNamespace(page=lambda path, name: lambda h: views.setdefault(path, h)),
                   Held(COUNT, lambda: {0, 1}, of))
    answers: list[Any] = []
    view = SimpleNamespace(json=lambda body, status=200, headers=None: answers.append(body))
    await views["/kpis"](view, SimpleNamespace(query={}))
    assert answers[0]["partial"] is True and answers[0]["missing"][0]["partitions"] == [2, 3]


@pytest.mark.parametrize("error", [KeyError("partitions"), RuntimeError("a bug")])
async def test_an_owner_answer_the_code_cannot_read_is_not_hidden_as_a_missing_partition(error) -> None:
    async def fetch(url: str, query: Mapping[str, str]) -> dict[str, Any]:
        raise error

    with pytest.raises(type(error)):
        await gather({1}, Held(COUNT, lambda: {0}, of, lambda: {"http://two:6066": {1}}), {}, fetch)
