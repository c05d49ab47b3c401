"""Identifier types, from the contract (``schemas.enums``, read from ``IdentifierType.avsc``), never re-typed.

``IDENTIFIER_TYPES`` are the symbols a producer may write, in the contract's order (without ``UNKNOWN``,
which only readers fall back to); ``ALIASES`` are names a sender may also write, read as a contract symbol
(never published: an IBAN is an ACCOUNT on every topic); ``SECRET_TYPES`` are the ones that never travel raw on a
topic: they are replaced by a keyed token where the value enters (see ``bus.identifiers.tokens``).
"""

from __future__ import annotations

from schemas.enums import UNKNOWN, symbols

IDENTIFIER_TYPES: tuple[str, ...] = tuple(s for s in symbols("omnibus.common.IdentifierType") if s != UNKNOWN)
# The symbols the normaliser has a rule of its own for (the others are trimmed).
PHONE, EMAIL, NATIONAL_ID, CARD, DEVICE, ACCOUNT = "PHONE", "EMAIL", "NATIONAL_ID", "CARD", "DEVICE", "ACCOUNT"
# A system of record's own number for its customer (a legacy layout's or CDC row's ``customer_id``), never a web login
# (USER_ID, a Segment userId): two systems' keys, each with its own per-customer limit.
CUSTOMER_NUMBER = "CUSTOMER_NUMBER"
# The number of the place a service is delivered to (a utility's metering point, a telecom's line or installation
# number): billing gives it to the holder of the contract, and to the next tenant once that one closed.
SUPPLY_POINT = "SUPPLY_POINT"
USER_ID = "USER_ID"  # a web or app login: one per customer; the identity matcher's ``login`` level reads it
# A system of record's keys for its customer: the account (an IBAN is one), the account's cards and its own customer
# number. Typed by a person (on an IVR keypad, in a web form) such a value is that person's claim, and identity links
# what comes with it (the caller's phone, the visitor's login) to its holder: an adapter reads one as an identifier only
# where the deployment says its flow verified it (call center ``verified_record_attributes``, web
# ``identifier_traits``). Identity ranks a record's own on these (``processors.identity.rules.RECORD_KINDS``).
RECORD_KEYS = frozenset({ACCOUNT, CARD, CUSTOMER_NUMBER})
# The keys a master record holds that anyone may learn and type: a record key, and a national ID (a Spanish DNI is on
# contracts, invoices and rental files, known to relatives; not a secret). Typed in a web form or given to an IVR, one
# is the person's claim, not proof, and identity ranks a national ID above every other key (a master record's own), so
# a visitor who typed another customer's DNI joined his login, e-mail and phone to that customer's master record and
# took its one login place. An adapter reads one only where the deployment says its flow verified it
# (web ``identifier_traits``, call center ``verified_record_attributes``); a claimed one is left off and named.
CLAIMABLE_KEYS = RECORD_KEYS | {NATIONAL_ID}
SECRET_TYPES = frozenset({NATIONAL_ID, CARD})
# Input names of a contract symbol: a bank integrator sends an IBAN as IBAN; subscribers see ACCOUNT.
ALIASES: dict[str, str] = {"IBAN": ACCOUNT}
# What a sentence calls each kind, with its article ("release of a ACCOUNT identifier").
LABELS: dict[str, str] = {
    PHONE: "a phone number", EMAIL: "an e-mail address", NATIONAL_ID: "a national ID", ACCOUNT: "an account number",
    CARD: "a card number", DEVICE: "a device id", "ANONYMOUS_ID": "an anonymous id", USER_ID: "a web login",
    CUSTOMER_NUMBER: "a customer number", SUPPLY_POINT: "a supply point number",
}
_RULED = {PHONE, EMAIL, NATIONAL_ID, CARD, DEVICE, ACCOUNT, CUSTOMER_NUMBER, USER_ID, SUPPLY_POINT}
if not _RULED <= set(IDENTIFIER_TYPES):  # pragma: no cover
    raise ImportError("IdentifierType.avsc lost a symbol bus/identifiers has a rule for")
if set(LABELS) != set(IDENTIFIER_TYPES):  # pragma: no cover
    raise ImportError("bus.identifiers.kinds.LABELS does not name every IdentifierType.avsc symbol")


def label(kind: str) -> str:
    """The kind in a sentence, with its article: ``ACCOUNT`` → ``an account number``, ``EMAIL`` → ``an e-mail
    address``; a kind without a label (an alias, an unknown name) → ``an identifier``."""
    return LABELS.get(kind_of(kind), "an identifier")


def kind_of(name: str) -> str:
    """The contract symbol a sender's type name stands for: ``"iban"`` → ``ACCOUNT``, ``" phone"`` → ``PHONE``;
    an unknown name is returned upper-cased (the caller refuses it)."""
    kind = name.strip().upper()
    return ALIASES.get(kind, kind)
