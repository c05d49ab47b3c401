"""The offer state machine of one customer and one offer, pure.

eligible -> presented (channel, instant, version) -> accepted | declined | opted out (answers: the offer
is withdrawn everywhere and never pitched again) | not now (snoozed, pitched again after the snooze)
| expired (the offer's validity ended or it was withdrawn). A presentation of an older version than the
current one is accepted but reported as version drift. An answer is final for pitching: a later presentation
(a channel that had not heard yet) does not change it, and one made after the first final answer in event time is
reported (``after_answer``; ``answers`` counts those read before the answer when it arrives). Of two final
answers the one ``state.answer_order`` puts first stands, whatever order they are read in: an acceptance over an
opt-out over a decline, then the earlier (declined at the counter, accepted on the next call: accepted, as the
KPIs count the sale).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from processors.offers.state import OfferState, OfferStatus, answer_order, first_answer_us
from schemas.enums import OFFER_RESPONSES

# an answer (``bus.offer_presentations.answer_of``) -> the state it leaves the offer in
RESPONSES = {answer: OfferStatus(answer) for answer in OFFER_RESPONSES}


@dataclass(frozen=True, slots=True)
class Presented:
    state: OfferState
    drift: bool  # the channel showed an out-of-date version
    after_answer: bool  # the customer had already answered: a channel pitched what it should not


def eligible(version: int, now_us: int) -> OfferState:
    return OfferState(status=OfferStatus.ELIGIBLE, version=version, updated_us=now_us)


def present(state: OfferState | None, current_version: int, shown_version: int, channel: str, at_us: int,
            via: tuple[str, ...]) -> Presented:
    base = state or eligible(current_version, at_us)
    drift = shown_version < current_version
    first = first_answer_us(base)
    after_answer = first is not None and at_us > first  # by event time, not by arrival
    status = base.status if base.status.answered or base.status is OfferStatus.NOT_NOW else OfferStatus.PRESENTED
    if base.status is OfferStatus.EXPIRED:
        status = OfferStatus.EXPIRED
    new = replace(base, status=status, version=max(base.version, current_version),
                  updated_us=max(base.updated_us, at_us), presentations=base.presentations + 1,
                  last_channel=channel, last_presented_us=max(base.last_presented_us or 0, at_us),
                  via=tuple(dict.fromkeys([*base.via, *via])))
    return Presented(new, drift, after_answer)


def respond(state: OfferState | None, current_version: int, response: str, channel: str, at_us: int,
            via: tuple[str, ...], snooze_us: int) -> OfferState:
    """The state after an answer; ``UNKNOWN``, a ``NOT_NOW`` after a final answer, or a final answer that
    ``answered_over`` the recorded one does not stand over changes nothing but ``via`` (and, for a final answer, the
    instant of the first one, ``first_answered_us``)."""
    base = state or eligible(current_version, at_us)
    merged_via = tuple(dict.fromkeys([*base.via, *via]))
    status = RESPONSES.get(response)
    first = first_answer_us(base)
    if status is not None and status.answered:
        first = at_us if first is None else min(first, at_us)
    if status is None or not answered_over(base, status, at_us, channel):
        return replace(base, via=merged_via, first_answered_us=first)
    return replace(base, status=status, updated_us=max(base.updated_us, at_us), answered_channel=channel,
                   answered_us=at_us, via=merged_via, first_answered_us=first,
                   snoozed_until_us=at_us + snooze_us if status is OfferStatus.NOT_NOW else None)


def answered_over(state: OfferState, status: OfferStatus, at_us: int, channel: str) -> bool:
    """Whether an answer ``status`` given at ``at_us`` (event time, us) on ``channel`` replaces ``state``'s: over no
    answer always; over a "not now" unless it is a "not now" given earlier (the later one's snooze stands, in any
    order of arrival); over a final one only if it is final too and ``answer_order`` puts it first."""
    if state.status is OfferStatus.NOT_NOW and status is OfferStatus.NOT_NOW:
        return at_us > (state.answered_us or 0)
    if not state.status.answered:
        return True
    return status.answered and answer_order(status, at_us, channel) < answer_order(
        state.status, state.answered_us, state.answered_channel)


def expire(state: OfferState, at_us: int) -> OfferState:
    """The offer ended (validity or withdrawal); an answer is kept as it is."""
    if state.status.answered or state.status is OfferStatus.EXPIRED:
        return state
    return replace(state, status=OfferStatus.EXPIRED, updated_us=at_us, pushed=())


def revise(state: OfferState, new_version: int, at_us: int) -> OfferState:
    """A new version replaced the offer: unanswered states follow it (an expired one comes back)."""
    if state.status.answered or new_version <= state.version:
        return state
    status = OfferStatus.ELIGIBLE if state.status is OfferStatus.EXPIRED else state.status
    return replace(state, version=new_version, status=status, updated_us=max(state.updated_us, at_us))


def snoozed(state: OfferState | None, now_us: int) -> bool:
    """The customer said "not now" and the snooze (the policy's ``not_now_days``) is not over at ``now_us``."""
    return state is not None and state.status is OfferStatus.NOT_NOW and (state.snoozed_until_us or 0) > now_us


def pitchable(state: OfferState | None, now_us: int) -> bool:
    """May a channel pitch it now (as far as the customer's own answers go)?"""
    if state is None:
        return True
    if state.status.answered or state.status is OfferStatus.EXPIRED:
        return False
    return not snoozed(state, now_us)
