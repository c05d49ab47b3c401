"""A CTR Amazon Connect sends again updated (after-contact work, a later ``LastUpdateTimestamp``): the call's
``HandoffCreated`` names the contact as its source record (``bus.handoff_revisions``). The same request again is the
same event (a copy); another summary, team or fact is a later version of the case, which the tracker revises, as it
revises a counter's corrected upload (``tests/adapters/branch/test_mapper_handoff_versions.py``). Before, the update
had the first version's event id and the case kept the first version's summary."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from adapters.call_center import mapper_ctr
from bus.handoff_revisions import SOURCE_RECORD_FACT, SOURCE_VERSION_FACT
from bus.serde import Event
from processors.handoffs.revisions import OLDER_VERSION
from processors.handoffs.transitions import DUPLICATE_CREATION, IllegalTransition, apply
from tests.adapters.call_center.support import context, sample
from tests.adapters.call_center.test_mapper_handoff import REPAIR, handoffs
from tests.processors.handoffs.factories import context as tracker_context

UPDATED_SUMMARY = "No power since the storm; fridge lost"


def _versions(**later: Any) -> tuple[Event, Event]:
    """The call's ``HandoffCreated`` in its first CTR version and in its update (``later``: attributes changed)."""
    ctr = copy.deepcopy(sample("ctr_inbound_answered.json"))
    ctr["Attributes"] = {**(ctr.get("Attributes") or {}), **REPAIR}
    updated = copy.deepcopy(ctr)
    updated["LastUpdateTimestamp"] = "2030-01-01T00:00:00Z"
    updated["Attributes"].update(later)
    published = mapper_ctr.ctr_call(ctr, context()).updated_at
    (first,) = handoffs(mapper_ctr.map_ctr(ctr, context()))
    (second,) = handoffs(mapper_ctr.map_ctr(updated, context(), published))
    return first.event, second.event


def test_an_updated_summary_revises_the_calls_case() -> None:
    first, second = _versions(omnibus_handoff_summary=UPDATED_SUMMARY)
    assert second.value["handoff_id"] == first.value["handoff_id"]
    assert second.value["envelope"]["event_id"] != first.value["envelope"]["event_id"]
    assert second.value["intake_facts"][SOURCE_RECORD_FACT] == first.value["handoff_id"]
    assert second.value["intake_facts"][SOURCE_VERSION_FACT] == "2030-01-01T00:00:00+00:00"
    state = apply(None, first, tracker_context()).state
    revised = apply(state, second, tracker_context())
    assert revised.state.summary == UPDATED_SUMMARY
    assert [output.event.schema.rsplit(".", 1)[1] for output in revised.outputs] == ["HandoffStatusChanged"]
    assert ("revised", "summary") in revised.effects


def test_an_update_stating_the_same_request_is_the_same_event() -> None:
    """Only the CTR's version moved (an attribute the handoff does not read): a copy, dropped by its event id."""
    first, second = _versions(someOtherAttribute="x")
    assert second.value["envelope"]["event_id"] == first.value["envelope"]["event_id"]


@pytest.mark.parametrize("later", [{"omnibus_handoff_team": "field-ops"}, {"disposition": "callback"}])
def test_another_team_or_fact_is_a_later_version(later: dict[str, str]) -> None:
    first, second = _versions(**later)
    assert second.value["envelope"]["event_id"] != first.value["envelope"]["event_id"]
    state = apply(None, first, tracker_context()).state
    assert ("revised", "intake_facts") in apply(state, second, tracker_context()).effects


def test_the_older_version_read_after_the_update_changes_nothing() -> None:
    """The update opened the case (the first version reached the tracker later: refused, then re-driven); the first
    version is older (``SOURCE_VERSION_FACT``): counted, the case keeps the update; read again, a re-delivery."""
    first, second = _versions(omnibus_handoff_summary=UPDATED_SUMMARY)
    state = apply(None, second, tracker_context()).state
    late = apply(state, first, tracker_context())
    assert late.state.summary == UPDATED_SUMMARY and late.effects == [("revised", OLDER_VERSION)]
    assert apply(late.state, first, tracker_context()).changed is False


def test_a_case_opened_before_the_call_named_its_source_record_refuses_the_update() -> None:
    """A case opened by an earlier release names no source record: its update is refused ``duplicate_creation``
    (dead-lettered), as a counter case opened before the counter named one (docs/handoffs.md)."""
    first, second = _versions(omnibus_handoff_summary=UPDATED_SUMMARY)
    facts = {name: fact for name, fact in first.value["intake_facts"].items()
             if name not in (SOURCE_RECORD_FACT, SOURCE_VERSION_FACT)}
    state = apply(None, Event(first.schema, {**first.value, "intake_facts": facts}), tracker_context()).state
    with pytest.raises(IllegalTransition) as error:
        apply(state, second, tracker_context())
    assert error.value.code == DUPLICATE_CREATION
