"""The push channels: after every change to a customer, SHOW what fits and WITHDRAW what does not.

``sync`` brings every push channel in line with the customer's state: SHOW what fits now and is not shown yet
(unless a cap forbids it: counted), WITHDRAW what is shown but no longer fits (an answer on any channel, expiry,
withdrawal, facts that changed). ``push`` publishes one instruction and records it on the customer's ``pushed``
channels (and, for an outbound gateway, the placement of its report and the reservation of its room under a cap).
``merged_away`` withdraws a merged customer's SHOWs on the customer-present push channels under its id.
All work for an ``OfferEngine`` (``engine.py``): its settings, emitter, clock and catalogue.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

from processors.offers import answers, machine, reservations
from processors.offers.caps import US, not_before, suppression
from processors.offers.definition import OUTBOUND, Offer
from processors.offers.outputs import Batch, Instruction, missing_address
from processors.offers.ranking import fits, zone_of
from processors.offers.state import CUSTOMER_ANSWERS, CustomerState, OfferState, OfferStatus
from processors.offers.store import Stores

if TYPE_CHECKING:
    from processors.offers.engine import OfferEngine


@dataclass(frozen=True, slots=True)
class Adopted:
    """What a merge left shown from the merged customer (``merged_away``): ``pairs``, (offer id, channel) the
    survivor did not hold shown itself, on every push channel (outbound ones too); ``settled``, those of them its own
    WITHDRAW, later than the merged customer's SHOW or at its instant, already outranks under its id (unless the
    reason it gave is to be restated, ``restated``)."""

    pairs: frozenset[tuple[str, str]] = frozenset()
    settled: frozenset[tuple[str, str]] = frozenset()


NONE_ADOPTED = Adopted()


def sync(engine: OfferEngine, stores: Stores, state: CustomerState, batch: Batch, *, cause_id: str,
         started_us: int | None = None, refresh: str | None = None, adopted: Adopted = NONE_ADOPTED) -> None:
    """SHOW / WITHDRAW on every push channel so it holds exactly what fits the customer now.

    ``refresh``: an offer id SHOWn again where shown (a new version); ``adopted``: what a merge left shown from the
    merged customer (``merged_away``): SHOWn again under this customer's id if it fits within the caps, else
    WITHDRAWn under it like any other, unless this customer's own WITHDRAW already outranks it (``Adopted.settled``).

    Nothing is pushed for a customer no identifier locates yet (a contact re-keyed on customer.contacts can
    come before identity's announcement on customer.events): an instruction names the customer by an
    identifier, and one naming none reaches nobody's screen pop. ``identity_events.members`` syncs again when it
    comes."""
    if not state.identifiers:
        return
    settings = engine.settings
    # offers pushed somewhere, the higher priority (then the offer id) first: it gets the room a cap leaves
    live = sorted((o for o in engine.live_offers(stores) if set(settings.push_channels) & set(o.channels)),
                  key=lambda o: (-o.priority, o.offer_id))
    now, zone = engine.clock(), zone_of(state, settings.zone)
    fitting = {offer.offer_id for offer in live if fits(state, offer, now)}  # one rule evaluation per offer
    by_id = {offer.offer_id: offer for offer in live}
    # outbound SHOWs a presentation (or a merge) left over a cap first, so what remains counts for new SHOWs
    for row, why in reservations.over_caps(state, by_id, fitting, now, zone, settings.policy):
        push(engine, state, Instruction("WITHDRAW", row[1], row[4], tuple(state.identifiers), by_id[row[2]],
                                        reason=why, cause_id=cause_id), batch)
    for offer in live:  # a push channel before another in PUSH_CHANNELS' order gets the room a cap leaves
        channels = [c.value for c in settings.push_channels if c in offer.channels]
        fit = offer.offer_id in fitting
        for channel in channels:
            current = state.offers.get(offer.offer_id)
            shown = current is not None and channel in current.pushed
            if fit:
                reason = suppression(state, offer, channel, now, zone, settings.policy, quiet_hours=False)
                if shown and channel not in OUTBOUND and reason is not None and reason.capped:
                    # a customer-present push (an agent's, a clerk's screen) filled past a cap: the same rule as
                    # the pull query; SHOWn again like any SHOW a cap holds back (outbound: reservations above)
                    if (offer.offer_id, channel) in adopted.settled and not restated(current, channel,
                                                                                     reservations.CAPPED):
                        _settle(state, offer.offer_id, channel)
                        continue
                    push(engine, state, Instruction("WITHDRAW", channel, state.customer_id, tuple(state.identifiers),
                                                    offer, reason=reservations.CAPPED, cause_id=cause_id), batch)
                    continue
                if shown and refresh != offer.offer_id and (offer.offer_id, channel) not in adopted.pairs:
                    continue
                if reason is None:  # an SMS for a customer without a mobile: nowhere to send
                    reason = missing_address(channel, tuple(state.identifiers))
                if reason is not None and not shown:
                    batch.count("suppressed", reason.value, channel)
                    # an answer taken back or a snooze ended, or a merged customer's outbound SHOW now capped
                    if reason.capped and (restated(current, channel, reservations.CAPPED)
                                          or _unsettled(adopted, offer.offer_id, channel)):
                        push(engine, state, Instruction("WITHDRAW", channel, state.customer_id,
                                                        tuple(state.identifiers), offer, reason=reservations.CAPPED,
                                                        cause_id=cause_id), batch)
                    continue
                push(engine, state, Instruction("SHOW", channel, state.customer_id, tuple(state.identifiers), offer,
                                                not_before=not_before(offer, now, zone, settings.policy),
                                                cause_id=cause_id), batch, stores)
            elif shown or (offer.offer_id, channel) in adopted.pairs or restated(
                    current, channel, withdrawn_why(current, offer, now)):
                why = withdrawn_why(current, offer, now)
                if (offer.offer_id, channel) in adopted.settled and not restated(current, channel, why):
                    if shown:  # the survivor's own WITHDRAW, as late as the merged SHOW, says why already
                        _settle(state, offer.offer_id, channel)
                    continue
                answered = current.answered_channel if current and current.status.answered else None
                push(engine, state, Instruction("WITHDRAW", channel, state.customer_id, tuple(state.identifiers),
                                                offer, reason=why, answered_channel=answered, cause_id=cause_id,
                                                started_us=started_us), batch)


def withdrawn_why(current: OfferState | None, offer: Offer, now: datetime) -> str:
    """The ``reason`` of a WITHDRAW of an offer that no longer fits the customer: the answer (``ACCEPTED``,
    ``DECLINED``, ``OPTED_OUT``, ``NOT_NOW``), else ``EXPIRED`` or ``NOT_ELIGIBLE``."""
    status = current.status if current else None
    if status is not None and (status.answered or status is OfferStatus.NOT_NOW):
        return status.value
    return "EXPIRED" if not offer.valid_at(now) else "NOT_ELIGIBLE"


def restated(current: OfferState | None, channel: str, why: str) -> bool:
    """Whether ``channel``, whose latest instruction under the customer's id withdrew the offer, is to hear ``why``
    instead: when either names one of the customer's answers (``state.CUSTOMER_ANSWERS``: accepted, opted out,
    declined, not now) and they differ. An answer given after a WITHDRAW ``CAPPED`` or ``NOT_ELIGIBLE`` outranks it
    (snoozed on the counter after the call had capped the offer: ``NOT_NOW``), a final answer outranks a not-now, and
    an answer that no longer holds (taken back, ``sources.take_back``; a snooze ended) gives way to the reason that
    holds now; so the last word on every push channel says why the offer is not shown (docs/subscribers.md), whatever
    order the events came in and across a merge, and is said once. Nothing for a channel never instructed, one whose
    latest instruction is a SHOW, or one kept before what it said was (not known)."""
    said = current.instructed_reason(channel) if current else None
    if not said or said == "SHOW" or said == why:
        return False
    return said in CUSTOMER_ANSWERS or why in CUSTOMER_ANSWERS


def _unsettled(adopted: Adopted, offer_id: str, channel: str) -> bool:
    """A merged customer's SHOW of ``offer_id`` on ``channel`` that no WITHDRAW of the survivor outranks yet."""
    return (offer_id, channel) in adopted.pairs and (offer_id, channel) not in adopted.settled


