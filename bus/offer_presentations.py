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

The KPIs (``processors.kpis.rules``: ``offers_presented``) and the offer processor (``processors.offers.answers``:
the ledger its contact caps and reservations count, ``omnibus_offers_presented_total``) import this one
declaration: neither imports the other.
"""

from __future__ import annotations

from bus.serde import Event

OFFER_PRESENTED = "omnibus.marketing.OfferPresented"
OFFER_RESPONDED = "omnibus.marketing.OfferResponded"
# Where a representative pitches an offer the processor pushed (a SHOW instruction on the clerk's or agent's
# screen) and records the customer's answer: each recorded answer is its own presentation
ASSISTED_CHANNELS = frozenset({"BRANCH", "CALL_CENTER"})


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
