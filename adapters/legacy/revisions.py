"""What was last published under each business key of a batch layout: a changed line is no duplicate.

A keyed layout's line id is ``batch:<name>:key-<digest of the key>`` (``batch_lines.line_id``, ``keys``), so the
same bill in the next export is a duplicate, however it spells its identifiers. A customer-master export keeps a moved
customer's account number: the same key, other content (tester F2: the move was counted a duplicate and dropped). The
store keeps, per key, a digest of the line's fields and the line id its events were published under; a line then is

- new (no revision): it keeps the plain id, so the dedupe store answers as before. This is also a key published
  before this store existed (an older state directory: the id is in ``dedupe.sqlite``, without a digest): a
  duplicate as before, whose digest becomes the key's revision;
- a duplicate (the digest of the key's revision): it keeps that revision's id, which the dedupe store knows;
- changed (another digest): a newer fact under a new id derived from the revision it replaces and its own digest,
  so a re-run after a crash derives the same id (and its events the same event ids), and a line changed back to
  an earlier content is still a new fact, with an id of its own.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REVISIONS_FILE = "revisions.sqlite"  # beside the batch checkpoints, under the adapter's state directory


@dataclass(frozen=True, slots=True)
class Revision:
    digest: str  # ``content_digest`` of the line's fields
    line_id: str  # the ``BusinessRecord.dedupe_id`` its events were published under


@dataclass(frozen=True, slots=True)
class LineRevision:
    """One line's place in its key's history: ``key`` the plain line id, ``revision`` the id it is published under."""

    key: str
    revision: Revision
    changed: bool  # the key was published before with other content


def content_digest(fields: Mapping[str, Any]) -> str:
    """A digest (32 hex digits) of a parsed line: field name -> value, as the layout read them (a column the layout
    does not read, or a date written another way, changes nothing)."""
    text = json.dumps(dict(fields), sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def next_revision(key: str, digest: str, last: Revision | None, *, same: Collection[str] = ()) -> LineRevision:
    """The revision of a line with plain id ``key`` and content ``digest`` after the key's ``last`` one (``None``:
    the key has none). A changed line's id is ``<key>@<16 hex digits>``, a digest of ``last``'s id and ``digest``.
    ``same``: other digests of this content, as an earlier version took them (identifiers as written), which are no
    change either; the revision then takes ``digest``."""
    if last is None:
        return LineRevision(key, Revision(digest, key), changed=False)
    if last.digest == digest or last.digest in same:
        return LineRevision(key, Revision(digest, last.line_id), changed=False)
    chained = hashlib.sha256(f"{last.line_id}|{digest}".encode()).hexdigest()[:16]
    return LineRevision(key, Revision(digest, f"{key}@{chained}"), changed=True)


class RevisionStore:
    """The latest revision per key, in a SQLite file (created on first use). No window: a master record that does
    not change for a year is still a duplicate then."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path))  # a write opens a transaction: ``with self._db`` commits it
        self._db.execute("CREATE TABLE IF NOT EXISTS revisions "
                         "(key TEXT PRIMARY KEY, digest TEXT NOT NULL, line_id TEXT NOT NULL) WITHOUT ROWID")

    def latest(self, key: str) -> Revision | None:
        row = self._db.execute("SELECT digest, line_id FROM revisions WHERE key = ?", [key]).fetchone()
        return None if row is None else Revision(row[0], row[1])

    def save(self, lines: Iterable[LineRevision]) -> None:
        """Make each line's revision its key's latest, in one transaction (later lines of one key win)."""
        rows = [(line.key, line.revision.digest, line.revision.line_id) for line in lines]
        with self._db:
            self._db.executemany("INSERT OR REPLACE INTO revisions (key, digest, line_id) VALUES (?, ?, ?)", rows)

    def close(self) -> None:
        self._db.close()
