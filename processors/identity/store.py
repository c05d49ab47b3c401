"""Where node states, profiles and contact records live: faust tables in the processor, dicts in tests.

``Overlay`` buffers writes over another store, so a batch can publish its outputs before any new
state becomes durable (and a failed message leaves no half-written state behind).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from faust.serializers import codecs

from bus.batch_restore import BatchIds, batch_header, done_marker, record_batch
from bus.fencing import fence_headers, record_version
from bus.topic import KafkaRecord
from processors.identity.config import IdentitySettings
from processors.identity.graph.contact_codec import decode_contact, encode_contact
from processors.identity.graph.context import NodeStore
from processors.identity.graph.customer_codec import (
    CUSTOMER_WITH_PROFILE,
    CUSTOMER_ZSTD_V1,
    customer_part,
    profile_part,
    with_profile,
)
from processors.identity.graph.legacy import decode_any_profile, decode_any_state
from processors.identity.graph.messages import ContactRecord
from processors.identity.graph.profile_codec import decode_profile, encode_profile
from processors.identity.graph.split_contacts import partition_key
from processors.identity.graph.state import CustomerState, NodeState, encode_state
from processors.identity.wire import partition_of
from processors.profile.book import ProfileState

CONTACTS_TABLE = "identity-contacts"  # the contact records (split_contacts.py); changelog identity-<name>-changelog
# The contacts table's RocksDB databases (one per partition, ``bus.key_partitioned_rocksdb``), faust's
# ``RocksDBOptions``: under 1 MiB of memory each (two 256 KiB write buffers, a 256 KiB block cache, the files' index
# and filters), whatever the number of records. A contact is written once and read only at a merge, a split, a claim
# or a channel's cut (split_contacts.py): small buffers, flushed to disk at 256 KiB, and a small cache. faust's
# defaults (64 MiB buffers, 3 of them, a 2 GiB cache) are per partition: a worker with 12 partitions could hold
# gigabytes. 100,000 records of 280 bytes on 12 partitions: 3.7 MB held with these, 11.1 MB with 1 MiB buffers and
# cache (tests/bench/results/identity_memory.md).
CONTACTS_ROCKSDB_OPTIONS = {"write_buffer_size": 256 << 10, "max_write_buffer_number": 2, "block_cache_size": 256 << 10,
                            "target_file_size_base": 8 << 20}
_GONE = object()
_HOLDERS = (bytes((CUSTOMER_ZSTD_V1,)), bytes((CUSTOMER_WITH_PROFILE,)))  # node values a profile is kept in


def contacts_table(identity: IdentitySettings) -> dict[str, Any]:
    """The faust table arguments of the contacts table's store (``IdentitySettings.contacts_store``): RocksDB with
    ``CONTACTS_ROCKSDB_OPTIONS``, or the memory store (the app's default)."""
    if identity.contacts_store == "rocksdb":
        # the table's name as the URL's path: faust's "rocksdict://" alone is a false URL, taken for none (the app's)
        return {"store": f"rocksdict:{CONTACTS_TABLE}", "options": dict(CONTACTS_ROCKSDB_OPTIONS)}
    return {}


class Overlay:
    def __init__(self, base: NodeStore) -> None:
        self._base = base
        self._nodes: dict[str, Any] = {}
        self._profiles: dict[str, Any] = {}
        self._contacts: dict[str, Any] = {}

    def get_node(self, key: str) -> NodeState | None:
        value = self._nodes.get(key, _GONE)
        return self._base.get_node(key) if value is _GONE else value

    def put_node(self, key: str, state: NodeState | None) -> None:
        self._nodes[key] = state

    def get_profile(self, key: str) -> ProfileState | None:
        value = self._profiles.get(key, _GONE)
        return self._base.get_profile(key) if value is _GONE else value

    def put_profile(self, key: str, profile: ProfileState | None) -> None:
        self._profiles[key] = profile

    def get_contact(self, key: str) -> ContactRecord | None:
        value = self._contacts.get(key, _GONE)
        return self._base.get_contact(key) if value is _GONE else value

    def put_contact(self, key: str, record: ContactRecord | None) -> None:
        self._contacts[key] = record

    def commit(self) -> int:
        """Write every buffered change to the base store; returns how many."""
        base = self._base
        if type(base) is Overlay:  # a message's transaction over its batch: the batch's maps take the changes as
            base._nodes.update(self._nodes)  # its ``put_*`` would, key by key, in order, without a call each (#9)
            base._profiles.update(self._profiles)
            base._contacts.update(self._contacts)
        else:
            for key, state in self._nodes.items():
                base.put_node(key, state)
            for key, profile in self._profiles.items():
                base.put_profile(key, profile)
            for key, record in self._contacts.items():
                base.put_contact(key, record)
        count = len(self._nodes) + len(self._profiles) + len(self._contacts)
        self._nodes.clear()
        self._profiles.clear()
        self._contacts.clear()
        return count


class FaustTables:
    """Node states, profiles and contact records in three changelog-backed faust tables keyed by the UTF-8 node key
    (a contact record: ``split_contacts.contact_key``, written to its customer's partition, ``partition_key``).

    Values are msgpack bytes (``graph/state.py``: a node state is ``[tag, field, ...]``; ``graph/profile_codec.py``: a
    profile is its ``{section: state}`` map, compressed; ``graph/contact_codec.py``: a contact record, compressed),
    decoded on every read: the handlers get a fresh copy, the table holds no Python objects but one ``bytes`` per
    key, and the changelog record is the same bytes.
    Values stored as JSON before this format are read too (``graph/legacy.py``).

    A customer's profile is kept inside its node value (``customer_codec.CUSTOMER_WITH_PROFILE``: no key, object and
    dict entry of its own, #9 point 5), so one changelog record carries both; the profile table keeps the profiles of
    keys without a compressed customer state, and those written before this format, each read until its customer's
    next profile write moves it into the node value (and tombstones the row).

    A change is written to the changelog partition of its key, computed with Kafka's default
    partitioner on the same bytes as the graph topic's record keys: a key's state, its changelog and
    its messages all live on the same partition number, so the worker that owns the partition holds
    the state, and a rebalance moves both together. The partition is computed here rather than by
    faust's producer, which would need the changelog topic's metadata at that very moment.

    Changelog records are not sent through faust's producer (about 70 µs a record, #9): ``put_*``
    changes the table's data and queues the record (one per key: the last value), and the caller
    sends ``drain_changelog(version)`` through its aiokafka producer and awaits the acknowledgements
    before the batch's offsets may be committed. faust still reads the changelog to recover a table.

    Every record carries the batch's fencing version (``bus.fencing``: the consumer-group generation its
    input records were fetched in), and the tables are ``bus.fenced_table.FencedTable``s: a record a
    paused worker sends after it lost the partition is skipped at restore, and by ``omnibus verify``. Every record
    also carries its batch's id (header ``omnibus-batch``, ``bus.batch_restore``), so that a restore that saw part of
    a batch skipped takes the rest back in all three tables.
    """

    def __init__(self, nodes: Any, profiles: Any, contacts: Any, partitions: Callable[[], int]) -> None:
        self.nodes = nodes
        self.profiles = profiles
        self.contacts = contacts
        self._partitions = partitions
        # (changelog topic, key) -> (value or None for a tombstone, partition); a dict keeps insertion order
        self._pending: dict[tuple[str, bytes], tuple[bytes | None, int]] = {}
        self._changelogs: dict[int, tuple[str, Callable[[bytes], bytes] | None]] = {}  # id(table) -> topic, codec
        self._batches = BatchIds()

    def drain_changelog(self, version: int) -> list[KafkaRecord]:
        """The changelog records queued since the last call, one per changed key (the last value), each with
        the fencing ``version`` of the batch that changed it (``bus.fencing.batch_version``) and a new batch id
        (``bus.batch_restore``: one per call, in the order the records are handed to the producer)."""
        if not self._pending:
            return []
        headers = (*fence_headers(version), batch_header(self._batches.next()))
        records = [KafkaRecord(topic, key, value, headers, partition)
                   for (topic, key), (value, partition) in self._pending.items()]
        self._pending.clear()
        return records

    def done_markers(self, records: list[KafkaRecord]) -> list[KafkaRecord]:
        """The done markers of the batch ``drain_changelog`` gave as ``records``: one in the node table's changelog
        per partition the batch wrote (``bus.batch_restore.done_marker``), to send once ``records`` and every earlier
        batch's markers are acknowledged; none for no records."""
        if not records:
            return []
        version = record_version(records[0].headers)
        batch = record_batch(records[0].headers)
        assert batch is not None  # drain_changelog's
        key, value, headers = done_marker(batch, version)
        topic = self._changelogs.get(id(self.nodes)) or self._changelog_of(self.nodes)
        return [KafkaRecord(topic[0], key, value, headers, partition)
                for partition in sorted({record.partition for record in records if record.partition is not None})]

    def get_node(self, key: str) -> NodeState | None:
        data = self.nodes.data.get(key.encode())
        return None if data is None else decode_any_state(data)

    def put_node(self, key: str, state: NodeState | None) -> None:
        before = self.nodes.data.get(key.encode())
        kept = None if before is None else profile_part(before)
        value = None if state is None else encode_state(state)
        if kept is not None:  # the customer's profile stays with it
            if type(state) is CustomerState:
                value = with_profile(value, kept)  # type: ignore[arg-type]
            else:  # no customer state to keep it in (none written so): a row of its own again
                self._put(self.profiles, key, kept)
        self._put(self.nodes, key, value)

    def get_profile(self, key: str) -> ProfileState | None:
        node = self.nodes.data.get(key.encode())
        if node is not None and (held := profile_part(node)) is not None:
            return decode_profile(held)
        data = self.profiles.data.get(key.encode())
        return None if data is None else decode_any_profile(data)

    def put_profile(self, key: str, profile: ProfileState | None) -> None:
        raw_key = key.encode()
        node = self.nodes.data.get(raw_key)
        if node is None or node[:1] not in _HOLDERS:
            self._put(self.profiles, key, None if profile is None else encode_profile(profile))
            return
        customer = customer_part(node)
        self._put(self.nodes, key, customer if profile is None else with_profile(customer, encode_profile(profile)))
        if raw_key in self.profiles.data:  # a row written before the profile moved into the node value
            self._put(self.profiles, key, None)

    def get_contact(self, key: str) -> ContactRecord | None:
        data = self.contacts.data.get(key.encode())
        return None if data is None else decode_contact(data)

    def put_contact(self, key: str, record: ContactRecord | None) -> None:
        self._put(self.contacts, key, None if record is None else encode_contact(record),
                  partition_key(key.encode()).decode())

    def _put(self, table: Any, key: str, value: bytes | None, partition_by: str | None = None) -> None:
        raw_key = key.encode()
        if value is not None:
            table.data[raw_key] = value
        elif raw_key in table.data:
            del table.data[raw_key]
        else:
            return
        topic, codec = self._changelogs.get(id(table)) or self._changelog_of(table)  # no call once known (#9)
        pending = (topic, raw_key)
        self._pending.pop(pending, None)  # keep the per-key order: the last change goes last
        encoded = value if value is None or codec is None else codec(value)
        self._pending[pending] = (encoded, partition_of(partition_by or key, self._partitions()))

    def _changelog_of(self, table: Any) -> tuple[str, Callable[[bytes], bytes] | None]:
        """The table's changelog topic and its value codec (None: faust's ``raw`` codec, bytes as they are),
        looked up once per table: ~1 µs a write saved (#9)."""
        found = self._changelogs.get(id(table))
        if found is None:
            serializer = table.value_serializer
            codec = None if serializer == "raw" else (lambda value: codecs.dumps(serializer, value))
            found = self._changelogs[id(table)] = (table.changelog_topic.get_topic_name(), codec)
        return found
