"""One contact, however many versions of its record, in the KPIs (``bus.contact_versions``): an updated CTR that
reached the other adapter replica (no ``causation_id``), an older version read last, a corrected counter transaction.
Each is one contact, with the newest version's outcome: never an identified contact, FCR-eligible contact or repeat
contact of itself (docs/kpis.md, "A later version of one contact ... is not another contact")."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bus.serde import Event
from tests.adapters.call_center.test_mapper_offer import published_answers
from tests.processors.kpis.test_ledger import Pipeline
from tests.support.contact_versions import CALL_END, counter_version, ctr_version

CONTACT_MEASURES = ("interactions", "contacts", "identified_contacts", "repeat_contacts_7d", "fcr_eligible",
                    "fcr_resolved")


def _feed(pipeline: Pipeline, customer: str, *events: Event) -> None:
    for event in events:  # as the worker reads them: the adapter's topic, then identity's copy keyed by the customer
        pipeline.feed(event, "contacts")
        pipeline.feed(event, "customer-contacts", key=customer)


def _day(pipeline: Pipeline, channel: str, site: str) -> dict[str, int]:
    day = pipeline.day(channel, site, CALL_END)
    return {measure: day.get(measure, 0) for measure in CONTACT_MEASURES}


ONE_RESOLVED_CONTACT = {"interactions": 1, "contacts": 1, "identified_contacts": 1, "repeat_contacts_7d": 0,
                        "fcr_eligible": 1, "fcr_resolved": 1}


@pytest.mark.parametrize("caused", [True, False], ids=["same-replica", "other-replica"])
@pytest.mark.parametrize("older_last", [False, True], ids=["in-order", "older-last"])
def test_two_versions_of_one_call_are_one_contact(caused: bool, older_last: bool) -> None:
    """c-0032: v1 to one replica, v2 (later ``LastUpdateTimestamp``) to the other; or v2 first and v1 3 s later."""
    v1 = ctr_version("c-0032", 1, received_after_s=63 if older_last else 0)
    v2 = ctr_version("c-0032", 2, caused_by="c-0032/v1" if caused else None)
    pipeline = Pipeline()
    _feed(pipeline, "cus_32", *((v2, v1) if older_last else (v1, v2)))
    assert _day(pipeline, "CALL_CENTER", "paris") == ONE_RESOLVED_CONTACT


@pytest.mark.parametrize("caused", [True, False], ids=["same-replica", "other-replica"])
@pytest.mark.parametrize("older_last", [False, True], ids=["in-order", "older-last"])
def test_the_newest_version_s_outcome_decides_first_contact_resolution(caused: bool, older_last: bool) -> None:
    """c-0071 / c-0072: the wrap-up code changed in after-contact work (v1 unresolved, v2 resolved)."""
    v1 = ctr_version("c-0071", 1, outcome="UNRESOLVED", disposition="bill-explained",
                     received_after_s=63 if older_last else 0)
    v2 = ctr_version("c-0071", 2, outcome="RESOLVED", disposition="resolved", caused_by="c-0071/v1" if caused else None)
    pipeline = Pipeline()
    _feed(pipeline, "cus_71", *((v2, v1) if older_last else (v1, v2)))
    assert _day(pipeline, "CALL_CENTER", "paris") == ONE_RESOLVED_CONTACT


def test_a_later_version_that_unresolves_the_call_is_counted_unresolved() -> None:
    v1 = ctr_version("c-0073", 1, outcome="RESOLVED")
    v2 = ctr_version("c-0073", 2, outcome="UNRESOLVED")
    pipeline = Pipeline()
    _feed(pipeline, "cus_73", v1, v2, v1)
    assert _day(pipeline, "CALL_CENTER", "paris") == {**ONE_RESOLVED_CONTACT, "fcr_resolved": 0}


@pytest.mark.parametrize("older_last", [False, True], ids=["in-order", "older-last"])
def test_a_corrected_counter_transaction_is_one_contact_beside_another_customer_s(older_last: bool) -> None:
    """Transaction 770001 uploaded (event 5550001, 10:00) and corrected (event 5550002, 10:05, no causation_id);
    another customer's transaction 770003."""
    first = counter_version("770001", "5550001", CALL_END,
                            received=CALL_END + timedelta(minutes=10 if older_last else 0))
    correction = counter_version("770001", "5550002", CALL_END + timedelta(minutes=5))
    other = counter_version("770003", "5550003", CALL_END + timedelta(minutes=20), phone="+33612340078")
    pipeline = Pipeline()
    _feed(pipeline, "cus_77", *((correction, first) if older_last else (first, correction)))
    _feed(pipeline, "cus_78", other)
    assert _day(pipeline, "BRANCH", "B-0001") == {"interactions": 2, "contacts": 2, "identified_contacts": 2,
                                                   "repeat_contacts_7d": 0, "fcr_eligible": 2, "fcr_resolved": 2}


def test_two_calls_of_one_customer_are_still_a_repeat_contact() -> None:
    pipeline = Pipeline()
    _feed(pipeline, "cus_1", ctr_version("c-1", 1), ctr_version("c-2", 1, end=CALL_END + timedelta(hours=1)))
    day = _day(pipeline, "CALL_CENTER", "paris")
    assert (day["contacts"], day["identified_contacts"], day["repeat_contacts_7d"]) == (2, 2, 1)


@pytest.mark.parametrize("caused", [True, False], ids=["same-replica", "other-replica"])
def test_an_older_pitch_version_read_last_changes_no_answer(caused: bool) -> None:
    """c-0002: v2 (accepted) to one replica, v1 (presented) to the other 3 s later. Both state the call's end as
    their time; before, the later receipt made v1 the newer and the take rate lost the sale."""
    presented, accepted = published_answers("presented", "accepted")
    late = accepted.value["envelope"]["received_at"] + timedelta(seconds=3)
    presented = Event(presented.schema, {**presented.value, "envelope": {
        **presented.value["envelope"], "received_at": late}})
    if not caused:
        accepted = Event(accepted.schema, {**accepted.value, "envelope": {
            **accepted.value["envelope"], "causation_id": None}})
    pipeline = Pipeline()
    pipeline.feed(accepted, "offers")
    pipeline.feed(presented, "offers")
    envelope = accepted.value["envelope"]
    day = pipeline.day("CALL_CENTER", envelope["site"], envelope["occurred_at"])
    assert (day.get("offers_presented", 0), day.get("offers_accepted", 0)) == (1, 1)
