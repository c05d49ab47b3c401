"""What the handoff tracker keeps of the legacy systems' account and product events: ``TierFact`` records on
``handoff.tier-facts.v1`` (compacted, internal JSON), one per account, per subscription and per holder of an account.

- ``ACCOUNT:<number>``: the latest ``AccountOpened`` / ``AccountClosed`` of the account (open or not, its tier);
- ``SUBSCRIPTION:<id>``: the latest ``ProductSubscribed`` / ``ProductCancelled`` (a product may give a tier);
- ``HOLDER:<number>|<identifier key>``: a holder of the account, by a key of the master record's line that opened it
  (its customer number, national ID or card: ``HOLDER_KINDS``). A joint account has one ``AccountOpened`` line per
  holder, all keyed by the account: identity gives the account's identifier to one of them (the first holder keeps
  it), the other holders are found by their own keys (the second holder's handoffs got the default tier).

Which fact about one key wins (``TierFact.rank``): a dated fact above an undated one (the business events' ``undated``
mark: a batch layout without ``occurred_at``, whose instant is only the export file's), then the later instant, then
the event id, in either arrival order, as the screen pop's products and the offers' accounts rank them.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from bus.clock import to_micros
from bus.identifiers.kinds import CARD, CUSTOMER_NUMBER, NATIONAL_ID
from bus.serde import Event
from processors.handoffs.config import tier_key

BUSINESS = "omnibus.business."
ACCOUNT_TYPE = "ACCOUNT"
SUBSCRIPTION_TYPE = "SUBSCRIPTION"
HOLDER_TYPE = "HOLDER"
# A line's keys that name its holder alone: never a phone or an e-mail, which a household shares (a family e-mail on
# every member's line would give each member every other's account).
HOLDER_KINDS = frozenset({CUSTOMER_NUMBER, NATIONAL_ID, CARD})


def identifier_key(identifier: dict[str, str]) -> str:
    """``TYPE:value``, the key identity resolution publishes (values arrive normalised, see Identifier.avsc);
    e-mail addresses are compared case-folded."""
    kind, value = identifier["type"], identifier["value"].strip()
    return f"{kind}:{value.casefold() if kind == 'EMAIL' else value}"


@dataclass(frozen=True, slots=True)
class TierFact:
    """The latest fact about one account (``ACCOUNT:<number>``), subscription (``SUBSCRIPTION:<id>``) or holder of an
    account (``HOLDER:<number>|<identifier key>``)."""

    key: str
    account: str
    active: bool
    at_us: int  # envelope.occurred_at of the business event: older facts never replace newer ones
    event_id: str
    schema: str
    tier: str | None = None  # AccountOpened.service_tier in ``tier_key`` form (blank: None)
    product_code: str | None = None
    undated: bool = False  # the business event's mark: ``at_us`` is only the export file's time
    holder: str | None = None  # a HOLDER fact's identifier key (``identifier_key``)

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
        "account": (value.get("account_number") or "").strip(), "at_us": to_micros(envelope["occurred_at"]),
        "event_id": envelope["event_id"], "schema": event.schema, "undated": bool(value.get("undated"))}
    if kind in ("AccountOpened", "AccountClosed"):
        tier = tier_key(value.get("service_tier") or "")
        return TierFact(f"{ACCOUNT_TYPE}:{common['account']}", active=kind == "AccountOpened",
                        tier=tier or None, **common)
    if kind in ("ProductSubscribed", "ProductCancelled"):
        return TierFact(f"{SUBSCRIPTION_TYPE}:{value['subscription_id']}", active=kind == "ProductSubscribed",
                        product_code=value["product_code"], **common)
    return None


def tier_facts(event: Event) -> list[TierFact]:
    """Every fact a business event states: ``tier_fact``'s, and for an ``AccountOpened`` one ``HOLDER`` fact per key
    of its line's holder (``HOLDER_KINDS`` among ``customer_identifiers``)."""
    fact = tier_fact(event)
    if fact is None:
        return []
    if not fact.key.startswith(ACCOUNT_TYPE + ":") or not fact.active:
        return [fact]
    holders = sorted({identifier_key(identifier) for identifier in event.value.get("customer_identifiers") or ()
                      if identifier.get("type") in HOLDER_KINDS})
    return [fact, *(TierFact(f"{HOLDER_TYPE}:{fact.account}|{holder}", fact.account, True, fact.at_us, fact.event_id,
                             fact.schema, undated=fact.undated, holder=holder) for holder in holders)]
