"""A representative's pitch in later versions: the newer version's answer stands in the offer state as in the KPIs
(``answers.record``; the answer another source gave stands again: ``test_answers_sources.py``); a stale version
changes nothing.
And the pitch's identity does not depend on the bounded ledger (``CustomerState.pitches``)."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest

from bus.serde import Event
from processors.offers import state as customer_state
from processors.offers.machine import pitchable
from processors.offers.state import LEDGER_KEPT, OfferStatus
from tests.adapters.call_center.test_mapper_offer import published_answers
from tests.processors.kpis.test_ledger import Pipeline
from tests.processors.offers.factories import customer
from tests.processors.offers.test_answers import offer_event, pitch, pitch_versions, presented, versions

OFFER = "fibre-upgrade"
KPI_ANSWERS = {"offers_accepted": "ACCEPTED", "offers_declined": "DECLINED"}


def kpi_answer(events: list[Event]) -> tuple[int, str | None]:
    """(presentations, the answer) the KPIs count for the pitch after reading ``events`` in that order."""
    pipeline = Pipeline()
    for event in events:
        pipeline.feed(event, "offers")
    envelope = events[0].value["envelope"]
    day = pipeline.day("CALL_CENTER", envelope["site"], envelope["occurred_at"])
    answers = [KPI_ANSWERS[measure] for measure in KPI_ANSWERS if day.get(measure)]
    return day.get("offers_presented", 0), answers[0] if answers else None


def at(event: Event, minutes: int) -> object:
    return event.value["envelope"]["occurred_at"] + timedelta(minutes=minutes)


def test_an_acceptance_corrected_to_a_decline_in_a_later_version_is_a_decline_in_both() -> None:
    """ctr49's open point: the agent's ``accepted`` corrected to ``declined`` in after-contact work stayed ACCEPTED
    in the offer state while the KPIs counted the decline."""
    accepted, declined = published_answers("accepted", "declined")
    person = customer()
    batch = versions(person, accepted, declined)
    state = person.offers[OFFER]
    assert state.status is OfferStatus.DECLINED and state.presentations == 1 and len(person.ledger) == 1
    assert presented(batch) == ["CALL_CENTER"] and pitch_versions(batch) == ["revised"]
    assert kpi_answer([accepted, declined]) == (1, "DECLINED")


@pytest.mark.parametrize(("first", "later", "status"), [
    ("accepted", "declined", OfferStatus.DECLINED), ("declined", "accepted", OfferStatus.ACCEPTED),
    ("accepted", "not_now", OfferStatus.NOT_NOW), ("opted_out", "declined", OfferStatus.DECLINED),
    ("accepted", "presented", OfferStatus.PRESENTED), ("not_now", "presented", OfferStatus.PRESENTED),
    ("declined", "opted_out", OfferStatus.OPTED_OUT),
])
def test_the_newer_version_of_the_pitch_stands_whatever_its_answer(first: str, later: str, status: OfferStatus) -> None:
    older, newer = published_answers(first, later)
    for order in ((older, newer), (newer, older)):  # the older read after the newer is stale: nothing changes
        person = customer()
        versions(person, *order)
        assert person.offers[OFFER].status is status and len(person.ledger) == 1
    kpis = kpi_answer([older, newer])
    assert kpis[0] == 1 and kpis[1] == (status.value if status.value in KPI_ANSWERS.values() else None)


def test_an_answer_taken_back_makes_the_offer_pitchable_again() -> None:
    accepted, presented_again = published_answers("accepted", "presented")
    person = customer()
    versions(person, accepted)
    assert not pitchable(person.offers[OFFER], 0)
    versions(person, presented_again)
    state = person.offers[OFFER]
    assert pitchable(state, 0) and state.answered_us is None and state.first_answered_us is None


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))), ids=str)
def test_any_order_of_three_versions_leaves_the_newest_answer(order: tuple[int, ...]) -> None:
    published = published_answers("accepted", "not_now", "declined")
    person = customer()
    versions(person, *(published[index] for index in order))
    assert person.offers[OFFER].status is OfferStatus.DECLINED and len(person.ledger) == 1


def test_an_answer_given_elsewhere_is_not_reopened_by_a_pitch_that_did_not_give_it() -> None:
    """Accepted on the web first; the call's pitch said ``declined`` (not applied over the sale), then ``not_now``:
    the standing answer is not the pitch's, so it stays."""
    declined, not_now = published_answers("declined", "not_now")
    web = offer_event("w1", "WEB", "ACCEPTED", at(declined, -5), offer_id=OFFER)
    person = customer()
    versions(person, web, declined, not_now)
    assert person.offers[OFFER].status is OfferStatus.ACCEPTED


