"""Every source's answer to one offer, and the one that stands (pure).

A *source* is what gives the customer's answer and may correct it: a representative's pitch
(``bus.offer_presentations.pitch_of``; its newest version's answer, ``pitches.py``) or an answer given on its own (a
web, SMS or e-mail answer: its event id, never corrected). ``OfferState.answers`` keeps one ``SourceAnswer`` per
source, at most ``state.ANSWERS_KEPT`` (the oldest by event time leave first, never the one that stands). The answer
that stands (``state.standing_answer``) is the one ``machine.answered_over`` puts first among them, whatever order
they were read in: a final answer over a "not now", an acceptance over an opt-out over a decline, then the earlier; of
two "not now"s the later. So when a pitch's newer version takes its answer back (``take_back``), the answer another
source gave and the pitch's had outranked stands again: accepted on the call, declined on the web, the call
corrected to ``not_now`` is a decline.

A state kept before ``answers`` was knows only its standing answer (``state.known_answers``): that is the one taken
back when it was the pitch's, as before.
"""

from __future__ import annotations

from dataclasses import replace

from processors.offers.state import OfferState, OfferStatus, SourceAnswer, newest_answers
from processors.offers.state import known_answers as known
from processors.offers.state import standing_answer as standing


def with_answer(offer: OfferState | None, answer: SourceAnswer) -> tuple[SourceAnswer, ...]:
    """The answers of ``offer`` (as it was before ``answer`` was applied; None: a new one) with ``answer`` as its
    source's (an older version of that source's changes nothing)."""
    return newest_answers(*(known(offer) if offer is not None else ()), answer)


def gave(offer: OfferState, source: str) -> bool:
    """Whether ``source`` gave one of the answers ``offer`` knows."""
    return any(answer.source == source for answer in known(offer))


def take_back(offer: OfferState, source: str, snooze_us: int) -> OfferState:
    """``source``'s answer leaves ``offer`` (a newer version of the pitch is applied next): the answer that stands
    among the others stands (a "not now" snoozed ``snooze_us`` from when it was given), else none (presented; an
    expired offer stays expired). The first final answer (``first_answered_us``) is the earliest left when it was
    the one taken back."""
    answers = known(offer)
    removed = next((answer for answer in answers if answer.source == source), None)
    rest = tuple(answer for answer in answers if answer.source != source)
    first = offer.first_answered_us
    if removed is not None and removed.status.answered and first in (None, removed.at_us):
        first = min((answer.at_us for answer in rest if answer.status.answered), default=None)
    top = standing(rest)
    expired = offer.status is OfferStatus.EXPIRED
    if top is None or (expired and not top.status.answered):
        return replace(offer, status=OfferStatus.EXPIRED if expired else OfferStatus.PRESENTED, answered_channel=None,
                       answered_us=None, snoozed_until_us=None, answered_pitch=None, first_answered_us=first,
                       answers=rest)
    snooze = top.at_us + snooze_us if top.status is OfferStatus.NOT_NOW else None
    pitch = top.source if top.pitch else None
    return replace(offer, status=top.status, answered_channel=top.channel or None, answered_us=top.at_us,
                   snoozed_until_us=snooze, answered_pitch=pitch, first_answered_us=first, answers=rest)
