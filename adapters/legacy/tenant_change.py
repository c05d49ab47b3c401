"""A CIS export that lists each contract account's current holder: a new holder's national ID on the account's line is
a tenant change (``current_holder: true`` in a layout, a Brazilian distributor's contract accounts).

A utility's CIS keeps the contract account (and the installation) when the tenant changes; its accounts export lists
the account's current holder, and the next night's line of the same account names the new tenant (another national
ID, changed on the move-in date). Identity moves the account and what came with it (installation, house landline) to
the new holder when the old holder's dated ``AccountClosed`` precedes the new line (``processors/identity/graph/
tenancy.py``). A CIS that writes no closures file says the same thing by the change alone, which this module reads:

* the import remembers, per layout and key, the holder each file's line named (the national ID as published: its
  keyed token, never the value) and the file's checksum (``HolderLines``, ``batch/holders.sqlite`` beside the
  revisions);
* a dated line naming another holder than the single one the previous file named for its key is a tenant change:
  its record publishes, before the line's own events, an ``AccountClosed`` of the account naming the previous holder,
  dated one microsecond before the line's ``occurred_at`` (the old tenancy ends as the new one begins; a closure at
  the same instant would outrank the new holder's open account on his screen pop), reason ``REASON``; its event ids
  derive from the line's revision, so a re-run publishes the same ids;
* a joint account keeps the joint-account rule: no tenant change when the previous file named several holders for
  the key (two lines of one account), nor for the lines of the first file, an undated line, or a line without a
  national ID.
"""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

from adapters.base.mapper import MappedRecord
from adapters.legacy.mapper import BusinessRecord, LegacyContext, map_business

HOLDERS_FILE = "holders.sqlite"  # beside ``revisions.REVISIONS_FILE`` under the batch state
CLOSING_EVENT = "AccountClosed"
REASON = "holder changed: tenant change"  # the AccountClosed's reason: no identifier, no file name
BEFORE = timedelta(microseconds=1)  # the previous tenancy ends just before the new holder's line
NATIONAL_ID = "NATIONAL_ID"


class HolderLines:
    """Per layout and key, the holders (national ID tokens) the last two files named: ``(layout, key, checksum,
    holder)`` rows in an SQLite file."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path)
        self._db.execute("CREATE TABLE IF NOT EXISTS holders (layout TEXT, key TEXT, checksum TEXT, holder TEXT, "
                         "seq INTEGER, PRIMARY KEY (layout, key, checksum, holder))")

    def previous(self, layout: str, key: str, checksum: str) -> set[str]:
        """The holders the latest other file named for ``key`` (empty: none known)."""
        row = self._db.execute("SELECT checksum FROM holders WHERE layout = ? AND key = ? AND checksum != ? "
                               "ORDER BY seq DESC LIMIT 1", (layout, key, checksum)).fetchone()
        if row is None:
            return set()
        return {holder for (holder,) in self._db.execute(
            "SELECT holder FROM holders WHERE layout = ? AND key = ? AND checksum = ?", (layout, key, row[0]))}

    def save(self, layout: str, checksum: str, lines: list[tuple[str, str]]) -> None:
        """Note ``(key, holder)`` pairs this file's acknowledged lines named; keep each key's last two files."""
        with self._db:
            for key, holder in lines:
                seq = self._db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM holders").fetchone()[0]
                self._db.execute("INSERT OR IGNORE INTO holders VALUES (?, ?, ?, ?, ?)",
                                 (layout, key, checksum, holder, seq))
                kept = [c for (c,) in self._db.execute(
                    "SELECT checksum FROM holders WHERE layout = ? AND key = ? GROUP BY checksum "
                    "ORDER BY MAX(seq) DESC LIMIT 2", (layout, key))]
                self._db.execute(f"DELETE FROM holders WHERE layout = ? AND key = ? AND checksum NOT IN "
                                 f"({', '.join('?' * len(kept))})", (layout, key, *kept))

    def close(self) -> None:
        self._db.close()


def holder_of(mapped: MappedRecord) -> str | None:
    """The national ID (as published: its keyed token) the line's business event names, None for none."""
    for out in mapped.events:
        for identifier in out.event.value.get("customer_identifiers") or ():
            if identifier.get("type") == NATIONAL_ID:
                return str(identifier["value"])
    return None


def with_closure(mapped: MappedRecord, account_number: str, holder: str, previous: set[str],
                 occurred: datetime | None, ctx: LegacyContext) -> MappedRecord:
    """``mapped`` (a dated line naming ``holder``), preceded by the previous holder's ``AccountClosed`` when the
    previous file named one other holder for its key (see the module); unchanged otherwise."""
    if occurred is None or len(previous) != 1 or holder in previous:
        return mapped
    (left,) = previous
    record = BusinessRecord(CLOSING_EVENT, {"account_number": account_number, "national_id": left,
                                            "reason": REASON}, f"{mapped.dedupe_id}~moved-out", occurred - BEFORE)
    closing = map_business(record, ctx)
    return replace(mapped, events=(*closing.events, *mapped.events))
