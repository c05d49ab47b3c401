"""What the offer processor reads from each event: who it is about and which facts it changes (pure).

* identifiers: ``customer_identifiers``, ``caller_identifiers``, ``identifiers`` and a business
  event's ``account_number`` (as ``ACCOUNT:...``), as keys ``TYPE:value`` (identity resolution's keys).
* contacts: one row per contact of a conversation kind (a call, a counter visit or transaction, a chat, an
  e-mail; not page views), from its ``InteractionRecorded``, ``[at_us, channel, matter, event_id, via, contact,
  version]`` (``contact_rows.py``); the matter is the agent's disposition when recorded, else the queue / transaction
  type / event name. A later version of the contact (``bus.contact_versions``: an updated CTR, a corrected counter
  transaction, with or without a ``causation_id``) replaces its row; an older one read later changes nothing. A copy
  an operator's split re-published under the new customer (``bus.topics.MOVED_FROM_HEADER``) is the same
  contact: its row carries the original's id (its ``causation_id``), so it counts once (as in the KPIs).
* business facts: products held, service tier and segment (account type) of the OPEN accounts (``AccountOpened`` /
  ``AccountClosed``, ``accounts.py``: a closed account's segment, tier and products no longer count), arrears, each
  with the identifiers it
  came through (``via``), so that a split moves it with them: an account's own, when it came through it
  (``processors.profile.about``, the rule identity's screen pop follows too). A business event
  counts for the customer identity placed it on (its copy on ``customer.contacts.v1``, ``engine.py``), never for
  the keeper of a shared identifier.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bus.contact_versions import contact_key, version_order
from bus.identifiers.number_format import NumberFormat
from bus.serde import Event
from processors.identity.config import DEFAULT_PRIORITIES
from processors.offers import accounts as account_book
from processors.offers import contact_rows
from processors.offers.state import CONTACTS_KEPT, OVERDUE_FACT, CustomerState
from processors.profile.about import about, account_number

CONTACT = "omnibus.contact."
BUSINESS = "omnibus.business."
OBSERVED = CONTACT + "IdentifiersObserved"  # context only: one naming no customer is skipped, not refused
# Key prefix (directory and pending tables) of a contact's placement by identity: ``PLACED:<correlation id>``.
PLACED = "PLACED:"
CONVERSATIONS = frozenset({"CALL", "COUNTER_VISIT", "COUNTER_TRANSACTION", "CHAT", "EMAIL"})
# The contacts an offer can be answered in (not page or screen views): only theirs are placed (answers.place).
OFFER_CONTACTS = CONVERSATIONS | {"WEB_EVENT"}
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


def identifier_keys(event: Event, account_format: NumberFormat | None = None) -> tuple[str, ...]:
    """The keys ``TYPE:value`` of ``event``'s identifiers (module docstring); a business event's ``account_number``
    as identity keys it (``about.account_number`` in ``account_format``, the deployment's
    ``OMNIBUS_IDENTIFIERS__ACCOUNT_NUMBER_FORMAT``: another producer's ``900001`` is ``ACCOUNT:CA-900001``, the key
    a split moves). Only business events carry one: the other callers need no format."""
    keys: list[str] = []
    for field in IDENTIFIER_FIELDS:
        keys.extend(keys_of(list(event.value.get(field) or ())))
    if event.schema.startswith(BUSINESS) and event.value.get("account_number"):
        keys.append(f"ACCOUNT:{account_number(str(event.value['account_number']), account_format)}")
    return tuple(dict.fromkeys(keys))


def ranked_keys(keys: tuple[str, ...] | list[str]) -> list[str]:
    """``TYPE:value`` keys, the most specific first by identity's linking priorities (``DEFAULT_PRIORITIES``:
    NATIONAL_ID > CUSTOMER_NUMBER > USER_ID > ACCOUNT > CARD > EMAIL > PHONE > DEVICE > ANONYMOUS_ID), ties in the
    event's order: a family phone or e-mail the event shares with a housemate decides only when nothing more specific
    is known."""
    return sorted(keys, key=lambda key: -DEFAULT_PRIORITIES.get(key.partition(":")[0], 0))


def placement_key(event: Event, *, contact: bool = False) -> str | None:
    """``PLACED:<envelope.correlation_id>``: where the placement of the contact an offer event belongs to is kept.

    The adapters give every event mapped from one source record (a call, a counter visit, a web track) one
    correlation id, so an offer answer or presentation names the contact identity placed on a customer. For an offer
    event (``contact=False``) None when its correlation is its own event id (no sibling contact: nothing places it,
    and the identifier rule decides); a ``contact`` has one when an offer can be answered in it (``OFFER_CONTACTS``)."""
    envelope = event.value["envelope"]
    correlation = envelope.get("correlation_id")
    if contact and event.value.get("kind") not in OFFER_CONTACTS:
        return None
    if not correlation or (not contact and correlation == envelope["event_id"]):
        return None
    return PLACED + str(correlation)


def matter_of(value: dict[str, Any]) -> str:
    properties = value.get("properties") or {}
    return str(properties.get("disposition") or value.get("name") or value.get("kind") or "").strip().lower()


def contact_id(event: Event, *, moved: bool = False) -> str:
    """The id a contact counts under: its event id, or for a copy a split ``moved`` the original's
    (``envelope.causation_id``, which identity sets to the original event id)."""
    envelope = event.value["envelope"]
    return str(envelope.get("causation_id") or envelope["event_id"]) if moved else str(envelope["event_id"])


def contact_row(event: Event, *, moved: bool = False) -> list[Any] | None:
    """The row of a conversation's ``InteractionRecorded`` (``contact_rows.py``), or None for any other event."""
    if event.schema != CONTACT + "InteractionRecorded" or event.value.get("kind") not in CONVERSATIONS:
        return None
    return [occurred_us(event), event.value["envelope"]["channel"], matter_of(event.value),
            contact_id(event, moved=moved), list(identifier_keys(event)), contact_key(event),
            list(version_order(event))]


