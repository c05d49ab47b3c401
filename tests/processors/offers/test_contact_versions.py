"""One contact, however many versions of its record, in the offer state: its rows, signals and facts.

A CTR updated in after-contact work, or a corrected counter transaction, is one contact: no ``REPEAT_CONTACT`` of
itself, ``contacts_7d`` 1, and the newer version's matter, in either arrival order, with or without a
``causation_id`` (``bus.contact_versions``, ``processors.offers.contact_rows``)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bus.clock import to_micros
from bus.serde import Event
from processors.offers import contact_rows
from processors.offers.ranking import facts_of
from processors.offers.state import CustomerState
from processors.offers.store import Stores
from tests.processors.offers.world import World
from tests.support.contact_versions import CALL_END, counter_version, ctr_version

PHONE = "PHONE:+33612340031"


def _signals(world: World, *events: Event) -> list[str]:
    kinds: list[str] = []
    for event in events:
        batch = world.feed(event, "cus_1", from_contacts=True)
        kinds += [o.event.value["kind"] for o in batch.outgoing if o.event.schema.endswith("RetentionSignal")]
    return kinds


def _state(world: World) -> CustomerState:
    return world.engine.customer(Stores(*world.tables), "cus_1")


def _ctr_pair(caused: bool, reversed_: bool) -> list[Event]:
    """v1 then v2 of one call at one replica (v2 naming v1 when ``caused``), or (``reversed_``) v2 at one replica
    and v1 at another, 3 s later."""
    v1 = ctr_version("c-0031", 1, received_after_s=63 if reversed_ else 0)
    v2 = ctr_version("c-0031", 2, caused_by="c-0031/v1" if caused else None)
    return [v2, v1] if reversed_ else [v1, v2]


@pytest.mark.parametrize("caused", [True, False], ids=["causation", "no-causation"])
@pytest.mark.parametrize("reversed_", [False, True], ids=["in-order", "older-last"])
def test_a_ctr_updated_after_the_call_is_one_contact_and_no_repeat_contact(caused: bool, reversed_: bool) -> None:
    world = World()
    world.created("cus_1", PHONE)
    assert _signals(world, *_ctr_pair(caused, reversed_)) == []
    state = _state(world)
    assert len(state.contacts) == 1 and state.contacts[0][3] == "c-0031/v2"
    assert facts_of(state, to_micros(CALL_END + timedelta(hours=1))).contacts_7d == 1


@pytest.mark.parametrize("reversed_", [False, True], ids=["in-order", "older-last"])
def test_the_newer_version_s_matter_stands_whatever_the_order(reversed_: bool) -> None:
    world = World()
    world.created("cus_1", PHONE)
    v1 = ctr_version("c-0070", 1, disposition="bill-explained", received_after_s=63 if reversed_ else 0)
    v2 = ctr_version("c-0070", 2, disposition="resolved")
    _signals(world, *([v2, v1] if reversed_ else [v1, v2]))
    (row,) = _state(world).contacts
    assert row[2] == "resolved"


def test_an_older_version_read_last_raises_no_signal_its_newer_one_did_not() -> None:
    world = World()
    world.created("cus_1", PHONE)
    newer = ctr_version("c-0009", 2, disposition="bill-explained")
    older = ctr_version("c-0009", 1, disposition="cancel contract", received_after_s=63)
    assert _signals(world, newer, older) == []


@pytest.mark.parametrize("reversed_", [False, True], ids=["in-order", "older-last"])
def test_a_corrected_counter_transaction_is_one_contact(reversed_: bool) -> None:
    world = World()
    world.created("cus_1", "PHONE:+33612340077")
    at = CALL_END
    first = counter_version("770001", "5550001", at, received=at + timedelta(minutes=10 if reversed_ else 0))
    correction = counter_version("770001", "5550002", at + timedelta(minutes=5))
    assert _signals(world, *([correction, first] if reversed_ else [first, correction])) == []
    (row,) = _state(world).contacts
    assert row[3] == "770001/5550002"


def test_two_calls_about_one_matter_still_signal_a_repeat_contact() -> None:
    world = World()
    world.created("cus_1", PHONE)
    first = ctr_version("c-0040", 1)
    second = ctr_version("c-0041", 1, end=CALL_END + timedelta(days=1))
    assert _signals(world, first, second) == ["REPEAT_CONTACT"]


def test_a_merge_keeps_one_row_per_contact_the_newest_version() -> None:
    def row(event_id: str, source_version: int, matter: str) -> list[object]:
        return [100, "CALL_CENTER", matter, event_id, [PHONE], "CALL_CENTER|amazon-connect|c-1",
                [source_version, 100, 5]]

    old_format = [50, "BRANCH", "x", "e-old", [PHONE]]
    merged = contact_rows.newest([row("v1", 1, "a"), old_format, row("v2", 2, "b"), row("v1", 1, "a")], 10)
    assert [r[3] for r in merged] == ["e-old", "v2"]
