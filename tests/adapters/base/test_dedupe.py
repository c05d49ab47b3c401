import asyncio
import multiprocessing
import random
import sqlite3
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from adapters.base.dedupe import WAL_CHECKPOINT_PAGES, DedupeStore, _use_wal


async def test_a_file_store_remembers_in_its_thread_and_another_store_on_the_file_sees_it(tmp_path: Path) -> None:
    store, other = DedupeStore(tmp_path / "d.sqlite", 3600), DedupeStore(tmp_path / "d.sqlite", 3600)
    try:
        await store.remember_off_loop(["web:a", "web:b"])
        assert await store.seen_off_loop(["web:a", "web:c"]) == {"web:a"}
        assert other.seen(["web:b", "web:c"]) == {"web:b"}  # another worker process's store
    finally:
        store.close()
        other.close()


def test_a_file_store_checkpoints_its_wal_every_wal_checkpoint_pages_and_stays_in_wal_mode(tmp_path: Path) -> None:
    store, other = DedupeStore(tmp_path / "d.sqlite", 3600), DedupeStore(tmp_path / "d.sqlite", 3600)
    try:
        store.remember([f"web:{n}" for n in range(500)])
        assert store._db.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == WAL_CHECKPOINT_PAGES
        assert store._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert other.seen(["web:0", "web:499", "web:500"]) == {"web:0", "web:499"}
    finally:
        store.close()
        other.close()


async def test_the_event_loop_keeps_serving_while_a_file_store_commits(tmp_path: Path) -> None:
    store = DedupeStore(tmp_path / "d.sqlite", 3600)
    slow_commit = store.remember

    def remember(ids: object, digests: object = None) -> None:
        time.sleep(0.3)  # a commit that checkpoints a large WAL
        slow_commit(ids, digests)  # type: ignore[arg-type]

    store.remember = remember  # type: ignore[method-assign]
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticking = asyncio.create_task(tick())
    try:
        await store.remember_off_loop(["web:a"])
    finally:
        ticking.cancel()
        store.close()
    # Blocked, the loop would tick at most once (after the commit); on a loaded machine it ticks fewer than the
    # 30 times an idle one does, so the bound is well below that (9 ticks were seen at a load average of 14).
    assert ticks >= 3, f"the loop ran {ticks} times in 0.3 s: the commit blocked it"
    assert DedupeStore(tmp_path / "d.sqlite", 3600).seen(["web:a"]) == {"web:a"}


def test_an_in_memory_store_works_without_a_running_loop() -> None:
    store = DedupeStore(None, 60)
    store.remember(["web:a"])
    assert store.seen(["web:a", "web:b"]) == {"web:a"}
    assert asyncio.run(store.seen_off_loop(["web:a"])) == {"web:a"}


def _open_at_once(folder: Path, files: int, start: Any, failures: Any) -> None:
    DedupeStore(folder / f"warm-up-{multiprocessing.current_process().pid}.sqlite", 3600).close()  # both in step
    start.wait()
    for index in range(files):  # both processes walk the same fresh files in step
        try:
            DedupeStore(folder / f"d{index}.sqlite", 3600).close()
        except Exception as exc:  # noqa: BLE001  # reported to the test, which names it
            failures.put(repr(exc))


def test_two_worker_processes_open_a_fresh_file_at_the_same_moment(tmp_path: Path) -> None:
    """``--workers 2`` on a new dedupe file: both processes switch it to WAL at once, and neither fails.
    (Before ``_use_wal``, SQLite answered one of them "database is locked" in 1-3 % of such starts, more
    when the two were exactly in step than this test manages: the retry itself is tested below.)"""
    context = multiprocessing.get_context("fork")  # as adapters.base.workers starts its workers
    failures = context.Queue()
    for round_ in range(5):
        start, folder = context.Barrier(2), tmp_path / str(round_)
        folder.mkdir()
        openers = [context.Process(target=_open_at_once, args=(folder, 20, start, failures)) for _ in range(2)]
        for opener in openers:
            opener.start()
        for opener in openers:
            opener.join(60)
        assert [opener.exitcode for opener in openers] == [0, 0]
    assert failures.empty(), failures.get()


class _LockedFor:
    """A connection whose ``PRAGMA journal_mode=WAL`` is refused as SQLite refuses it while another process
    switches the same file, ``times`` times."""

    def __init__(self, times: int, message: str = "database is locked") -> None:
        self.times, self.message, self.calls = times, message, 0

    def execute(self, statement: str) -> None:
        self.calls += 1
        if self.calls <= self.times:
            raise sqlite3.OperationalError(self.message)


