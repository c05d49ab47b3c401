"""Which offers fit a customer now on one channel, ranked, with caps and quiet hours applied (pure).

Used by the pull query (``GET /customers/{id}/offers?channel=WEB``), the push instructions and the
screen pop. An offer is *available* when it is valid now, on that channel, matches the eligibility rule
and the customer has not answered it (or the "not now" snooze is over); it is then *suppressed* with a
reason when a cap or quiet hours forbid presenting it now, or while the customer's "not now" lasts (``not_now``;
a snoozed offer just disappeared). Quiet hours do not apply on a channel where the customer is present
(``definition.CUSTOMER_PRESENT``: every channel an offer has), only to outbound pushes. An offer answered for good
(accepted, declined, opted out) or expired is not listed at all. Ranking: priority (high first), then the offer
presented least recently, then offer id.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import pytz

from processors.offers.accounts import held_products
from processors.offers.caps import US, ContactPolicy, Suppression, suppression
from processors.offers.definition import CUSTOMER_PRESENT, Offer
from processors.offers.facts import CustomerFacts
from processors.offers.machine import pitchable, snoozed
from processors.offers.state import CustomerState

RECENT_US = 7 * 86400 * US


def facts_of(customer: CustomerState, now_us: int) -> CustomerFacts:
    recent = [row for row in customer.contacts if row[0] > now_us - RECENT_US]
    return CustomerFacts(
        products=held_products(customer.products, customer.accounts),
        service_tier=customer.profile.get("service_tier", ""),
        segment=customer.profile.get("segment", ""), region=customer.profile.get("region", ""),
        city=customer.profile.get("city", ""), contacts_7d=len(recent),
        contact_channels_7d=tuple(sorted({row[1] for row in recent})),
        days_overdue=max(customer.overdue.values(), default=0),
    )


def country_zone(country: str) -> str | None:
    """The IANA time zone of an ISO 3166 alpha-2 ``country`` that has only one (``FR`` → ``Europe/Paris``), else
    None (``US``, an unknown code); from the IANA tz database's zone1970.tab as pytz ships it."""
    zones = pytz.country_timezones.get(country.upper(), [])
    return zones[0] if len(zones) == 1 else None


def zone_of(customer: CustomerState, default_zone: str) -> str:
    """The customer's IANA time zone: their country's when it has only one, else ``default_zone``."""
    return country_zone(customer.profile.get("region", "")) or default_zone


@dataclass(frozen=True, slots=True)
class Choice:
    available: list[Offer]  # ranked, may be presented now
    suppressed: list[tuple[Offer, Suppression]]  # fit, but not now


def choose(customer: CustomerState, offers: Iterable[Offer], channel: str, now: datetime, default_zone: str,
           policy: ContactPolicy) -> Choice:
    now_us = int(now.timestamp() * US)
    facts = facts_of(customer, now_us)
    zone = zone_of(customer, default_zone)
    fitting = [offer for offer in offers
               if offer.valid_at(now) and channel in offer.channels
               and (pitchable(state := customer.offers.get(offer.offer_id), now_us) or snoozed(state, now_us))
               and offer.eligibility.matches(facts)]
    available: list[Offer] = []
    suppressed: list[tuple[Offer, Suppression]] = []
    for offer in fitting:
        reason = Suppression.SNOOZED if snoozed(customer.offers.get(offer.offer_id), now_us) else \
            suppression(customer, offer, channel, now, zone, policy, quiet_hours=channel not in CUSTOMER_PRESENT)
        if reason is None:
            available.append(offer)
        else:
            suppressed.append((offer, reason))

    def rank(offer: Offer) -> tuple[int, int, str]:
        state = customer.offers.get(offer.offer_id)
        return (-offer.priority, (state.last_presented_us or 0) if state else 0, offer.offer_id)

    return Choice(sorted(available, key=rank), suppressed)


def fits(customer: CustomerState, offer: Offer, now: datetime) -> bool:
    """Eligible and not answered, ignoring caps and quiet hours (what a push channel is told to hold)."""
    now_us = int(now.timestamp() * US)
    return offer.valid_at(now) and pitchable(customer.offers.get(offer.offer_id), now_us) \
        and offer.eligibility.matches(facts_of(customer, now_us))
