"""Where the processor's state lives, and a batch overlay over it.

Four tables (changelog-backed faust tables in the worker, dicts in tests), JSON values:

* ``catalog``: offer id -> ``{"offer": Offer.to_json(), "withdrawn": bool}``
* ``directory``: identifier key ``TYPE:value`` -> customer id (from ``customer.identifiers.v1``)
* ``customers``: customer id -> ``CustomerState.to_dict()``
* ``pending``: identifier key -> events that named it before identity resolution had assigned it

``Overlay`` buffers a batch's writes so the agent can publish every output, wait for Kafka's
acknowledgement, and only then write the tables (a crash in between replays the batch on the old
state; event-id dedupe drops what was already applied).
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from datetime import UTC, datetime
from typing import Any

_DELETED = object()


class Overlay:
    def __init__(self, base: MutableMapping[str, Any]) -> None:
        self.base = base
        self.writes: dict[str, Any] = {}

    def get(self, key: str, default: Any = None) -> Any:
        value = self.writes.get(key, _DELETED) if key in self.writes else self.base.get(key, default)
        return default if value is _DELETED else value

    def __setitem__(self, key: str, value: Any) -> None:
        self.writes[key] = value

    def __delitem__(self, key: str) -> None:
        self.writes[key] = _DELETED

    def keys(self) -> Iterator[str]:
        seen = set()
        for key in list(self.base.keys()):
            seen.add(key)
            if self.writes.get(key) is not _DELETED:
                yield key
        for key, value in list(self.writes.items()):
            if key not in seen and value is not _DELETED:
                yield key

    def commit(self) -> None:
        for key, value in self.writes.items():
            if value is _DELETED:
                self.base.pop(key, None)
            else:
                self.base[key] = value
        self.writes.clear()


class Stores:
    """The four tables of one worker, each behind an overlay for the current batch."""

    def __init__(self, catalog: MutableMapping[str, Any], directory: MutableMapping[str, Any],
                 customers: MutableMapping[str, Any], pending: MutableMapping[str, Any]) -> None:
        self.catalog, self.directory = Overlay(catalog), Overlay(directory)
        self.customers, self.pending = Overlay(customers), Overlay(pending)

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
