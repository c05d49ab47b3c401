"""What each channel's own system would send about a customer, in that system's native format."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from demo.people import DemoCustomer

DEMO_NAMESPACE = uuid.UUID("0d3e9a3c-5a1b-4c6e-9f00-000000000d3e")
# The demo's IVR checks the account number the caller types against his date of birth, so its call center reads that
# attribute as the caller's ACCOUNT (OMNIBUS_ADAPTER_CALL_CENTER__VERIFIED_RECORD_ATTRIBUTES; none by default: a number
# an unchecking flow takes is the caller's claim).
VERIFIED_BY_THE_IVR: dict[str, tuple[str, ...]] = {"ACCOUNT": ("accountNumber",)}


def _id(*parts: object) -> str:
    return str(uuid.uuid5(DEMO_NAMESPACE, "/".join(map(str, parts))))


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def segment_identify(customer: DemoCustomer, at: datetime) -> dict[str, Any]:
    return {
        "type": "identify", "messageId": _id("identify", customer.index), "userId": customer.user_id,
        "timestamp": _iso(at),
        "traits": {"email": customer.email, "phone": customer.phone, "name": customer.name,
                   "birthday": customer.birth_date},
    }


def segment_track(customer: DemoCustomer, event: str, at: datetime, **properties: Any) -> dict[str, Any]:
    return {
        "type": "track", "messageId": _id("track", event, customer.index), "userId": customer.user_id,
        "event": event, "timestamp": _iso(at), "properties": properties,
    }


def web_journey(customer: DemoCustomer, start: datetime) -> list[dict[str, Any]]:
    """Logs in, reads the bill; some submit a billing dispute (a handoff to finance)."""
    messages = [
        segment_identify(customer, start),
        segment_track(customer, "Invoice Viewed", start + timedelta(minutes=1), invoice=f"INV-{customer.index}"),
    ]
    if customer.index % 3 == 0:
        messages.append(
            segment_track(
                customer, "Service Request Submitted", start + timedelta(minutes=2),
                request_id=_id("handoff", customer.index), case_type="billing-dispute",
                summary="Charged twice for the October bill", service_tier=customer.tier,
            )
        )
    # No offer answers here: these journeys are stamped hours back, before the demo offer exists (its one
    # answer, after it was shown, is ``demo.offers.offer_journey``'s).
    return messages


def connect_ctr(customer: DemoCustomer, start: datetime, *, answered: bool) -> dict[str, Any]:
    enqueued, connected = start + timedelta(seconds=15), start + timedelta(seconds=15 + 8 + customer.index % 40)
    end = connected + timedelta(minutes=4) if answered else start + timedelta(seconds=95)
    return {
        "AWSContactTraceRecordFormatVersion": "2017-03-10",
        "ContactId": _id("ctr", customer.index, answered),
        "Channel": "VOICE", "InitiationMethod": "INBOUND",
        "InitiationTimestamp": _iso(start), "DisconnectTimestamp": _iso(end), "LastUpdateTimestamp": _iso(end),
        "CustomerEndpoint": {"Address": customer.phone, "Type": "TELEPHONE_NUMBER"},
        "SystemEndpoint": {"Address": "+33180000001", "Type": "TELEPHONE_NUMBER"},
        "Queue": {"Name": "billing", "EnqueueTimestamp": _iso(enqueued),
                  "DequeueTimestamp": _iso(connected if answered else end), "Duration": 8},
        "Agent": {"Username": f"agent{customer.index % 4}", "ConnectedToAgentTimestamp": _iso(connected)}
        if answered else None,
        # The IVR identified the caller by account and date of birth (VERIFIED_BY_THE_IVR); the agent confirmed the
        # name.
        "Attributes": {"accountNumber": customer.account, "disposition": "bill-explained", "name": customer.name,
                       "dateOfBirth": customer.birth_date} if answered else {},
        "DisconnectReason": "AGENT_DISCONNECT" if answered else "CUSTOMER_DISCONNECT",
        "PreviousContactId": None, "NextContactId": None,
    }


def counter_visit(customer: DemoCustomer, start: datetime, terminal_id: str, branch_id: str) -> dict[str, Any]:
    ticket = f"{branch_id}:{start.date()}:A{customer.index:03d}"
    issued, called = start, start + timedelta(minutes=4)
    events: list[dict[str, Any]] = [
        {"event_id": _id("ticket", customer.index, kind), "kind": kind,
         "occurred_at": _iso(start + timedelta(minutes=i * 4)),
         "ticket": {"id": ticket, "number": f"A{customer.index:03d}", "service_type": "payments", "counter_id": "C2",
                    "issued_at": _iso(issued), **({"called_at": _iso(called)} if i else {})}}
        for i, kind in enumerate(("ticket_issued", "ticket_called", "ticket_served"))
    ]
    events.append({
        "event_id": _id("transaction", customer.index), "kind": "transaction",
        "occurred_at": _iso(start + timedelta(minutes=9)), "agent_id": "E-2231",
        "transaction": {"id": f"TX-{customer.index:05d}", "type": "sim-replacement", "status": "completed",
                        "amount": {"amount_minor": 1500, "currency": "EUR"}, "counter_id": "C2", "ticket_id": ticket},
        "identifiers": [
            {"type": "NATIONAL_ID", "value": customer.national_id}, {"type": "PHONE", "value": customer.phone}
        ],
        "customer": {"full_name": customer.name, "birth_date": customer.birth_date},  # read from the ID card
    })
    return {"terminal_id": terminal_id, "branch_id": branch_id, "events": events}


BILLS_LAYOUT = """\
name: demo-bills
format: csv
event: BillIssued
encoding: utf-8
delimiter: ","
header: true
key: [bill_id]
occurred_at: issued_on
fields:
  account_number: {column: account}
  bill_id: {column: bill}
  amount: {column: amount, type: decimal}
  currency: {column: currency}
  period_start_date: {column: period_start, type: date, format: "%Y-%m-%d"}
  period_end_date: {column: period_end, type: date, format: "%Y-%m-%d"}
  due_date: {column: due, type: date, format: "%Y-%m-%d"}
  issued_on: {column: issued, type: date, format: "%Y-%m-%d"}
  email: {column: email}
  phone: {column: phone}
