"""A CSV export line cut inside a quoted field (a crash or a full disk mid-write): refused alone, and every line after
it read as a line of its own (``batch_lines.file_records``, ``adapters.base.csv_lines``); ``check-layout`` counts it
as the import does. Before, the cut quote swallowed the lines after it: ``check-layout`` said ``1 lines checked, 0
rejected`` (exit 0) of a 4-line file, and ``import-batch`` published neither of the two valid bills after it."""

from __future__ import annotations

import subprocess
import sys
from io import BytesIO
from pathlib import Path

from adapters.base.cli import EXIT_REJECTED_LINES
from adapters.legacy.batch_lines import file_records, header_columns
from adapters.legacy.layout import load_layout
from tests.adapters.legacy.support import EXAMPLES

BILLS = load_layout(EXAMPLES / "bills_layout.yaml")  # csv, ";", quotechar '"', a header of 9 columns
HEADER = b"NUM_COMPTE;NUM_FACTURE;DATE_EMISSION;DEBUT_PERIODE;FIN_PERIODE;ECHEANCE;MONTANT_TTC;DEVISE;EMAIL\n"
COLUMNS = header_columns(BytesIO(HEADER), BILLS)
ROOT = Path(__file__).parents[3]


def bill(n: int, email: str = "a.b@example.fr", end: str = "\n", amount: str = "20,00") -> bytes:
    return (f"ACC-20000{n};F2026-11-000{n};01/12/2026;01/11/2026;30/11/2026;15/12/2026;{amount};EUR;{email}{end}"
            .encode())


def cut_bills() -> bytes:
    """The reported sample's shape: 4 bills, line 3's EMAIL cut as ``"b.tw`` (no closing quote)."""
    return HEADER + bill(1) + bill(2, '"b.tw') + bill(3) + bill(4)


def read(data: bytes) -> list[tuple[int, str | None]]:
    """(first line, text or None for a cut line) of every record of ``data`` after its header."""
    handle = BytesIO(data)
    handle.readline()
    return [(record.line, record.text) for record in file_records(handle, BILLS, 1, COLUMNS)]


def numbers(data: bytes) -> tuple[list[int], list[int]]:
    """The lines read whole, the lines refused as cut."""
    records = read(data)
    return [line for line, text in records if text is not None], [line for line, text in records if text is None]


def test_the_reported_cut_email_is_refused_alone_and_the_two_bills_after_it_are_read() -> None:
    assert numbers(cut_bills()) == ([2, 4, 5], [3])


def test_every_physical_line_is_one_record_or_one_refusal_wherever_the_cut_is() -> None:
    first = HEADER + bill(1, '"cut') + bill(2) + bill(3)
    last = HEADER + bill(1) + bill(2) + bill(3, '"cut')
    last_without_newline = HEADER + bill(1) + bill(2, '"cut', end="")
    two = HEADER + bill(1, '"cut') + bill(2) + bill(3, '"x.y@') + bill(4)
    adjacent = HEADER + bill(1, '"cut') + bill(2, '"cut') + bill(3)
    assert numbers(first) == ([3, 4], [2])
    assert numbers(last) == ([2, 3], [4])
    assert numbers(last_without_newline) == ([2], [3])
    assert numbers(two) == ([3, 5], [2, 4])
    assert numbers(adjacent) == ([4], [2, 3])


def test_a_cut_in_a_crlf_file_and_inside_a_field_with_an_escaped_quote() -> None:
    crlf = (HEADER + bill(1) + bill(2, '"b.tw') + bill(3)).replace(b"\n", b"\r\n")
    assert numbers(crlf) == ([2, 4], [3])
    assert read(crlf)[2] == (4, bill(3).decode().rstrip("\n"))  # no \r left on the text
    escaped = HEADER + bill(1, '"Ana ""la jefa"" Gar') + bill(2, '"Ana ""la jefa"" <a@b.es>"') + bill(3)
    assert numbers(escaped) == ([3, 4], [2])
    assert read(escaped)[1][1] is not None and '""la jefa""' in str(read(escaped)[1][1])


def test_a_quoted_field_with_a_line_break_is_still_one_record() -> None:
    """RFC 4180 allows it and the layout's CSV reads it: the line after the open quote is not a record on its own."""
    spanning = bill(2, '"a.b@example.fr\nsecond line of the field"')
    data = HEADER + bill(1) + spanning + bill(3)
    records = read(data)
    assert [line for line, _ in records] == [2, 3, 5] and all(text is not None for _, text in records)
    assert BILLS.parse(str(records[1][1]), COLUMNS)["email"] == "a.b@example.fr\nsecond line of the field"
    assert numbers(HEADER + bill(1) + spanning[:-2] + b"\n") == ([2, 4], [3])  # the same field cut: its lines apart


def test_check_layout_through_the_cli_counts_the_cut_line_as_rejected_and_reads_the_rest(tmp_path: Path) -> None:
    """The reported command as a user runs it: ``1 lines checked, 1 would be published, 0 rejected``, exit 0, before."""
    export = tmp_path / "bills_cut.csv"
    export.write_bytes(cut_bills())
    layout = ROOT / "docs" / "examples" / "layouts" / "bills_layout.yaml"
    result = subprocess.run([sys.executable, "-m", "omnibus", "adapter", "legacy", "check-layout", "--layout",
                             str(layout), str(export)], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == EXIT_REJECTED_LINES, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert "bills_cut.csv line 3: unclosed quote: the line ends inside a quoted field" in result.stdout, lines
    assert lines[-1] == "bills_cut.csv: 4 lines checked, 3 would be published as 3 events, 1 rejected"
