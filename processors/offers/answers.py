"""An offer presentation or answer: where it counts and what it records on the customer (pure).

Where: on the customer identity placed the contact it was recorded with (``intake.placement_key``).
``place`` keeps that placement in the directory as identity's copy of the contact arrives on
``customer.contacts.v1``; an event whose placement or identifiers are not known yet waits in ``pending`` (``park``)
until the engine releases it. What: ``record`` applies it to the customer's offer state (``machine``) and, for a
presentation, to the ledger the contact caps and the reservations count. A presentation is what the KPIs count as one
(``bus.offer_presentations.presented_on``): an ``OfferPresented``, and an answer a clerk or an agent recorded (the
pitch behind it), each once by its event id. A representative's record may come again in a later version with another
answer (``bus.offer_presentations.pitch_of``: a CTR updated in after-contact work, a corrected counter transaction):
its ledger row is the pitch's, which the newer version revises (one presentation) and whose answer it applies; an
older version read after it changes nothing.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from bus.offer_presentations import (
    OFFER_PRESENTED,
    OFFER_RESPONDED,
    answer_of,
    pitch_of,
    pitch_order,
    presented_on,
)
from bus.serde import Event
from processors.offers import intake, machine, pitches, reservations, sources
from processors.offers.caps import US
from processors.offers.config import OffersSettings
from processors.offers.definition import Offer
from processors.offers.outputs import Batch, Expired
from processors.offers.state import (
    LEDGER_KEPT,
    CustomerState,
    OfferState,
    SourceAnswer,
    first_answer_us,
    pitch_entry_order,
)
from processors.offers.store import Stores, from_json, to_json

PRESENTED, RESPONDED = OFFER_PRESENTED, OFFER_RESPONDED


def snooze_us(settings: OffersSettings) -> int:
    """How long a "not now" snoozes the offer (the policy's ``not_now_days``), us."""
    return int(settings.policy.not_now_days * 86400 * US)


def park(stores: Stores, identifiers: list[str], event: Event, batch: Batch, settings: OffersSettings,
         origin: list[Any] | None = None) -> None:
    """``event`` waits in ``pending`` under each of ``identifiers`` (at most ``pending_per_identifier`` each: the
    oldest of a full list goes to the dead-letter topic through ``batch.expired``), with
    ``origin`` (``[topic, partition, offset, key]`` of its record) for the dead letter if it waits past retention
    (``retention.py``)."""
    parked = {"schema": event.schema, "value": to_json(event.value), "origin": origin}
    for identifier in identifiers:
        waiting = list(stores.pending.get(identifier) or [])
        if len(waiting) >= settings.pending_per_identifier:  # the oldest leaves, never silently (nothing lost)
            oldest = waiting.pop(0)
            batch.count("unresolved_dropped")
            name = oldest["schema"].rpartition(".")[2]
            batch.expired.append(Expired(Event(oldest["schema"], from_json(oldest["value"])), oldest.get("origin"),
                                         f"{name} dropped from a full wait list for identity "
                                         f"({settings.pending_per_identifier} events waited for one identifier)"))
        stores.pending[identifier] = [*waiting, parked]
    batch.count("unresolved_parked")


def place(stores: Stores, event: Event, customer_id: str, moved: bool) -> str | None:
    """Identity placed the contact ``event`` on ``customer_id``: its offer answers and presentations go there
    (``intake.placement_key``). A moved copy (split, operator's move) replaces an original's placement, never the
    reverse; among equals the later ``received_at`` wins (a contact's newer version). Directory value:
    ``[customer id, moved, received_at in us]``, kept for the retention of ``retention.py``. Returns the placement
    key whose waiting events are to be released now; None for a contact that places no offer event, or a copy an
    earlier one outranks."""
    key = intake.placement_key(event, contact=True)
    if key is None:
        return None
    received_us = intake.micros(event.value["envelope"]["received_at"])
    known = stores.directory.get(key)
    if known is not None and (bool(known[1]), int(known[2])) > (moved, received_us):
        return None
    if known != [customer_id, moved, received_us]:
        stores.directory[key] = [customer_id, moved, received_us]
    return key


def place_push(stores: Stores, instruction: Event, customer_id: str) -> None:
    """An outbound SHOW (``OfferInstruction`` to the SMS gateway or the e-mail campaign tool) is the contact its
    gateway's report belongs to: the report's ``envelope.correlation_id`` is the instruction's ``envelope.event_id``
    (processors/offers/README.md, *Outbound pushes*), placed on ``customer_id`` like a contact identity placed
    (``place``), and kept as long (``retention.py``)."""
    envelope = instruction.value["envelope"]
    stores.directory[intake.PLACED + str(envelope["event_id"])] = [
        customer_id, False, intake.micros(envelope["received_at"])]


def record(state: CustomerState, event: Event, offer: Offer | None, settings: OffersSettings,
           batch: Batch) -> int | None:
    """Applies the presentation or answer ``event`` to ``state``; ``offer``: the catalogue's current version, None if
    unknown. An answer recorded at the counter or in the call center is its pitch's presentation first
    (``presented_on``). Returns an answer's ``received_at`` in us (the start of the accept-to-withdraw latency), None
    for a presentation."""
    value = event.value
    current = offer.version if offer else value["offer_version"]
    if offer is None:  # a channel's typo or an offer never loaded: kept as reported, and counted
        batch.count("unknown_offer", "presented" if event.schema == PRESENTED else "response", value["channel"])
    if (channel := presented_on(event)) is not None and not _presented(state, event, current, channel, settings,
                                                                          batch):
        return None  # an older version of a pitch whose newer one is applied
    if event.schema == PRESENTED:
        # a gateway's report: the contact its SHOW reserved is a presentation now (counted once, in the ledger)
        reservations.consume(state, value["offer_id"], value["channel"],
                             str(value["envelope"].get("correlation_id") or ""))
        return None
    return _answered(state, event, current, settings, batch)


def _presented(state: CustomerState, event: Event, current: int, channel: str, settings: OffersSettings,
               batch: Batch) -> bool:
    """The offer was presented on ``channel``: on its state (``machine.present``) and in the ledger the caps count,
    once per event id (a redelivered copy the customer's ``applied`` ids no longer remember adds no row), or for a
    representative's pitch once per pitch (``pitches.known``, ``_revised``). False: an older version of a pitch, not
    applied."""
    value, via, at_us = event.value, intake.identifier_keys(event), intake.occurred_us(event)
    pitch = pitch_of(event)
    if pitch is not None and (entry := pitches.known(state, pitch)) is not None:
        return _revised(state, pitch, entry, event, current, channel, settings, batch)
    row_id = pitch or value["envelope"]["event_id"]
    shown = machine.present(state.offers.get(value["offer_id"]), current, value["offer_version"], channel, at_us, via)
    state.offers[value["offer_id"]] = shown.state
    if not any(row[3] == row_id for row in state.ledger):
        row = [at_us, channel, value["offer_id"], row_id, list(via)]
        state.ledger = sorted([*state.ledger, row + [pitch_order(event)[2]] if pitch else row],
                              key=lambda r: r[0])[-LEDGER_KEPT:]
    if pitch is not None:
        pitches.remember(state, pitch, pitch_order(event), value["offer_id"], int(settings.retention_s * US))
    batch.count("presented", channel)
    if shown.drift:
        batch.count("version_drift", channel)
    if shown.after_answer:
        batch.count("presented_after_answer", channel)
    return True


def _revised(state: CustomerState, pitch: str, entry: list[Any], event: Event, current: int, channel: str,
             settings: OffersSettings, batch: Batch) -> bool:
    """A version of ``pitch``, whose newest version applied is ``entry`` (``pitches.known``):
    a newer one (``pitch_order``) takes the pitch over, not another presentation (its ledger row, if the ledger still
    holds it; an offer it names anew is presented on its state), and the answer the pitch gave is taken back for the
    newer version's (``sources.take_back``: the answer another source gave stands, if one did); an older one,
    read after it, is not applied (False), nor is a copy of the one applied (a redelivery past the ids the customer
    remembers). Counted by outcome, ``revised`` or ``stale``."""
    value, via = event.value, intake.identifier_keys(event)
    order = pitch_order(event)
    _, occurred_us, received_us = order
    applied = pitch_entry_order(entry)
    if order <= applied:
        if order < applied:
            batch.count("pitch_version", channel, "stale")
        return False
    before = state.offers.get(str(entry[2]))
    if before is not None and sources.gave(before, pitch):
        state.offers[str(entry[2])] = sources.take_back(before, pitch, snooze_us(settings))
    if entry[2] != value["offer_id"]:  # the agent corrected which offer was pitched
        shown = machine.present(state.offers.get(value["offer_id"]), current, value["offer_version"], channel,
                                occurred_us, via)
        state.offers[value["offer_id"]] = shown.state
    for row in state.ledger:
        if row[3] == pitch:
            row[:] = [occurred_us, channel, value["offer_id"], pitch, sorted({*row[4], *via}), received_us]
    state.ledger = sorted(state.ledger, key=lambda r: r[0])
    pitches.remember(state, pitch, order, value["offer_id"], int(settings.retention_s * US))
    batch.count("pitch_version", channel, "revised")
    return True


def _answered(state: CustomerState, event: Event, current: int, settings: OffersSettings, batch: Batch) -> int:
    """The answer ``event`` on the offer's state (``machine.respond``); returns its ``received_at`` in us."""
    value, via, at_us = event.value, intake.identifier_keys(event), intake.occurred_us(event)
    channel, previous = value["channel"], state.offers.get(value["offer_id"])
    answer = answer_of(event)
    status = machine.RESPONSES.get(answer) if answer is not None else None
    stands = status is not None and (previous is None or machine.answered_over(previous, status, at_us, channel))
    answered = machine.respond(previous, current, value["response"], channel, at_us, via, snooze_us(settings))
    pitch = pitch_of(event)
    if stands:  # which pitch gave it, if a representative's did (``sources.take_back``)
        answered = replace(answered, answered_pitch=pitch)
    if status is not None:  # every source's answer is kept, standing or not (``sources.py``)
        source = pitch or str(value["envelope"]["event_id"])
        given = SourceAnswer(source, status, at_us, channel, pitch_order(event))
        answered = replace(answered, answers=sources.with_answer(previous, given))
    state.offers[value["offer_id"]] = answered
    batch.count("response", value["response"], channel)
    _after_answer(state, value["offer_id"], previous, answered, batch)
    if previous is not None and status is not None and not stands:
        batch.count("answer_not_applied", value["response"], channel)
    return intake.micros(value["envelope"]["received_at"])


def _after_answer(state: CustomerState, offer_id: str, previous: OfferState | None, answered: OfferState,
                  batch: Batch) -> None:
    """A final answer earlier in event time than the first one known (or the first): the presentations of the offer
    in the ledger made after it and read before it are presentations after the answer (counted on their channel).
    Those after the first answer known were counted already, when read (``machine.present``) or at its arrival: each
    presentation is counted once, in any order of arrival (a presentation that left the ledger is not)."""
    first = first_answer_us(answered)
    before = first_answer_us(previous) if previous is not None else None
    if first is None or first == before:
        return
    for row in state.ledger:
        if row[2] == offer_id and first < int(row[0]) and (before is None or int(row[0]) <= before):
            batch.count("presented_after_answer", str(row[1]))
