"""The agent's durable local journal of events, in the order they happened on the terminal.

SQLite in WAL mode with ``synchronous=FULL``: every append is fsynced before it returns, so an event
the terminal was told "recorded" survives ``kill -9`` and power loss. Several processes may use one
journal at once (the terminal's software appending through ``omnibus counter-agent enqueue`` while
the agent uploads); SQLite serialises the writers.
"""

from __future__ import annotations

import functools
import json
import sqlite3
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from adapters.base.whole_ids import id_text
from adapters.branch.errors import EventRejected
from adapters.branch.fields import one_spelling

if TYPE_CHECKING:
    from adapters.branch.mapper import CounterMapper

SCHEMA = """
CREATE TABLE IF NOT EXISTS journal (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL UNIQUE,
    body TEXT NOT NULL,
    enqueued_at REAL NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'rejected')),
    settled_at REAL,
    reason TEXT
);
CREATE INDEX IF NOT EXISTS journal_by_state ON journal (state, seq);
"""
# What the adapter left off an accepted event (``uploader.dropped_summary``: ids, kinds and reason codes, never a
# value), JSON, kept with the sent event until it is pruned (only the agent's log said so). Added to a
# journal made before it on first open.
LEFT_OFF_COLUMN = "left_off"

@functools.cache
def _checker() -> CounterMapper:
    """The adapter's own mapper checks an event before it is journaled, so the terminal hears about a bad
    event at once instead of the operator finding it in the dead-letter topic days later. Built on first use,
    never at import: a bad setting must not break every command of the CLI. Imported on first use too: the mapper
    brings the adapter's HTTP and schema-registry stack, which ``run`` (it only uploads) never needs; 50 agents
    starting at once on 2 cores (tests/faults/test_terminals.py) each spent 6.9-8.6 CPU-seconds starting with it,
    1.9-2.6 without it (at load 17-35)."""
    from adapters.branch.config import BranchSettings
    from adapters.branch.mapper import CounterMapper
    from bus.config import TopicSettings

    return CounterMapper(BranchSettings(), TopicSettings())


@dataclass(frozen=True, slots=True)
class Entry:
    seq: int
    event_id: str
    body: str  # the event's JSON, exactly as it will be uploaded


