"""Why a dead letter refused where it entered cannot be re-driven, and what to do instead."""

from __future__ import annotations

from bus.errors import RawRecord
from processors.deadletters.redrive import ingress_refusal
from tests.processors.deadletters.test_init import file_line, letter


def test_a_refused_file_line_says_to_correct_it_and_import_it_again_not_that_the_sender_sends_it() -> None:
    """tester13 S3: ``redrive --dry-run`` of a batch line answered "refused at HTTP ingress ... the sender must send it
    again"."""
    answer = ingress_refusal(file_line())
    assert "HTTP" not in answer and "sender" not in answer
    assert "file accounts_2026-12-01.csv line 9" in answer and "layout util-accounts" in answer
    assert "import-batch --layout" in answer
    cdr = letter(RawRecord(value=b"x", headers=(("file", b"Master.csv"), ("file.offset", b"10"))))
    assert "import-cdr" in ingress_refusal(cdr)
    assert "the sender must send it again" in ingress_refusal(letter(RawRecord(value=b"{}")))