def push(engine: OfferEngine, state: CustomerState, item: Instruction, batch: Batch,
         stores: Stores | None = None) -> None:
    """Publishes ``item`` and records it on the customer's ``pushed`` channels. A SHOW to an outbound gateway
    (SMS, EMAIL) is also a contact the gateway's report is placed by: ``PLACED:<instruction event id>`` -> this
    customer in ``stores.directory`` (``answers.place``), so the OfferPresented / OfferResponded the gateway
    publishes with that ``correlation_id`` counts for this customer, whoever else shares the phone or e-mail."""
    now_us, offer_id = int(engine.clock().timestamp() * US), item.offer.offer_id
    current = state.offers.get(offer_id) or machine.eligible(item.offer.version, now_us)
    reservations.release(state, offer_id, item.channel, item.customer_id)  # a new SHOW reserves anew below
    stays = item.action == "SHOW" or reservations.held(state, offer_id, item.channel)  # a merged one's WITHDRAW
    pushed = [c for c in current.pushed if c != item.channel] + ([item.channel] if stays else [])
    instructed = current.instructed
    if item.customer_id == state.customer_id:  # not a merged customer's reservation withdrawn here
        said = item.action if item.action == "SHOW" else item.reason or ""
        instructed = (*(entry for entry in instructed if entry[0] != item.channel), (item.channel, now_us, said))
    state.offers[offer_id] = replace(current, pushed=tuple(pushed), instructed=instructed)
    outgoing = engine.emitter.instruction(item)
    batch.outgoing.append(outgoing)
    batch.instructions.append(item)
    batch.count("instruction", item.channel, item.action)
    if stores is not None and item.action == "SHOW" and item.channel in OUTBOUND:
        answers.place_push(stores, outgoing.event, state.customer_id)
        reservations.reserve(state, item.offer, item.channel, str(outgoing.event.value["envelope"]["event_id"]),
                             now_us)


