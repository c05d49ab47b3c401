"""The reader rule of ``customer.identifiers.v1``: per identifier, the highest version wins.

A worker paused beyond the session timeout can resume and write rows it decided before its partitions
moved (#13 case 1); compaction keeps the last write, not the newest decision. Every row carries the
``version`` the identity graph gave the assignment (``IdentifierAssignment.version``: 1 when first
assigned, +1 at every merge or split that moves the identifier), so a reader keeps a row only if its
version is at least the one it holds; equal versions are the same decision, and the later offset wins.
Rows written before versions existed have version 0 and are replaced by any versioned row.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def supersedes(candidate_version: int, current_version: int | None) -> bool:
    """True when a row of ``candidate_version`` replaces the one held (``None``: nothing held yet)."""
    return current_version is None or candidate_version >= current_version


def current_rows(rows: Iterable[tuple[str, Mapping[str, Any] | None]]) -> dict[str, Mapping[str, Any]]:
    """The rows a reader keeps from ``(key, IdentifierAssignment value or None for a tombstone)`` in offset order.

    A tombstone removes the key (the identifier is no longer assigned).
    """
    kept: dict[str, Mapping[str, Any]] = {}
    for key, value in rows:
        if value is None:
            kept.pop(key, None)
        elif supersedes(int(value.get("version") or 0), _version(kept.get(key))):
            kept[key] = value
    return kept


def _version(row: Mapping[str, Any] | None) -> int | None:
    return None if row is None else int(row.get("version") or 0)
