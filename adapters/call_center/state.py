"""What the call-center adapter must remember between requests, in one SQLite file.

- ``ctr_versions``: the greatest ``LastUpdateTimestamp`` published per ContactId, so a CTR version
  older than or equal to a published one is a duplicate. Written only after Kafka acknowledged.
- ``twilio_events``: the event Sid of every signed TaskRouter callback accepted within the freshness span
  (``twilio_max_age_s``), so a replayed callback is refused; older rows are pruned.
- ``task_timelines``: facts of TaskRouter tasks still in progress (queued, accepted, wrapped up),
  committed before the callback is answered 204: an acknowledged callback is never forgotten.
  A timeline is deleted once its task's events were acknowledged.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict
from datetime import datetime
from pathlib import Path

from adapters.call_center.mapper_taskrouter import Timeline

_SCHEMA = """
CREATE TABLE IF NOT EXISTS ctr_versions (contact_id TEXT PRIMARY KEY, updated_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS twilio_events (event_sid TEXT PRIMARY KEY, accepted_at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS twilio_events_by_time ON twilio_events (accepted_at);
CREATE TABLE IF NOT EXISTS task_timelines (
    task_sid TEXT PRIMARY KEY, enqueued_at TEXT, queue TEXT, connected_at TEXT, agent_id TEXT, wrapped_at TEXT
);
"""
_TIME_FIELDS = ("enqueued_at", "connected_at", "wrapped_at")


class CallCenterState:
    def __init__(self, path: Path | None) -> None:
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path) if path else ":memory:", isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")  # a 2xx must survive a power cut
        self._db.executescript(_SCHEMA)
        self._locks: dict[str, asyncio.Lock] = {}

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        """Serialise work on one contact or task (two versions racing must not both pass the check)."""
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            yield
        if not lock.locked() and self._locks.get(key) is lock:
            del self._locks[key]

    # -- CTR versions -------------------------------------------------------------------------------

    def is_stale(self, contact_id: str, updated_at: datetime) -> bool:
        latest = self.latest_version(contact_id)
        return latest is not None and latest >= updated_at

    def latest_version(self, contact_id: str) -> datetime | None:
        """The greatest ``LastUpdateTimestamp`` published for ``contact_id``, None before its first version."""
        row = self._db.execute("SELECT updated_at FROM ctr_versions WHERE contact_id = ?", [contact_id]).fetchone()
        return datetime.fromisoformat(row[0]) if row is not None else None

    def published(self, contact_id: str, updated_at: datetime) -> None:
        self._db.execute(
            "INSERT INTO ctr_versions (contact_id, updated_at) VALUES (?, ?) "
            "ON CONFLICT (contact_id) DO UPDATE SET updated_at = excluded.updated_at "
            "WHERE excluded.updated_at > ctr_versions.updated_at",
            [contact_id, updated_at.isoformat()],
        )

    # -- TaskRouter event Sids (replays) -------------------------------------------------------------

    def twilio_event_seen(self, event_sid: str) -> bool:
        return self._db.execute("SELECT 1 FROM twilio_events WHERE event_sid = ?", [event_sid]).fetchone() is not None

    def twilio_event_accepted(self, event_sid: str, now_s: float, keep_s: float) -> None:
        """Remember ``event_sid`` (accepted at ``now_s``, Unix seconds); forget those older than ``keep_s``."""
        self._db.execute("DELETE FROM twilio_events WHERE accepted_at < ?", [now_s - keep_s])
        self._db.execute("INSERT OR IGNORE INTO twilio_events (event_sid, accepted_at) VALUES (?, ?)",
                         [event_sid, now_s])

    # -- TaskRouter timelines -------------------------------------------------------------------------

    def timeline(self, task_sid: str) -> Timeline:
        cursor = self._db.execute(
            "SELECT enqueued_at, queue, connected_at, agent_id, wrapped_at FROM task_timelines WHERE task_sid = ?",
            [task_sid],
        )
        row = cursor.fetchone()
        if row is None:
            return Timeline()
        values = dict(zip([c[0] for c in cursor.description], row, strict=True))
        for name in _TIME_FIELDS:
            values[name] = datetime.fromisoformat(values[name]) if values[name] else None
        return Timeline(**values)

    def save_timeline(self, task_sid: str, timeline: Timeline) -> None:
        values = asdict(timeline)
        for name in _TIME_FIELDS:
            values[name] = values[name].isoformat() if values[name] else None
        self._db.execute(
            "INSERT OR REPLACE INTO task_timelines (task_sid, enqueued_at, queue, connected_at, agent_id, wrapped_at) "
            "VALUES (:task_sid, :enqueued_at, :queue, :connected_at, :agent_id, :wrapped_at)",
            {"task_sid": task_sid, **values},
        )

    def forget_timeline(self, task_sid: str) -> None:
        self._db.execute("DELETE FROM task_timelines WHERE task_sid = ?", [task_sid])

    def close(self) -> None:
        self._db.close()