def add_contact(state: CustomerState, row: list[Any]) -> bool:
    """Adds the row, or replaces the row of an older version of its contact; False when nothing changed (a row of
    the same id, or of this or a newer version of the contact, is there: ``contact_rows.with_row``)."""
    rows = contact_rows.with_row(state.contacts, row, CONTACTS_KEPT)
    if rows is None:
        return False
    state.contacts = rows
    return True


def release_contact(state: CustomerState, contact: str) -> None:
    """A split moved ``contact`` to another customer: off this one's rows, and ignored if it arrives here late
    (marked applied), as the KPIs' ``released``."""
    state.contacts = [row for row in state.contacts if row[3] != contact]
    if not state.seen(contact):
        state.mark(contact)


def apply_business(state: CustomerState, event: Event, account_format: NumberFormat | None) -> None:
    """Products, accounts (tier, segment) and arrears from a legacy system's event (idempotent, and an account's
    facts order-safe: ``accounts.py``); its account number compared in ``account_format`` (the deployment's
    ``OMNIBUS_IDENTIFIERS__ACCOUNT_NUMBER_FORMAT``: another producer's ``900001`` is billing's ``CA-900001``)."""
    value, via = event.value, about(event, identifier_keys(event, account_format), account_format)
    name = event.schema.removeprefix(BUSINESS)
    number = account_number(str(value.get("account_number") or ""), account_format)
    at_us, undated = occurred_us(event), bool(value.get("undated"))  # undated: only the export's time
    if name == "ProductSubscribed":
        code = value["product_code"]
        if account_book.subscribed(state.accounts, number, code, via, at_us, undated):
            state.products[code] = list(dict.fromkeys([*state.products.get(code, []), *via]))
    elif name == "ProductCancelled":
        code = value.get("product_code") or ""
        if account_book.cancelled(state.accounts, number, code, at_us, undated, via):
            state.products.pop(code, None)
    elif name in ("AccountOpened", "AccountClosed"):
        state.accounts = account_book.seeded(state.accounts, state.profile, state.fact_via)
        if name == "AccountOpened":
            facts = {"segment": str(value.get("account_type") or ""),
                     "service_tier": str(value.get("service_tier") or "")}
            account_book.opened(state.accounts, number, at_us, facts, via, undated)
        else:
            account_book.closed(state.accounts, number, at_us, undated)
        account_book.refresh(state.accounts, state.profile, state.fact_via)
    elif name == "PaymentOverdue":
        bill = str(value.get("bill_id") or value["envelope"]["event_id"])
        state.overdue[bill] = int(value.get("days_overdue") or 0)
        state.fact_via[OVERDUE_FACT + bill] = via


def apply_traits(state: CustomerState, event: Event) -> None:
    traits = event.value.get("traits") or {}
    if traits.get("country"):
        state.profile["region"] = str(traits["country"]).upper()
    if traits.get("city"):
        state.profile["city"] = str(traits["city"])
