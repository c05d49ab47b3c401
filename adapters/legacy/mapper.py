"""A business fact from a legacy system (outbox row, polled row, batch-file line) → ``omnibus.business`` event.

Every source gives the same thing: an event type and a flat mapping of fields. Event types are matched
loosely (``AccountOpened``, ``account_opened`` and ``account.opened`` are one type). The fields each
event needs, as JSON or as text from a file:

- every event: ``account_number`` (``OrderStatusChanged``: optional, ``order_id`` instead), and optional
  identifiers ``national_id``, ``card_number``, ``phone`` / ``mobile`` / ``landline`` (each a ``PHONE``: a
  customer master's landline and mobile columns both), ``email``, ``customer_id`` (the system's own customer
  number: a ``CUSTOMER_NUMBER``, not the ``USER_ID`` of a web login), ``iban`` / ``bank_account``
  (the holder's bank account, e.g. a direct-debit IBAN: an ``ACCOUNT`` identifier as the web, counter and
  call-center adapters take it), ``supply_point`` / ``meter_point_id`` (the number of the place the
  account supplies: a metering point's PRM/PDL, EAN or EIC, a line's installation number: a ``SUPPLY_POINT``) (a list
  ``customer_identifiers`` of ``{type, value}`` is also taken),
  normalised by ``bus.identifiers`` with the source's phone region; national IDs and card numbers leave as tokens
  only;
- optionally a person's traits under the standard keys or their usual spellings (``given_name`` /
  ``first_name``, ``family_name`` / ``last_name``, ``birth_date`` / ``date_of_birth``, ``address_line``,
  ``postcode`` / ``zip``, ``city``, ``country``...): they, and any identifier that could not be normalised,
  also go to ``identity.observed.v1`` as an ``IdentifiersObserved``, which the business event names in
  ``traits_event_id`` when it has traits (identity weighs the holder's identifiers with them: a joint account's
  two holders, one line each, stay two customers);
- ``AccountOpened``: ``account_type``, ``service_tier``; ``AccountClosed``: ``reason``;
- ``ProductSubscribed``/``ProductCancelled``: ``subscription_id``, ``product_code``, ``product_name`` /
  ``reason``, ``effective_at``;
- ``AccountOpened`` and ``ProductSubscribed`` optionally ``holder_role``: the line's holder's role on a family or
  joint account (``adapters.legacy.roles``: ``payer``, ``member``...), on the business event and its
  ``IdentifiersObserved`` (identity gives the account to a payer before a member);
- ``BillIssued``: ``bill_id``, ``amount`` (+ ``currency``), ``period_start_date``, ``period_end_date``,
  ``due_date``; ``PaymentOverdue``: ``bill_id``, ``amount_due`` (+ ``currency``), ``due_date``,
  ``days_overdue`` (computed from the due date if absent);
- ``OrderStatusChanged``: ``order_id``, ``status`` (the system's own word, mapped to the common
  statuses by English, Spanish and Portuguese words, ``adapters.legacy.statuses``; kept in ``source_status``),
  ``previous_status``, ``product_code``;
- ``CardStatusChanged``: ``card_number`` (required: the card, published as its token), ``card_status`` (the
  system's word: ``active``, ``blocked`` / ``stolen`` / ``lost``, ``replaced``, ``cancelled``...; kept in
  ``source_status``), ``reason``, ``new_card_number`` (the card issued in its place), ``account_number`` optional
  (a card reported stolen stayed on the screen pop as any other card).

Amounts are a decimal in major units (``"19.99"``), a ``{amount_minor, currency}`` object, or
``<name>_minor`` in minor units. Events go to ``business.events.v1`` keyed by account (by order when
an order names no account, by the card's token when a card's record names none).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cached_property
from typing import Any

from adapters.base import clock
from adapters.base.card_status import CARD_STATUS_FIELD, card_status
from adapters.base.envelope import make_envelope
from adapters.base.errors import RejectedInput
from adapters.base.identifiers import edge_normaliser, observed
from adapters.base.mapper import MappedRecord
from adapters.legacy import roles, values
from adapters.legacy.handoffs import HANDOFF_BUILDERS
from adapters.legacy.statuses import ORDER_STATUS
from bus.identifiers import Found, IdentifierNormaliser, IdentifierSettings
from bus.identifiers.account import IBAN_CHECKSUM, normalise_account
from bus.identifiers.kinds import ACCOUNT, SUPPLY_POINT
from bus.identifiers.model import NotAnIdentifier, Rejected
from bus.identifiers.normaliser import NO_TOKEN_KEY_CODE
from bus.identifiers.settings import HMAC_KEY_VARIABLE
from bus.identifiers.traits import phone_region, standard_traits
from bus.producer import Outgoing
from bus.references import References, phones_of
from bus.serde import Event

NAMESPACE = "omnibus.business"
COMPONENT = "legacy"  # the component label of this adapter's identifier and trait metrics


@dataclass(frozen=True)
class BusinessRecord:
    """One fact with its source's id (``dedupe_id``: outbox row, row version, file line or business key, the
    version a changed keyed line is; its events' ids derive from it) and the record it is a version of
    (``record_key``: a ``HandoffCreated``'s case is named after it, ``adapters.legacy.handoffs``).

    ``undated``: the source gave no time for the fact, ``occurred_at`` is the export's (a batch file's modification
    time): the business event says so (its ``undated`` field), so a dated fact outranks it."""

    event_type: str
    fields: Mapping[str, Any]
    dedupe_id: str
    occurred_at: datetime
    undated: bool = False
    # the record this fact is one version of, the same for each (a polled row ``poll:<poller>:<key>``, a keyed batch
    # line ``batch:<layout>:key-<32 hex>``); None: a record with one version (an outbox row, an unkeyed line)
    record_key: str | None = None
    # the instant of this version where the source orders them (a polled row's ``updated_at``, a keyed line's date or
    # else its file's ``exported_at`` / modification time), else None
    record_version: datetime | None = None


@dataclass(frozen=True)
class LegacyContext:
    """Where one source's events go and how its values are read.

    ``identity_topic`` receives an ``IdentifiersObserved`` for records with traits or rejected identifiers
    (None: only the business event); ``phone_region`` reads national phone numbers (None:
    ``OMNIBUS_IDENTIFIERS__DEFAULT_REGION``); ``identifiers`` None reads ``OMNIBUS_IDENTIFIERS__*``.
    """

    source_system: str
    topic: str
    default_currency: str = values.NO_REGION_CURRENCY  # ``config.deployment_currency``
    identity_topic: str | None = None
    phone_region: str | None = None
    identifiers: IdentifierSettings | None = None
    handoff_topic: str | None = None  # None: rows of the handoff types are refused (adapters/legacy/handoffs.py)
    future_tolerance_s: float = clock.DEFAULT_FUTURE_TOLERANCE_S
    # business references a handoff's summary keeps whole and its intake facts carry
    reference_fields: tuple[str, ...] = ()
    # a layout's own status words (``Layout.status_words``: a card's or an order's, ``statuses``), read before the
    # built-in ones
    status_words: Mapping[str, str] = field(default_factory=dict, hash=False)

    @cached_property
    def normaliser(self) -> IdentifierNormaliser:
        return edge_normaliser(self.identifiers, region=self.phone_region, component=COMPONENT)

    @cached_property
    def references(self) -> References:
        return References.of(self.reference_fields, self.normaliser)


Builder = Callable[["Fields"], dict[str, Any]]
# The holder's bank account (a direct-debit IBAN), an ACCOUNT identifier beside the record's own account_number.
BANK_ACCOUNT_FIELDS = ("iban", "bank_account")
# The supply point the account serves (a meter's PRM/PDL or EAN, a line's installation number), under its standard
# name and a utility export's usual one (a layout mapping PRM to meter_point_id was refused).
SUPPLY_POINT_FIELDS = ("supply_point", "meter_point_id")
# A holder's phones: an export with a landline and a mobile column gives both (a layout mapped one
# ``phone``, so every mobile of an Italian customer master, TELEFONO beside CELLULARE, was lost).
PHONE_FIELDS = ("phone", "mobile", "landline")
# The fields holding one identifier each, with its kind, in the order a record's identifiers are listed: the
# system of record's own customer number is a CUSTOMER_NUMBER, never a web login's USER_ID.
IDENTIFIER_FIELD_KINDS: dict[str, str] = {
    "account_number": "ACCOUNT", "national_id": "NATIONAL_ID", "card_number": "CARD",
    **dict.fromkeys(PHONE_FIELDS, "PHONE"), "email": "EMAIL", "customer_id": "CUSTOMER_NUMBER",
    **dict.fromkeys(BANK_ACCOUNT_FIELDS, "ACCOUNT"), **dict.fromkeys(SUPPLY_POINT_FIELDS, SUPPLY_POINT),
}
_TEXT_IDENTIFIER_FIELDS = (*PHONE_FIELDS, "email")  # read as text (``values.text``): a number or a list is refused
IDENTIFIER_FIELDS = (*IDENTIFIER_FIELD_KINDS, "customer_identifiers")


class Fields:
    """Typed access to a record's fields, refusing with the field's name."""

    def __init__(self, record: BusinessRecord, ctx: LegacyContext) -> None:
        self._values = record.fields
        self.record: BusinessRecord = record
        self.ctx: LegacyContext = ctx
        self.found = Found()

    def text(self, name: str, *, required: bool = True) -> str | None:
        return values.text(self._values.get(name), name, required=required)

    def day(self, name: str, *, required: bool = True) -> date | None:
        return values.day(self._values.get(name), name, required=required)

    def moment(self, name: str) -> datetime | None:
        return values.moment(self._values.get(name), name, required=False)

    def money(self, name: str) -> dict[str, Any]:
        currency = self.text(f"{name}_currency", required=False) or self.text("currency", required=False)
        return values.money(self._values.get(name), self._values.get(f"{name}_minor"), name,
                            currency or self.ctx.default_currency)

    def whole(self, name: str) -> int | None:
        return values.whole(self._values.get(name), name)

    def account_number(self, *, required: bool = True, key: bool = True) -> str | None:
        """The record's account number spelled as its ACCOUNT identifier is (``bus.identifiers.account``, in
        ``OMNIBUS_IDENTIFIERS__ACCOUNT_NUMBER_FORMAT`` when set), so the business event, its Kafka key,
        the screen pop's accounts and identity's node agree.
        ``key``: the number is the record's key (a business event's ``account_number`` and Kafka key). An IBAN with
        wrong check digits (``iban-checksum``) then refuses the record (``RejectedInput`` ``malformed_field``,
        dead-lettered, never the value in the reason): published, it opened an account under a mistyped IBAN, one
        check digit away from a real account and masked as it is on the screen pop. So does a placeholder
        or test value (``0000000``, ``N/A``, ``-``: ``IdentifierNormaliser.is_placeholder``): published, every line
        with it was one account of one customer. Not a key (a handoff's intake fact), either is kept as written.
        Either way its ACCOUNT identifier is dropped."""
        raw = self.text("account_number", required=required)
        if raw is None:
            return None
        try:
            spelled = normalise_account(unicodedata.normalize("NFKC", raw).strip(),
                                        self.ctx.normaliser.settings.account_number_format)
        except NotAnIdentifier as exc:
            if key and exc.code == IBAN_CHECKSUM:
                raise RejectedInput(f"field account_number is malformed: {exc}; the record is keyed by it: correct "
                                    "the IBAN in the source", code="malformed_field") from None
            spelled = raw
        if key and self.ctx.normaliser.is_placeholder(ACCOUNT, raw):
            raise RejectedInput("field account_number is a placeholder or test value, not an account's number; the "
                                "record is keyed by it: put the account's number in the source", code="malformed_field")
        return spelled

    def declared_references(self) -> dict[str, str]:
        """The record's fields named as a declared business reference, in any spelling (``References.declared_in``:
        a utility's ``METER_POINT`` column or outbox field), kept whole or scrubbed as a property is: a
        value holding the record's own phone is scrubbed (``customer_identifiers`` read first)."""
        return self.ctx.references.declared_in(self._values, phones_of(self.found.records()))

    def customer_identifiers(self) -> list[dict[str, str]]:
        listed = self._values.get("customer_identifiers") or []
        if not isinstance(listed, list):
            raise RejectedInput("field customer_identifiers must be a list of {type, value}", code="malformed_field")
        listed_pairs = [(item["type"], item["value"]) for item in map(values.identifier, listed) if item]
        self.found = self.ctx.normaliser.collect([
            *((kind, self.text(name, required=False) if name in _TEXT_IDENTIFIER_FIELDS else self._values.get(name))
              for name, kind in IDENTIFIER_FIELD_KINDS.items()),
            *listed_pairs,
        ], region=phone_region(self._values))  # the record's own country reads its national phones
        return self.found.records()

    def traits(self) -> dict[str, str]:
        """The person's traits among the fields, under the standard keys."""
        return standard_traits(self._values, component=COMPONENT)


def _account(f: Fields) -> dict[str, Any]:
    return {"account_number": f.account_number(), "customer_identifiers": f.customer_identifiers()}


def _role(f: Fields) -> str | None:
    return roles.holder_role(f.text(roles.FIELD, required=False))


# The fields a card event is about: published only as the card's token, so without a token key it cannot be published.
CARD_FIELDS = ("card_number", "new_card_number")


def _card_token(f: Fields, name: str, raw: str | None) -> dict[str, str] | None:
    """The CARD identifier (its token) of ``raw``, the record's ``name`` field; ``RejectedInput`` when it is not a
    card number (the reason names the field and the rule, never the value), or when no token key is set (the reason
    names the setting: the source is not at fault; a file import says so before reading:
    ``adapters.legacy.token_fields``)."""
    if raw is None:
        return None
    card = f.ctx.normaliser.normalise("CARD", raw)
    if isinstance(card, Rejected) and card.code == NO_TOKEN_KEY_CODE:
        raise RejectedInput(f"field {name} cannot be published: no HMAC key is set ({HMAC_KEY_VARIABLE}), and a card "
                            "number leaves only as its token; set it and send the record again", code="malformed_field")
    if isinstance(card, Rejected):
        raise RejectedInput(f"field {name} is not a card number ({card.code}); the record is about that card: "
                            "correct it in the source", code="malformed_field")
    return card.as_record()


def _card(f: Fields) -> dict[str, Any]:
    # every field read before any is checked: ``reads.event_reads`` finds what a builder reads by running it
    number, new_number = f.text("card_number"), f.text("new_card_number", required=False)
    source_status, reason = f.text(CARD_STATUS_FIELD), f.text("reason", required=False)
    account, identifiers = f.account_number(required=False), f.customer_identifiers()
    card, replaced_by = _card_token(f, "card_number", number), _card_token(f, "new_card_number", new_number)
    for known in (card, replaced_by):  # the card and the one issued in its place are the holder's
        if known is not None and known not in identifiers:
            identifiers.append(known)
    return {"card": card, "status": card_status(source_status or "", f.ctx.status_words),
            "source_status": source_status,
            "reason": reason, "replaced_by": replaced_by, "account_number": account,
            "customer_identifiers": identifiers}


def _overdue_days(f: Fields, due: date | None) -> int:
    given = f.whole("days_overdue")
    if given is not None:
        return given
    return max(0, (f.record.occurred_at.astimezone(UTC).date() - due).days) if due else 0


BUILDERS: dict[str, Builder] = {
    "AccountOpened": lambda f: {**_account(f), "account_type": f.text("account_type"),
                                "service_tier": f.text("service_tier", required=False), "holder_role": _role(f)},
    "AccountClosed": lambda f: {**_account(f), "reason": f.text("reason", required=False)},
    "ProductSubscribed": lambda f: {**_account(f), "subscription_id": f.text("subscription_id"),
                                    "product_code": f.text("product_code"),
                                    "product_name": f.text("product_name", required=False),
                                    "effective_at": f.moment("effective_at"), "holder_role": _role(f)},
    "ProductCancelled": lambda f: {**_account(f), "subscription_id": f.text("subscription_id"),
                                   "product_code": f.text("product_code"), "reason": f.text("reason", required=False),
                                   "effective_at": f.moment("effective_at")},
    "BillIssued": lambda f: {**_account(f), "bill_id": f.text("bill_id"), "amount": f.money("amount"),
                             "period_start_date": f.day("period_start_date"),
                             "period_end_date": f.day("period_end_date"), "due_date": f.day("due_date")},
    "PaymentOverdue": lambda f: {**_account(f), "bill_id": f.text("bill_id"), "amount_due": f.money("amount_due"),
                                 "due_date": f.day("due_date"),
                                 "days_overdue": _overdue_days(f, f.day("due_date"))},
    "OrderStatusChanged": lambda f: {
        "order_id": f.text("order_id"), "account_number": f.account_number(required=False),
        "customer_identifiers": f.customer_identifiers(),
        "status": ORDER_STATUS.status(f.text("status"), f.ctx.status_words),
        "previous_status": ORDER_STATUS.status(f.text("previous_status", required=False), f.ctx.status_words),
        "source_status": f.text("status"), "product_code": f.text("product_code", required=False),
    },
    "CardStatusChanged": _card,
}
_CANONICAL = {re.sub(r"[^a-z]", "", name.lower()): name for name in (*BUILDERS, *HANDOFF_BUILDERS)}


def canonical_event_type(raw: str) -> str:
    """``account.opened`` / ``account_opened`` / ``AccountOpened`` → ``AccountOpened``."""
    squeezed = re.sub(r"[^a-z]", "", str(raw).lower())
    found = _CANONICAL.get(squeezed)
    if found is None:
        hint = CUSTOMER_RECORD_HINT if any(word in squeezed for word in CUSTOMER_RECORD_WORDS) else ""
        raise RejectedInput(f"unknown event type {str(raw)[:60]!r}; known: {', '.join(_CANONICAL.values())}{hint}",
                            code="unknown_event_type")
    return found


# a core-banking CDC stream is mostly rows of the customer table (CustomerAddressChanged...), which
# were refused naming only the account and billing types. The facts of a customer's own record travel with their
# accounts' AccountOpened, as a master-data export's changed line does (docs/legacy-batch.md, "Master data").
CUSTOMER_RECORD_WORDS = ("customer", "client", "person", "party", "address", "phone", "email", "contact")
CUSTOMER_RECORD_HINT = (
    ". A change to a customer's own record (address, phone, e-mail, name) has no type of its own: send it as an "
    "AccountOpened row per open account of the customer, with the account's account_type and service_tier and the new "
    "values (docs/legacy-batch.md, \"A customer's own record\")")


def map_business(record: BusinessRecord, ctx: LegacyContext) -> MappedRecord:
    event_type = canonical_event_type(record.event_type)
    fields = Fields(record, ctx)
    if event_type in HANDOFF_BUILDERS:
        return _map_handoff(record, ctx, event_type, fields)
    body = BUILDERS[event_type](fields)
    # A business system whose clock runs ahead is moved back to now (adapters.base.clock).
    occurred_at = clock.in_range(record.occurred_at, "occurred_at", "record")
    occurred_at = clock.future_skew(occurred_at, datetime.now(UTC), tolerance_s=ctx.future_tolerance_s,
                                    source_system=ctx.source_system).apply(occurred_at)  # type: ignore[assignment]
    envelope = make_envelope(source_system=ctx.source_system, channel="BUSINESS_SYSTEM",
                             source_event_id=record.dedupe_id, occurred_at=occurred_at)
    key = body.get("account_number") or body.get("order_id") or (body.get("card") or {}).get("value")
    traits, seen = fields.traits(), None
    if ctx.identity_topic and (fields.found.rejected or (traits and fields.found.identifiers)):
        seen_envelope = make_envelope(source_system=ctx.source_system, channel="BUSINESS_SYSTEM",
                                      source_event_id=record.dedupe_id, occurred_at=occurred_at,
                                      discriminator="identifiers", correlation_id=envelope["event_id"])
        # the line's role travels with its holder's identifiers too: both rank the account in identity
        seen = observed(ctx.identity_topic, seen_envelope, fields.found, traits, fallback_key=str(key),
                        holder_role=body.get(roles.FIELD))
    # The event names the record with its holder's traits, as a call names its IVR record: identity weighs the
    # holder's identifiers with them (one line per holder of a joint account: the second holder's e-mail and phone
    # must not join the first holder's customer through the account, unweighed).
    named = seen is not None and traits and fields.found.identifiers
    body["traits_event_id"] = seen.event.value["envelope"]["event_id"] if named else None  # type: ignore[union-attr]
    body["undated"] = record.undated
    events = [Outgoing(ctx.topic, key, Event(f"{NAMESPACE}.{event_type}", {"envelope": envelope, **body}))]
    if seen is not None:
        events.append(seen)  # identifiers or rejections
    return MappedRecord(dedupe_id=f"{ctx.source_system}:{record.dedupe_id}", events=tuple(events))


def _map_handoff(record: BusinessRecord, ctx: LegacyContext, event_type: str, fields: Fields) -> MappedRecord:
    """A row of a handoff type: one lifecycle event on ``handoff.events.v1`` keyed by the handoff id."""
    if ctx.handoff_topic is None:
        raise RejectedInput(f"{event_type} rows are not taken by this source", code="unknown_event_type")
    body = HANDOFF_BUILDERS[event_type](fields)
    occurred_at = clock.in_range(record.occurred_at, "occurred_at", "record")
    envelope = make_envelope(source_system=ctx.source_system, channel="BACK_OFFICE",
                             source_event_id=record.dedupe_id, occurred_at=occurred_at)
    event = Event(f"omnibus.handoff.{event_type}", {"envelope": envelope, **body})
    return MappedRecord(dedupe_id=f"{ctx.source_system}:{record.dedupe_id}",
                        events=(Outgoing(ctx.handoff_topic, body["handoff_id"], event),))
