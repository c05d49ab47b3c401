"""A batch written to several changelogs is restored whole or not at all (#13: a batch restored in part).

A processor that writes one batch's state into several changelog topics (identity: node states, profiles, contact
records, ``processors/identity/store.py``) cannot have them land atomically: a worker stopped while its producer had
sent part of a batch's changelog (a pause past the session timeout, or a kill) leaves the part sent before the new
owner's fence markers (``bus.fencing``), restored, and the rest after them, skipped as late writes. The restore then
holds the batch in part: some keys as after it, some as before, and a replay of its input finds it done where its
node states say so and leaves the rest as before it, for good.

The rule, per changelog partition and per batch:

* every record of a batch carries the header ``omnibus-batch`` = ``<writer>:<seq>`` (``BatchIds``): the writer is a
  random token of the process's table store, ``seq`` counts its batches from 1 in the order it hands their records
  to its one producer;
* once a batch's records are acknowledged (and every earlier batch's done marker), the writer writes a done marker
  into one of the changelogs (identity: the node table's), in each partition the batch wrote:
  key ``<fence marker prefix>batch:<writer>``, value ``<seq>`` (``done_marker``): one key per writer and partition, so
  compaction keeps the last; the batch counts as done, its input offsets committed, only after that;
* after a restore, each table takes back what it applied, in the last ``TAIL_BATCHES`` batches of each partition it
  restored, of every batch above its writer's done marker there (``TailUndo``; the markers read by the tables
  restored together, ``DoneBatches``): each key gets the value it had before, and the owner writes that value to the
  changelog again (a tombstone if none), so that the next restore reads it last.

Why that is safe: a batch without its done marker before the new owner's fence marker did not count as done before
the generation moved on, and Kafka refuses an offset commit of an older generation, so its input (and that of every
later batch of its writer) was not committed: the new owner takes it again from the committed offsets and handles it
from the state before the batch, with effects deduplicated on event ids. A done marker that lands after the fence
marker is a late write, skipped like the rest. Records without the batch header (written before it existed) restore
as before, record by record; a batch whose records began before the runs kept is logged, not taken back.

A reader of the changelogs (``omnibus verify``, ``omnibus replay identity``) takes the same batches back
(``restored_changelog``), so it compares what the owner holds after its restore, also before the owner's rewrite
lands.

A standby replica (applied in bulk, ``FencedTable.apply_standby``: no tail) promoted to active is restored from the
start of the changelog: faust-streaming 0.15.3 seeks a partition newly active to its earliest offset when the store
keeps no offset (``faust/tables/recovery.py``: ``Recovery._add`` and ``on_rebalance`` keep an active offset only for a
partition active before, ``_build_offsets`` takes the earliest one; ``persisted_offset`` is None for faust's memory
store and for ``bus.key_partitioned_rocksdb``). The replica's copy is dropped as that restore starts
(``FencedTable._forget``), so the tail's value before a batch is the restore's.
``tests/bus/test_fenced_table_promotion.py`` pins that rule: a persistent store that restored from its last offset
would keep no tail of what it held before.
"""

from __future__ import annotations

import uuid
from collections import deque
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from bus.fencing import MARKER_PREFIX, ChangelogFence, Headers, fence_headers, is_marker

BATCH_HEADER = "omnibus-batch"
DONE_PREFIX = (MARKER_PREFIX + "batch:").encode()  # a done marker's key, then its writer
TAIL_BATCHES = 64  # batches per partition whose applied records a restore can take back: more than ever in flight
Batch = tuple[str, int]  # (writer, seq)


class BatchIds:
    """The batch ids of one writer (a table store of one process): ``next()`` is ``<writer>:<seq>``, seq from 1."""

    def __init__(self, writer: str | None = None) -> None:
        self.writer = writer or uuid.uuid4().hex[:12]
        self._seq = 0

    def next(self) -> str:
        self._seq += 1
        return f"{self.writer}:{self._seq}"


def batch_header(batch: str) -> tuple[str, bytes]:
    """The header of a changelog record of batch ``batch`` (``BatchIds.next``)."""
    return BATCH_HEADER, batch.encode()


