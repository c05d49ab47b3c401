"""A counter event's ``ticket`` and ``transaction`` sections, read: every field at fault named at once in one
``EventRejected`` (a section's own with the event's); their optional parts
(``transaction.handoff``, ``transaction.follow_up``) read to a value or a refusal by ``adapters.branch.parts``."""

from __future__ import annotations

from typing import Any

from adapters.base.errors import FieldChecks
from adapters.branch import errors, parts
from adapters.branch.fields import optional_instant, optional_text, required_instant, required_text, section
from bus.references import References

# a transaction's status -> the outcome of the contact it counts as
TRANSACTION_OUTCOME = {"COMPLETED": "RESOLVED", "FAILED": "UNRESOLVED", "CANCELLED": "UNRESOLVED"}


def ticket_fields(event: dict[str, Any], kind: str) -> dict[str, Any]:
    """The ``ticket`` section's fields, read for an event of ``kind`` (a called or served ticket names its
    counter); raises ``EventRejected`` naming every one at fault."""
    ticket = section(event, "ticket")
    checks = FieldChecks()
    number = checks(required_text, ticket, "number", "ticket.number")
    issued_at = checks(required_instant, ticket, "issued_at", "ticket.issued_at")
    at_counter = kind in ("ticket_called", "ticket_served")
    counter_id = checks(required_text if at_counter else optional_text, ticket, "counter_id", "ticket.counter_id")
    called_at = (None if kind == "ticket_called"
                 else checks(optional_instant, ticket, "called_at", "ticket.called_at"))
    given_id = checks(optional_text, ticket, "id", "ticket.id")
    service_type = checks(required_text, ticket, "service_type", "ticket.service_type")
    checks.refuse_any()
    return {"number": number, "issued_at": issued_at, "counter_id": counter_id, "called_at": called_at,
            "given_id": given_id, "service_type": service_type}


def transaction_fields(event: dict[str, Any]) -> dict[str, Any]:
    """The ``transaction`` section's fields (and the event's ``agent_id``), read; its ``handoff`` and ``follow_up``
    as a value or a refusal (``handoff_refused``, ``follow_up_refused``). Raises ``EventRejected`` naming every
    field at fault."""
    transaction = section(event, "transaction")
    checks = FieldChecks()
    transaction_id = checks(required_text, transaction, "id", "transaction.id")
    status = str(transaction.get("status") or "").upper()
    if status not in TRANSACTION_OUTCOME:
        known = ", ".join(s.lower() for s in TRANSACTION_OUTCOME)
        checks.add(errors.bad_field("transaction.status", f"must be one of {known}"))
    kind = checks(required_text, transaction, "type", "transaction.type")
    counter_id = checks(optional_text, transaction, "counter_id", "transaction.counter_id")
    ticket_id = checks(optional_text, transaction, "ticket_id", "transaction.ticket_id")
    agent_id = checks(optional_text, event, "agent_id")
    amount = checks(_amount, transaction.get("amount"))
    request, refused = parts.handoff_request(transaction.get("handoff"))
    follow_up, follow_up_refused = parts.follow_up(transaction.get("follow_up"))
    checks.refuse_any()
    return {"transaction_id": transaction_id, "status": status, "type": kind, "counter_id": counter_id,
            "ticket_id": ticket_id, "agent_id": agent_id, "amount": amount, "handoff": request,
            "handoff_refused": refused, "follow_up": follow_up, "follow_up_refused": follow_up_refused}


def transaction_references(event: dict[str, Any], references: References) -> dict[str, str]:
    """``transaction.references`` (name -> text) under the declared business references' names, in any spelling
    (``References.declares``); raises ``EventRejected`` naming each other name or a value that is no text."""
    transaction = event.get("transaction")
    raw = transaction.get("references") if isinstance(transaction, dict) else None
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise errors.bad_field("transaction.references", "must be a JSON object of declared reference -> text")
    checks = FieldChecks()
    for name, value in raw.items():
        if not references.declares(name):
            checks.add(errors.bad_field(f"transaction.references.{name}", "is no declared business reference "
                                        "(OMNIBUS_IDENTIFIERS__REFERENCE_FIELDS, *_BRANCH__REFERENCE_FIELDS)"))
        elif not isinstance(value, str):
            checks.add(errors.bad_field(f"transaction.references.{name}", "must be text"))
    checks.refuse_any()
    return {name: value for name, value in raw.items() if value.strip()}


def _amount(raw: Any) -> dict[str, Any] | None:
    """``transaction.amount``: ``{"amount_minor": <integer>, "currency": <ISO 4217>}``, both named at once when at
    fault (the currency was named a round trip later)."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise errors.bad_field("transaction.amount", "must be {\"amount_minor\": <integer>, \"currency\": \"EUR\"}")
    minor, currency = raw.get("amount_minor"), raw.get("currency")
    checks = FieldChecks()
    if isinstance(minor, bool) or not isinstance(minor, int) or abs(minor) >= 2**63:
        checks.add(errors.bad_field("transaction.amount.amount_minor", "must be a whole number of minor units"))
    if not isinstance(currency, str) or len(currency) != 3 or not currency.isalpha():
        checks.add(errors.bad_field("transaction.amount.currency", "must be an ISO 4217 code such as EUR"))
    checks.refuse_any()
    return {"amount_minor": minor, "currency": str(currency).upper()}
