"""One declaration of a handoff request's lengths (``bus.handoff_limits``): a channel's request and a case opened by
hand from a dead letter accept the longest text and refuse one character more, at the same lengths."""

from __future__ import annotations

import pytest

from adapters.base.handoff_request import KIND, MAX_CHARS, SUMMARY, TEAM, BadHandoffRequest, HandoffRequest
from bus.errors import RawRecord
from bus.handoff_limits import MAX_KIND_CHARS, MAX_SUMMARY_CHARS, MAX_TEAM_CHARS
from bus.identifiers import IdentifierNormaliser, IdentifierSettings
from processors.deadletters.manual_case import BadCase, ManualCase, case_event
from processors.deadletters.new_id import Operator
from tests.processors.deadletters.test_init import letter

NORMALISER = IdentifierNormaliser(IdentifierSettings(default_region="PL"), component="test")
PHONE = ["PHONE=+48221234567"]


def test_a_channel_s_request_reads_its_lengths_from_the_one_declaration() -> None:
    assert MAX_CHARS == {KIND: MAX_KIND_CHARS, TEAM: MAX_TEAM_CHARS, SUMMARY: MAX_SUMMARY_CHARS}


@pytest.mark.parametrize(("kind", "summary"), [
    ("k" * (MAX_KIND_CHARS + 1), "a summary"), ("line-repair", "s" * (MAX_SUMMARY_CHARS + 1)),
])
def test_one_character_over_is_refused_by_both_paths(kind: str, summary: str) -> None:
    dead = letter(RawRecord(value=b"{}"), component="adapter.call_center")
    with pytest.raises(BadHandoffRequest):
        HandoffRequest.parse(kind, None, summary)
    with pytest.raises(BadCase):
        case_event(dead, ManualCase(kind, PHONE, summary), Operator("ops", "why"), NORMALISER)


def test_the_longest_text_is_taken_by_both_paths() -> None:
    kind, summary = "k" * MAX_KIND_CHARS, "s" * MAX_SUMMARY_CHARS
    assert HandoffRequest.parse(kind, "t" * MAX_TEAM_CHARS, summary) is not None
    dead = letter(RawRecord(value=b"{}"), component="adapter.call_center")
    value = case_event(dead, ManualCase(kind, PHONE, summary), Operator("ops", "why"), NORMALISER).value
    assert (value["case_type"], value["summary"]) == (kind, summary)
