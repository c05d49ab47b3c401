"""A corrected upload of a counter transaction that handed a case off is the same case, a later version of it.

The terminal cannot re-send an event under its ``event_id`` with other content (``id_conflict``): the correction
comes under a new ``event_id``, for the same terminal and transaction. Its ids derive from the new event, so its
``HandoffCreated`` has an event id of its own under the case ``counter:<terminal>:<transaction id>``. Before, the
tracker refused it as ``duplicate_creation`` (a dead letter, the correction lost); the creation now names the
transaction as its source record (``bus.handoff_revisions``) and the tracker applies it as a revision.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from bus.handoff_revisions import SOURCE_RECORD_FACT
from bus.serde import Event
from processors.handoffs.transitions import DUPLICATE_CREATION, IllegalTransition, apply
from tests.adapters.branch.test_mapper_handoff import handoffs, with_handoff
from tests.adapters.branch.test_mapper import mapped
from tests.processors.handoffs.factories import context
from tests.processors.handoffs.test_transitions import assert_on_the_contract, names

HANDOFF = {"kind": "meter-dispute", "summary": "Reading 4 times too high", "team": "metering"}


def upload(event_id: str = "d4fab2a5-8e6c-4b1d-8f3a-5b7c9d1e3f44", **handoff: Any) -> dict[str, Any]:
    sent = with_handoff({**HANDOFF, **handoff})
    sent["events"][0]["event_id"] = event_id
    return sent


def creation(sent: dict[str, Any]) -> Event:
    (out,) = handoffs(mapped(copy.deepcopy(sent)))
    return out.event


def test_a_corrected_upload_is_the_same_case_under_an_event_id_of_its_own() -> None:
    first = creation(upload())
    corrected = creation(upload("0b7e1f7c-2d1a-4c55-9e0a-7f3c2b1d4e55", summary="Reading 40 times too high"))
    case = first.value["handoff_id"]
    assert case == corrected.value["handoff_id"] == f"counter:CT-0142-03:TX-CT-0142-03-000981"
    assert first.value["intake_facts"][SOURCE_RECORD_FACT] == corrected.value["intake_facts"][SOURCE_RECORD_FACT] == case
    assert first.value["envelope"]["event_id"] != corrected.value["envelope"]["event_id"]
    assert creation(upload()).value["envelope"]["event_id"] == first.value["envelope"]["event_id"]  # a re-upload


def test_the_tracker_applies_the_correction_instead_of_refusing_it() -> None:
    state = apply(None, creation(upload()), context()).state
    transition = apply(state, creation(upload("0b7e1f7c-2d1a-4c55-9e0a-7f3c2b1d4e55",
                                              summary="Reading 40 times too high")), context())
    assert_on_the_contract(transition)
    assert names(transition) == ["HandoffStatusChanged"]  # no second route, no second notification
    assert transition.state.summary == "Reading 40 times too high" and transition.state.version == state.version + 1
    assert transition.effects == [("revised", "summary")]


def test_the_same_transaction_under_a_new_event_id_without_a_change_is_a_copy() -> None:
    state = apply(None, creation(upload()), context()).state
    again = apply(state, creation(upload("0b7e1f7c-2d1a-4c55-9e0a-7f3c2b1d4e55")), context())
    assert again.changed is False and again.outputs == []


@pytest.mark.parametrize("transaction", ["TX-CT-0142-03-000982"])
def test_another_transaction_is_another_case(transaction: str) -> None:
    other = upload("0b7e1f7c-2d1a-4c55-9e0a-7f3c2b1d4e55")
    other["events"][0]["transaction"]["id"] = transaction
    first, second = creation(upload()), creation(other)
    assert first.value["handoff_id"] != second.value["handoff_id"]
    assert second.value["intake_facts"][SOURCE_RECORD_FACT] == second.value["handoff_id"]


def test_a_case_opened_before_the_upgrade_names_no_record_and_still_refuses_a_correction() -> None:
    """The upgrade boundary (README): a case an older adapter opened has no source record in its facts."""
    old = creation(upload())
    facts = {k: v for k, v in old.value["intake_facts"].items() if k != SOURCE_RECORD_FACT}
    state = apply(None, Event(old.schema, {**old.value, "intake_facts": facts}), context()).state
    with pytest.raises(IllegalTransition) as error:
        apply(state, creation(upload("0b7e1f7c-2d1a-4c55-9e0a-7f3c2b1d4e55", summary="x")), context())
    assert error.value.code == DUPLICATE_CREATION
