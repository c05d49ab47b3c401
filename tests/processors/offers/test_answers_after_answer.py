"""``omnibus_offers_presented_after_answer_total`` by event time: a presentation counts as one after the answer when
it happened after the customer's first final answer, whatever order the two are read in (``answers.record``)."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest

from processors.offers import state as customer_state
from processors.offers.outputs import Batch
from processors.offers.state import OfferStatus
from tests.processors.offers.factories import T0, customer
from tests.processors.offers.test_answers import apply, offer_event

MINUTE = timedelta(minutes=1)


def after_answer(batch: Batch) -> list[str]:
    return [labels[0] for name, labels in batch.counts if name == "presented_after_answer"]


def test_a_presentation_delivered_late_but_made_before_the_answer_is_not_after_it() -> None:
    """The counter's upload of a decline (2 minutes ago), then the clerk's ``presented`` of another record made 5
    minutes ago, delivered late: both presentations count, neither came after the answer."""
    person = customer()
    batch = apply(person, offer_event("v2", "BRANCH", "DECLINED", T0 - 2 * MINUTE),
                  offer_event("v1", "BRANCH", None, T0 - 5 * MINUTE))
    assert [labels for name, labels in batch.counts if name == "presented"] == [("BRANCH",), ("BRANCH",)]
    assert after_answer(batch) == []
    assert person.offers["savings"].status is OfferStatus.DECLINED


def test_a_presentation_after_the_answer_is_counted_when_it_is_read_first() -> None:
    """Presented on the web 3 minutes after the decline at the counter, read before the decline: counted when the
    decline arrives, on the channel of the presentation."""
    person = customer()
    batch = apply(person, offer_event("web", "WEB", None, T0 + 3 * MINUTE), offer_event("no", "BRANCH", "DECLINED"))
    assert after_answer(batch) == ["WEB"]


EVENTS = [offer_event("p1", "WEB", None, T0 - MINUTE), offer_event("no", "BRANCH", "DECLINED"),
          offer_event("p2", "CALL_CENTER", None, T0 + MINUTE), offer_event("p3", "WEB", None, T0 + 2 * MINUTE),
          offer_event("yes", "WEB", "ACCEPTED", T0 + 3 * MINUTE)]


@pytest.mark.parametrize("order", list(itertools.permutations(range(len(EVENTS)))), ids=str)
def test_any_order_counts_the_presentations_after_the_first_answer_once_each(order: tuple[int, ...]) -> None:
    """p2 and p3 came after the first final answer (the decline); p1 before it; the acceptance stands."""
    person = customer()
    batch = apply(person, *(EVENTS[index] for index in order))
    assert sorted(after_answer(batch)) == ["CALL_CENTER", "WEB"]
    state = person.offers["savings"]
    assert state.status is OfferStatus.ACCEPTED and state.first_answered_us is not None


def test_the_first_answer_instant_survives_a_merge_and_a_round_trip() -> None:
    left, right = customer("cus_1"), customer("cus_2")
    apply(left, offer_event("yes", "WEB", "ACCEPTED", T0 + MINUTE))
    apply(right, offer_event("no", "BRANCH", "DECLINED"))
    for merged in (customer_state.merge(left, right), customer_state.merge(right, left)):
        state = customer_state.CustomerState.from_dict(merged.to_dict()).offers["savings"]
        assert state.status is OfferStatus.ACCEPTED
        assert state.first_answered_us == right.offers["savings"].answered_us


def test_state_kept_before_the_first_answer_instant_falls_back_to_the_answer() -> None:
    """An offer state written before ``first_answered_us`` was kept: its answer's instant stands in."""
    person = customer()
    apply(person, offer_event("no", "BRANCH", "DECLINED"))
    raw = person.to_dict()
    del raw["offers"]["savings"]["first_answered_us"]
    old = customer_state.CustomerState.from_dict(raw)
    batch = apply(old, offer_event("before", "WEB", None, T0 - MINUTE), offer_event("after", "WEB", None, T0 + MINUTE))
    assert after_answer(batch) == ["WEB"]

