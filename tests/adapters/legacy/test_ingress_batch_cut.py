"""``import-batch`` of an export with a line cut inside a quoted field: the cut line is dead-lettered alone and the
valid lines after it are published (before: ``2 lines, 1 events published, 1 rejected`` of a 4-line file, the two
bills after the cut nowhere)."""

from __future__ import annotations

from pathlib import Path

from adapters.legacy.ingress_batch import BatchImporter
from adapters.legacy.layout import load_layout
from processors.deadletters.redrive import ingress_refusal
from tests.adapters.legacy.support import EXAMPLES, legacy_context
from tests.adapters.legacy.test_batch_lines_cut import bill, cut_bills
from tests.adapters.web.support import StandInPublisher
from tests.processors.deadletters.test_init import letter


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


async def test_a_cut_line_is_dead_lettered_with_its_layout_so_redrive_names_import_batch(tmp_path: Path) -> None:
    """The cut line's dead letter had only ``file`` and ``file.line``: ``deadletters redrive`` took it for a CDR line
    and said to run ``import-cdr``. It now has the headers of any other refused batch line, the layout among them."""
    export = tmp_path / "cut_mid.csv"
    export.write_bytes(cut_bills() + bill(5, amount="x"))  # a cut line (3) and a line refused for its amount (6)
    publisher = StandInPublisher()
    importer = BatchImporter(legacy_context(), publisher, tmp_path / "state")  # type: ignore[arg-type]
    await importer.import_file(export, load_layout(EXAMPLES / "bills_layout.yaml"))
    (cut, cut_error), (amount, amount_error) = publisher.rejected
    assert cut_error.code == "truncated" and amount_error.code != "truncated"
    assert [name for name, _ in cut.headers] == [name for name, _ in amount.headers]  # the same headers
    assert dict(cut.headers)["layout"] == b"bills" and dict(cut.headers)["file.line"] == b"3"
    for raw, error in publisher.rejected:
        answer = ingress_refusal(letter(raw, component="adapter.legacy", reason=error.reason,
                                        error_type=f"RejectedInput.{error.code}"))
        assert "layout bills" in answer and "import-batch --layout" in answer and "import-cdr" not in answer
