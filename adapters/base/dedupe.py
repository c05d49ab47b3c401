"""Remembering which source ids were already published, so a redelivery publishes nothing twice.

An id is remembered only *after* Kafka acknowledged its events. A crash between the two can therefore
republish once; the events then carry the same deterministic event id (see ``envelope.event_id``) and
processors drop the copy. Concurrent deliveries of one id are serialised by ``claim``.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from pathlib import Path

BUSY_TIMEOUT_MS = 10_000


class DedupeStore:
    def __init__(self, path: Path | None, window_s: int) -> None:
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path) if path else ":memory:", isolation_level=None)
        # Several worker processes may share the file (``--workers``): WAL lets them read while one
        # writes, and a writer waits up to BUSY_TIMEOUT_MS for another's commit instead of failing.
        self._db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        self._db.execute("PRAGMA journal_mode=WAL")
        # WAL + NORMAL: a commit survives the process crashing, not the host losing power. Forgetting an
        # id then only republishes it under the same deterministic event ids, which processors dedupe;
        # an fsync per batch cost more CPU than the rest of the store.
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS seen (id TEXT PRIMARY KEY, at REAL NOT NULL)")
        self._window_s = window_s
        self._in_flight: dict[str, asyncio.Future[None]] = {}  # id -> released when its claim ends

    def seen(self, ids: Iterable[str]) -> set[str]:
        wanted = list(dict.fromkeys(ids))
        horizon = time.time() - self._window_s
        found: set[str] = set()
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(f"SELECT id FROM seen WHERE at >= ? AND id IN ({marks})", [horizon, *chunk])
            found.update(row[0] for row in rows)
        return found

    def remember(self, ids: Iterable[str]) -> None:
        now = time.time()
        self._db.execute("BEGIN")  # one commit (one fsync) per batch, not one per id
        try:
            self._db.executemany("INSERT OR REPLACE INTO seen (id, at) VALUES (?, ?)", [(i, now) for i in ids])
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def purge(self) -> int:
        cursor = self._db.execute("DELETE FROM seen WHERE at < ?", [time.time() - self._window_s])
        return cursor.rowcount

    @asynccontextmanager
    async def claim(self, ids: Iterable[str]) -> AsyncIterator[None]:
        """Hold the given ids so a concurrent delivery of the same id waits for this one to finish.

        All of them are taken at once, only when none is held (no await between looking and taking),
        so overlapping batches cannot deadlock; one future per claim, not a lock per id."""
        wanted = set(ids)
        while True:
            held = {self._in_flight[i] for i in wanted if i in self._in_flight}
            if not held:
                break
            await asyncio.wait(held)
        released = asyncio.get_running_loop().create_future()
        for i in wanted:
            self._in_flight[i] = released
        try:
            yield
        finally:
            for i in wanted:
                del self._in_flight[i]
            released.set_result(None)

    def close(self) -> None:
        self._db.close()
