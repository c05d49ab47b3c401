"""Where the processor's state lives, and a batch overlay over it.

Four tables (changelog-backed faust tables in the worker, dicts in tests), JSON values:

* ``catalog``: offer id -> ``{"offer": Offer.to_json(), "withdrawn": bool}``
* ``directory``: identifier key ``TYPE:value`` -> customer id (from ``customer.events.v1``); and a contact's
  placement ``PLACED:<correlation id>`` -> ``[customer id, moved, received_at us]`` (``answers.place``)
* ``customers``: customer id -> ``CustomerState.to_dict()``
* ``pending``: identifier key -> events that named it before identity resolution had assigned it; placement key ->
  offer events of a contact identity has not placed yet

``Overlay`` buffers a batch's writes so the agent can publish every output, wait for Kafka's
acknowledgement, and only then write the tables (a crash in between replays the batch on the old
state; event-id dedupe drops what was already applied).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from aiokafka.partitioner import murmur2

_DELETED = object()


class Overlay:
    def __init__(self, base: Any) -> None:
        self.base = base
        self.writes: dict[str, Any] = {}

    def get(self, key: str, default: Any = None) -> Any:
        value = self.writes.get(key, _DELETED) if key in self.writes else self.base.get(key, default)
        return default if value is _DELETED else value

    def __setitem__(self, key: str, value: Any) -> None:
        self.writes[key] = value

    def __delitem__(self, key: str) -> None:
        self.writes[key] = _DELETED

    def pop(self, key: str, default: Any = None) -> Any:
        value = self.get(key, default)
        self.writes[key] = _DELETED
        return value

    def keys(self, prefix: str = "") -> Iterator[str]:
        """The keys (those starting with ``prefix``): the base's not deleted here, then the ones written here only.
        The prefix is applied by the innermost table, so a sweep over one kind of key (``retention.py``) does not
        carry every other key of a large table up through the overlays."""
        for key in _keys(self.base, prefix):
            if self.writes.get(key) is not _DELETED:
                yield key
        for key, value in list(self.writes.items()):
            if value is not _DELETED and key.startswith(prefix) and self.base.get(key, _DELETED) is _DELETED:
                yield key

    def commit(self) -> None:
        for key, value in self.writes.items():
            if value is _DELETED:
                self.base.pop(key, None)
            else:
                self.base[key] = value
        self.writes.clear()


def _keys(table: Any, prefix: str) -> list[str]:
    """``table``'s keys starting with ``prefix``: an overlay or ``TableMap`` filters them itself, a dict (tests)
    here."""
    if isinstance(table, Overlay | TableMap):
        return list(table.keys(prefix))
    return [key for key in table.keys() if key.startswith(prefix)]


class Stores:
    """The four tables of one worker, each behind an overlay (tables, or the overlays of an enclosing batch)."""

    def __init__(self, catalog: Any, directory: Any, customers: Any, pending: Any) -> None:
        self.catalog, self.directory = Overlay(catalog), Overlay(directory)
        self.customers, self.pending = Overlay(customers), Overlay(pending)

    def nested(self) -> Stores:
        """Overlays over these overlays: one event's writes, committed into the batch only if it succeeds."""
        return Stores(self.catalog, self.directory, self.customers, self.pending)

    def commit(self) -> None:
        for overlay in (self.catalog, self.directory, self.customers, self.pending):
            overlay.commit()


def to_json(value: Any) -> Any:
    """A decoded Avro value as JSON: datetimes become ``{"$us": epoch microseconds}``."""
    if isinstance(value, datetime):
        return {"$us": int(value.timestamp() * 1_000_000)}
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_json(v) for v in value]
    return value


def from_json(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"$us"}:
            return datetime.fromtimestamp(value["$us"] / 1_000_000, UTC)
        return {k: from_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_json(v) for v in value]
    return value


class TableMap:
    """A faust table as a plain mapping: reads from its local data, each write also sent to its changelog.

    The changelog partition is the key's murmur2 partition, computed here (as identity's ``FaustTables``
    does) instead of by faust's producer, which would need the changelog topic's metadata at that moment
    and, without ``use_partitioner``, a current event. Keys are text, values JSON-able.
    """

    def __init__(self, table: Any, partitions: int) -> None:
        self.table, self.partitions = table, partitions

    def _partition(self, key: str) -> int:
        return (murmur2(key.encode()) & 0x7FFFFFFF) % self.partitions

    def get(self, key: str, default: Any = None) -> Any:
        return self.table.data.get(key, default)

    def keys(self, prefix: str = "") -> Iterator[str]:
        return iter([key for key in self.table.data.keys() if key.startswith(prefix)] if prefix
                    else list(self.table.data.keys()))

    def __setitem__(self, key: str, value: Any) -> None:
        self.table.data[key] = value
        self.table.send_changelog(self._partition(key), key, value)

    def pop(self, key: str, default: Any = None) -> Any:
        if key not in self.table.data:
            return default
        value = self.table.data.pop(key)
        self.table.send_changelog(self._partition(key), key, None, value_serializer="raw")  # a tombstone
        return value
