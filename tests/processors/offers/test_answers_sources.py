"""Every source's answer is kept (``OfferState.answers``): a representative's pitch (its newest version's answer) and
each answer given on its own (a web, SMS or e-mail answer). The answer that stands is the one the rules of
``machine.answered_over`` put first among them (a final answer over a "not now", an acceptance over an opt-out over a
decline, then the earlier; of two "not now"s the later): so when a pitch's newer version takes its answer back, an
answer given elsewhere that it had outranked stands again. The reported sample: accepted on the call, declined on the
web (outranked by the sale), the call corrected to ``not_now`` in after-contact work: a decline, not a snooze."""

from __future__ import annotations

import itertools

import pytest

from bus.serde import Event
from processors.offers import state as customer_state
from processors.offers.machine import pitchable, snoozed
from processors.offers.state import CustomerState, OfferStatus
from tests.adapters.call_center.test_mapper_offer import published_answers
from tests.processors.offers.factories import customer, us
from tests.processors.offers.test_answers import offer_event, versions
from tests.processors.offers.test_answers_pitches import OFFER, at


def elsewhere(channel: str, response: str | None, call: Event, minutes: int, event_id: str = "w1") -> Event:
    return offer_event(event_id, channel, response, at(call, minutes), offer_id=OFFER)  # type: ignore[arg-type]


@pytest.mark.parametrize(("other", "corrected", "status"), [
    ("DECLINED", "not_now", OfferStatus.DECLINED),  # the reported sample
    ("DECLINED", "presented", OfferStatus.DECLINED),
    ("OPTED_OUT", "declined", OfferStatus.OPTED_OUT),
    ("NOT_NOW", "presented", OfferStatus.NOT_NOW),
    ("DECLINED", "accepted", OfferStatus.ACCEPTED),  # the newer version gives the sale again
])
def test_an_answer_the_pitch_outranked_stands_again_when_the_pitch_takes_its_own_back(
        other: str, corrected: str, status: OfferStatus) -> None:
    accepted, newer = published_answers("accepted", corrected)
    web = elsewhere("WEB", other, accepted, 5)
    person = customer()
    versions(person, accepted, web)
    assert person.offers[OFFER].status is OfferStatus.ACCEPTED
    versions(person, newer)
    state = person.offers[OFFER]
    assert state.status is status
    if status is OfferStatus.NOT_NOW:
        assert state.answered_channel == "WEB" and snoozed(state, us(at(accepted, 6)))  # the web's snooze
    if status is OfferStatus.DECLINED:
        assert state.answered_channel == "WEB" and not pitchable(state, 0)


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))), ids=str)
def test_any_order_of_the_sample_gives_the_decline(order: tuple[int, ...]) -> None:
    accepted, not_now = published_answers("accepted", "not_now")
    events = [accepted, elsewhere("WEB", "DECLINED", accepted, 5), not_now]
    person = customer()
    versions(person, *(events[index] for index in order))
    assert person.offers[OFFER].status is OfferStatus.DECLINED


def test_another_pitch_s_answer_stands_again_too() -> None:
    """Accepted on the call, declined at the counter on another visit, the call corrected to ``presented``."""
    accepted, presented_again = published_answers("accepted", "presented")
    counter = elsewhere("BRANCH", "DECLINED", accepted, 5, "t1")
    person = customer()
    versions(person, accepted, counter, presented_again)
    state = person.offers[OFFER]
    assert state.status is OfferStatus.DECLINED and state.answered_channel == "BRANCH"
    assert state.first_answered_us == us(at(accepted, 5))  # the decline is the first final answer left


def test_a_later_different_pitch_no_longer_keeps_an_answer_taken_back() -> None:
    """Accepted on the call, pitched again at the counter without an answer, the call corrected to ``declined``: the
    call's newest answer is the customer's only one (before, the acceptance stayed once another pitch followed)."""
    accepted, declined = published_answers("accepted", "declined")
    person = customer()
    versions(person, accepted, elsewhere("BRANCH", None, accepted, 5, "t1"), declined)
    assert person.offers[OFFER].status is OfferStatus.DECLINED