def merged_away(engine: OfferEngine, stores: Stores, merged: CustomerState, survivor: CustomerState, batch: Batch,
                cause_id: str) -> Adopted:
    """A merge: WITHDRAW, reason ``MERGED`` and keyed by the merged customer's id, its SHOWs on the customer-present
    push channels (call center, counters: a subscriber keeping SHOWs per key drops them) and its outbound ones the
    gateway already reported sent (SMS, EMAIL: the key's last word there, as an answer's WITHDRAW after the send is;
    it unsends nothing); its outbound ones still reserved are withdrawn by their reservations
    (``reservations.over_caps``). Returns the (offer id, channel) pairs the survivor
    did not hold itself, for ``sync(adopted=...)`` once merged: they stand under the survivor's id (SHOWn there)
    within the caps, else are withdrawn there, which is what the screen pop (merges followed, the later instruction
    of each offer standing) listens to; ``settled`` among them, those the survivor withdrew itself after the merged
    customer's SHOW, or at the same instant: a WITHDRAW already outranks that SHOW there, none is sent again. A
    state kept before the instants were (``OfferState.instructed``) cannot tell: the WITHDRAW is sent. The pairs and
    ``settled`` name the outbound channels (SMS, EMAIL) too, by the same rule: their SHOWs are withdrawn ``MERGED``
    (here once sent, else by their reservations) and the survivor's WITHDRAW follows as on the call center."""
    by_id = {offer.offer_id: offer for offer in engine.live_offers(stores)}
    adopted: set[tuple[str, str]] = set()
    settled: set[tuple[str, str]] = set()
    offers = dict(merged.offers)  # the merge still folds them in shown: the survivor's sync decides each
    for offer_id, current in sorted(offers.items()):
        if offer_id not in by_id:
            continue
        mine = survivor.offers.get(offer_id)
        for channel in current.pushed:  # outbound ones still reserved: by their reservations (``over_caps``)
            if channel not in OUTBOUND or not reservations.held(merged, offer_id, channel):
                push(engine, merged, Instruction("WITHDRAW", channel, merged.customer_id, tuple(merged.identifiers),
                                                 by_id[offer_id], reason=reservations.MERGED, cause_id=cause_id),
                     batch)
            if mine is None or channel not in mine.pushed:
                adopted.add((offer_id, channel))
                shown_us, withdrawn_us = current.instructed_us(channel), mine.instructed_us(channel) if mine else None
                # at one instant too: the screen pop's merge keeps the survivor's side of a tie
                # (``EligibleOffersSection.merge``), and the survivor's key holds its WITHDRAW already
                if shown_us is not None and withdrawn_us is not None and withdrawn_us >= shown_us:
                    settled.add((offer_id, channel))
    merged.offers = offers
    return Adopted(frozenset(adopted), frozenset(settled))


def _settle(state: CustomerState, offer_id: str, channel: str) -> None:
    """A merged customer's SHOW the survivor's own later WITHDRAW outranks: no longer held, nothing sent."""
    current = state.offers[offer_id]
    state.offers[offer_id] = replace(current, pushed=tuple(c for c in current.pushed if c != channel))
