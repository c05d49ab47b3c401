"""Products held: accounts, subscribed products, open orders and overdue bills from the legacy systems.

Account numbers are rendered masked, like every identifier in the screen pop.

Each entry remembers the instant (``envelope.occurred_at``) of the fact that last changed it and
ignores older facts, so replays and late or reordered events never resurrect a cancelled product.
"""

from __future__ import annotations

from typing import Any, ClassVar

from bus.serde import Event
from bus.topics import BUSINESS_EVENTS, TopicSpec
from processors.profile.masking import mask
from processors.profile.section import ProfileSection
from processors.profile.sections._time import iso, micros, occurred_micros

NS = "omnibus.business."
FINAL_ORDER_STATUSES = frozenset({"COMPLETED", "DELIVERED", "CANCELLED", "FAILED"})


def _upsert(table: dict[str, Any], key: str, at: int, fields: dict[str, Any]) -> None:
    current = table.get(key)
    if current is not None and current.get("at", 0) > at:
        return  # an older fact than the one already applied
    table[key] = {**(current or {}), **fields, "at": at}


class ProductsSection(ProfileSection):
    name: ClassVar[str] = "products"
    topics: ClassVar[tuple[TopicSpec, ...]] = (BUSINESS_EVENTS,)
    schemas: ClassVar[frozenset[str]] = frozenset(
        NS + name for name in ("AccountOpened", "AccountClosed", "ProductSubscribed", "ProductCancelled",
                               "OrderStatusChanged", "PaymentOverdue", "BillIssued")
    )

    def identifiers(self, event: Event) -> list[dict[str, str]]:
        identifiers = list(event.value.get("customer_identifiers") or [])
        account = event.value.get("account_number")
        if account:
            identifiers.append({"type": "ACCOUNT", "value": account})
        return identifiers

    def apply(self, state: dict[str, Any] | None, event: Event) -> dict[str, Any]:
        state = {k: dict(v) for k, v in (state or {}).items()}
        for part in ("accounts", "products", "orders", "bills"):
            state.setdefault(part, {})
        value, at, kind = event.value, occurred_micros(event), event.schema.removeprefix(NS)
        if kind == "AccountOpened":
            _upsert(state["accounts"], value["account_number"], at, {
                "status": "OPEN", "account_type": value["account_type"], "service_tier": value.get("service_tier"),
            })
        elif kind == "AccountClosed":
            _upsert(state["accounts"], value["account_number"], at, {"status": "CLOSED"})
        elif kind == "ProductSubscribed":
            _upsert(state["products"], value["subscription_id"], at, {
                "status": "ACTIVE", "product_code": value["product_code"], "product_name": value.get("product_name"),
                "account_number": value["account_number"], "since": micros(value.get("effective_at")) or at,
            })
        elif kind == "ProductCancelled":
            _upsert(state["products"], value["subscription_id"], at, {
                "status": "CANCELLED", "product_code": value["product_code"], "account_number": value["account_number"],
            })
        elif kind == "OrderStatusChanged":
            _upsert(state["orders"], value["order_id"], at, {
                "status": value["status"], "product_code": value.get("product_code"),
            })
        elif kind == "BillIssued":
            _upsert(state["bills"], value["bill_id"], at, {
                "status": "ISSUED", "account_number": value["account_number"], "amount": dict(value["amount"]),
                "due_date": value["due_date"].isoformat(),
            })
        elif kind == "PaymentOverdue":
            _upsert(state["bills"], value["bill_id"], at, {
                "status": "OVERDUE", "account_number": value["account_number"], "amount": dict(value["amount_due"]),
                "days_overdue": value["days_overdue"],
            })
        return state

    def merge(self, survivor: dict[str, Any] | None, merged: dict[str, Any] | None) -> dict[str, Any] | None:
        if survivor is None or merged is None:
            return survivor if merged is None else merged
        result = {part: dict(entries) for part, entries in survivor.items()}
        for part, entries in merged.items():
            target = result.setdefault(part, {})
            for key, entry in entries.items():
                if key not in target or entry.get("at", 0) > target[key].get("at", 0):
                    target[key] = entry
        return result

    def render(self, state: dict[str, Any]) -> Any:
        return {
            "accounts": [
                {"account_number": mask("ACCOUNT", k), **_public(v)}
                for k, v in sorted(state.get("accounts", {}).items()) if v["status"] == "OPEN"
            ],
            "products": [
                {"subscription_id": k, **_public(v), "since": iso(v.get("since"))}
                for k, v in sorted(state.get("products", {}).items()) if v["status"] == "ACTIVE"
            ],
            "open_orders": [
                {"order_id": k, **_public(v)} for k, v in sorted(state.get("orders", {}).items())
                if v["status"] not in FINAL_ORDER_STATUSES
            ],
            "overdue_bills": [
                {"bill_id": k, **_public(v)} for k, v in sorted(state.get("bills", {}).items())
                if v["status"] == "OVERDUE"
            ],
        }


def _public(entry: dict[str, Any]) -> dict[str, Any]:
    """An entry as shown on screen: account numbers masked like every identifier."""
    shown = {k: v for k, v in entry.items() if k not in ("at", "since")}
    if shown.get("account_number"):
        shown["account_number"] = mask("ACCOUNT", shown["account_number"])
    return shown
