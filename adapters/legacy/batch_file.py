"""The lines of one export file as a ``ResumableSource`` (``adapters.base.resumable``): what a line and a position are.

``ingress_batch.BatchImporter.import_file`` opens the file, reads its header and drains a ``FileImport``: each line is
parsed with its layout, given its id (``batch_lines.line_id``) and its key's revision (``adapters.legacy.revisions``:
a changed line is a newer fact), mapped (``mapper.map_business``; a tenant change adds the previous holder's
closure, ``tenant_change``), and once Kafka acknowledged its chunk the checkpoint, the revisions, a snapshot's listed
keys and the report's counts move on.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from adapters.base.checkpoint import Checkpoint
from adapters.base.csv_lines import unclosed_quote
from adapters.base.errors import RejectedInput
from adapters.base.import_summary import add_published_kinds
from adapters.base.ingest import ChunkOutcome, Item
from adapters.base.mapper import MappedRecord
from adapters.base.metrics import CHANGED
from adapters.base.resumable import Batch, ResumableSource
from adapters.legacy.batch_lines import EXPORTED_AT, file_records, line_id, line_time, written_line_id
from adapters.legacy.batch_report import BatchReport
from adapters.legacy.dropped import count_dropped
from adapters.legacy.keys import key_spelling, spelled_fields
from adapters.legacy.layout import Layout
from adapters.legacy.line_shape import line_shape
from adapters.legacy.mapper import COMPONENT, BusinessRecord, LegacyContext, map_business
from adapters.legacy.revisions import LineRevision, RevisionStore, content_digest, next_revision
from adapters.legacy.snapshot import GONE_DIGEST, SnapshotLines
from adapters.legacy.tenant_change import HolderLines, holder_of, with_closure
from adapters.legacy.token_fields import spelled_as_written, token_fields
from bus.errors import RawRecord
from bus.identifiers.metrics import REJECTED_TRAITS
from bus.identifiers.settings import HMAC_KEY_VARIABLE
from bus.identifiers.traits import INVALID
from bus.logging import get_logger

log = get_logger(__name__)


class FileImport(ResumableSource[tuple[int, int]]):
    """One file being imported: the position is (byte offset, number of the last line read). ``ctx``: the mapping
    context, ``chunk_lines``: lines per batch, ``adapter``: the publisher's name (the label of
    ``omnibus_adapter_changed_records_total``)."""

    def __init__(
        self, ctx: LegacyContext, path: Path, layout: Layout, handle: BinaryIO, checkpoint: Checkpoint,
        report: BatchReport, columns: dict[str, int], revisions: RevisionStore, listed: SnapshotLines,
        holders: HolderLines | None = None, exported: datetime | None = None, *, chunk_lines: int = 500,
        adapter: str = "legacy",
    ) -> None:
        self._ctx, self._chunk_lines, self._adapter = ctx, chunk_lines, adapter
        self._path, self._layout, self._handle = path, layout, handle
        self._checkpoint, self._report = checkpoint, report
        # the file's records without a time of their own: ``batch_lines.export_time``
        self.occurred_default = exported or datetime.fromtimestamp(path.stat().st_mtime, UTC)
        self._listed, self._holders = listed, holders
        self._named: dict[int, tuple[str, str]] = {}  # line number -> (key, holder) (``current_holder``'s lines)
        self._accounts: dict[int, str] = {}  # line number -> its account number as spelled (a snapshot's lines)
        self._reopened: set[int] = set()  # lines of this chunk whose key's last revision was a snapshot's closure
        self._columns = columns
        self._shape = line_shape(layout, columns)  # a refused line's clear copy (``bus.dead_letter_lines``)
        self._left_out: dict[int, dict[str, str]] = {}  # line number -> traits left out (key -> reason), this chunk
        self._revisions = revisions
        # a keyed line's fields compared as their tokens (``revisions``: ``rest`` leaves them out), and those among
        # them that cannot be compared at all in this run: no token key
        self._secrets = token_fields(layout.fields) if layout.key else []
        self._untokenised = [] if ctx.normaliser.tokenises else self._secrets
        # this chunk's lines of a keyed layout (a chunk tried again maps its lines again: the same revisions), and
        # the latest revision per key among them (a key twice in one chunk: the second line follows the first)
        self._lines: dict[int, LineRevision] = {}
        self._latest: dict[str, LineRevision] = {}
        self.number = 1 if layout.header else 0  # lines read so far (``header_columns`` read the header)
        # this chunk's records spanning several lines (a quoted field with a line break): first line -> lines after it
        self._spans: dict[int, int] = {}
        # lines accepted (published or duplicates) and rejected so far, with the runs this one resumes
        self.tally = {"accepted": 0, "rejected": 0}

    def seek(self, saved: dict[str, Any]) -> None:
        """Go to the saved position, or past the banner lines after the header."""
        layout, handle = self._layout, self._handle
        if saved:
            handle.seek(int(saved["offset"]))
            self.number = int(saved["line"])
            # a checkpoint of an earlier version counts nothing: taken as accepted, the file is remembered as before
            self.tally = {"accepted": int(saved.get("accepted", 1)), "rejected": int(saved.get("rejected", 0))}
        else:
            for _ in range(layout.skip_lines):
                handle.readline()
                self.number += 1

    async def next_batch(self) -> Batch[tuple[int, int]] | None:
        layout, handle = self._layout, self._handle
        items: list[Item] = []
        read_any = False
        for record in file_records(handle, layout, self.number, self._columns):
            read_any, self.number = True, record.last
            # every refused line's dead letter names its layout (a cut one too), so that redrive names import-batch
            headers = (("file", self._path.name.encode()), ("file.line", str(record.line).encode()),
                       ("layout", layout.name.encode()))
            if record.text is None:
                items.append(Item((record.line, ""), RawRecord(value=record.raw, headers=headers, line=self._shape),
                                  unclosed_quote()))
            elif not layout.skips(record.text):
                items.append(Item((record.line, record.text),
                                  RawRecord(value=record.raw.rstrip(b"\r\n"), headers=headers,
                                            line=self._shape)))
                if record.last > record.line:
                    self._spans[record.line] = record.last - record.line
            if len(items) >= self._chunk_lines:
                break
        if not read_any:
            return None
        return Batch(items, (handle.tell(), self.number))

    def to_record(self, index: int, native: Any) -> MappedRecord | None:
        number, text = native
        layout = self._layout
        left_out: dict[str, str] = {}
        fields = layout.parse(text, self._columns, left_out)
        self._left_out[number] = left_out
        dedupe_id = line_id(layout, fields, self._report.checksum, number, self._ctx.normaliser)
        revision = self._revision(number, dedupe_id, fields) if layout.key else None
        if revision is not None:
            dedupe_id = revision.revision.line_id
        occurred = line_time(fields, layout)
        at = occurred or self.occurred_default  # a keyed line's version: its date, else its file's (an export's)
        record = BusinessRecord(layout.event, fields, dedupe_id, at, undated=occurred is None,
                                record_key=revision.key if revision is not None else None,
                                record_version=at if revision is not None else None)
        mapped = map_business(record, self._ctx)
        if revision is not None:
            self._lines[number] = self._latest[revision.key] = revision
            holders = self._holders if layout.current_holder else None
            holder = holder_of(mapped) if holders is not None else None
            if holders is not None and holder is not None:  # a tenant change (adapters.legacy.tenant_change)
                self._named[number] = (revision.key, holder)
                previous = holders.previous(layout.name, revision.key, self._report.checksum)
                mapped = with_closure(mapped, fields["account_number"], holder, previous, occurred,
                                      self._ctx)
        if layout.snapshot:
            self._accounts[number] = key_spelling("account_number", fields["account_number"],
                                                  self._ctx.normaliser)
        return mapped

    def _revision(self, number: int, key: str, fields: dict[str, Any]) -> LineRevision:
        """Line ``number``'s revision of ``key``; ``RejectedInput`` (``changed_line``) for a changed line of a layout
        that dead-letters them (``on_change``)."""
        revision = self._lines.get(number)
        if revision is None:
            self._refuse_untokenised(fields)
            last = self._latest.get(key)
            # a key an earlier version published under its written id keeps that revision: the same content is a
            # duplicate the dedupe store knows, other content chains from it to an id of the new form
            # identifiers compared as spelled, so a re-spelled IBAN is no change; as written, by an earlier version
            spelled = spelled_fields(fields, self._ctx.normaliser)
            earlier = last.revision if last else (
                self._revisions.latest(key) or self._revisions.latest(written_line_id(self._layout, fields)))
            # a national ID refused under this run's settings (its schemes unset) is compared by the other fields
            rest = content_digest({name: value for name, value in fields.items() if name not in self._secrets})
            revision = next_revision(key, content_digest(spelled), earlier, same=(content_digest(fields),), rest=rest,
                                     unsure=spelled_as_written(spelled, self._secrets))
            if earlier is not None and earlier.digest == GONE_DIGEST:
                self._reopened.add(number)
        if revision.changed and self._layout.on_change == "dead-letter":
            log.warning("a line's key was published before with other content: dead-lettered (on_change)",
                        file=self._path.name, line=number, layout=self._layout.name)
            raise RejectedInput("the line's key was published before with other content (the layout's on_change "
                                "is dead-letter)", code="changed_line")
        return revision

    def _refuse_untokenised(self, fields: dict[str, Any]) -> None:
        """``RejectedInput`` (``no_token_key``) for a keyed line holding a national ID or card number while no token
        key is set: its content is compared with its key's last revision with them as tokens, so it would read as
        changed and be published again without them. ``import-batch`` refuses such a layout before reading
        (``adapters.legacy.token_fields``); this keeps any other caller from re-versioning an unchanged line."""
        named = [name for name in self._untokenised if fields.get(name) not in (None, "")]
        if named:
            raise RejectedInput(f"field {named[0]} cannot be compared with what its key published before: no HMAC key "
                                f"is set ({HMAC_KEY_VARIABLE}) and it leaves only as its token; set it and import "
                                "the file again", code="no_token_key")

    def describe(self, batch: Batch[tuple[int, int]], index: int, error: RejectedInput) -> RejectedInput:
        number = batch.items[index].native[0]
        return RejectedInput(f"{self._path.name} line {number}: {error.reason}", code=error.code)

    async def commit(self, batch: Batch[tuple[int, int]], outcome: ChunkOutcome) -> None:
        offset, number = batch.position
        self.tally["accepted"] += len(outcome.accepted)
        self.tally["rejected"] += len(outcome.refused)
        self._checkpoint.save({"file": self._path.name, "offset": offset, "line": number, "complete": False,
                               EXPORTED_AT: self.occurred_default.isoformat(), **self.tally})
        report = self._report
        report.lines += len(batch.items)
        report.physical_lines += len(batch.items) + sum(self._spans.values())
        self._spans.clear()
        report.published_events += outcome.published_events
        add_published_kinds(report.event_kinds, outcome)
        report.duplicates += outcome.duplicates
        self._note_revisions(batch, outcome)
        for index, error in outcome.refused:
            report.rejected[batch.items[index].native[0]] = error.reason
        # counted once the line's events were acknowledged, for the lines published now (a duplicate lost nothing now)
        published_now = outcome.published_now
        report.statuses.add(published_now, lambda index: batch.items[index].native[0])
        report.nobody.add(published_now, lambda index: batch.items[index].native[0])
        for trait in count_dropped(report.dropped, report.traits, published_now,
                                   lambda index: batch.items[index].native[0], self._left_out):
            REJECTED_TRAITS.labels(COMPONENT, trait, INVALID).inc()
        self._left_out.clear()

    def _note_revisions(self, batch: Batch[tuple[int, int]], outcome: ChunkOutcome) -> None:
        """Make the accepted lines' revisions their keys' latest; count the changed lines published now."""
        published = set(outcome.result.published_ids) if outcome.result else set()
        accepted, listed = [], []
        for index, record in outcome.accepted:
            number = batch.items[index].native[0]
            revision = self._lines.get(number)
            if revision is None:
                continue
            accepted.append(revision)
            if number in self._accounts:
                listed.append((revision.key, self._accounts[number]))
            if revision.changed and record.dedupe_id in published:
                if number in self._reopened:  # listed again after a snapshot closed it
                    self._report.gone.reopened += 1
                else:
                    self._report.changed += 1
                CHANGED.labels(adapter=self._adapter).inc()
        self._revisions.save(accepted)
        if self._holders is not None:
            self._holders.save(self._layout.name, self._report.checksum,
                               [self._named[batch.items[index].native[0]] for index, _ in outcome.accepted
                                if batch.items[index].native[0] in self._named])
        self._named.clear()
        if self._layout.snapshot:
            self._listed.mark(self._layout.name, self._report.checksum, listed)
        self._accounts.clear()
        self._reopened.clear()
        self._lines.clear()
        self._latest.clear()
