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

A line's identifiers are compared as their spelling, a national ID as its token, which needs the identifier settings
(the HMAC key, the national ID schemes). A run missing one spells such a value as written, which no earlier digest
holds: every line would read as changed and be published again without the ID. So a revision also keeps ``rest``, the
digest of the line's other fields: a line whose such value could not be spelled (``unsure``) and whose other fields
are as published is no change, and keeps its key's revision, which a run with the settings compares as before.
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
    rest: str | None = None  # ``content_digest`` of its fields but the secrets (module docstring); None: not kept


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


def next_revision(key: str, digest: str, last: Revision | None, *, same: Collection[str] = (),
                  rest: str | None = None, unsure: bool = False) -> LineRevision:
    """The revision of a line with plain id ``key`` and content ``digest`` after the key's ``last`` one (``None``:
    the key has none). A changed line's id is ``<key>@<16 hex digits>``, a digest of ``last``'s id and ``digest``.
    ``same``: other digests of this content, as an earlier version took them (identifiers as written), which are no
    change either; the revision then takes ``digest``. ``rest``: the digest of the line's fields but its secrets;
    ``unsure``: a secret of it could not be spelled under this run's settings, so only ``rest`` tells a change (equal
    to ``last``'s: no change, and ``last`` stays the key's revision)."""
    if last is None:
        return LineRevision(key, Revision(digest, key, rest), changed=False)
    if last.digest == digest or last.digest in same:
        return LineRevision(key, Revision(digest, last.line_id, rest), changed=False)
    if unsure and rest is not None and last.rest == rest:
        return LineRevision(key, last, changed=False)
    chained = hashlib.sha256(f"{last.line_id}|{digest}".encode()).hexdigest()[:16]
    return LineRevision(key, Revision(digest, f"{key}@{chained}", rest), changed=True)


class RevisionStore:
    """The latest revision per key, in a SQLite file (created on first use). No window: a master record that does
    not change for a year is still a duplicate then."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path))  # a write opens a transaction: ``with self._db`` commits it
        self._db.execute("CREATE TABLE IF NOT EXISTS revisions "
                         "(key TEXT PRIMARY KEY, digest TEXT NOT NULL, line_id TEXT NOT NULL) WITHOUT ROWID")
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(revisions)")}
        if "rest" not in columns:  # a file of before: its revisions keep no rest until their keys' next line
            with self._db:
                self._db.execute("ALTER TABLE revisions ADD COLUMN rest TEXT")

    def latest(self, key: str) -> Revision | None:
        row = self._db.execute("SELECT digest, line_id, rest FROM revisions WHERE key = ?", [key]).fetchone()
        return None if row is None else Revision(row[0], row[1], row[2])

    def save(self, lines: Iterable[LineRevision]) -> None:
        """Make each line's revision its key's latest, in one transaction (later lines of one key win)."""
        rows = [(line.key, line.revision.digest, line.revision.line_id, line.revision.rest) for line in lines]
        with self._db:
            self._db.executemany("INSERT OR REPLACE INTO revisions (key, digest, line_id, rest) VALUES (?, ?, ?, ?)",
                                 rows)

    def close(self) -> None:
        self._db.close()
