"""What counts as the presentation of an offer: one way of counting for the KPIs and the offer processor.

A presentation is an ``OfferPresented`` on any channel: the web hall's ``Offer Viewed``, a representative's
``presented``, an SMS gateway's or e-mail campaign tool's report that it sent a push. At the counter and in the call
center (``ASSISTED_CHANNELS``) the offer reaches the customer through the representative, who records it once per
pitch: ``presented`` when there was no answer yet, else the answer. There an ``OfferResponded`` (``accepted``,
``declined``, ``not_now``, ``opted_out``) is also the presentation behind it (docs/kpis.md, "Offer acceptance" and
"One record per pitch"). A representative who records ``presented`` and then the answer of the same pitch made two
records: two presentations, for the take rate and the contact caps alike. On the other channels an answer follows a
presentation reported on its own and is none: the web's ``Offer Accepted`` after its ``Offer Viewed``, an SMS's YES
reply after the gateway's report. Each event counts once, by its ``envelope.event_id`` (a re-sent answer is one).

A representative's record may come again in a later version (``pitch_of``): Amazon Connect re-sends a contact's CTR
when it changes (after-contact work: the agent's answer added or corrected), a counter uploads a corrected
transaction. A version whose answer is unchanged is the same event (its id derives from the pitch and the answer) and
is dropped as a copy; a changed answer is an event of its own that *revises the pitch*: counted once as a
presentation, its answer applied, and of two versions the newer (``pitch_order``) stands, whatever order they are
read in.

What a record answers is ``answer_of``: an ``OfferResponded``'s ``response`` (``ACCEPTED``, ``DECLINED``, ``NOT_NOW``,
``OPTED_OUT``; a symbol the reader does not know, ``UNKNOWN``, is none), and of a pitch the newer version's: the KPIs
count it in the take rate (accepted, declined), the offer processor keeps it as that pitch's answer and lets the
answer of any source that stands decide the offer (processors/offers/README.md, "Answers from every channel").

The KPIs (``processors.kpis.rules``: ``offers_presented``, ``offers_accepted``, ``offers_declined``) and the offer
processor (``processors.offers.answers``:
the ledger its contact caps and reservations count, ``omnibus_offers_presented_total``, the answers it applies) import
this one declaration: neither imports the other.
"""

from __future__ import annotations

from bus.contact_versions import VersionOrder, version_order
from bus.serde import Event
from schemas.enums import OFFER_RESPONSES

OFFER_PRESENTED = "omnibus.marketing.OfferPresented"
OFFER_RESPONDED = "omnibus.marketing.OfferResponded"
# Where a representative pitches an offer the processor pushed (a SHOW instruction on the clerk's or agent's
# screen) and records the customer's answer: each recorded answer is its own presentation
ASSISTED_CHANNELS = frozenset({"BRANCH", "CALL_CENTER"})
PITCH_SEPARATOR = "|"  # between the parts of a pitch (``pitch_of``); in no event id


def offer_channel(event: Event) -> str:
    """The channel an offer event (``OfferPresented``, ``OfferResponded``) was recorded on: its ``channel`` field,
    else its envelope's."""
    return str(event.value.get("channel") or event.value["envelope"]["channel"])


def presented_on(event: Event) -> str | None:
    """The channel on which ``event`` is a presentation of its offer (module docstring), or None: an answer on a
    channel whose presentations are reported on their own (``WEB``, ``SMS``, ``EMAIL``), or no offer event."""
    if event.schema == OFFER_PRESENTED:
        return offer_channel(event)
    if event.schema == OFFER_RESPONDED and (channel := offer_channel(event)) in ASSISTED_CHANNELS:
        return channel
    return None


def pitch_of(event: Event) -> str | None:
    """The pitch a representative's offer event reports, the same in every version of its record:
    ``<channel>|<source system>|<presentation_id>`` (a call's ``call:<system>:<contact id>``, a counter transaction's
    ``counter:<terminal>:<transaction id>``); None for an event that is no presentation on an assisted channel or
    names no presentation. Two events of one pitch are two versions of one presentation, not two presentations."""
    channel = presented_on(event)
    presentation = event.value.get("presentation_id")
    if channel not in ASSISTED_CHANNELS or not presentation:
        return None
    return PITCH_SEPARATOR.join((str(channel), str(event.value["envelope"]["source_system"]), str(presentation)))


def pitch_order(event: Event) -> VersionOrder:
    """``(source version, occurred, received)`` in epoch us: the order of a pitch's versions, the KPIs' and the offer
    processor's alike (``bus.contact_versions.version_order``): a CTR's versions share their occurred time, so of two
    versions received by two adapter replicas the later ``LastUpdateTimestamp`` is the newer whichever was read
    last; a corrected counter transaction states its own time."""
    return version_order(event)


def answer_of(event: Event) -> str | None:
    """The customer's answer ``event`` records, one of ``schemas.enums.OFFER_RESPONSES`` (``ACCEPTED``, ``DECLINED``,
    ``NOT_NOW``, ``OPTED_OUT``): an ``OfferResponded``'s ``response``; None for an ``OfferPresented``, any other
    event, or an answer the reader does not know (``UNKNOWN``)."""
    if event.schema != OFFER_RESPONDED:
        return None
    answer = str(event.value.get("response"))
    return answer if answer in OFFER_RESPONSES else None