class Journal:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(str(path), isolation_level=None, timeout=30.0)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(SCHEMA)
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(journal)")}
        if LEFT_OFF_COLUMN not in columns:
            self._db.execute(f"ALTER TABLE journal ADD COLUMN {LEFT_OFF_COLUMN} TEXT")

    def append(self, event: Mapping[str, Any]) -> str:
        return self.append_many([event])[0]

    def append_many(self, events: Iterable[Mapping[str, Any]]) -> list[str]:
        """Check, complete (event_id, occurred_at) and durably record events, in order, all or none.

        An event whose event_id is already journaled is not recorded twice (a retried enqueue). Raises
        ``RejectedInput`` with the reason for an event the adapter would refuse, or for another event under an
        event_id already journaled (code ``id_conflict``: it would be lost as a copy).
        """
        given = [dict(event) for event in events]
        rows = [self._prepared(dict(event)) for event in given]
        now = time.time()
        self._db.execute("BEGIN IMMEDIATE")
        try:
            self._refuse_reused_ids(given, rows)
            self._db.executemany(
                "INSERT OR IGNORE INTO journal (event_id, body, enqueued_at) VALUES (?, ?, ?)",
                [(event_id, body, now) for event_id, body in rows],
            )
            self._db.execute("COMMIT")  # fsync of the WAL (synchronous=FULL) before we answer
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        return [event_id for event_id, _ in rows]

    def _refuse_reused_ids(self, given: list[dict[str, Any]], rows: list[tuple[str, str]]) -> None:
        """``RejectedInput`` if an event the caller named by its event_id differs from the one journaled (or earlier
        in the call) under it; fields the journal filled in (``occurred_at``) are not compared when not given."""
        named = [(event, event_id, body) for event, (event_id, body) in zip(given, rows, strict=True)
                 if "event_id" in event]
        if not named:
            return
        marks = ",".join("?" * len(named))
        earlier = dict(self._db.execute(f"SELECT event_id, body FROM journal WHERE event_id IN ({marks})",
                                        [event_id for _, event_id, _ in named]).fetchall())
        for event, event_id, body in named:
            before = earlier.setdefault(event_id, body)
            journaled = {k: v for k, v in json.loads(before).items() if k in event or k != "occurred_at"}
            if one_spelling(journaled) != one_spelling(event):  # 5550001 and "5550001" are one id, as the adapter reads
                raise EventRejected(f"event_id {event_id!r} is journaled already for another event: a retried "
                                    "enqueue must repeat it unchanged, another event needs an id of its own",
                                    code="id_conflict")

    @staticmethod
    def _prepared(event: dict[str, Any]) -> tuple[str, str]:
        event.setdefault("event_id", str(uuid.uuid4()))
        event.setdefault("occurred_at", datetime.now().astimezone().isoformat())
        _checker()(event, terminal_id="check", branch_id="check")  # raises RejectedInput with the reason
        event_id = id_text(event["event_id"])  # 5550001.0 and " 5550001" are "5550001", as the adapter reads it
        assert event_id is not None  # the check refuses any other value
        return event_id, json.dumps(event, ensure_ascii=False, separators=(",", ":"))

    def pending(self, *, max_events: int, max_bytes: int) -> list[Entry]:
        """The oldest unsent events, in journal order, within the upload's size limits (at least one)."""
        rows = self._db.execute(
            "SELECT seq, event_id, body FROM journal WHERE state = 'pending' ORDER BY seq LIMIT ?", [max_events]
        ).fetchall()
        batch: list[Entry] = []
        size = 0
        for seq, event_id, body in rows:
            size += len(body.encode()) + 1
            if batch and size > max_bytes:
                break
            batch.append(Entry(seq, event_id, body))
        return batch

    def mark_sent(self, event_ids: Iterable[str]) -> None:
        self._settle([(time.time(), None, event_id) for event_id in event_ids], "sent")

    def mark_rejected(self, reasons: Mapping[str, str]) -> None:
        self._settle([(time.time(), reason, event_id) for event_id, reason in reasons.items()], "rejected")

    def _settle(self, rows: list[tuple[float, str | None, str]], state: str) -> None:
        if not rows:
            return
        self._db.execute("BEGIN IMMEDIATE")
        try:
            self._db.executemany(
                f"UPDATE journal SET state = '{state}', settled_at = ?, reason = ?"
                " WHERE event_id = ? AND state = 'pending'",
                rows,
            )
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    def mark_left_off(self, items: Iterable[Mapping[str, object]]) -> None:
        """Record what the adapter left off sent events: ``items`` of ``{"event_id", "part", ...}`` (``part``:
        identifiers, handoff, follow_up, offer or handoff_naming_nobody; with the identifier's kind and the reason code,
        or the case's handoff id), ids and codes only."""
        by_event: dict[str, list[dict[str, object]]] = {}
        for item in items:
            by_event.setdefault(str(item["event_id"]), []).append({k: v for k, v in item.items() if k != "event_id"})
        if not by_event:
            return
        self._db.executemany(f"UPDATE journal SET {LEFT_OFF_COLUMN} = ? WHERE event_id = ?",
                             [(json.dumps(parts), event_id) for event_id, parts in by_event.items()])

    def left_off(self) -> list[dict[str, object]]:
        """Per part the adapter left off a sent event (journal order): ``{"event_id", "part", "kind"?, "code"}``."""
        rows = self._db.execute(f"SELECT event_id, {LEFT_OFF_COLUMN} FROM journal WHERE {LEFT_OFF_COLUMN} IS NOT NULL"
                                " ORDER BY seq").fetchall()
        return [{"event_id": event_id, **part} for event_id, parts in rows for part in json.loads(parts)]

    def counts(self) -> dict[str, int]:
        counts = {"pending": 0, "sent": 0, "rejected": 0}
        counts.update(dict(self._db.execute("SELECT state, COUNT(*) FROM journal GROUP BY state").fetchall()))
        return counts

    def rejected(self) -> list[tuple[str, str]]:
        """(event_id, reason) of every event the adapter refused, for the terminal's operator."""
        return self._db.execute("SELECT event_id, reason FROM journal WHERE state = 'rejected' ORDER BY seq").fetchall()

    def prune(self, older_than_s: float) -> int:
        """Forget events sent more than ``older_than_s`` ago, with what the adapter left off them (rejected ones stay
        for the operator)."""
        cursor = self._db.execute(
            "DELETE FROM journal WHERE state = 'sent' AND settled_at < ?", [time.time() - older_than_s]
        )
        return cursor.rowcount

    def close(self) -> None:
        self._db.close()
