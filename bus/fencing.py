"""Fencing a worker that lost its partitions: it must not publish what it decided before (#13 build 1).

Three parts, because neither alone is enough without Kafka transactions:

* ``AssignmentFence`` (here): a worker refuses to publish the outputs of a batch if any of its
  partitions was revoked while the batch ran, or is no longer assigned. That closes the common window
  (a rebalance during a batch) and, with the membership lease (``bus.group_lease``), a worker paused past
  its session timeout, which learns it was fenced out only at its next heartbeat; not a publish already in
  flight when it froze, which completes when it resumes.
* A version on every state row that readers compare (``processors.identity.assignments``): the row
  decided later carries the higher version whatever the order it is written in, so a stale write that
  slips through is ignored by the reader rule.
* A fencing version on every changelog record of a table (``ChangelogFence`` here; ``bus.fenced_table``
  applies it at restore and in standby replicas, ``processors.replay.fenced`` for ``omnibus verify``): the
  header ``omnibus-fence`` holds the consumer-group generation of the writer: for a faust table, the one
  in which it fetched the input records the state was derived from (faust stamps ``generation_id`` on every
  fetched message); for identity's tables, which two paths write (graph batches and repeat contacts applied
  at intake), the worker's generation when it writes, which never falls (a batch taken from faust's buffer
  right after a rebalance holds records fetched in the generation before). The rebalance that moves a
  partition raises the generation, so a worker that lost the partition writes under a lower version than
  the new owner. The rule is per partition, in offset order: a record below
  the highest version already read in its partition is a late write of a fenced-out worker and is
  skipped, whether or not the new owner wrote that key again (it never read the late record, so its
  state is what the log must mean). A new owner writes a marker of its generation into every changelog
  partition it takes over *before* faust restores it (``fence_marker``): everything the restore did not
  read lands after the marker and is skipped. Equal versions: one owner, one producer, so offset order
  decides. Records written before versions existed count as the lowest version. After a restore, the
  owner writes again the current value of each key whose last record was a skipped late write, because
  compaction keeps a key's last record whatever its version.

Why not Kafka's own fencing: a transactional producer per input partition (zombie fencing on
``init_transactions``, a read_committed restore) would fence at the broker, but needs a producer and a
transaction commit per partition per batch, a read_committed restore inside faust, and the project's
producer runs outside faust while faust's exactly_once mode has open loss and duplicate bugs (see
``bus.app``). Versions cost a header per record and a marker per partition per takeover.

What the versions cannot do: if the consumer group is deleted and created again (a processor stopped for
longer than the broker's ``offsets.retention.minutes``, or deleted by hand), its generations start at 1
again, below the versions already in its changelogs, and a restore would skip the new writes; the
changelog topics must be deleted with the group. A worker that restores records of a higher generation
than its own in a partition it owns logs an error saying so.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from bus.group_lease import GroupLease
from bus.metrics import PUBLISH_FENCED


class AssignmentFence:
    """Counts revocations; a batch may publish only if none happened since it started, and while the worker's
    membership lease holds (``bus.group_lease``: a worker resumed after a pause past its session timeout has
    none, though nobody has told it yet that its partitions moved).

    ``assigned``: returns the worker's current assignment (``(topic, partition)`` pairs or aiokafka/
    faust ``TP`` tuples). Call ``revoked()`` from the app's ``on_partitions_revoked`` signal. ``lease``: the
    consumer's ``GroupLease`` (None: not checked), ``confirm_within_s``: how long ``confirm`` waits for it.
    """

    def __init__(self, assigned: Callable[[], Iterable[Any]], component: str, *, lease: GroupLease | None = None,
                 confirm_within_s: float = 1.0) -> None:
        self._assigned = assigned
        self._component = component
        self._revocations = 0
        self._lease = lease
        self._confirm_within_s = confirm_within_s

    def revoked(self, *_: Any, **__: Any) -> None:
        self._revocations += 1

    def stamp(self) -> int:
        """Taken when a batch starts; handed back to ``allows``."""
        return self._revocations

    async def confirm(self) -> None:
        """Wait (at most ``confirm_within_s``) for a membership lease that ran out to be renewed or lost; call it
        right before ``allows``, so that a busy moment with no heartbeat answered does not fence a batch."""
        if self._lease is not None and not self._lease.held():
            await self._lease.confirm(self._confirm_within_s)

    def allows(self, stamp: int, partitions: Iterable[tuple[str, int]]) -> bool:
        """True when no partition was revoked since ``stamp``, every one in ``partitions`` is still ours, and the
        membership lease holds."""
        owned = {(tp[0], tp[1]) for tp in self._assigned()}
        allowed = (stamp == self._revocations and all((topic, p) in owned for topic, p in partitions)
                   and (self._lease is None or self._lease.held()))
        if not allowed:
            PUBLISH_FENCED.labels(component=self._component).inc()
        return allowed


FENCE_HEADER = "omnibus-fence"
UNVERSIONED = -1  # a changelog record written before fencing versions: lower than any version
MARKER_PREFIX = "\x00omnibus-fence:"  # no table key starts with a NUL character (node keys, JSON keys)
MARKER_VALUE = "taken"  # not a tombstone: compaction would drop a tombstone marker after delete.retention.ms
# A marker's key as it is on the topic: through the raw serializer (identity's bytes keys), or through JSON.
_MARKER_KEYS = (MARKER_PREFIX.encode(), json.dumps(MARKER_PREFIX)[:-1].encode())

Headers = Sequence[tuple[str, bytes]] | Sequence[tuple[str, bytes | None]] | Mapping[str, bytes] | None
R = TypeVar("R")


def fence_headers(version: int) -> tuple[tuple[str, bytes]]:
    """The headers of a changelog record written under fencing ``version`` (decimal ASCII)."""
    return ((FENCE_HEADER, str(version).encode()),)


def int_header(headers: Headers, header: str) -> int | None:
    """The decimal ASCII integer in Kafka header ``header`` (None without it, or with an unreadable value)."""
    pairs = headers.items() if isinstance(headers, Mapping) else headers or ()
    for name, value in pairs:
        if name == header and value:
            try:
                return int(value.decode())
            except (UnicodeDecodeError, ValueError):
                return None
    return None


def record_version(headers: Headers) -> int:
    """The fencing version of a changelog record (``UNVERSIONED`` without the header, or an unreadable one)."""
    version = int_header(headers, FENCE_HEADER)
    return UNVERSIONED if version is None else version


def fence_marker(version: int) -> tuple[str, str, tuple[tuple[str, bytes]]]:
    """``(key, value, headers)`` of the marker a worker writes into a changelog partition it takes over,
    before its restore reads that partition: every late write of the previous owner that lands after it is
    below its version, whether or not the new owner ever writes the same key. One key per version, so
    compaction never removes a marker (one record per partition per takeover). Key and value are text,
    written with the table's own serializers (raw or JSON), so the table's restore decodes them."""
    return MARKER_PREFIX + str(version), MARKER_VALUE, fence_headers(version)


def is_marker(key: str | bytes | None) -> bool:
    """True for a fence marker's key (``fence_marker``), decoded or as on the topic: it orders the log, it is
    no table entry."""
    if isinstance(key, str):
        return key.startswith(MARKER_PREFIX)
    return key is not None and key.startswith(_MARKER_KEYS)


def batch_version(generations: Iterable[int | None]) -> int:
    """The version a batch writes: the highest consumer-group generation its input records were fetched in.

    A batch that may publish holds records of one generation (``AssignmentFence`` refuses a batch that
    spans a revocation); faust stamps ``message.generation_id``. ``UNVERSIONED`` when none is known.
    """
    return max((g for g in generations if g is not None and g >= 0), default=UNVERSIONED)


@dataclass(slots=True)
class _Partition:
    offset: int
    highest: int


class ChangelogFence:
    """The reader rule of a fenced changelog: per partition, in offset order, a record whose version is
    below the highest version already read is a late write of a fenced-out worker and is skipped.

    ``admits`` must see each partition's records in offset order; reading a partition again from an
    earlier offset (faust restores from the start after a reassignment) starts that partition afresh.
    """

    def __init__(self) -> None:
        self._partitions: dict[Any, _Partition] = {}
        self.skipped = 0

    def admits(self, partition: Any, offset: int, headers: Headers) -> bool:
        """True when the record at ``offset`` of ``partition`` (any hashable id) is applied."""
        version = record_version(headers)
        seen = self._partitions.get(partition)
        if seen is None or offset <= seen.offset:
            self._partitions[partition] = _Partition(offset, version)
            return True
        seen.offset = offset
        if version < seen.highest:
            self.skipped += 1
            return False
        seen.highest = version
        return True

    def highest(self, partition: Any) -> int:
        """The highest version read in ``partition`` (``UNVERSIONED`` if none)."""
        seen = self._partitions.get(partition)
        return UNVERSIONED if seen is None else seen.highest

    def last_offset(self, partition: Any) -> int | None:
        """The offset of the last record read in ``partition`` (None: none yet)."""
        seen = self._partitions.get(partition)
        return None if seen is None else seen.offset

    def filter(self, records: Iterable[R], position: Callable[[R], tuple[Any, int, Headers, bytes | None]],
               ) -> Iterator[R]:
        """The table entries ``admits`` keeps (not the markers); ``position(record)`` gives its
        ``(partition, offset, headers, key)``."""
        for record in records:
            partition, offset, headers, key = position(record)
            if self.admits(partition, offset, headers) and not is_marker(key):
                yield record
