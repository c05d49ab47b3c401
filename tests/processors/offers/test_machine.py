import pytest

from processors.offers.machine import expire, pitchable, present, respond, revise
from processors.offers.state import OfferState, OfferStatus, _merge_offer

DAY_US = 86_400 * 1_000_000


def test_presented_then_accepted_is_final() -> None:
    shown = present(None, 2, 2, "WEB", 100, ("EMAIL:a@x.org",))
    assert (shown.state.status, shown.state.presentations, shown.drift) == (OfferStatus.PRESENTED, 1, False)
    accepted = respond(shown.state, 2, "ACCEPTED", "WEB", 200, ("EMAIL:a@x.org",), DAY_US)
    assert (accepted.status, accepted.answered_channel, accepted.answered_us) == (OfferStatus.ACCEPTED, "WEB", 200)
    assert respond(accepted, 2, "DECLINED", "CALL_CENTER", 300, (), DAY_US).status is OfferStatus.ACCEPTED
    late = present(accepted, 2, 2, "BRANCH", 400, ())
    assert late.after_answer and late.state.status is OfferStatus.ACCEPTED
    assert not pitchable(accepted, 500)


def test_old_version_presentation_is_drift() -> None:
    shown = present(None, 3, 2, "BRANCH", 100, ())
    assert shown.drift and shown.state.version == 3


def test_not_now_snoozes_then_allows_again() -> None:
    snoozed = respond(None, 1, "NOT_NOW", "CALL_CENTER", 0, (), DAY_US)
    assert snoozed.status is OfferStatus.NOT_NOW
    assert not pitchable(snoozed, DAY_US - 1) and pitchable(snoozed, DAY_US + 1)
    assert respond(snoozed, 1, "ACCEPTED", "WEB", 5, (), DAY_US).status is OfferStatus.ACCEPTED


def test_declined_and_opted_out_stop_every_channel() -> None:
    for answer in ("DECLINED", "OPTED_OUT"):
        assert not pitchable(respond(None, 1, answer, "WEB", 0, (), DAY_US), 10**15)


def test_unknown_answer_changes_nothing() -> None:
    shown = present(None, 1, 1, "WEB", 0, ()).state
    assert respond(shown, 1, "UNKNOWN", "WEB", 1, (), DAY_US).status is OfferStatus.PRESENTED


def test_expiry_keeps_answers_and_a_revision_revives() -> None:
    shown = present(None, 1, 1, "WEB", 0, ()).state
    expired = expire(shown, 10)
    assert expired.status is OfferStatus.EXPIRED and not pitchable(expired, 11)
    assert revise(expired, 2, 20).status is OfferStatus.ELIGIBLE
    accepted = respond(shown, 1, "ACCEPTED", "WEB", 5, (), DAY_US)
    assert expire(accepted, 10) is accepted and revise(accepted, 2, 20) is accepted


def _answers(*answers: tuple[str, str, int]) -> OfferState:
    state = None
    for response, channel, at_us in answers:
        state = respond(state, 1, response, channel, at_us, (), DAY_US)
    assert state is not None
    return state


@pytest.mark.parametrize("first, second, stands", [
    (("DECLINED", "BRANCH", 100), ("ACCEPTED", "CALL_CENTER", 200), OfferStatus.ACCEPTED),
    (("ACCEPTED", "WEB", 100), ("DECLINED", "CALL_CENTER", 200), OfferStatus.ACCEPTED),
    (("DECLINED", "BRANCH", 100), ("OPTED_OUT", "SMS", 200), OfferStatus.OPTED_OUT),
    (("OPTED_OUT", "SMS", 100), ("ACCEPTED", "WEB", 200), OfferStatus.ACCEPTED),
    (("DECLINED", "BRANCH", 100), ("NOT_NOW", "CALL_CENTER", 200), OfferStatus.DECLINED),
])
def test_of_two_answers_the_same_one_stands_in_either_order(first: tuple[str, str, int],
                                                             second: tuple[str, str, int],
                                                             stands: OfferStatus) -> None:
    """Declined at the counter, accepted on the next call: the offer state kept DECLINED (the first answer was
    final) while the KPIs counted the sale; read in the other order it was ACCEPTED."""
    in_order, reversed_order = _answers(first, second), _answers(second, first)
    assert in_order.status is reversed_order.status is stands
    assert (in_order.answered_channel, in_order.answered_us) == (
        reversed_order.answered_channel, reversed_order.answered_us)


def test_two_answers_of_one_kind_keep_the_earlier() -> None:
    for state in (_answers(("DECLINED", "WEB", 100), ("DECLINED", "BRANCH", 200)),
                  _answers(("DECLINED", "BRANCH", 200), ("DECLINED", "WEB", 100))):
        assert (state.answered_channel, state.answered_us) == ("WEB", 100)


def test_a_merge_keeps_the_answer_one_customer_giving_both_would_keep() -> None:
    declined = _answers(("DECLINED", "BRANCH", 100))
    accepted = _answers(("ACCEPTED", "CALL_CENTER", 200))
    for left, right in ((declined, accepted), (accepted, declined)):
        merged = _merge_offer(left, right)
        assert (merged.status, merged.answered_channel) == (OfferStatus.ACCEPTED, "CALL_CENTER")


def test_of_two_not_nows_the_later_given_stands_in_either_order() -> None:
    early = (1, "NOT_NOW", "CALL_CENTER", 100, (), DAY_US)
    late = (1, "NOT_NOW", "BRANCH", 300, (), DAY_US)
    for first, second in ((early, late), (late, early)):
        state = respond(respond(None, *first), *second)
        assert (state.answered_us, state.snoozed_until_us, state.answered_channel) == (300, 300 + DAY_US, "BRANCH")
    # a presentation does not end a snooze, nor does a merge with a later presentation
    snoozed = respond(None, *early)
    shown = present(None, 1, 1, "WEB", 200, ()).state
    assert _merge_offer(snoozed, shown).status is OfferStatus.NOT_NOW is _merge_offer(shown, snoozed).status
