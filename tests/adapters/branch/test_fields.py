"""A terminal's native fields read one by one (``adapters.branch.fields``), refused by name."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from adapters.branch import errors
from adapters.branch.fields import MAX_ID_CHARS, optional_text, required_instant, required_text, section


def test_texts_are_stripped_numbers_read_as_text_and_blanks_absent() -> None:
    assert required_text({"terminal_id": " T-1 "}, "terminal_id") == "T-1"
    assert optional_text({"branch_id": 42}, "branch_id") == "42"
    assert optional_text({"branch_id": "  "}, "branch_id") is None


@pytest.mark.parametrize("container", [{}, {"terminal_id": True}, {"terminal_id": "x" * (MAX_ID_CHARS + 1)},
                                       {"terminal_id": ["T-1"]}])
def test_a_missing_or_malformed_text_is_refused_by_name(container: dict[str, object]) -> None:
    with pytest.raises(errors.EventRejected, match="terminal_id"):
        required_text(container, "terminal_id")


def test_an_instant_needs_its_utc_offset() -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    assert required_instant({"at": now.isoformat()}, "at") == now
    with pytest.raises(errors.EventRejected, match="UTC offset"):
        required_instant({"at": now.replace(tzinfo=None).isoformat()}, "at")


def test_a_section_is_a_json_object() -> None:
    assert section({"transaction": {"id": "1"}}, "transaction") == {"id": "1"}
    with pytest.raises(errors.EventRejected, match="transaction"):
        section({"transaction": "1"}, "transaction")
