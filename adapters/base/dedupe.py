"""Remembering which source ids were already published, so a redelivery publishes nothing twice.

An id is remembered only *after* Kafka acknowledged its events. A crash between the two can therefore
republish once; the events then carry the same deterministic event id (see ``envelope.event_id``) and
processors drop the copy. Concurrent deliveries of one id are serialised by ``claim``. The store is one
process's (or one ``--workers`` set's): what another replica published it does not know, which is why
event ids, not this store, are what keeps copies out and other records under a reused id in (F1).

A file-backed store reads and writes in one thread of its own (``seen_off_loop``, ``remember_off_loop``):
a commit of a request's ids into a large table touches a page per id and now and then checkpoints the
WAL, milliseconds during which the event loop would otherwise serve nothing (#9 build 6). One
connection, not a reader and a writer: a second connection's writes empty the first one's page cache,
which cost more CPU than the thread hop.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path

BUSY_TIMEOUT_MS = 10_000
# SQLite's page cache per connection (KiB; its default is 2 MiB): a day of ids is tens of MiB, and
# every page the random ids land on that is not cached is read again from the file.
CACHE_KIB = 64 * 1024
# WAL pages written before a commit checkpoints them into the file (SQLite's default is 1,000). Random ids dirty
# about a page each, so at 1,000 a checkpoint, with its two fsyncs, came every dozen commits and wrote each hot
# page back again and again; 10,000 (a WAL of up to about 40 MiB) checkpoints a tenth as often. Measured with 100
# ids per commit into 20,000-80,000: 8.8-10.8 against 12.0-14.0 µs CPU per id, three alternating pairs (#9 build 6).
WAL_CHECKPOINT_PAGES = 10_000
# An id, when it was published, and the content digest it was published with (``digests``) if its ingress gives one
# (NULL: none), in one row keyed by id (WITHOUT ROWID: a rowid table plus its id index wrote two pages per id). The
# digest had a table of its own before: random ids dirty about a page per id and table, so a commit of a batch's ids
# wrote twice the pages, 10.3-11.4 against 5.5-5.9 µs of CPU per id (100 ids per commit, 20,000 ids; #9 build 6).
SEEN = "CREATE TABLE IF NOT EXISTS seen (id TEXT PRIMARY KEY, at REAL NOT NULL, digest BLOB) WITHOUT ROWID"
# Re-remembering an id without a digest keeps the one it had, as the digests table kept its row.
REMEMBER = ("INSERT INTO seen (id, at, digest) VALUES (?, ?, ?) "
            "ON CONFLICT (id) DO UPDATE SET at = excluded.at, digest = coalesce(excluded.digest, seen.digest)")


class DedupeStore:
    def __init__(self, path: Path | None, window_s: int) -> None:
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        self._db = _connect(path)
        _shape(self._db)
        self._lock = threading.Lock()  # the connection, used from the loop (``seen``...) and the store's thread
        self._thread = None if path is None else ThreadPoolExecutor(1, thread_name_prefix="dedupe")
        self._window_s = window_s
        self._in_flight: dict[str, asyncio.Future[None]] = {}  # id -> released when its claim ends

    def seen(self, ids: Iterable[str]) -> set[str]:
        """Which of ``ids`` were remembered within the window."""
        wanted = list(dict.fromkeys(ids))
        horizon = time.time() - self._window_s
        found: set[str] = set()
        with self._lock:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                marks = ",".join("?" * len(chunk))
                rows = self._db.execute(f"SELECT id FROM seen WHERE at >= ? AND id IN ({marks})", [horizon, *chunk])
                found.update(row[0] for row in rows)
        return found

    async def seen_off_loop(self, ids: Iterable[str]) -> set[str]:
        """``seen``, in the store's thread when it has a file (see the module doc)."""
        wanted = list(ids)
        if self._thread is None:
            return self.seen(wanted)
        return await asyncio.get_running_loop().run_in_executor(self._thread, self.seen, wanted)

    def digests(self, ids: Iterable[str]) -> dict[str, bytes]:
        """The content digest each of ``ids`` was remembered with; an id remembered without one is left out."""
        wanted = list(dict.fromkeys(ids))
        found: dict[str, bytes] = {}
        with self._lock:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                marks = ",".join("?" * len(chunk))
                rows = self._db.execute(f"SELECT id, digest FROM seen WHERE digest IS NOT NULL AND id IN ({marks})",
                                        chunk)
                found.update((row[0], bytes(row[1])) for row in rows)
        return found

    async def digests_off_loop(self, ids: Iterable[str]) -> dict[str, bytes]:
        """``digests``, in the store's thread when it has a file (see the module doc)."""
        wanted = list(ids)
        if self._thread is None:
            return self.digests(wanted)
        return await asyncio.get_running_loop().run_in_executor(self._thread, self.digests, wanted)

    def remember(self, ids: Iterable[str], digests: Mapping[str, bytes] | None = None) -> None:
        """Remember ``ids`` as published now, in one transaction (one commit per batch, not per id), each with its
        content digest in ``digests`` if it has one there (an id given none keeps the digest it had)."""
        now = time.time()
        given = digests or {}
        rows = [(i, now, given.get(i)) for i in ids]
        with self._lock:
            self._db.execute("BEGIN")
            try:
                self._db.executemany(REMEMBER, rows)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    async def remember_off_loop(self, ids: Iterable[str], digests: Mapping[str, bytes] | None = None) -> None:
        """``remember``, in the store's thread when it has a file (see the module doc)."""
        wanted = list(ids)
        if self._thread is None:
            self.remember(wanted, digests)
        else:
            await asyncio.get_running_loop().run_in_executor(self._thread, self.remember, wanted, digests)

    def purge(self) -> int:
        with self._lock:
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
        if self._thread is not None:
            self._thread.shutdown(wait=True)
        self._db.close()


