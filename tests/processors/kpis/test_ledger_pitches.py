"""A representative's pitch counted once, with its newer version's answer (``rules.version_update``): the call-center
CTR whose later version records the answer (offers49's finding) and the counter's corrected transaction."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest

from bus.serde import Event
from tests.adapters.call_center.test_mapper_offer import published_answers
from tests.processors.kpis.factories import T0, offer
from tests.processors.kpis.test_ledger import Pipeline

OFFERS = ("offers_presented", "offers_accepted", "offers_declined")


def _counted(pipeline: Pipeline, event: Event) -> dict[str, int]:
    envelope = event.value["envelope"]
    day = pipeline.day("CALL_CENTER", envelope["site"], envelope["occurred_at"])
    return {measure: day.get(measure, 0) for measure in OFFERS}


def test_a_later_ctr_version_recording_the_acceptance_counts_it_on_the_same_presentation() -> None:
    """The sample: ``presented`` in the first version, ``accepted`` in the later one. Before, the acceptance had the
    first version's event id and was dropped: one presentation, no acceptance."""
    presented, accepted = published_answers("presented", "accepted")
    pipeline = Pipeline()
    pipeline.feed(presented, "offers")
    assert _counted(pipeline, presented) == {"offers_presented": 1, "offers_accepted": 0, "offers_declined": 0}
    assert pipeline.feed(accepted, "offers") == 2  # its hour and its day, republished
    assert _counted(pipeline, presented) == {"offers_presented": 1, "offers_accepted": 1, "offers_declined": 0}


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))), ids=str)
def test_any_order_of_the_versions_counts_the_newest_answer_once(order: tuple[int, ...]) -> None:
    """An older version read after a newer one (another partition, a re-driven dead letter) changes nothing."""
    versions = published_answers("presented", "declined", "accepted")
    pipeline = Pipeline()
    for index in order:
        pipeline.feed(versions[index], "offers")
    assert _counted(pipeline, versions[0]) == {"offers_presented": 1, "offers_accepted": 1, "offers_declined": 0}


def test_a_version_with_the_same_answer_and_a_redelivery_change_nothing() -> None:
    first, same, accepted = published_answers("accepted", "accepted", "accepted")
    assert first.value["envelope"]["event_id"] == same.value["envelope"]["event_id"] == \
        accepted.value["envelope"]["event_id"]
    pipeline = Pipeline()
    pipeline.feed(first, "offers")
    assert pipeline.feed(same, "offers") == 0 and pipeline.feed(accepted, "offers") == 0
    assert _counted(pipeline, first) == {"offers_presented": 1, "offers_accepted": 1, "offers_declined": 0}


def test_a_corrected_answer_moves_the_count_from_declined_to_accepted() -> None:
    declined, accepted = published_answers("declined", "accepted")
    pipeline = Pipeline()
    for event in (declined, accepted, declined):
        pipeline.feed(event, "offers")
    assert _counted(pipeline, declined) == {"offers_presented": 1, "offers_accepted": 1, "offers_declined": 0}


def _counter(response: str | None, presentation: str, minutes: int) -> Event:
    event = offer("OfferResponded" if response else "OfferPresented", T0 + timedelta(minutes=minutes), response,
                  channel="BRANCH")
    return Event(event.schema, {**event.value, "presentation_id": presentation,
                                "envelope": {**event.value["envelope"], "event_id": f"{presentation}-{minutes}"}})


def test_two_pitches_are_two_presentations_and_a_corrected_transaction_one() -> None:
    """A clerk who recorded ``presented`` in one transaction and the answer in another made two records (two
    presentations, docs/kpis.md "One record per pitch"); a corrected upload of one transaction is one."""
    pipeline = Pipeline()
    for event in (_counter(None, "counter:t1:tx-1", 0), _counter("ACCEPTED", "counter:t1:tx-2", 5),
                  _counter("DECLINED", "counter:t1:tx-3", 6), _counter("ACCEPTED", "counter:t1:tx-3", 7)):
        pipeline.feed(event, "offers")
    day = pipeline.day("BRANCH", "", T0)
    assert {measure: day.get(measure, 0) for measure in OFFERS} == {
        "offers_presented": 3, "offers_accepted": 2, "offers_declined": 0}


def test_an_answer_on_the_web_is_still_counted_by_its_event_id() -> None:
    """Only a representative's record has versions: the web's answers follow their presentations as before."""
    pipeline = Pipeline()
    for event in (offer("OfferPresented", T0), offer("OfferResponded", T0, "ACCEPTED")):
        pipeline.feed(event, "offers")
    day = pipeline.day("WEB", "", T0)
    assert (day.get("offers_presented"), day.get("offers_accepted")) == (1, 1)
