"""The upload loop against a scripted stand-in adapter: what each answer does to the journal."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from adapters.branch.agent.config import AgentSettings
from adapters.branch.agent.journal import Journal
from adapters.branch.agent.uploader import Backoff, Uploader
from tests.adapters.branch.agent.test_journal import ticket

Answer = Callable[[dict[str, Any]], web.Response]


class StandInAdapter:
    """Answers uploads with the scripted responses, in turn; records what it received."""

    def __init__(self) -> None:
        self.script: list[Answer] = []
        self.uploads: list[dict[str, Any]] = []

    async def handle(self, request: web.Request) -> web.Response:
        upload = await request.json()
        self.uploads.append({"auth": request.headers.get("Authorization"), **upload})
        answer = self.script.pop(0) if self.script else ok
        return answer(upload)


def ok(upload: dict[str, Any]) -> web.Response:
    return web.json_response({"success": True, "accepted": len(upload["events"]), "duplicates": 0})


def unavailable(upload: dict[str, Any]) -> web.Response:
    return web.json_response({"error": "Kafka did not acknowledge"}, status=503, headers={"Retry-After": "0"})


@pytest.fixture
async def adapter() -> AsyncIterator[tuple[StandInAdapter, str]]:
    stand_in = StandInAdapter()
    app = web.Application()
    app.router.add_post("/v1/counter/events", stand_in.handle)
    async with TestServer(app) as server:
        yield stand_in, str(server.make_url("")).rstrip("/")


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[Journal]:
    store = Journal(tmp_path / "journal.sqlite3")
    yield store
    store.close()


def settings(url: str, **overrides: Any) -> AgentSettings:
    return AgentSettings(**{"adapter_url": url, "terminal_id": "CT-1", "branch_id": "0142", "token": "tok-1",
                            "backoff_initial_s": 0.01, "backoff_max_s": 0.05, "poll_interval_s": 0.01, **overrides})


async def upload_once(journal: Journal, url: str, **overrides: Any) -> Any:
    uploader = Uploader(journal, settings(url, **overrides))
    async with aiohttp.ClientSession() as session:
        batch = journal.pending(max_events=uploader._batch_max_events, max_bytes=256 * 1024)
        return await uploader.upload(session, batch)


async def run_until(journal: Journal, url: str, done: Callable[[], bool], **overrides: Any) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(Uploader(journal, settings(url, **overrides)).run(stop))
    for _ in range(500):
        if done():
            break
        await asyncio.sleep(0.01)
    stop.set()
    await asyncio.wait_for(task, 5)


async def test_a_2xx_marks_the_batch_sent(adapter: tuple[StandInAdapter, str], journal: Journal) -> None:
    stand_in, url = adapter
    ids = journal.append_many([ticket("A1"), ticket("A2")])
    outcome = await upload_once(journal, url)
    assert outcome.progressed and journal.counts()["sent"] == 2
    (upload,) = stand_in.uploads
    assert upload["auth"] == "Bearer tok-1" and (upload["terminal_id"], upload["branch_id"]) == ("CT-1", "0142")
    assert [e["event_id"] for e in upload["events"]] == ids


async def test_a_503_marks_nothing_and_the_same_events_are_sent_again(adapter: tuple[StandInAdapter, str], journal: Journal) -> None:
    stand_in, url = adapter
    stand_in.script = [unavailable, unavailable]
    journal.append_many([ticket("A1"), ticket("A2")])
    await run_until(journal, url, lambda: journal.counts()["sent"] == 2)
    assert [len(u["events"]) for u in stand_in.uploads] == [2, 2, 2]
    assert stand_in.uploads[0]["events"] == stand_in.uploads[2]["events"]


async def test_uploads_follow_journal_order_in_batches(adapter: tuple[StandInAdapter, str], journal: Journal) -> None:
    stand_in, url = adapter
    ids = journal.append_many([ticket(f"A{i}") for i in range(7)])
    await run_until(journal, url, lambda: journal.counts()["sent"] == 7, batch_max_events=3)
    assert [[e["event_id"] for e in u["events"]] for u in stand_in.uploads] == [ids[:3], ids[3:6], ids[6:]]


async def test_a_mixed_answer_settles_each_event(adapter: tuple[StandInAdapter, str], journal: Journal) -> None:
    stand_in, url = adapter
    a, b, c = journal.append_many([ticket("A1"), ticket("A2"), ticket("A3")])
    stand_in.script = [lambda upload: web.json_response({
        "error": "1 of 3 events rejected", "accepted": [a, c],
        "rejected": [{"index": 1, "event_id": b, "reason": "unknown event kind", "code": "unknown_kind"}]}, status=400)]
    outcome = await upload_once(journal, url)
    assert outcome.progressed
    assert journal.counts() == {"pending": 0, "sent": 2, "rejected": 1}
    assert journal.rejected() == [(b, "unknown event kind")]


async def test_a_refused_upload_is_retried_not_dropped(adapter: tuple[StandInAdapter, str], journal: Journal) -> None:
    stand_in, url = adapter
    stand_in.script = [lambda upload: web.json_response({"error": "unknown terminal token"}, status=401)]
    journal.append(ticket("A1"))
    outcome = await upload_once(journal, url)
    assert not outcome.progressed and journal.counts()["pending"] == 1


async def test_413_halves_the_batch_and_a_lone_oversized_event_is_set_aside(adapter: tuple[StandInAdapter, str], journal: Journal) -> None:
    stand_in, url = adapter
    too_big = lambda upload: web.Response(status=413, text="Maximum request body size exceeded")  # noqa: E731
    stand_in.script = [too_big, too_big]
    journal.append_many([ticket(f"A{i}") for i in range(4)])
    await run_until(journal, url, lambda: journal.counts()["sent"] == 4)
    assert [len(u["events"]) for u in stand_in.uploads] == [4, 2, 1, 3]  # back to full size after a success
    journal.append(ticket("B1", event_id="huge"))
    stand_in.script = [too_big]
    await upload_once(journal, url)
    assert journal.rejected() == [("huge", "event too large for one upload")]


async def test_an_unreachable_adapter_is_retried_with_backoff(journal: Journal) -> None:
    journal.append(ticket("A1"))
    outcome = await upload_once(journal, "http://127.0.0.1:9")  # discard port: connection refused
    assert not outcome.progressed and journal.counts()["pending"] == 1


def test_backoff_doubles_with_jitter_up_to_the_cap_and_honours_retry_after() -> None:
    backoff = Backoff(0.5, 8.0, random.Random(7))
    delays = [backoff.next_delay() for _ in range(8)]
    for attempt, delay in enumerate(delays):
        ceiling = min(8.0, 0.5 * 2**attempt)
        assert ceiling / 2 <= delay <= ceiling
    assert max(delays) <= 8.0
    assert backoff.next_delay(at_least_s=5) >= 5 and backoff.next_delay(at_least_s=600) == 8.0
    backoff.reset()
    assert backoff.next_delay() <= 0.5


def test_the_uploader_needs_its_address_terminal_and_token() -> None:
    from bus.errors import ConfigError

    with pytest.raises(ConfigError) as caught:
        AgentSettings().require_uploader()
    assert "OMNIBUS_ADAPTER_COUNTER_AGENT__TOKEN" in str(caught.value)


async def test_identifiers_left_off_accepted_events_are_named_by_the_agent(
    adapter: tuple[StandInAdapter, str], journal: Journal
) -> None:
    """tester9 #5: the clerk never learned that a mistyped NIR was left off; the agent logs it (type and reason
    code, never a value) and the event counts as sent."""
    from adapters.branch.agent.uploader import dropped_summary

    stand_in, url = adapter
    (a,) = journal.append_many([ticket("A1")])
    answer = {"success": True, "accepted": 1, "duplicates": 0, "dropped_identifiers": [{
        "index": 0, "event_id": a, "kind": "NATIONAL_ID", "code": "national-id-checksum",
        "reason": "national ID check character does not match (fr.nir)"}]}
    stand_in.script = [lambda upload: web.json_response(answer)]
    outcome = await upload_once(journal, url)
    assert outcome.progressed and journal.counts()["sent"] == 1
    assert dropped_summary(answer) == [{"event_id": a, "kind": "NATIONAL_ID", "code": "national-id-checksum"}]
    assert dropped_summary({"success": True}) == [] and dropped_summary(None) == []


async def warned(journal: Journal, adapter: tuple[StandInAdapter, str], answer: dict[str, Any],
                 monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, Any]]]:
    """The agent's warnings when it uploads the journal's one event and the adapter answers ``answer`` (2xx); the
    event counts as sent."""
    from adapters.branch.agent import uploader

    stand_in, url = adapter
    stand_in.script = [lambda upload: web.json_response(answer)]
    warnings: list[tuple[str, dict[str, Any]]] = []
    monkeypatch.setattr(uploader.log, "warning", lambda event, **fields: warnings.append((event, fields)))
    outcome = await upload_once(journal, url)
    assert outcome.progressed and journal.counts()["sent"] == 1
    return warnings


@pytest.mark.parametrize(("name", "reason", "said"), [
    ("dropped_handoffs", "'transaction.handoff.kind' is required to open a handoff (the kind of case, e.g. line-repair)",
     "without the handoff they asked for"),  # tester28 F6
    ("dropped_follow_ups", "'transaction.follow_up.handoff_id' is required: the id of the open case ...",
     "without the follow-up they recorded"),
    ("dropped_offers", "'offer.response' must be one of accepted, ...", "without the offer answer"),
])
async def test_a_part_left_off_an_accepted_event_is_named_by_the_agent(
    adapter: tuple[StandInAdapter, str], journal: Journal, monkeypatch: pytest.MonkeyPatch, name: str, reason: str,
    said: str,
) -> None:
    """The adapter publishes an event whose handoff has no kind, or whose offer answer is malformed, and lists the
    part in ``dropped_handoffs`` / ``dropped_offers``: the agent tells the clerk to do it again, and the event counts
    as sent."""
    (a,) = journal.append_many([ticket("A1")])
    answer = {"success": True, "accepted": 1, "duplicates": 0,
              name: [{"index": 0, "event_id": a, "code": "bad_field", "reason": reason}]}
    ((event, fields),) = await warned(journal, adapter, answer, monkeypatch)
    assert said in event and fields == {"dropped": [{"event_id": a, "code": "bad_field", "reason": reason}]}
    assert "record the part again at the terminal" in event and "re-drives it" in event


@pytest.mark.parametrize("reason", [
    "'transaction.follow_up.handoff_id' must be text, got int",
    "'transaction.follow_up.handoff_id' longer than 64 characters",
    "'transaction.follow_up.handoff_id' is required: the id of the open case the customer came back about",
    "'transaction.follow_up.summary' must be text, got list",
])
async def test_a_refused_follow_up_is_warned_with_its_own_reason_and_both_remedies(
    adapter: tuple[StandInAdapter, str], journal: Journal, monkeypatch: pytest.MonkeyPatch, reason: str,
) -> None:
    """A follow-up whose handoff_id is a number (a cause the warning's fixed words did not name), too long, missing,
    or whose summary is not text: the warning carries the adapter's reason (the field and what is wrong, never the
    value) and both remedies of the branch README, recording it again or re-driving the corrected dead letter."""
    (a,) = journal.append_many([ticket("A1")])
    answer = {"success": True, "accepted": 1, "duplicates": 0,
              "dropped_follow_ups": [{"index": 0, "event_id": a, "code": "bad_field", "reason": reason}]}
    ((event, fields),) = await warned(journal, adapter, answer, monkeypatch)
    assert fields["dropped"] == [{"event_id": a, "code": "bad_field", "reason": reason}]
    assert "no handoff_id of the case, or a value too long" not in event
    assert "record the part again at the terminal" in event and "corrects its dead letter" in event
    assert journal.left_off() == [{"event_id": a, "part": "follow_up", "code": "bad_field"}]


async def test_identifiers_left_off_are_warned_with_the_way_to_correct_them(
    adapter: tuple[StandInAdapter, str], journal: Journal, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Identifiers left off: the warning says how the branch README corrects them (the visit's next ticket status
    event next to a known identifier), not by sending the transaction again; kind and code only."""
    (a,) = journal.append_many([ticket("A1")])
    answer = {"success": True, "accepted": 1, "duplicates": 0, "dropped_identifiers": [{
        "index": 0, "event_id": a, "kind": "NATIONAL_ID", "code": "national-id-checksum",
        "reason": "national ID check character does not match (es.dni)"}]}
    ((event, fields),) = await warned(journal, adapter, answer, monkeypatch)
    assert "next status event" in event and "never by sending the transaction again" in event
    assert fields == {"dropped": [{"event_id": a, "kind": "NATIONAL_ID", "code": "national-id-checksum"}]}


