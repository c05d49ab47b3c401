"""Outbound pushes as reserved contacts, so that no cap is exceeded by SHOWs already instructed.

A SHOW on an outbound channel (``definition.OUTBOUND``: the SMS gateway, the e-mail campaign tool) is a contact
the gateway will make at or after its ``not_before`` without asking again. From the SHOW until the gateway reports it
presented (an ``OfferPresented`` on that channel: a presentation in the ledger from then on), until it is withdrawn
or until the offer's ``valid_until`` passes, it *reserves* a contact under every cap it falls under (the policy's
across channels and on its channel, the offer's own): ``caps.suppression`` counts presentations in the cap's window
plus the outstanding reservations, so presentations + reservations never exceed a cap. A counter pitch, a call or
a web presentation (an answer a clerk or an agent recorded is one: ``bus.offer_presentations``) that fills a cap
leaves reservations that no longer fit: ``over_caps`` names them (the oldest reservation keeps its room first) and
the engine WITHDRAWs them with reason ``CAPPED``; the offer is SHOWn again by the same rule as any SHOW a cap holds
back, at the customer's next event once the window has room.

Row of ``CustomerState.reserved``: ``[shown_us, channel, offer_id, instruction_event_id, customer_id,
valid_until_us or None]``; ``customer_id`` is the one the SHOW was keyed by (after a merge, the merged customer's
SHOWs are withdrawn with reason ``MERGED`` and SHOWn again under the survivor when the caps allow).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from typing import Any

from processors.offers.caps import US, ContactPolicy, outstanding, suppression
from processors.offers.definition import Offer
from processors.offers.state import CustomerState

CAPPED = "CAPPED"  # WITHDRAW reason: a presentation filled a cap this push would exceed (any push channel)
MERGED = "MERGED"  # WITHDRAW reason: the SHOW was keyed by a customer merged away; the survivor's stands or follows


def reserve(state: CustomerState, offer: Offer, channel: str, instruction_event_id: str, at_us: int) -> None:
    """The SHOW ``instruction_event_id`` on outbound ``channel`` reserves a contact (it replaces the customer's
    earlier SHOW of the offer on that channel, released by the engine first: a new version re-SHOWn)."""
    until = int(offer.valid_until.timestamp() * US) if offer.valid_until else None
    state.reserved.append([at_us, channel, offer.offer_id, instruction_event_id, state.customer_id, until])


def release(state: CustomerState, offer_id: str, channel: str, customer_id: str) -> None:
    """A WITHDRAW of the offer on ``channel`` keyed by ``customer_id``: its reservation ends."""
    state.reserved = [row for row in state.reserved if (row[2], row[1], row[4]) != (offer_id, channel, customer_id)]


def held(state: CustomerState, offer_id: str, channel: str) -> bool:
    return any((row[2], row[1], row[4]) == (offer_id, channel, state.customer_id) for row in state.reserved)


def consume(state: CustomerState, offer_id: str, channel: str, correlation_id: str) -> None:
    """The gateway reported the push presented (``OfferPresented`` on ``channel``): the reservation it answers (by
    ``correlation_id`` = the instruction's event id, else the offer's on that channel) is a presentation now."""
    rows = [row for row in state.reserved if row[3] == correlation_id] or \
        [row for row in state.reserved if (row[2], row[1]) == (offer_id, channel)][:1]
    state.reserved = [row for row in state.reserved if row not in rows]


def over_caps(state: CustomerState, offers: dict[str, Offer], fitting: Iterable[str], now: datetime, zone: str,
              policy: ContactPolicy) -> list[tuple[list[Any], str]]:
    """The reservations to withdraw, with the reason (``CAPPED`` / ``MERGED``): taken oldest first (the survivor's
    before a merged customer's), each keeps its room if the presentations and the reservations kept so far leave it
    room under every cap it falls under. ``fitting``: ids of the live offers the customer still fits (the others are
    withdrawn with their own reason, under the survivor's id: a merged customer's SHOW of a live offer is withdrawn
    here, ``MERGED``, fitting or not)."""
    now_us = int(now.timestamp() * US)
    fit = set(fitting)
    kept: list[list[Any]] = []
    dropped: list[tuple[list[Any], str]] = []
    for row in sorted(outstanding(state, now_us), key=lambda r: (r[4] != state.customer_id, r[0])):
        offer = offers.get(row[2])
        if offer is None:
            continue
        if row[4] != state.customer_id:  # whether or not the survivor fits it: no one withdraws it under that id else
            dropped.append((row, MERGED))
            continue
        if row[2] not in fit:
            continue
        reason = suppression(replace(state, reserved=kept), offer, row[1], now, zone, policy, quiet_hours=False)
        if reason is not None and reason.capped:
            dropped.append((row, CAPPED))
        else:
            kept.append(row)
    return dropped
