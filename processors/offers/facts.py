"""What an eligibility rule can see about a customer: a few profile facts, typed.

The offer processor keeps them per customer from the unified stream: products held (billing's
``ProductSubscribed`` / ``ProductCancelled``, on an account not closed), service tier and segment of the open
accounts (``AccountOpened`` / ``AccountClosed``, ``accounts.py``: none once every account is closed), region and
city (the ``country`` / ``city`` traits), recent contacts (``customer.contacts.v1``) and arrears
(``PaymentOverdue``). Unknown text facts are ``""`` and unknown numbers ``0``, so a rule never meets a
missing name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import celpy

# fact name -> the Python type a rule sees (list = list of strings)
FACT_TYPES: dict[str, type] = {
    "products": list, "service_tier": str, "segment": str, "region": str, "city": str,
    "contacts_7d": int, "contact_channels_7d": list, "days_overdue": int,
}


@dataclass(frozen=True, slots=True)
class CustomerFacts:
    products: tuple[str, ...] = ()
    service_tier: str = ""
    segment: str = ""
    region: str = ""  # ISO 3166-1 alpha-2 country code
    city: str = ""
    contacts_7d: int = 0
    contact_channels_7d: tuple[str, ...] = ()
    days_overdue: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in FACT_TYPES}


def activation(facts: CustomerFacts) -> dict[str, Any]:
    """The CEL activation (variable bindings) for one customer."""
    return {name: celpy.json_to_cel(list(value) if isinstance(value, tuple) else value)
            for name, value in facts.as_dict().items()}


_SAMPLE = None


def sample_activation() -> dict[str, Any]:
    """Facts of an unknown customer: used to type-check a rule when it is loaded."""
    global _SAMPLE
    if _SAMPLE is None:
        _SAMPLE = activation(CustomerFacts(products=("SAMPLE",), contact_channels_7d=("WEB",)))
    return _SAMPLE
