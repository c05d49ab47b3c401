"""What the handoff tracker keeps of the legacy systems' account and product events: ``TierFact`` records on
``handoff.tier-facts.v1`` (compacted, internal JSON), one per account and per subscription.

- ``ACCOUNT:<number>``: the latest ``AccountOpened`` / ``AccountClosed`` of the account (open or not, its tier);
- ``SUBSCRIPTION:<id>``: the latest ``ProductSubscribed`` / ``ProductCancelled`` (a product may give a tier).

Which fact about one key wins (``TierFact.rank``): a dated fact above an undated one (the business events' ``undated``
mark: a batch layout without ``occurred_at``, whose instant is only the export file's), then the later instant, then
the event id, in either arrival order, as the screen pop's products and the offers' accounts rank them (tester28 F3).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from bus.clock import to_micros
from bus.serde import Event
from processors.handoffs.config import tier_key

BUSINESS = "omnibus.business."
ACCOUNT_TYPE = "ACCOUNT"
SUBSCRIPTION_TYPE = "SUBSCRIPTION"


def identifier_key(identifier: dict[str, str]) -> str:
    """``TYPE:value``, the key identity resolution publishes (values arrive normalised, see Identifier.avsc);
    e-mail addresses are compared case-folded."""
    kind, value = identifier["type"], identifier["value"].strip()
    return f"{kind}:{value.casefold() if kind == 'EMAIL' else value}"


@dataclass(frozen=True, slots=True)
class TierFact:
    """The latest fact about one account (``ACCOUNT:<number>``) or subscription (``SUBSCRIPTION:<id>``)."""

    key: str
    account: str
    active: bool
    at_us: int  # envelope.occurred_at of the business event: older facts never replace newer ones
    event_id: str
    schema: str
    tier: str | None = None  # AccountOpened.service_tier in ``tier_key`` form (blank: None)
    product_code: str | None = None
    undated: bool = False  # the business event's mark: ``at_us`` is only the export file's time

    @property
    def rank(self) -> tuple[bool, int, str]:
        """How this fact ranks against another of its key: dated above undated, then the later instant, then the
        event id (the same event read twice ranks equal)."""
        return not self.undated, self.at_us, self.event_id

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> TierFact:
        """A fact as written by this or an older version (a field it does not have: its default)."""
        return cls(**json.loads(raw))



def tier_fact(event: Event) -> TierFact | None:
    """The account or subscription fact a business event states, or None for events that say nothing about tiers."""
    value, kind = event.value, event.schema.removeprefix(BUSINESS)
    envelope = value["envelope"]
    common: dict[str, Any] = {
        "account": value.get("account_number", "").strip(), "at_us": to_micros(envelope["occurred_at"]),
        "event_id": envelope["event_id"], "schema": event.schema, "undated": bool(value.get("undated"))}
    if kind in ("AccountOpened", "AccountClosed"):
        tier = tier_key(value.get("service_tier") or "")
        return TierFact(f"{ACCOUNT_TYPE}:{common['account']}", active=kind == "AccountOpened",
                        tier=tier or None, **common)
    if kind in ("ProductSubscribed", "ProductCancelled"):
        return TierFact(f"{SUBSCRIPTION_TYPE}:{value['subscription_id']}", active=kind == "ProductSubscribed",
                        product_code=value["product_code"], **common)
    return None

