"""A counter visit's refused follow-up is dead-lettered and re-driven as a follow-up, not as a handoff.

Reported: a ``transaction.follow_up`` without ``handoff_id`` was dead-lettered with the reason ``handoff refused, the
rest of the record was published: ...`` and its re-drive answered ``(1 event(s): the handoff only, ...)``: it is a
follow-up on a case already open. The part is ``FOLLOW_UP`` (``adapters.base.mapper.PARTS``); the reason and the
answer name it in words, ``follow-up``. The branch adapter is the only one whose records carry a follow-up.
"""

from __future__ import annotations

import copy
import json

import pytest

from adapters.base.mapper import FOLLOW_UP, HANDOFF
from bus.dead_letter import part_refused_reason, refused_part
from processors.deadletters import DeadLetter
from tests.processors.deadletters.test_sealed import dry_run
from tests.processors.deadletters.test_sealed_handoffs import HANDOFF_TOPIC, part_letter, re_driven

WHY = "'transaction.follow_up.handoff_id' is required: the id of the open case the customer came back about"
HEADERS = (("http.path", b"/v1/counter/events"), ("branch.terminal_id", b"CT-0142-01"), ("branch.branch_id", b"0142"))


def follow_up_letter(part: str = FOLLOW_UP) -> tuple[DeadLetter, dict[str, str]]:
    """A counter visit published without its follow-up (the clerk named no case), and the branch adapter's env;
    ``part``: as the dead letter's reason names it (``handoff``: as an adapter before the upgrade wrote it)."""
    from tests.adapters.branch.support import TOKENS
    from tests.adapters.branch.support import sample as branch_sample

    event = copy.deepcopy(branch_sample("transaction_with_identifiers")["events"][0])
    event["transaction"]["follow_up"] = {"summary": "brought the bank statement"}
    bad = part_letter(json.dumps(event).encode(), "adapter.branch", HEADERS, WHY, "bad_field", part)
    return bad, {"OMNIBUS_ADAPTER_BRANCH__TERMINAL_TOKENS": json.dumps(TOKENS)}


def test_the_reason_names_the_follow_up_and_reads_back_as_the_part() -> None:
    reason = part_refused_reason(FOLLOW_UP, WHY)
    assert reason.startswith("follow-up refused, the rest of the record was published: 'transaction.follow_up")
    assert refused_part(reason) == FOLLOW_UP
    assert refused_part(part_refused_reason(HANDOFF, "'transaction.handoff.kind' is required")) == HANDOFF
    assert refused_part("HandoffCreated: case_type is required") is None


def test_a_follow_up_dead_lettered_as_a_handoff_before_the_upgrade_reads_as_a_follow_up() -> None:
    """Its reason names the follow-up's field: what a dead letter an older adapter wrote is about."""
    assert refused_part(f"handoff refused, the rest of the record was published: {WHY}") == FOLLOW_UP
    assert refused_part("handoff refused, the rest of the record was published: 'transaction.follow_up' must be {"
                        ) == FOLLOW_UP


@pytest.mark.parametrize("part", [FOLLOW_UP, HANDOFF], ids=["this adapter", "an adapter before the upgrade"])
def test_a_refused_follow_up_is_refused_again_as_a_follow_up_then_re_driven_alone_once_corrected(
        part: str, monkeypatch: pytest.MonkeyPatch) -> None:
    bad, env = follow_up_letter(part)
    (refused,) = dry_run([bad], {}, monkeypatch, env)
    assert refused.action == "refused", refused
    assert "the follow-up is refused again: 'transaction.follow_up.handoff_id'" in (refused.reason or ""), refused
    fix = {"transaction.follow_up.handoff_id": "REC-2026-000451"}
    (outcome,) = dry_run([bad], fix, monkeypatch, env)
    assert outcome.action == "would_redrive", outcome
    assert outcome.at == (f"{HANDOFF_TOPIC} (1 event: the follow-up only, the rest of its record was published "
                          "when it was refused)"), outcome
    (event,) = re_driven(bad, "adapter.branch", fix)
    assert event.event.schema == "omnibus.handoff.HandoffFollowedUp"
    assert event.event.value["handoff_id"] == "REC-2026-000451"