def record_batch(headers: Headers) -> Batch | None:
    """``(writer, seq)`` of a changelog record's batch; None without the header (written before it existed) or with an
    unreadable one."""
    pairs = headers.items() if isinstance(headers, Mapping) else headers or ()
    for name, value in pairs:
        if name == BATCH_HEADER and value:
            writer, _, seq = value.decode(errors="replace").rpartition(":")
            return (writer, int(seq)) if writer and seq.isdigit() else None
    return None


def done_marker(batch: Batch, version: int) -> tuple[bytes, bytes, tuple[tuple[str, bytes], ...]]:
    """``(key, value, headers)`` of the done marker of ``batch`` (``(writer, seq)``, ``record_batch``), written under
    fencing ``version``: a fence marker's key prefix (``bus.fencing.is_marker``: no table entry, skipped by every
    reader)."""
    writer, seq = batch
    return DONE_PREFIX + writer.encode(), str(seq).encode(), fence_headers(version)


def done_of(key: Any, value: Any) -> Batch | None:
    """``(writer, seq)`` of a done marker as on the topic (raw key and value); None for any other record."""
    if not isinstance(key, bytes) or not key.startswith(DONE_PREFIX) or not isinstance(value, bytes) \
            or not value.isdigit():
        return None
    return key[len(DONE_PREFIX):].decode(errors="replace"), int(value)


class DoneBatches:
    """The done markers read by the tables restored together: per partition, per writer, the highest seq done.
    ``start(generation)`` forgets those of an earlier generation's restore."""

    def __init__(self) -> None:
        self._generation: int | None = None
        self._done: dict[Hashable, dict[str, int]] = {}

    def start(self, generation: int) -> None:
        if generation != self._generation:
            self._generation, self._done = generation, {}

    def add(self, partition: Hashable, done: Batch) -> None:
        writer, seq = done
        seen = self._done.setdefault(partition, {})
        seen[writer] = max(seq, seen.get(writer, 0))

    def of(self, partition: Hashable) -> dict[str, int]:
        """writer -> the highest seq of its batches done in ``partition``."""
        return dict(self._done.get(partition, {}))


@dataclass(slots=True)
class _Run:
    batch: Batch | None
    writes: list[tuple[Any, Any]] = field(default_factory=list)  # (key, the value before), in apply order


@dataclass(slots=True)
class Rollback:
    """What ``TailUndo.roll_back`` gives: ``values`` key -> the value before the batches (None: no value);
    ``batches``: the batches taken back; ``kept``: keys a later record not taken back wrote again, left as they are;
    ``beyond``: a batch not done had records before the runs kept, which are not taken back."""

    values: dict[Any, Any]
    batches: list[Batch]
    kept: int = 0
    beyond: bool = False


class TailUndo:
    """One table's last ``runs`` runs of records per partition as a restore applied them (a run: consecutive records
    of one batch, or without one), each write with the key's value before it."""

    def __init__(self, runs: int = TAIL_BATCHES) -> None:
        self._runs = runs
        self._tails: dict[Hashable, deque[_Run]] = {}
        self._dropped: dict[Hashable, dict[str, int]] = {}  # partition -> writer -> highest seq of a run let go

    def clear(self, partition: Hashable) -> None:
        self._tails.pop(partition, None)
        self._dropped.pop(partition, None)

    def applied(self, partition: Hashable, batch: Batch | None, key: Any, before: Any) -> None:
        """A record of ``batch`` (None: without one) applied to ``key``, whose value was ``before``. Records without
        a batch before any with one (a changelog written before batch ids) are not kept: nothing before them is
        taken back."""
        tail = self._tails.get(partition)
        if tail is None:
            if batch is None:
                return
            tail = self._tails[partition] = deque()
        if not tail or tail[-1].batch != batch:
            tail.append(_Run(batch))
            if len(tail) > self._runs:
                gone = tail.popleft().batch
                if gone is not None:
                    dropped = self._dropped.setdefault(partition, {})
                    dropped[gone[0]] = max(gone[1], dropped.get(gone[0], 0))
        tail[-1].writes.append((key, before))

    def roll_back(self, partition: Hashable, done: Mapping[str, int]) -> Rollback:
        """The values that take back, in ``partition``, every write of a batch above its writer's ``done`` seq (a
        writer without one: all its batches): each key gets its value before the first such write after the last
        record not taken back that wrote it (another writer's, or one without a batch, such as the rewrite after an
        earlier take-back); a key whose last write is such a record keeps its value (counted in ``kept``)."""
        values: dict[Any, Any] = {}
        later: set[Any] = set()
        batches: list[Batch] = []
        for run in self._tails.get(partition, ()):
            undone = run.batch is not None and run.batch[1] > done.get(run.batch[0], 0)
            if undone and run.batch not in batches:
                batches.append(run.batch)  # type: ignore[arg-type]
            for key, before in run.writes:
                if undone:
                    values.setdefault(key, before)
                elif key in values:
                    del values[key]  # written again by a record that stays: nothing before it is taken back
                    later.add(key)
        dropped = self._dropped.get(partition, {})
        beyond = any(seq > done.get(writer, 0) for writer, seq in dropped.items())
        return Rollback(values, batches, len(later - values.keys()), beyond)


