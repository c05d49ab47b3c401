"""A counter visit about a case already open names it (``transaction.follow_up``) instead of opening a second one
(tester29 F7: the complaint filed on the portal and followed up at the branch; the counter API could only open a
new handoff, so the case never saw the visit)."""

from __future__ import annotations

import copy
from io import BytesIO

import fastavro
import pytest

from adapters.base.mapper import FOLLOW_UP
from adapters.branch.openapi import OPENAPI
from schemas.catalog import default_catalog
from tests.adapters.branch.support import sample
from tests.adapters.branch.test_mapper import mapped

FOLLOWED_UP = "omnibus.handoff.HandoffFollowedUp"


def with_follow_up(follow_up: object, handoff: object = None) -> dict:
    upload = copy.deepcopy(sample("transaction_with_identifiers"))
    upload["events"][0]["transaction"]["follow_up"] = follow_up
    if handoff is not None:
        upload["events"][0]["transaction"]["handoff"] = handoff
    return upload


def of(record, schema: str) -> list:  # type: ignore[no-untyped-def]
    return [o for o in record.events if o.event.schema == schema]


def test_a_follow_up_names_the_open_case_on_the_handoff_topic() -> None:
    upload = with_follow_up({"handoff_id": "REC-2026-000451", "summary": "Brought the statement; card 4111111111111111"})
    record = mapped(upload)
    (out,) = of(record, FOLLOWED_UP)
    fastavro.schemaless_writer(BytesIO(), default_catalog().get(out.event.schema).parsed, out.event.value, strict=True)
    value = out.event.value
    assert (out.topic, out.key, value["handoff_id"]) == ("omnibus.handoff.events.v1", "REC-2026-000451",
                                                         "REC-2026-000451")
    assert value["interaction_id"] == f"counter:{upload['terminal_id']}:{upload['events'][0]['transaction']['id']}"
    assert "4111111111111111" not in value["summary"] and value["summary"].startswith("Brought the statement")
    assert value["actor"] == {"kind": "EMPLOYEE", "id": "E-2231"}
    assert (value["envelope"]["channel"], value["envelope"]["site"]) == ("BRANCH", upload["branch_id"])
    assert not of(record, "omnibus.handoff.HandoffCreated")  # no second case
    # re-uploaded: the same follow-up under the same event id
    (again,) = of(mapped(copy.deepcopy(upload)), FOLLOWED_UP)
    assert again.event.value["envelope"]["event_id"] == value["envelope"]["event_id"]


def test_the_visit_names_the_case_and_is_not_counted_resolved_at_first_contact() -> None:
    (contact,) = of(mapped(with_follow_up({"handoff_id": "REC-2026-000451"})), "omnibus.contact.InteractionRecorded")
    assert contact.event.value["properties"]["handoff_id"] == "REC-2026-000451"
    assert contact.event.value["outcome"] == "HANDED_OFF"


def test_a_visit_may_follow_one_case_up_and_open_another() -> None:
    record = mapped(with_follow_up({"handoff_id": "REC-2026-000451"}, handoff={"kind": "card-dispute"}))
    assert len(of(record, FOLLOWED_UP)) == 1 and len(of(record, "omnibus.handoff.HandoffCreated")) == 1


@pytest.mark.parametrize(("follow_up", "reason"), [
    ({"summary": "no case named"}, "'transaction.follow_up.handoff_id' is required"),
    ({"handoff_id": 451}, "'transaction.follow_up.handoff_id' must be text, got int"),
    ({"handoff_id": "x" * 257}, "'transaction.follow_up.handoff_id' longer than 256 characters"),
    ({"handoff_id": "REC-1", "summary": 5}, "'transaction.follow_up.summary' must be text"),
    ("REC-2026-000451", "'transaction.follow_up' must be {"),
])
def test_a_bad_follow_up_costs_only_itself(follow_up: object, reason: str) -> None:
    record = mapped(with_follow_up(follow_up))
    assert not of(record, FOLLOWED_UP) and of(record, "omnibus.contact.CounterTransaction")
    ((part, refused),) = [(dropped.part, dropped.refusal) for dropped in record.dropped_parts]
    assert part == FOLLOW_UP and refused.code == "bad_field" and refused.reason.startswith(reason), refused
    assert "no case named" not in refused.reason


def test_the_openapi_describes_the_follow_up() -> None:
    transaction = OPENAPI["paths"]["/v1/counter/events"]["post"]["requestBody"]["content"]["application/json"][
        "schema"]["properties"]["events"]["items"]["properties"]["transaction"]
    assert transaction["properties"]["follow_up"]["required"] == ["handoff_id"]
