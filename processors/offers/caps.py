"""The contact policy: cross-channel frequency caps and quiet hours, and why a presentation is suppressed.

Caps count presentations in the customer's ledger, whatever channel reported them (what the KPIs count as one,
``bus.offer_presentations``: an ``OfferPresented``, and an answer a clerk or an agent recorded), plus the outbound
pushes instructed and not presented yet (``CustomerState.reserved``, ``reservations.py``: an SMS the gateway will send
is a contact already): a cap without a channel counts every channel together ("at most 3 offer contacts in 7 days"), a
cap with one counts that channel only ("1 a day on the call center"). An offer's own caps count only that offer.
The window is rolling: ``per: 1d`` is the 24 hours before now, not a calendar day. Quiet hours are
in the customer's time zone (``QuietHours``); the policy's apply to every offer, an offer may add its own.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from processors.offers.definition import OUTBOUND, Cap, Channel, Offer
from processors.offers.quiet_hours import QuietHours
from processors.offers.state import CustomerState

US = 1_000_000


class Suppression(StrEnum):
    """Why an eligible offer was not presented (the ``reason`` label of the suppression counter)."""

    CONTACT_CAP = "contact_cap"  # the policy's cap across channels
    CHANNEL_CAP = "channel_cap"  # the policy's cap on this channel
    OFFER_CAP = "offer_cap"  # the offer's own cap
    QUIET_HOURS = "quiet_hours"
    SNOOZED = "not_now"  # the customer said "not now" recently
    ANSWERED = "answered"  # presented after the customer answered: a channel that had not heard yet
    NO_ADDRESS = "no_address"  # an outbound push (SMS, e-mail) for a customer with no address of its kind
    NO_MOBILE = "no_mobile"  # an SMS for a customer whose phones cannot take one (landlines: ``outputs.SENDABLE``)
    EXPIRED = "expired"  # presented outside the offer's validity

    @property
    def capped(self) -> bool:
        """A cap (the policy's across channels or on the channel, the offer's own) would be exceeded: the one rule a
        pull query, a SHOW held back and a SHOW withdrawn ``CAPPED`` on every push channel follow."""
        return self in (Suppression.CONTACT_CAP, Suppression.CHANNEL_CAP, Suppression.OFFER_CAP)


class ContactPolicy(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    caps: tuple[Cap, ...] = Field(
        default_factory=lambda: (Cap(max=3, per=7 * 86400), *(Cap(max=1, per=86400, channel=c)
                                                               for c in Channel)),
        description="Caps across all offers; without channel: across channels. Default: 3 in 7 days across "
                    "channels, 1 a day on each channel (an SMS and an e-mail included).")
    quiet_hours: QuietHours | None = Field(default_factory=lambda: QuietHours(start="21:00", end="08:00"))
    not_now_days: float = Field(14.0, gt=0, description="After 'not now', not pitched again for this many days.")


def outstanding(customer: CustomerState, now_us: int) -> list[list[Any]]:
    """The reservations still held at ``now_us`` (an offer past its ``valid_until`` is sent by no gateway)."""
    return [row for row in customer.reserved if row[5] is None or row[5] > now_us]


def _count(customer: CustomerState, now_us: int, cap: Cap, offer_id: str | None, asked: tuple[str, str]) -> int:
    """Presentations in the cap's rolling window; for an outbound push (``asked`` (offer id, channel) on SMS or
    EMAIL) also the reservations whatever their instant (the gateway sends at or after ``not_before``), but
    ``asked``'s own. A customer who is there (web, counter, call) comes first: reservations never hide an offer from
    them, and their presentation withdraws the reservations it leaves over a cap (``reservations.over_caps``)."""
    since = now_us - cap.per * US
    presented = [row for row in customer.ledger if row[0] > since]
    reserved = [row for row in outstanding(customer, now_us) if (row[2], row[1]) != asked] \
        if asked[1] in OUTBOUND else []
    return sum(1 for _, channel, offered, *_ in presented + reserved
               if (cap.channel is None or channel == cap.channel) and (offer_id is None or offered == offer_id))


def suppression(customer: CustomerState, offer: Offer, channel: str, now: datetime, zone: str,
                policy: ContactPolicy, *, quiet_hours: bool = True) -> Suppression | None:
    """The first reason the offer may not be presented on ``channel`` now, or None (caps first: a cap holds an
    outbound push back longer than quiet hours, which only defer it; ``quiet_hours=False`` for push instructions,
    which carry the end of the span as ``not_before``)."""
    now_us, asked = int(now.timestamp() * US), (offer.offer_id, channel)
    for cap in policy.caps:
        if (cap.channel is None or cap.channel == channel) and _count(customer, now_us, cap, None, asked) >= cap.max:
            return Suppression.CONTACT_CAP if cap.channel is None else Suppression.CHANNEL_CAP
    for cap in offer.caps:
        applies = cap.channel is None or cap.channel == channel
        if applies and _count(customer, now_us, cap, offer.offer_id, asked) >= cap.max:
            return Suppression.OFFER_CAP
    for quiet in (policy.quiet_hours, offer.quiet_hours) if quiet_hours else ():
        if quiet is not None and quiet.contains(now, zone):
            return Suppression.QUIET_HOURS
    return None


def not_before(offer: Offer, now: datetime, zone: str, policy: ContactPolicy) -> datetime:
    """The first instant outside every quiet span that applies (for push channels' instructions)."""
    instant = now
    for _ in range(3):  # two spans can chain (the policy's, then the offer's)
        moved = instant
        for quiet in (policy.quiet_hours, offer.quiet_hours):
            if quiet is not None:
                moved = quiet.next_allowed(moved, zone)
        if moved == instant:
            break
        instant = moved
    return instant
