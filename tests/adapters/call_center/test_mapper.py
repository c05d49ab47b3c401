from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from adapters.call_center.mapper import Call, call_events
from tests.adapters.call_center.support import context

T0 = datetime(2024, 3, 5, 9, 0, tzinfo=UTC)


def call(**changes: object) -> Call:
    base = Call(
        source_system="test", contact_id="c-1", version_id="c-1@1", site="paris", initiation_method="INBOUND",
        initiated_at=T0, disconnected_at=T0 + timedelta(minutes=5), queue="billing",
        enqueued_at=T0 + timedelta(seconds=10), connected_at=T0 + timedelta(seconds=35),
        caller=({"type": "PHONE", "value": "+33612345678"},),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def completed(c: Call, site: str = "paris") -> dict:
    return call_events(c, context(site)).events[0].event.value


def test_queue_wait_runs_from_enqueue_to_answer() -> None:
    assert completed(call())["queue_wait_ms"] == 25_000
    assert completed(call())["talk_ms"] == 265_000


def test_service_level_uses_the_queue_threshold_then_the_site_one() -> None:
    assert completed(call())["sla_threshold_ms"] == 30_000  # paris: billing answered within 30 s
    assert completed(call())["answered_within_sla"] is True
    assert completed(call(queue="repairs"))["answered_within_sla"] is False  # paris default 20 s
    assert completed(call(), site="lyon")["sla_threshold_ms"] == 15_000


def test_abandoned_means_queued_and_never_connected() -> None:
    gone = completed(call(connected_at=None))
    assert gone["abandoned"] is True and gone["answered_within_sla"] is False
    assert gone["queue_wait_ms"] == 290_000 and gone["talk_ms"] == 0


def test_calls_that_never_queued_do_not_count_toward_the_service_level() -> None:
    direct = completed(call(queue=None, enqueued_at=None))
    assert direct["answered_within_sla"] is None and direct["queue_wait_ms"] is None
    assert direct["abandoned"] is False


def test_transferred_when_a_next_contact_exists_or_the_source_says_so() -> None:
    assert completed(call(next_contact_id="c-2"))["transferred"] is True
    assert completed(call(transferred_by_source=True))["transferred"] is True
    assert completed(call())["transferred"] is False


def test_every_event_carries_the_site() -> None:
    for outgoing in call_events(call(site="lyon"), context("lyon")).events:
        assert outgoing.event.value["envelope"]["site"] == "lyon"
    assert completed(call(site="lyon"), site="lyon")["site"] == "lyon"


def test_without_a_caller_number_events_are_keyed_by_contact_and_no_identifiers_are_observed() -> None:
    record = call_events(call(caller=()), context())
    assert [o.key for o in record.events] == ["c-1", "c-1"]
    assert [o.event.schema for o in record.events] == ["omnibus.contact.CallCompleted",
                                                       "omnibus.contact.InteractionRecorded"]


def test_a_new_version_has_its_own_event_ids_names_the_one_it_replaces_and_stays_the_same_contact() -> None:
    """Issue #8, F13: an event id never names two contents. Every event of a later version has its own id, its
    ``causation_id`` the same event of the version it replaces; all share the contact's id and correlation id."""
    first = call_events(call(), context())
    later = call_events(call(version_id="c-1@2", disposition="refund", supersedes="c-1@1"), context())
    ids = lambda r: [o.event.value["envelope"]["event_id"] for o in r.events]  # noqa: E731
    assert first.dedupe_id != later.dedupe_id
    assert not set(ids(first)) & set(ids(later))
    assert [o.event.value["envelope"]["causation_id"] for o in later.events] == ids(first)
    assert all(o.event.value["envelope"]["causation_id"] is None for o in first.events)
    assert ids(call_events(call(), context())) == ids(first)  # the same version again: the same ids
    correlation = {o.event.value["envelope"]["correlation_id"] for o in (*first.events, *later.events)}
    assert len(correlation) == 1
