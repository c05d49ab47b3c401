"""The contact records in the contacts table's RocksDB store (#9 memory): what the worker's memory and disk hold.

``contacts_on_disk(contacts)`` writes the contact records ``identity_memory.build_state`` built into the store an
identity worker keeps them in (``IdentitySettings.contacts_store = "rocksdb"``: ``bus.key_partitioned_rocksdb`` with
``store.CONTACTS_ROCKSDB_OPTIONS``, one database per partition), as ``store.FaustTables`` writes them (one
``table.data[key] = value`` each), and reports RocksDB's own figures of the memory it holds (write buffers, block
cache, index and filter blocks: ``KeyPartitionedRocksDB.memory_bytes``) once every record was written and read back
(the cache full), the growth of the process's resident set over the same (a cross-check: it holds nothing else new
but the allocator's free lists), and the bytes of the databases' files once flushed.
With ``restore``, a second store is restored from the same records through faust's restore path
(``FencedTable.apply_changelog_batch``, batches of ``RESTORE_CHUNK``) and must hold every record, byte for byte.
"""

from __future__ import annotations

import tempfile
from typing import Any

from processors.identity.store import CONTACTS_TABLE, contacts_table
from tests.processors.identity.support import settings

PARTITIONS = 12  # the graph's partitions by default (OMNIBUS_TOPICS__PARTITIONS): one database each
RESTORE_CHUNK = 10_000


def resident_bytes() -> int:
    """The process's resident set now (``VmRSS``), in bytes."""
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("VmRSS:"))
    return int(line.split()[1]) * 1024


def contacts_table_in(datadir: str, name: str, partitions: int) -> Any:
    """An identity worker's contacts table with ``contacts_store`` rocksdb (its databases in ``datadir``), on an app
    that never connects: what ``store.FaustTables`` writes contact records to."""
    import faust

    from bus.config import TopicSettings
    from bus.fenced_table import fenced_table
    from processors.identity.graph.split_contacts import partition_key

    app = faust.App(name, broker="kafka://127.0.0.1:1", datadir=datadir)
    return fenced_table(app, CONTACTS_TABLE, TopicSettings(), key_type=bytes, value_type=bytes, partitions=partitions,
                        use_partitioner=True, partition_key=partition_key, **contacts_table(settings()))


def contacts_on_disk(contacts: dict[bytes, bytes], partitions: int = PARTITIONS,
                     restore: bool = False) -> dict[str, Any]:
    """``memory``: RocksDB's figures summed (bytes), with each figure apart; ``resident``: the resident set's growth
    over the writes; ``disk``: the files' bytes once the write buffers are flushed; ``restored``: the same figures of
    a store restored from the records (with ``restore``)."""
    with tempfile.TemporaryDirectory(prefix="omnibus-bench-contacts-") as datadir:
        table = contacts_table_in(datadir, "bench-contacts", partitions)
        store = table.data
        before = resident_bytes()
        for key, value in contacts.items():
            store[key] = value
        assert all(store.get(key) == value for key, value in contacts.items())  # reads fill the block cache too
        result: dict[str, Any] = {"resident": resident_bytes() - before, **_figures(store)}
        if restore:
            again = contacts_table_in(datadir + "/restored", "bench-contacts-restored", partitions)
            _restore(again, contacts, partitions)
            result["restored"] = _figures(again.data)
            assert all(again.data.get(key) == value for key, value in contacts.items())
            assert result["restored"]["entries"] == len(contacts)
    return result


def _figures(store: Any) -> dict[str, Any]:
    held = store.memory_bytes()
    for db in store._dbs.values():
        db.flush()
    flushed = store.memory_bytes()
    entries = sum(1 for _ in store.held())
    return {"memory": sum(v for k, v in held.items() if k != "disk"), "figures": held, "disk": flushed["disk"],
            "entries": entries}


def _restore(table: Any, contacts: dict[bytes, bytes], partitions: int) -> None:
    from bus.fencing import fence_headers
    from bus.partitioner import key_hash
    from processors.identity.graph.split_contacts import partition_key
    from tests.bench.identity_memory import _Event, _Message

    headers = list(fence_headers(1))
    items = list(contacts.items())
    for start in range(0, len(items), RESTORE_CHUNK):
        batch = [_Event(key, value, _Message(key_hash(partition_key(key)) % partitions, start + n, headers, value, key))
                 for n, (key, value) in enumerate(items[start:start + RESTORE_CHUNK])]
        table.apply_changelog_batch(batch)