async def test_tester29_f13_what_the_adapter_left_off_is_kept_for_counter_agent_status(
    adapter: tuple[StandInAdapter, str], journal: Journal
) -> None:
    """tester29 F13: a DNI with a wrong letter was left off an accepted transaction and only the agent's log said so;
    ``counter-agent status`` said ``sent 3, rejected 0``. The journal keeps, per sent event, each part the adapter
    left off (identifiers with their kind and code, a handoff, an offer answer), ids and codes only, and forgets them
    with the event."""
    from adapters.branch.agent.cli import app
    from typer.testing import CliRunner

    stand_in, url = adapter
    a, b, c = journal.append_many([ticket("A1"), ticket("A2"), ticket("A3")])
    answer = {"success": True, "accepted": 3, "duplicates": 0,
              "dropped_identifiers": [{"index": 0, "event_id": a, "kind": "NATIONAL_ID", "code": "national-id-checksum",
                                       "reason": "national ID check character does not match (es.dni)"}],
              "dropped_handoffs": [{"index": 2, "event_id": c, "code": "bad_field", "reason": "kind is required"}]}
    stand_in.script = [lambda upload: web.json_response(answer)]
    assert (await upload_once(journal, url)).progressed and journal.counts()["sent"] == 3
    expected = [{"event_id": a, "part": "identifiers", "kind": "NATIONAL_ID", "code": "national-id-checksum"},
                {"event_id": c, "part": "handoff", "code": "bad_field"}]
    assert journal.left_off() == expected
    path = str(journal.path)
    status = json.loads(CliRunner().invoke(app, ["status", "--journal", path]).stdout)
    assert status["left_off"] == {"count": 2, "parts": expected}
    assert status["counts"] == {"pending": 0, "sent": 3, "rejected": 0}
    assert "check character" not in json.dumps(status)  # the codes, not the reasons (which may name a scheme's rule)
    journal.prune(older_than_s=-1)
    assert journal.left_off() == []


def test_a_journal_made_before_left_off_is_opened_and_keeps_its_events(tmp_path: Path) -> None:
    """A terminal's journal from before: opened, the column added, pending events still pending."""
    import sqlite3

    from adapters.branch.agent.journal import SCHEMA

    path = tmp_path / "old.sqlite3"
    db = sqlite3.connect(str(path))
    db.executescript(SCHEMA)  # the table as it was: no left_off column
    db.execute("INSERT INTO journal (event_id, body, enqueued_at) VALUES ('e-1', '{}', 0)")
    db.commit()
    db.close()
    journal = Journal(path)
    assert journal.counts()["pending"] == 1 and journal.left_off() == []
    journal.close()
