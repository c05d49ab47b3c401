"""What the offer processor reads from each event: who it is about and which facts it changes (pure).

* identifiers: ``customer_identifiers``, ``caller_identifiers``, ``identifiers`` and a business
  event's ``account_number`` (as ``ACCOUNT:...``), as keys ``TYPE:value`` (identity resolution's keys).
* contacts: one row per ``InteractionRecorded`` of a conversation kind (a call, a counter visit or
  transaction, a chat, an e-mail; not page views), ``[at_us, channel, matter, event_id, via]``; the
  matter is the agent's disposition when recorded, else the queue / transaction type / event name.
* business facts: products held, service tier and segment (account type), arrears.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bus.serde import Event
from processors.offers.state import CONTACTS_KEPT, CustomerState

CONTACT = "omnibus.contact."
BUSINESS = "omnibus.business."
CONVERSATIONS = frozenset({"CALL", "COUNTER_VISIT", "COUNTER_TRANSACTION", "CHAT", "EMAIL"})
IDENTIFIER_FIELDS = ("customer_identifiers", "caller_identifiers", "identifiers")


def micros(value: datetime | int | None) -> int:
    if value is None:
        return 0
    return int(value.timestamp() * 1_000_000) if isinstance(value, datetime) else int(value)


def occurred_us(event: Event) -> int:
    return micros(event.value["envelope"]["occurred_at"])


def keys_of(identifiers: list[dict[str, str] | None]) -> list[str]:
    """``omnibus.common.Identifier`` records -> keys ``TYPE:value`` (identity resolution's node keys)."""
    return [f"{i['type']}:{i['value']}" for i in identifiers if isinstance(i, dict) and i.get("value")]


def identifier_keys(event: Event) -> tuple[str, ...]:
    keys: list[str] = []
    for field in IDENTIFIER_FIELDS:
        keys.extend(keys_of(list(event.value.get(field) or ())))
    if event.schema.startswith(BUSINESS) and event.value.get("account_number"):
        keys.append(f"ACCOUNT:{event.value['account_number']}")
    return tuple(dict.fromkeys(keys))


def matter_of(value: dict[str, Any]) -> str:
    properties = value.get("properties") or {}
    return str(properties.get("disposition") or value.get("name") or value.get("kind") or "").strip().lower()


def contact_row(event: Event) -> list[Any] | None:
    if event.schema != CONTACT + "InteractionRecorded" or event.value.get("kind") not in CONVERSATIONS:
        return None
    return [occurred_us(event), event.value["envelope"]["channel"], matter_of(event.value),
            event.value["envelope"]["event_id"], list(identifier_keys(event))]


def add_contact(state: CustomerState, row: list[Any]) -> None:
    if all(existing[3] != row[3] for existing in state.contacts):
        state.contacts = sorted([*state.contacts, row], key=lambda r: r[0])[-CONTACTS_KEPT:]


def apply_business(state: CustomerState, event: Event) -> None:
    """Products, tier, segment and arrears from a legacy system's event (idempotent)."""
    value, via = event.value, list(identifier_keys(event))
    name = event.schema.removeprefix(BUSINESS)
    if name == "ProductSubscribed":
        state.products[value["product_code"]] = list(dict.fromkeys([*state.products.get(value["product_code"], []), *via]))
    elif name == "ProductCancelled":
        state.products.pop(value.get("product_code") or "", None)
    elif name == "AccountOpened":
        if value.get("service_tier"):
            state.profile["service_tier"] = str(value["service_tier"])
        if value.get("account_type"):
            state.profile["segment"] = str(value["account_type"])
    elif name == "PaymentOverdue":
        state.overdue[str(value.get("bill_id") or value["envelope"]["event_id"])] = int(value.get("days_overdue") or 0)


def apply_traits(state: CustomerState, event: Event) -> None:
    traits = event.value.get("traits") or {}
    if traits.get("country"):
        state.profile["region"] = str(traits["country"]).upper()
    if traits.get("city"):
        state.profile["city"] = str(traits["city"])