def _connect(path: Path | None) -> sqlite3.Connection:
    # used from the store's thread as well, never at the same time (``DedupeStore._lock``)
    db = sqlite3.connect(str(path) if path else ":memory:", isolation_level=None, check_same_thread=False)
    # Several worker processes may share the file (``--workers``): WAL lets them read while one
    # writes, and a writer waits up to BUSY_TIMEOUT_MS for another's commit instead of failing.
    db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    _use_wal(db)
    # WAL + NORMAL: a commit survives the process crashing, not the host losing power. Forgetting an
    # id then only republishes it under the same deterministic event ids, which processors dedupe;
    # an fsync per batch cost more CPU than the rest of the store.
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
    db.execute(f"PRAGMA wal_autocheckpoint={WAL_CHECKPOINT_PAGES}")
    return db


def _shape(db: sqlite3.Connection) -> None:
    """Make ``seen`` (``SEEN``), or bring a file of before to it in one transaction: a ``seen`` without ``digest``
    gets the column, and a ``digests`` table's rows move into it. ``BEGIN IMMEDIATE``: worker processes opening one
    file at once take turns (``BUSY_TIMEOUT_MS``), and the second finds the shape done."""
    db.execute("BEGIN IMMEDIATE")
    try:
        db.execute(SEEN)
        if "digest" not in {row[1] for row in db.execute("PRAGMA table_info(seen)")}:
            db.execute("ALTER TABLE seen ADD COLUMN digest BLOB")
        if db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'digests'").fetchone():
            db.execute("UPDATE seen SET digest = (SELECT digest FROM digests WHERE digests.id = seen.id) "
                       "WHERE id IN (SELECT id FROM digests)")
            db.execute("DROP TABLE digests")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def _use_wal(db: sqlite3.Connection) -> None:
    """``PRAGMA journal_mode=WAL``, tried again while another process holds the file's lock, up to
    BUSY_TIMEOUT_MS: SQLite answers this pragma "database is locked" at once instead of waiting in the busy
    handler, which made one of two workers starting on a fresh file exit (3 % of starts, measured with two
    forked openers; ``tests/adapters/base/test_dedupe.py``)."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(0.01)