"""


def bills_csv(people: list[DemoCustomer]) -> str:
    lines = ["account,bill,amount,currency,period_start,period_end,due,issued,email,phone"]
    for customer in people:
        lines.append(
            f"{customer.account},B-2026-10-{customer.index:05d},{39 + customer.index % 20}.90,EUR,"
            f"2026-10-01,2026-10-31,2026-11-25,2026-11-05,,{customer.phone}"
        )
    return "\n".join(lines) + "\n"

SUBSCRIPTIONS_LAYOUT = """\
name: demo-subscriptions
format: csv
event: ProductSubscribed
encoding: utf-8
delimiter: ","
header: true
key: [subscription_id]
occurred_at: effective_at
fields:
  account_number: {column: account}
  subscription_id: {column: subscription}
  product_code: {column: product}
  product_name: {column: product_name}
  effective_at: {column: effective, type: timestamp}
  national_id: {column: national_id}
  full_name: {column: holder}
  birth_date: {column: born}
"""

PRODUCTS = [("MOB-5G-50", "Mobile 5G 50 GB"), ("FIBRE-1G", "Fibre 1 Gbit/s"), ("TV-START", "TV Start")]


def subscriptions_csv(people: list[DemoCustomer]) -> str:
    lines = ["account,subscription,product,product_name,effective,national_id,holder,born"]
    for customer in people:
        for offset, (code, name) in enumerate(PRODUCTS[: 1 + customer.index % len(PRODUCTS)]):
            lines.append(
                f"{customer.account},S-{customer.index:05d}-{offset},{code},{name},"
                f"2025-0{1 + offset}-15T10:00:00+00:00,{customer.national_id},{customer.name},{customer.birth_date}"
            )
    return "\n".join(lines) + "\n"