def test_switching_to_wal_is_tried_again_while_another_process_holds_the_file() -> None:
    connection = _LockedFor(3)
    _use_wal(connection)  # type: ignore[arg-type]
    assert connection.calls == 4


def test_other_sqlite_errors_while_switching_to_wal_are_not_tried_again() -> None:
    connection = _LockedFor(1, "disk I/O error")
    with pytest.raises(sqlite3.OperationalError, match="disk I/O"):
        _use_wal(connection)  # type: ignore[arg-type]
    assert connection.calls == 1


async def test_a_digest_is_kept_beside_its_id_and_purged_with_it(tmp_path: Path) -> None:
    store = DedupeStore(tmp_path / "dedupe.sqlite", window_s=60)
    await store.remember_off_loop(["a", "b"], {"a": b"digest-a"})
    assert await store.digests_off_loop(["a", "b", "c"]) == {"a": b"digest-a"}
    store._window_s = -1  # everything is out of the window now
    assert store.purge() == 2 and store.digests(["a"]) == {}
    store.close()


def test_a_file_made_before_digests_opens_and_its_ids_read_as_before(tmp_path: Path) -> None:
    path = tmp_path / "dedupe.sqlite"
    with sqlite3.connect(path) as old:
        old.execute("CREATE TABLE seen (id TEXT PRIMARY KEY, at REAL NOT NULL) WITHOUT ROWID")
        old.execute("INSERT INTO seen VALUES ('a', ?)", [time.time()])
    old.close()
    store = DedupeStore(path, window_s=60)
    assert store.seen(["a"]) == {"a"} and store.digests(["a"]) == {}
    store.close()


def test_a_commit_of_ids_with_digests_writes_about_a_page_per_id_not_two(tmp_path: Path) -> None:
    """An id and its digest in one row: random ids dirty about one page per id and B-tree, and the digests' own
    table made that two (the dedupe thread's CPU per event, #9 build 6)."""
    store = DedupeStore(tmp_path / "d.sqlite", 3600)
    try:
        rng = random.Random(7)
        ids = [str(uuid.UUID(int=rng.getrandbits(128))) for _ in range(20_000)]
        store.remember(ids, dict.fromkeys(ids, b"d" * 32))
        store._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        fresh = [str(uuid.UUID(int=rng.getrandbits(128))) for _ in range(100)]
        store.remember(fresh, dict.fromkeys(fresh, b"d" * 32))
        frames = (tmp_path / "d.sqlite-wal").stat().st_size // (4096 + 24)
        assert frames <= 150, frames  # ~100 leaves, their parents and splits; two tables wrote ~2x
        assert store.digests(fresh[:2]) == dict.fromkeys(fresh[:2], b"d" * 32)
    finally:
        store.close()


def test_an_id_remembered_again_without_a_digest_keeps_the_one_it_had(tmp_path: Path) -> None:
    store = DedupeStore(tmp_path / "d.sqlite", 3600)
    try:
        store.remember(["a", "b"], {"a": b"one", "b": b"two"})
        store.remember(["a", "b"], {"b": b"three"})
        assert store.digests(["a", "b"]) == {"a": b"one", "b": b"three"}
    finally:
        store.close()


def test_a_file_with_the_digests_table_of_before_moves_them_beside_their_ids(tmp_path: Path) -> None:
    path = tmp_path / "dedupe.sqlite"
    now = time.time()
    with sqlite3.connect(path) as old:
        old.execute("CREATE TABLE seen (id TEXT PRIMARY KEY, at REAL NOT NULL) WITHOUT ROWID")
        old.execute("CREATE TABLE digests (id TEXT PRIMARY KEY, digest BLOB NOT NULL) WITHOUT ROWID")
        old.executemany("INSERT INTO seen VALUES (?, ?)", [("a", now), ("b", now)])
        old.executemany("INSERT INTO digests VALUES (?, ?)", [("a", b"digest-a"), ("gone", b"purged-id")])
    old.close()
    store, again = DedupeStore(path, window_s=60), DedupeStore(path, window_s=60)  # a second worker finds it done
    try:
        assert store.seen(["a", "b"]) == {"a", "b"}
        assert store.digests(["a", "b", "gone"]) == {"a": b"digest-a"}
        assert again.digests(["a"]) == {"a": b"digest-a"}
        tables = {row[0] for row in store._db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert tables == {"seen"}
    finally:
        store.close()
        again.close()
