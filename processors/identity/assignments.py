"""The reader rule of ``customer.identifiers.v1``: per identifier, the highest version wins.

A worker paused beyond the session timeout can resume and write rows it decided before its partitions
moved (#13 case 1); compaction keeps the last write, not the newest decision. Every row carries the
``version`` the identity graph gave the assignment (``IdentifierAssignment.version``: 1 when first
assigned, +1 at every merge or split that moves the identifier), so a reader keeps a row only if its
version is at least the one it holds; equal versions are the same decision, and the later offset wins.
Rows written before versions existed have version 0 and are replaced by any versioned row.

A tombstone (no value) means the identifier belongs to nobody now: a per-customer limit evicted it
(``graph/limits.py``). It carries its version in the header ``VERSION_HEADER`` (decimal ASCII); a row
of that version or older, written late, does not bring the identifier back, a newer one does. A
tombstone without the header removes whatever is held.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from bus.fencing import int_header

VERSION_HEADER = "omnibus-assignment-version"


def supersedes(candidate_version: int, current_version: int | None) -> bool:
    """True when a row of ``candidate_version`` replaces the one held (``None``: nothing held yet)."""
    return current_version is None or candidate_version >= current_version


def tombstone_headers(version: int) -> tuple[tuple[str, bytes]]:
    """The headers of a tombstone that ends assignment ``version``."""
    return ((VERSION_HEADER, str(version).encode()),)


def tombstone_version(headers: Sequence[tuple[str, bytes | None]] | None) -> int | None:
    """The version a tombstone ends (None when it carries none, or an unreadable one)."""
    return int_header(headers, VERSION_HEADER)


def row_after_tombstone(candidate_version: int, removed_at: int | None) -> bool:
    """True when a row of ``candidate_version`` comes after a tombstone that ended ``removed_at``."""
    return removed_at is None or candidate_version > removed_at


def current_rows(
    rows: Iterable[tuple[str, Mapping[str, Any] | None] | tuple[str, Mapping[str, Any] | None, int | None]],
) -> dict[str, Mapping[str, Any]]:
    """The rows a reader keeps from ``(key, IdentifierAssignment value or None for a tombstone)`` in offset
    order; a tombstone may come as ``(key, None, version)`` (``tombstone_version`` of its headers).

    A tombstone removes the key (the identifier is no longer assigned); older rows written after it are ignored.
    """
    kept: dict[str, Mapping[str, Any]] = {}
    removed: dict[str, int] = {}
    for key, value, *rest in rows:
        if value is None:
            kept.pop(key, None)
            version = rest[0] if rest else None
            if version is not None:
                removed[key] = max(version, removed.get(key, version))
            continue
        candidate = int(value.get("version") or 0)
        if supersedes(candidate, _version(kept.get(key))) and row_after_tombstone(candidate, removed.get(key)):
            kept[key] = value
    return kept


def _version(row: Mapping[str, Any] | None) -> int | None:
    return None if row is None else int(row.get("version") or 0)