def test_a_merge_keeps_which_pitch_gave_the_answer() -> None:
    accepted, declined = published_answers("accepted", "declined")
    left, right = customer("cus_1"), customer("cus_2")
    versions(left, accepted)
    for merged in (customer_state.merge(left, right), customer_state.merge(right, left)):
        person = customer_state.CustomerState.from_dict(merged.to_dict())
        versions(person, declined)
        assert person.offers[OFFER].status is OfferStatus.DECLINED


# --- the pitch's identity does not depend on the ledger's 200 rows ---


def test_a_later_version_is_no_new_presentation_after_its_row_left_the_ledger() -> None:
    """ctr49's open point: past ``LEDGER_KEPT`` newer presentations the pitch's row left the ledger and its later
    version counted as a new presentation."""
    presented_first, accepted = published_answers("presented", "accepted")
    person = customer()
    versions(person, presented_first)
    start = presented_first.value["envelope"]["occurred_at"]
    for n in range(LEDGER_KEPT):
        versions(person, offer_event(f"web-{n}", "WEB", None, start + timedelta(seconds=n + 1), offer_id="other"))
    assert all(row[2] == "other" for row in person.ledger)  # the pitch's row is gone from the ledger
    batch = versions(person, accepted)
    assert presented(batch) == [] and pitch_versions(batch) == ["revised"]
    assert person.offers[OFFER].status is OfferStatus.ACCEPTED and person.offers[OFFER].presentations == 1
    assert versions(person, presented_first).counts == [("pitch_version", ("CALL_CENTER", "stale"))]


def test_pitches_are_kept_by_age_and_survive_a_merge_and_a_round_trip() -> None:
    presented_first, accepted = published_answers("presented", "accepted")
    left, right = customer("cus_1"), customer("cus_2")
    versions(left, presented_first)
    for merged in (customer_state.merge(left, right), customer_state.merge(right, left)):
        person = customer_state.CustomerState.from_dict(merged.to_dict())
        person.ledger = []
        batch = versions(person, accepted)
        assert presented(batch) == [] and pitch_versions(batch) == ["revised"]
    # a pitch received more than the retention (30 days) before the customer's newest one is forgotten
    received = presented_first.value["envelope"]["received_at"]
    late = offer_event("late", "BRANCH", "DECLINED", received + timedelta(days=31), offer_id="other")
    versions(left, late)
    assert list(left.pitches) == [pitch("BRANCH", "late")]


@pytest.mark.parametrize(("first", "later", "status"), [
    ("presented", "accepted", OfferStatus.ACCEPTED), ("accepted", "declined", OfferStatus.DECLINED),
    ("accepted", "presented", OfferStatus.PRESENTED),
])
def test_an_older_version_another_replica_publishes_last_is_stale(first: str, later: str, status: OfferStatus) -> None:
    """Two call-center adapter replicas: the newer CTR version (a later ``LastUpdateTimestamp``) is received first by
    one, the older later by the other, with no ``causation_id``. The older is stale (``pitch_order`` reads the
    source version first, as the KPIs do): it takes back no answer and counts as no revision."""
    older, newer = published_answers(first, later)
    late = {**older.value["envelope"], "received_at": newer.value["envelope"]["received_at"] + timedelta(minutes=5),
            "causation_id": None}
    older_last = Event(older.schema, {**older.value, "envelope": late})
    person = customer()
    batch = versions(person, newer, older_last)
    assert person.offers[OFFER].status is status and len(person.ledger) == 1
    assert pitch_versions(batch) == ["stale"]
    kpis = kpi_answer([newer, older_last])
    assert kpis[0] == 1 and kpis[1] == (status.value if status.value in KPI_ANSWERS.values() else None)
