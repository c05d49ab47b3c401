"""``check-layout``: read a file's first lines with a layout as ``import-batch`` would, publishing nothing.

The layout itself is checked when it is loaded (``layout.load_layout``: unknown, missing or mistyped fields of its
event); this reads the header and maps the first data lines to their events (``mapper.map_business``), so a
layout that reads every line wrong (a date format, a column shifted) is seen before a nightly file is dead-lettered.
What a line that would be published would lose is counted as the import counts it (identifiers its
normaliser refuses, traits that do not read as their type: ``adapters.legacy.dropped``), so a layout that drops a
national ID on every line is seen before the import too. Events are not encoded against their Avro
schemas here: the import does that before publishing.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from adapters.base.csv_lines import unclosed_quote
from adapters.base.errors import RejectedInput
from adapters.base.identifiers import NO_SCHEME, DroppedTally, kept_identifier_types
from adapters.base.import_summary import as_events_text, event_kind, records_text
from adapters.legacy.batch_lines import file_records, header_columns, line_id
from adapters.legacy.dropped import UnknownStatuses, count_dropped, trait_tally, with_dropped
from adapters.legacy.layout import Layout
from adapters.legacy.mapper import BusinessRecord, LegacyContext, map_business
from bus.identifiers.national_id import SCHEMES_VARIABLE

DEFAULT_LINES = 100


@dataclass
class LineCheck:
    """``lines`` data records read (spanning ``physical_lines`` lines), ``rejected``: line number -> the reason the
    import would dead-letter it for; ``event_kinds``: the events the other lines would publish, by kind (as
    ``import-batch`` counts them, ``adapters.base.import_summary``); ``dropped`` / ``traits``: the identifiers and
    traits the lines that would be published would lose; ``statuses``: their card status words no list knows."""

    lines: int = 0  # records read (a record whose quoted field holds a line break spans several lines)
    physical_lines: int = 0  # the lines those records span
    rejected: dict[int, str] = field(default_factory=dict)
    event_kinds: Counter[str] = field(default_factory=Counter)
    kept: Counter[str] = field(default_factory=Counter)  # identifier type -> values the lines would publish
    dropped: DroppedTally = field(default_factory=DroppedTally)
    traits: DroppedTally = field(default_factory=trait_tally)
    statuses: UnknownStatuses = field(default_factory=UnknownStatuses)

    def unpublished_identifiers(self) -> list[str]:
        """The identifier types the lines read and would publish none of: every value of them dropped (a national ID
        while no scheme is set, a column that holds something else). ``check-layout`` exits 3 for them, as for a
        rejected line: the layout, the export or the settings read every line wrong. A type dropped on some lines and
        kept on others is a data error the summary counts, not one of these."""
        return sorted(kind for kind, count in self.dropped.kinds.items() if count and not self.kept[kind])

    def summary(self, name: str) -> str:
        """``accounts.csv: 5 lines checked, 5 would be published as 10 events (5 AccountOpened, 5 IdentifiersObserved),
        0 rejected, 5 identifiers dropped (NATIONAL_ID 5 malformed) on lines 2, 3, 4, 5, 6``: lines (records) and the
        events they would publish, as ``import-batch`` counts its events; the last parts, only when some were
        dropped, as ``BatchReport.summary`` writes them; ``3 records (4 lines) checked`` when a quoted field holds a
        line break (``adapters.base.import_summary``)."""
        events = as_events_text(sum(self.event_kinds.values()), self.event_kinds)
        text = (f"{name}: {records_text(self.lines, self.physical_lines or self.lines)} checked, "
                f"{self.lines - len(self.rejected)} would be published {events}, {len(self.rejected)} rejected")
        return with_dropped(text, self.dropped, self.traits, self.statuses.summary())


def unpublished_error(checks: list[LineCheck]) -> str | None:
    """The ``error:`` line of ``check-layout`` when a sample would publish none of an identifier it reads
    (``LineCheck.unpublished_identifiers``), naming what to fix: the scheme setting when a national ID was refused for
    want of one; None when every type read would be published."""
    kinds = sorted({kind for check in checks for kind in check.unpublished_identifiers()})
    if not kinds:
        return None
    no_scheme = any(check.dropped.why[kind, NO_SCHEME] for check in checks for kind in kinds)
    fix = (f"set {SCHEMES_VARIABLE} (or OMNIBUS_IDENTIFIERS__DEFAULT_REGION) to the schemes of the export's national "
           "IDs" if no_scheme else "check the layout's column for it, the export and the identifier settings")
    return (f"no {' or '.join(kinds)} of a sample would be published (every one read would be dropped, see its "
            f"summary line): {fix}")


def check_lines(path: Path, layout: Layout, ctx: LegacyContext, limit: int = DEFAULT_LINES) -> LineCheck:
    """Map the first ``limit`` data lines of ``path`` (header, banner and skipped lines aside) as the import would.
    Raises ``LayoutError`` when the layout does not describe the file (a column missing from its header, a byte not
    valid in its encoding), as the import does."""
    check = LineCheck()
    with open(path, "rb") as handle:
        columns = header_columns(handle, layout)
        number = 1 if layout.header else 0
        for _ in range(layout.skip_lines):
            handle.readline()
            number += 1
        records = file_records(handle, layout, number, columns)
        while check.lines < limit and (record := next(records, None)) is not None:  # no record read past the limit
            line, text = record.line, record.text
            if text is not None and layout.skips(text):
                continue
            check.lines += 1
            check.physical_lines += record.last - line + 1
            if text is None:  # cut inside a quoted field: refused alone (``batch_lines.file_records``)
                check.rejected[line] = unclosed_quote().reason
                continue
            left_out: dict[str, str] = {}
            try:
                fields = layout.parse(text, columns, left_out)
                dedupe_id = line_id(layout, fields, "0" * 64, line, ctx.normaliser)
                mapped = map_business(BusinessRecord(layout.event, fields, dedupe_id, datetime.now(UTC)), ctx)
            except RejectedInput as error:
                check.rejected[line] = error.reason
                continue
            check.event_kinds.update(event_kind(outgoing.event.schema) for outgoing in mapped.events)
            check.kept.update(kept_identifier_types(mapped))
            count_dropped(check.dropped, check.traits, [(line, mapped)], lambda index: index, {line: left_out})
            check.statuses.add([(line, mapped)], lambda index: index)
    return check
