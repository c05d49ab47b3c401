"""Which contact an event is of, and which of two versions is the newer (``bus.contact_versions``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from adapters.call_center.mapper_ctr import version_id
from bus.clock import to_micros
from bus.contact_versions import contact_key, source_version_us, version_order, versioned_id
from bus.serde import Event
from tests.support.contact_versions import CALL_END, counter_version, ctr_version

T = datetime(2026, 12, 4, 9, 5, 30, tzinfo=UTC)


def test_every_version_of_a_ctr_is_one_contact() -> None:
    v1, v2 = ctr_version("c-0032", 1), ctr_version("c-0032", 2)
    assert contact_key(v1) == contact_key(v2) == "CALL_CENTER|amazon-connect|c-0032"
    assert contact_key(ctr_version("c-0033", 1)) != contact_key(v1)


def test_the_later_last_update_is_the_newer_whichever_is_received_last() -> None:
    newer, older_read_last = ctr_version("c-0002", 2), ctr_version("c-0002", 1, received_after_s=63)
    assert older_read_last.value["envelope"]["received_at"] > newer.value["envelope"]["received_at"]
    assert version_order(newer) > version_order(older_read_last)


def test_a_corrected_counter_transaction_is_ordered_by_its_own_time() -> None:
    first = counter_version("770001", "5550001", T)
    correction = counter_version("770001", "5550002", T + timedelta(minutes=5), received=T)
    assert contact_key(first) == contact_key(correction) == "BRANCH|branch-terminal|770001"
    assert version_order(correction) > version_order(first)


def test_versions_stating_the_same_instants_are_ordered_by_receipt() -> None:
    early, late = counter_version("1", "a", T), counter_version("1", "b", T, received=T + timedelta(seconds=1))
    assert version_order(late) > version_order(early)


def test_the_ctr_mapper_writes_the_form_that_is_read_back() -> None:
    updated = CALL_END + timedelta(minutes=3)
    assert version_id("c-1", updated) == versioned_id("c-1", updated) == f"c-1@{updated.isoformat()}"
    assert source_version_us({"source_event_id": version_id("c-1", updated)}) == to_micros(updated)


@pytest.mark.parametrize("source_event_id", [
    None, "", "5550001", "msg-1", "paris/1733-1@0123456789abcdef", "a@", "u@example.org", "c-1@2026-12-04T09:00:00",
])
def test_a_source_event_id_stating_no_instant_with_an_offset_states_no_version(source_event_id: str | None) -> None:
    assert source_version_us({"source_event_id": source_event_id}) == 0


def test_a_naive_version_instant_is_refused() -> None:
    with pytest.raises(ValueError, match="UTC offset"):
        versioned_id("c-1", datetime(2026, 12, 4, 9, 0))


def test_an_event_naming_no_contact_has_no_contact_key() -> None:
    assert contact_key(Event("omnibus.marketing.OfferPresented", {"envelope": {}})) is None
    no_id = ctr_version("", 1)
    assert contact_key(no_id) is None