def test_the_answers_survive_a_round_trip_and_a_merge() -> None:
    accepted, not_now = published_answers("accepted", "not_now")
    left, right = customer("cus_1"), customer("cus_2")
    versions(left, accepted)
    versions(right, elsewhere("WEB", "DECLINED", accepted, 5))
    for merged in (customer_state.merge(left, right), customer_state.merge(right, left)):
        person = CustomerState.from_dict(merged.to_dict())
        assert {answer.status for answer in person.offers[OFFER].answers} == {OfferStatus.ACCEPTED,
                                                                              OfferStatus.DECLINED}
        versions(person, not_now)
        assert person.offers[OFFER].status is OfferStatus.DECLINED


def test_a_state_kept_before_the_answers_were_loads_and_takes_back_as_before() -> None:
    """An offer state without ``answers``: its standing answer is its only known one (a pitch's is taken back to
    presented, as before this release; one given elsewhere stays)."""
    accepted, presented_again = published_answers("accepted", "presented")
    for first, status in ((accepted, OfferStatus.PRESENTED), (elsewhere("WEB", "DECLINED", accepted, -5),
                                                              OfferStatus.DECLINED)):
        person = customer()
        versions(person, first)
        raw = person.to_dict()
        del raw["offers"][OFFER]["answers"]
        old = CustomerState.from_dict(raw)
        assert old.offers[OFFER].answers == ()
        if first is not accepted:
            versions(old, accepted)
        versions(old, presented_again)
        assert old.offers[OFFER].status is status


def test_two_states_kept_before_the_answers_were_keep_both_standing_answers_through_a_merge() -> None:
    """Two customers merged, each with a standing answer given on the web before this release: both are kept (not
    one source, "unknown"), so a pitch that takes its own answer back leaves the acceptance standing."""
    accepted, presented_again = published_answers("accepted", "presented")
    left, right = customer("cus_1"), customer("cus_2")
    versions(left, elsewhere("WEB", "ACCEPTED", accepted, -10, "w1"))
    versions(right, elsewhere("WEB", "DECLINED", accepted, -5, "w2"))
    raws = [part.to_dict() for part in (left, right)]
    for raw in raws:
        del raw["offers"][OFFER]["answers"]
    person = customer_state.merge(*(CustomerState.from_dict(raw) for raw in raws))
    assert sorted(answer.status.value for answer in person.offers[OFFER].answers) == ["ACCEPTED", "DECLINED"]
    versions(person, accepted, presented_again)
    assert person.offers[OFFER].status is OfferStatus.ACCEPTED and person.offers[OFFER].answered_channel == "WEB"


def test_past_the_answers_kept_the_oldest_leave_but_never_the_one_that_stands() -> None:
    accepted = published_answers("accepted")[0]
    person = customer()
    versions(person, elsewhere("WEB", "ACCEPTED", accepted, -1, "w0"))
    for n in range(customer_state.ANSWERS_KEPT + 5):
        versions(person, elsewhere("WEB", "NOT_NOW", accepted, n, f"nn{n}"))
    answers = person.offers[OFFER].answers
    assert len(answers) == customer_state.ANSWERS_KEPT and answers[0].status is OfferStatus.ACCEPTED
    assert person.offers[OFFER].status is OfferStatus.ACCEPTED


@pytest.mark.parametrize("order", list(itertools.permutations(range(4))), ids=str)
def test_any_order_of_four_sources_and_versions_leaves_the_answer_that_stands(order: tuple[int, ...]) -> None:
    """A call's pitch accepted then corrected to ``presented``, a web decline, a counter pitch's not-now: the decline
    stands (a final answer over a not-now; the acceptance was taken back), whatever order they are read in."""
    accepted, presented_again = published_answers("accepted", "presented")
    events = [accepted, elsewhere("WEB", "DECLINED", accepted, 5, "w1"),
              elsewhere("BRANCH", "NOT_NOW", accepted, 7, "t1"), presented_again]
    person = customer()
    versions(person, *(events[index] for index in order))
    state = person.offers[OFFER]
    assert (state.status, state.answered_channel) == (OfferStatus.DECLINED, "WEB")
    assert sorted(answer.status.value for answer in state.answers) == ["DECLINED", "NOT_NOW"]
