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
