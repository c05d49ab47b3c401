"""A CTR Amazon Connect sends again updated (after-contact work, a later ``LastUpdateTimestamp``) with another
handoff summary: what the case does today (docs/handoffs.md). The call's ``HandoffCreated`` has one event id per
contact, so the updated version is a re-delivery to the tracker: one case, which keeps the first version's summary
(no dead letter). The counter's corrected upload, whose event ids differ, is a revision instead
(``tests/adapters/branch/test_mapper_handoff_versions.py``)."""

from __future__ import annotations

import copy

from adapters.call_center import mapper_ctr
from bus.handoff_revisions import SOURCE_RECORD_FACT
from processors.handoffs.transitions import apply
from tests.adapters.call_center.support import context, sample
from tests.adapters.call_center.test_mapper_handoff import REPAIR, handoffs
from tests.processors.handoffs.factories import context as tracker_context


def test_an_updated_ctr_is_a_redelivery_of_the_calls_handoff() -> None:
    ctr = copy.deepcopy(sample("ctr_inbound_answered.json"))
    ctr["Attributes"] = {**(ctr.get("Attributes") or {}), **REPAIR}
    updated = copy.deepcopy(ctr)
    updated["LastUpdateTimestamp"] = "2030-01-01T00:00:00Z"
    updated["Attributes"]["omnibus_handoff_summary"] = "No power since the storm; fridge lost"
    (first,) = handoffs(mapper_ctr.map_ctr(ctr, context()))
    (second,) = handoffs(mapper_ctr.map_ctr(updated, context()))
    assert second.event.value["envelope"]["event_id"] == first.event.value["envelope"]["event_id"]
    assert SOURCE_RECORD_FACT not in second.event.value["intake_facts"]
    state = apply(None, first.event, tracker_context()).state
    again = apply(state, second.event, tracker_context())
    assert again.changed is False and again.outputs == [] and again.state.summary == "No power since the storm"