def take_back(store: MutableMapping[Any, Any], rollback: Rollback) -> None:
    """Give each key of ``rollback`` its value before the batches taken back in ``store`` (no value: deleted)."""
    for key, before in rollback.values.items():
        if before is None:
            if key in store:
                del store[key]
        else:
            store[key] = before


@dataclass(slots=True)
class ChangelogRecord:
    """One changelog record as a reader hands it to ``restored_changelog``: ``partition`` any hashable id,
    ``key``/``value`` raw bytes (value None: a tombstone), ``headers`` the Kafka headers."""

    partition: Hashable
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Headers


def done_batches(records: Iterable[ChangelogRecord]) -> DoneBatches:
    """The done markers of the changelog that carries them (identity's node table's), as a restore reads them:
    through the fence (``bus.fencing.ChangelogFence``: a marker written late is skipped). ``records`` in offset
    order per partition."""
    fence, done = ChangelogFence(), DoneBatches()
    for record in records:
        if fence.admits(record.partition, record.offset, record.headers):
            batch = done_of(record.key, record.value)
            if batch is not None:
                done.add(record.partition, batch)
    return done


def restored_changelog(records: Iterable[ChangelogRecord], done: DoneBatches, decode: Callable[[bytes], Any],
                       on_undecodable: Callable[[ChangelogRecord, Exception], None],
                       errors: tuple[type[Exception], ...]) -> dict[bytes, Any]:
    """A changelog's table as its owner holds it after a restore from the start (``FencedTable``): through the fence
    (late writes and markers left out), the last value per key (a tombstone removes the key), then every batch
    without its done marker in ``done`` (``done_batches``) taken back as the restore takes it back (``TailUndo``, the
    last ``TAIL_BATCHES`` runs per partition). Returns raw key -> ``decode(value)``; a value whose ``decode``
    raises one of ``errors`` is left out (the key keeps its earlier value) and handed to ``on_undecodable``.
    ``records`` in offset order per partition."""
    table: dict[bytes, Any] = {}
    tail = TailUndo()
    fence = ChangelogFence()
    partitions: list[Hashable] = []
    for record in _admitted(records, fence):
        if record.partition not in partitions:
            partitions.append(record.partition)
        key = record.key
        assert key is not None  # _admitted
        tail.applied(record.partition, record_batch(record.headers), key, table.get(key))
        if record.value is None:
            table.pop(key, None)
            continue
        try:
            table[key] = decode(record.value)
        except errors as exc:
            on_undecodable(record, exc)
    for partition in partitions:
        take_back(table, tail.roll_back(partition, done.of(partition)))
    return table


def _admitted(records: Iterable[ChangelogRecord], fence: ChangelogFence) -> Iterator[ChangelogRecord]:
    for record in records:
        if fence.admits(record.partition, record.offset, record.headers) and record.key is not None \
                and not is_marker(record.key):
            yield record
