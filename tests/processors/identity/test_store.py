from types import SimpleNamespace

from processors.identity.graph.local import MemoryStore
from processors.identity.store import Overlay


def test_an_overlay_buffers_writes_until_commit() -> None:
    base = MemoryStore()
    base.put_node("A:1", {"o": "cus_1"})
    batch = Overlay(base)
    transaction = Overlay(batch)
    transaction.put_node("A:1", {"o": "cus_2"})
    transaction.put_profile("cus_2", {"s": 1})
    transaction.put_node("B:2", None)
    assert batch.get_node("A:1") == {"o": "cus_1"} and transaction.get_node("A:1") == {"o": "cus_2"}
    assert transaction.commit() == 3
    assert base.get_node("A:1") == {"o": "cus_1"}  # not yet durable
    batch.commit()
    assert base.get_node("A:1") == {"o": "cus_2"} and base.get_profile("cus_2") == {"s": 1}
    assert base.get_node("B:2") is None


def test_faust_tables_stamp_every_changelog_record_with_the_batch_version_and_a_restore_keeps_the_newer() -> None:
    import faust

    from bus.fenced_table import fenced_table
    from bus.fencing import fence_headers
    from processors.identity.graph.state import IdentifierState
    from processors.identity.store import FaustTables

    app = faust.App("fenced-store-test", broker="kafka://127.0.0.1:1", store="memory://")
    nodes = fenced_table(app, "identity-nodes", key_type=bytes, value_type=bytes, partitions=1)
    profiles = fenced_table(app, "identity-profiles", key_type=bytes, value_type=bytes, partitions=1)
    owner, paused = FaustTables(nodes, profiles, lambda: 1), FaustTables(nodes, profiles, lambda: 1)
    owner.put_node("EMAIL:a", IdentifierState(owner="cus_new", version=2))
    (newer,) = owner.drain_changelog(8)
    paused.put_node("EMAIL:a", IdentifierState(owner="cus_old", version=1))
    (stale,) = paused.drain_changelog(7)
    assert newer.headers == fence_headers(8) and stale.headers == fence_headers(7)
    restored = fenced_table(faust.App("fenced-store-restore", broker="kafka://127.0.0.1:1", store="memory://"),
                            "identity-nodes", key_type=bytes, value_type=bytes, partitions=1)
    restored.apply_changelog_batch([
        SimpleNamespace(key=r.key, value=r.value, message=SimpleNamespace(
            partition=0, offset=offset, headers=list(r.headers), value=r.value, key=r.key))
        for offset, r in enumerate([newer, stale])])  # the paused worker's record lands last
    assert FaustTables(restored, profiles, lambda: 1).get_node("EMAIL:a") == IdentifierState(owner="cus_new", version=2)
