"""``pause_evidence.conflicts``: which decisions the pause test's evidence file describes."""

from __future__ import annotations

from typing import Any

from bus.serde import Event
from processors.replay import Replayed
from processors.replay.holders import CREATED
from processors.replay.operators import MERGED
from tests.processors.identity.pause_evidence import conflicts


def merged(event_id: str, loser: str, *, survivor: str = "cus_s", weight: float | None = 3.5, trigger: str = "ev-1",
           occurred: str = "t0", offset: int = 0) -> Replayed:
    value: dict[str, Any] = {
        "envelope": {"event_id": event_id, "occurred_at": occurred, "received_at": occurred},
        "survivor_customer_id": survivor, "merged_customer_id": loser, "match_weight": weight,
        "lineage": {"triggering_event_id": trigger, "channel": "WEB", "rule": "co-observed"},
    }
    return Replayed("customer.events.v1", 0, offset, survivor.encode(), Event(MERGED, value))


def created(event_id: str, customer: str) -> Replayed:
    value = {"envelope": {"event_id": event_id}, "customer_id": customer, "identifiers": []}
    return Replayed("customer.events.v1", 0, 0, customer.encode(), Event(CREATED, value))


def test_copies_that_differ_only_in_when_they_were_published_are_no_conflict() -> None:
    assert conflicts([merged("m1", "cus_x", occurred="t0"), merged("m1", "cus_x", occurred="t9", offset=4),
                      created("c1", "cus_x"), created("c1", "cus_x")]) == {}


def test_a_merge_announced_under_two_event_ids_is_one() -> None:
    first, second = merged("m1", "cus_x", trigger="ev-1"), merged("m2", "cus_x", trigger="ev-2", offset=7)
    assert conflicts([first, second, merged("m3", "cus_y")]) == {"customer cus_x merged away": [first, second]}


def test_copies_of_one_event_id_with_another_weight_are_one() -> None:
    first, second = merged("m1", "cus_x", weight=3.5), merged("m1", "cus_x", weight=-1.2, offset=3)
    assert conflicts([first, second]) == {"customer cus_x merged away": [first, second]}


def test_a_customer_created_under_two_event_ids_is_one() -> None:
    first, second = created("c1", "cus_x"), created("c2", "cus_x")
    assert conflicts([first, second]) == {"customer cus_x created": [first, second]}
