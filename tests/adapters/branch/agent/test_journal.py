"""The agent's SQLite journal: durable, ordered, all-or-none appends, settled only on purpose."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from adapters.base.errors import RejectedInput
from adapters.branch.agent.journal import Journal


def ticket(number: str, **changes: Any) -> dict[str, Any]:
    event = {"kind": "ticket_issued", "occurred_at": "2024-05-02T09:14:03+02:00",
             "ticket": {"number": number, "service_type": "payments", "issued_at": "2024-05-02T09:14:03+02:00"}}
    return {**event, **changes}


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[Journal]:
    store = Journal(tmp_path / "journal.sqlite3")
    yield store
    store.close()


def test_appends_get_ids_and_times_and_come_back_in_order(journal: Journal) -> None:
    ids = journal.append_many([ticket("A1"), ticket("A2", event_id="client-7")])
    later = journal.append({k: v for k, v in ticket("A3").items() if k != "occurred_at"})
    assert ids[1] == "client-7" and len(ids[0]) == 36
    pending = journal.pending(max_events=10, max_bytes=100_000)
    assert [e.event_id for e in pending] == [*ids, later]
    assert json.loads(pending[2].body)["occurred_at"]  # filled in, with the local UTC offset


def test_the_journal_is_wal_with_full_sync(journal: Journal, tmp_path: Path) -> None:
    other = sqlite3.connect(tmp_path / "journal.sqlite3")
    assert other.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert journal._db.execute("PRAGMA synchronous").fetchone() == (2,)  # FULL
    other.close()


def test_a_retried_enqueue_of_the_same_event_id_is_recorded_once(journal: Journal) -> None:
    journal.append(ticket("A1", event_id="e-1"))
    journal.append(ticket("A1", event_id="e-1"))
    assert journal.counts() == {"pending": 1, "sent": 0, "rejected": 0}


def test_tester19_f18_another_event_under_a_journaled_event_id_is_refused_not_dropped(journal: Journal) -> None:
    journal.append(ticket("A1", event_id="e-1"))
    for batch in ([ticket("A2", event_id="e-1")], [ticket("B1", event_id="e-2"), ticket("B2", event_id="e-2")]):
        with pytest.raises(RejectedInput) as caught:
            journal.append_many(batch)
        assert caught.value.code == "id_conflict" and "'e-" in caught.value.reason
    assert journal.counts()["pending"] == 1


@pytest.mark.parametrize(("first", "again"), [(5550001, "5550001"), ("5550001", 5550001.0),
                                              (" 5550001", "5550001"), (5550001, "5550001 ")])  # tester51 F5
def test_tester50_f15_an_event_id_as_a_whole_number_and_as_its_text_is_one_event(
        journal: Journal, first: object, again: object) -> None:
    """As the adapter reads it (``adapters.base.whole_ids``): a retried enqueue spelling the id (or the ticket's
    number) the other way is the same event, journaled once under the id's text."""
    assert journal.append(ticket("42", event_id=first)) == "5550001"
    assert journal.append(ticket(42, event_id=again)) == "5550001"  # type: ignore[arg-type]
    assert journal.counts() == {"pending": 1, "sent": 0, "rejected": 0}


def test_a_retried_enqueue_without_its_time_is_the_same_event(journal: Journal) -> None:
    """The journal filled occurred_at in at the first enqueue: not a difference of the caller's event."""
    untimed = {k: v for k, v in ticket("A1", event_id="e-1").items() if k != "occurred_at"}
    journal.append(untimed)
    journal.append(untimed)
    assert journal.counts()["pending"] == 1


def test_an_event_the_adapter_would_refuse_is_refused_and_nothing_of_its_batch_recorded(journal: Journal) -> None:
    with pytest.raises(RejectedInput) as caught:
        journal.append_many([ticket("A1"), ticket("A2", occurred_at="2024-05-02T09:14:03")])
    assert "UTC offset" in caught.value.reason
    assert journal.counts()["pending"] == 0


def test_tester32_f8_an_offer_put_in_the_ticket_is_refused_at_enqueue_saying_where_it_belongs(journal: Journal) -> None:
    """The agent checks with the adapter's rules: the clerk hears at once, instead of a 200 that loses the pitch."""
    offer = {"offer_id": "tarjeta-oro-2026", "offer_version": 1, "response": "presented"}
    misplaced = ticket("A3")
    misplaced["ticket"] = {**misplaced["ticket"], "offer": offer}
    with pytest.raises(RejectedInput) as caught:
        journal.append(misplaced)
    assert caught.value.reason == "unknown field 'ticket.offer': 'offer' belongs at the event's level, not in 'ticket'"
    assert journal.counts()["pending"] == 0


def test_pending_respects_the_upload_limits_but_always_yields_one(journal: Journal) -> None:
    journal.append_many([ticket(f"A{i}") for i in range(10)])
    assert len(journal.pending(max_events=4, max_bytes=100_000)) == 4
    one_size = len(journal.pending(max_events=1, max_bytes=100_000)[0].body) + 1
    assert len(journal.pending(max_events=10, max_bytes=3 * one_size)) == 3
    assert len(journal.pending(max_events=10, max_bytes=1)) == 1


def test_settled_events_leave_the_queue_and_rejections_keep_their_reason(journal: Journal) -> None:
    a, b, c = journal.append_many([ticket("A1"), ticket("A2"), ticket("A3")])
    journal.mark_sent([a])
    journal.mark_rejected({b: "unknown event kind"})
    assert [e.event_id for e in journal.pending(max_events=10, max_bytes=100_000)] == [c]
    assert journal.rejected() == [(b, "unknown event kind")]
    journal.mark_rejected({a: "late"})  # a settled event stays settled
    assert journal.counts() == {"pending": 1, "sent": 1, "rejected": 1}


def test_prune_forgets_old_sent_events_only(journal: Journal) -> None:
    a, b = journal.append_many([ticket("A1"), ticket("A2")])
    journal.mark_sent([a])
    journal.mark_rejected({b: "bad"})
    assert journal.prune(older_than_s=-1) == 1
    assert journal.counts() == {"pending": 0, "sent": 0, "rejected": 1}


def test_two_processes_share_one_journal(journal: Journal, tmp_path: Path) -> None:
    other = Journal(tmp_path / "journal.sqlite3")  # e.g. `enqueue` while the agent runs
    first = journal.append(ticket("A1"))
    second = other.append(ticket("A2"))
    assert [e.event_id for e in journal.pending(max_events=10, max_bytes=100_000)] == [first, second]
    other.close()


def test_the_agent_starts_without_the_adapter_s_http_and_avro_stack() -> None:
    """50 agents starting at once on 2 cores (tests/faults/test_terminals.py) each imported the adapter's mapper,
    and with it its HTTP server and schema-registry client, for about 7 CPU-seconds: ``run`` only uploads.
    The mapper is imported when an event is first checked (``enqueue``)."""
    import subprocess
    import sys

    heavy = ["adapters.branch.mapper", "adapters.base.http", "confluent_kafka", "authlib"]
    probe = ("import sys; from adapters.branch.agent.cli import app; "
             f"print([name for name in {heavy!r} if name in sys.modules])")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True)
    assert result.stdout.strip() == "[]", result.stdout + result.stderr
