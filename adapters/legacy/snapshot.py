"""A full snapshot (``snapshot: true`` in a layout): an account a previous snapshot listed and this one does not is
closed (a UK operator's nightly subscriber master).

A delta export lists what changed; a full snapshot lists every account every night, so a line that is no longer
there says something: the subscriber ported out, or the contract ended. Before, nothing was published for it, so the
account's mobile stayed its holder's for good and the operator's next subscriber of the recycled number was contested
or glued to the old one. A snapshot import now remembers, per layout, which keys the last snapshot listed and the
account of each (``SnapshotLines``, ``batch/snapshots.sqlite`` beside the revisions); once every line of a file was
read and acknowledged and none was rejected, each key listed before and not in this file is *gone*: it is published as
an ``AccountClosed`` of its account (reason ``GONE_REASON``), which identity already reads (``processors/identity/
graph/recycle.py``: the account tells the identifiers its records gave that they are closed, and a later record of
another account that gives one takes it, its calls since included). The close is a revision of the line
(``revisions.next_revision`` with ``GONE_DIGEST``: ``<key>@<16 hex>``), so ``graph/record_lines.py`` sees the line stop
giving its identifiers too, a re-run after a crash derives the same id (the dedupe store drops it), and the line
listed again later (a customer who comes back) is a changed line, published as a newer fact that reopens the account.

What is not released:

* a file of a layout without ``snapshot: true`` (a delta): it marks nothing and closes nothing;
* a snapshot with a rejected line (its key may be one of those that look gone): nothing closed, the summary says so;
* the first snapshot of a layout (nothing listed before), and the latest snapshot imported again (``already
  imported``). An *earlier* snapshot file that comes back (Wednesday's export byte-identical to Monday's, after
  Tuesday's) is not "already imported": it is the newest list, read again in full, and what Tuesday listed and it
  does not is closed, what it lists and Tuesday closed is reopened (``SnapshotLines.latest``);
* an empty snapshot (a header and no line, or every line a blank): closing every account the layout ever listed is
  what a failed export looks like, not a night's news; counted (``empty``), nothing closed, ``import-batch`` exits 3;
* a snapshot that would close more than ``CloseLimit`` allows (by default more than ``SNAPSHOT_MAX_CLOSE_SHARE`` of
  the keys listed before, and more than ``SNAPSHOT_MAX_CLOSE_FLOOR``: ``config.py``): a truncated export (the transfer
  cut after a line) looks like the whole base gone; nothing closed (``would_close``), ``import-batch`` exits 3 unless
  ``--allow-mass-close`` (``CloseLimit.waived``). An empty or such a *refused* snapshot still publishes its lines
  (new and changed accounts), as a snapshot with rejected lines does: only its closures wait. It is neither the
  layout's latest nor remembered as imported, so the same file imported again (once checked, with the flag) is read
  again: its lines are duplicates, and then it closes;
* a snapshot file older (by its modification time) than the layout's latest: a late or re-sent earlier night, whose
  list is no news; not imported at all (``older_than``), ``import-batch`` exits 3;
* a gone line whose account another line of this snapshot still lists (a family plan's ported-out line): closing
  the account would end the others' lines; it is counted (``kept_open``) and left to ``omnibus identity release``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from adapters.base.errors import RejectedInput
from adapters.base.ingest import ChunkOutcome, Item
from adapters.base.mapper import MappedRecord
from adapters.base.publisher import AdapterPublisher
from adapters.base.resumable import Batch, ResumableSource, drain
from adapters.legacy.config import SNAPSHOT_MAX_CLOSE_FLOOR, SNAPSHOT_MAX_CLOSE_SHARE
from adapters.legacy.mapper import BusinessRecord, LegacyContext, map_business
from adapters.legacy.revisions import LineRevision, RevisionStore, next_revision
from bus.errors import RawRecord
from bus.logging import get_logger
from bus.plural import counted
from bus.publish_retry import Retry

SNAPSHOTS_FILE = "snapshots.sqlite"  # beside ``revisions.REVISIONS_FILE`` under the batch state
CLOSING_EVENT = "AccountClosed"
GONE_DIGEST = "gone"  # the revision content of a line a snapshot no longer lists (no ``content_digest`` is this)
GONE_REASON = "no longer in the full snapshot"  # the AccountClosed's reason: no identifier, no file name
ALLOW_MASS_CLOSE = "--allow-mass-close"  # import-batch's flag that waives ``CloseLimit``

log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class LatestSnapshot:
    """The snapshot file a layout imported last: its sha256 (hex) and when it was exported (the file's time)."""

    checksum: str
    taken_at: datetime


@dataclass(frozen=True, slots=True)
class CloseLimit:
    """How many of the keys listed before one snapshot may close: more than ``share`` (0..1) of them *and* more than
    ``floor`` is refused (``OMNIBUS_ADAPTER_LEGACY__SNAPSHOT_MAX_CLOSE_SHARE`` / ``..._FLOOR``); ``waived``: the
    operator checked the file (``--allow-mass-close``)."""

    share: float = SNAPSHOT_MAX_CLOSE_SHARE
    floor: int = SNAPSHOT_MAX_CLOSE_FLOOR
    waived: bool = False

    def allows(self, closing: int, listed_before: int) -> bool:
        """Whether closing ``closing`` keys of the ``listed_before`` the layout listed is within the limit."""
        return self.waived or closing <= self.floor or closing <= self.share * listed_before

    def describe(self) -> str:
        """The limit in the summary's words: ``more than <share as a percentage> % of them and more than <floor>``."""
        return f"more than {self.share * 100:g} % of them and more than {self.floor}"


@dataclass(frozen=True, slots=True)
class GoneLine:
    """A key the last snapshot of its layout listed (``key``: the plain line id) and the account its line named."""

    key: str
    account_number: str


class SnapshotLines:
    """Per layout, the keys its snapshots listed, each with its account and the checksum of the last snapshot file
    that listed it, in a SQLite file (created on first use)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path))
        self._db.execute("CREATE TABLE IF NOT EXISTS listed (layout TEXT NOT NULL, key TEXT NOT NULL, "
                         "account TEXT NOT NULL, file TEXT NOT NULL, PRIMARY KEY (layout, key)) WITHOUT ROWID")
        # per layout, the last snapshot file it applied (an empty or refused one is not: ``GoneTally.refused``): its
        # sha256 (``file``) and the file's modification time (``taken_at``, the export's, ISO 8601 with its offset);
        # only that file is "already imported", and a file older than it is not imported. An earlier version kept none
        self._db.execute("CREATE TABLE IF NOT EXISTS latest (layout TEXT PRIMARY KEY, file TEXT NOT NULL, "
                         "taken_at TEXT NOT NULL) WITHOUT ROWID")

    def latest(self, layout: str) -> LatestSnapshot | None:
        """The snapshot file ``layout`` imported last, or None before the first (or, after an upgrade from a version
        that did not record it, before the next): only that file is "already imported", and a file older than it
        is no news (``BatchImporter.import_file``)."""
        row = self._db.execute("SELECT file, taken_at FROM latest WHERE layout = ?", [layout]).fetchone()
        return LatestSnapshot(str(row[0]), datetime.fromisoformat(row[1])) if row else None

    def imported(self, layout: str, checksum: str, taken_at: datetime) -> None:
        """Record that the snapshot file ``checksum``, exported at ``taken_at``, is the one ``layout`` imported
        last."""
        with self._db:
            self._db.execute("INSERT OR REPLACE INTO latest (layout, file, taken_at) VALUES (?, ?, ?)",
                             [layout, checksum, taken_at.isoformat()])

    def count(self, layout: str) -> int:
        """How many keys of ``layout`` are listed (by its last snapshot, or an earlier one and not closed since)."""
        return int(self._db.execute("SELECT COUNT(*) FROM listed WHERE layout = ?", [layout]).fetchone()[0])

    def lists_any(self, layout: str, checksum: str) -> bool:
        """Whether the snapshot file ``checksum`` listed at least one key of ``layout``."""
        return self._db.execute("SELECT 1 FROM listed WHERE layout = ? AND file = ? LIMIT 1",
                                [layout, checksum]).fetchone() is not None

    def mark(self, layout: str, checksum: str, lines: Iterable[tuple[str, str]]) -> None:
        """Record that the snapshot file ``checksum`` lists each (key, account number) of ``lines``."""
        rows = [(layout, key, account, checksum) for key, account in lines]
        with self._db:
            self._db.executemany("INSERT OR REPLACE INTO listed (layout, key, account, file) VALUES (?, ?, ?, ?)",
                                 rows)

    def gone(self, layout: str, checksum: str) -> tuple[list[GoneLine], list[GoneLine]]:
        """The keys listed before that the file ``checksum`` does not list: (those to close, those whose account
        this file still lists on another line), each in key order."""
        rows = self._db.execute("SELECT key, account FROM listed WHERE layout = ? AND file != ? ORDER BY key",
                                [layout, checksum]).fetchall()
        still = {row[0] for row in self._db.execute(
            "SELECT DISTINCT account FROM listed WHERE layout = ? AND file = ?", [layout, checksum])}
        lines = [GoneLine(key, account) for key, account in rows]
        return ([line for line in lines if line.account_number not in still],
                [line for line in lines if line.account_number in still])

    def forget(self, layout: str, keys: Iterable[str]) -> None:
        with self._db:
            self._db.executemany("DELETE FROM listed WHERE layout = ? AND key = ?", [(layout, key) for key in keys])

    def close(self) -> None:
        self._db.close()


@dataclass(slots=True)
class GoneTally:
    """What one snapshot file's import did with the lines gone since the previous snapshot."""

    closed: int = 0  # accounts closed (their ``AccountClosed`` published now)
    reopened: int = 0  # lines a snapshot had closed, listed again and published now (a changed line that reopens)
    kept_open: int = 0  # gone lines whose account another line of the file lists: not closed
    unsure: bool = False  # the file had rejected lines: nothing closed
    empty: bool = False  # the file listed no line while earlier snapshots did: nothing closed
    would_close: int = 0  # keys the file would close beyond ``CloseLimit``: nothing closed
    listed_before: int = 0  # keys listed before the file (of ``would_close``)
    limit: CloseLimit | None = None  # the limit ``would_close`` is beyond
    read_again: bool = False  # a file identical to an earlier snapshot (not the latest), read as tonight's list
    older_than: datetime | None = None  # the file is older than the latest snapshot (exported then): not imported

    @property
    def refused(self) -> bool:
        """Whether the file's closures were refused as what a failed export looks like (empty, or beyond the limit):
        its lines were published, it closed nothing, and is neither the latest snapshot nor remembered as imported."""
        return self.empty or self.would_close > 0

    @property
    def needs_a_look(self) -> bool:
        """Whether the import left accounts unclosed that a person should look at (``import-batch`` exits 3)."""
        return self.refused or self.older_than is not None

    def summary(self) -> tuple[str, ...]:
        """The parts of the import's summary line, each only when it says something (``BatchReport.summary``):
        counts only, never a key or an account number."""
        again = "the same content as an earlier night's file" if self.read_again else ""
        return (_counted(self.closed, "account", "closed (gone from the snapshot)"),
                _counted(self.reopened, "account", "reopened (listed again after a snapshot closed it)"),
                _counted(self.kept_open, "line", "gone from the snapshot, their account still listed: not closed"),
                self._nothing_closed(again), "" if self.unsure or self.refused or not again else
                f"{again}: read again as tonight's whole list")

    def _nothing_closed(self, again: str) -> str:
        """The one clause of a snapshot that closed nothing for a reason, ``again`` (read again) within it."""
        also = f" ({again})" if again else ""
        if self.unsure:
            return f"a snapshot with rejected lines{also}: nothing closed"
        if self.empty:
            return (f"an empty snapshot{also}: nothing closed; the next snapshot with lines closes what it no longer "
                    f"lists ({ALLOW_MASS_CLOSE} closes every account)")
        if self.would_close and self.limit is not None:
            return (f"a snapshot that would close {self.would_close} of the {self.listed_before} accounts listed "
                    f"before{also}, {self.limit.describe()}: nothing closed; check the export (a truncated file?), "
                    f"then import it again with {ALLOW_MASS_CLOSE}")
        return ""


def _counted(count: int, noun: str, rest: str) -> str:
    """``1 account closed ...``, ``2 accounts closed ...``; empty for 0."""
    return f"{counted(count, noun)} {rest}" if count else ""


class GoneClosures(ResumableSource[int]):
    """The ``AccountClosed`` of the gone lines of one snapshot file, in one batch: ``closed`` counts those published
    now. Each becomes its key's latest revision in ``revisions`` and is forgotten by ``lines`` once acknowledged;
    refused, it stays listed (the next snapshot tries again). ``occurred_at``: the export's time (the file's), the
    closure ``undated`` when the layout's lines are (no ``occurred_at``): a dated open outranks an undated close."""

    def __init__(self, layout: str, occurred_at: datetime, ctx: LegacyContext, revisions: RevisionStore,
                 lines: SnapshotLines, file_name: str, *, undated: bool = True) -> None:
        self._layout, self._occurred_at, self._ctx, self._undated = layout, occurred_at, ctx, undated
        self._revisions, self._lines, self._file_name = revisions, lines, file_name
        self._gone: list[GoneLine] = []
        self._revised: dict[int, LineRevision] = {}
        self._read = False
        self.closed = 0

    async def close(self, tally: GoneTally, checksum: str, rejected: int, publisher: AdapterPublisher,
                    retry: Retry | None, *, limit: CloseLimit, listed_before: int) -> None:
        """Once every line of the snapshot file ``checksum`` was read and acknowledged: close the accounts of the keys
        it no longer lists, counted in ``tally``; nothing when ``rejected`` lines (this run's and those it resumes),
        and, unless ``limit.waived``, when the file listed no key at all (``tally.empty``) or would close more of the
        ``listed_before`` keys than ``limit`` allows (``tally.would_close``). Logs a warning with counts only."""
        if rejected:
            tally.unsure = True
            return
        self._gone, kept = self._lines.gone(self._layout, checksum)
        if not limit.waived and (self._gone or kept) and not self._lines.lists_any(self._layout, checksum):
            tally.empty = True
            log.warning("an empty snapshot: nothing closed", file=self._file_name, layout=self._layout,
                        listed_before=len(self._gone) + len(kept))
            return
        if not limit.allows(len(self._gone), listed_before):
            tally.would_close, tally.listed_before, tally.limit = len(self._gone), listed_before, limit
            log.warning("a snapshot that would close more accounts than the limit: nothing closed",
                        file=self._file_name, layout=self._layout, would_close=len(self._gone),
                        listed_before=listed_before, max_share=limit.share, floor=limit.floor)
            return
        await drain(self, publisher, retry=retry)
        tally.closed, tally.kept_open = self.closed, len(kept)

    async def next_batch(self) -> Batch[int] | None:
        if self._read or not self._gone:
            return None
        self._read = True
        headers = (("file", self._file_name.encode()), ("layout", self._layout.encode()))
        items = [Item(line, RawRecord(value=b"", headers=headers)) for line in self._gone]
        return Batch(items, len(items))

    def to_record(self, index: int, native: Any) -> MappedRecord | None:
        line: GoneLine = native
        revision = next_revision(line.key, GONE_DIGEST, self._revisions.latest(line.key))
        self._revised[index] = revision
        fields = {"account_number": line.account_number, "reason": GONE_REASON}
        return map_business(BusinessRecord(CLOSING_EVENT, fields, revision.revision.line_id, self._occurred_at,
                                           undated=self._undated), self._ctx)

    def describe(self, batch: Batch[int], index: int, error: RejectedInput) -> RejectedInput:
        return RejectedInput(f"{self._file_name}: a line gone from the snapshot: {error.reason}", code=error.code)

    async def commit(self, batch: Batch[int], outcome: ChunkOutcome) -> None:
        published = set(outcome.result.published_ids) if outcome.result else set()
        accepted = [self._revised[index] for index, _ in outcome.accepted]
        self.closed += sum(1 for _, record in outcome.accepted if record.dedupe_id in published)
        self._revisions.save(accepted)
        self._lines.forget(self._layout, [revision.key for revision in accepted])
