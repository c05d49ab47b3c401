from processors.offers.machine import expire, pitchable, present, respond, revise
from processors.offers.state import OfferStatus

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
