"""``import-batch`` of an export with a line cut inside a quoted field: the cut line is dead-lettered alone and the
valid lines after it are published (before: ``2 lines, 1 events published, 1 rejected`` of a 4-line file, the two
bills after the cut nowhere)."""

from __future__ import annotations

from pathlib import Path

from adapters.legacy.ingress_batch import BatchImporter
from adapters.legacy.layout import load_layout
from tests.adapters.legacy.support import EXAMPLES, legacy_context
from tests.adapters.legacy.test_batch_lines_cut import cut_bills
from tests.adapters.web.support import StandInPublisher


async def test_the_cut_line_is_dead_lettered_alone_and_the_bills_after_it_are_published(tmp_path: Path) -> None:
    export = tmp_path / "bills_cut.csv"
    export.write_bytes(cut_bills())
    publisher = StandInPublisher()
    importer = BatchImporter(legacy_context(), publisher, tmp_path / "state")  # type: ignore[arg-type]
    report = await importer.import_file(export, load_layout(EXAMPLES / "bills_layout.yaml"))
    assert report.summary("bills_cut.csv") == "bills_cut.csv: 4 lines, 3 events published, 0 duplicates, 1 rejected"
    (raw, error), = publisher.rejected
    assert dict(raw.headers)["file.line"] == b"3" and error.code == "truncated"
    assert error.reason == ("bills_cut.csv line 3: unclosed quote: the line ends inside a quoted field (cut "
                            "mid-write?); the lines after it were read on their own")
    assert raw.value.count(b"\n") <= 1 and b"ACC-200003" not in raw.value  # the cut line alone
