import asyncio
import time
from pathlib import Path

from adapters.base.dedupe import DedupeStore


async def test_a_file_store_remembers_in_its_thread_and_another_store_on_the_file_sees_it(tmp_path: Path) -> None:
    store, other = DedupeStore(tmp_path / "d.sqlite", 3600), DedupeStore(tmp_path / "d.sqlite", 3600)
    try:
        await store.remember_off_loop(["web:a", "web:b"])
        assert await store.seen_off_loop(["web:a", "web:c"]) == {"web:a"}
        assert other.seen(["web:b", "web:c"]) == {"web:b"}  # another worker process's store
    finally:
        store.close()
        other.close()


async def test_the_event_loop_keeps_serving_while_a_file_store_commits(tmp_path: Path) -> None:
    store = DedupeStore(tmp_path / "d.sqlite", 3600)
    slow_commit = store.remember

    def remember(ids: object) -> None:
        time.sleep(0.3)  # a commit that checkpoints a large WAL
        slow_commit(ids)  # type: ignore[arg-type]

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
