"""Masked display forms of identifiers: enough to recognise one on a screen, not enough to use it."""

from __future__ import annotations

import re
from collections.abc import Iterable

NATIONAL_ID_TOKEN = re.compile(r"^nid1:[0-9a-f]{32}$")
CARD_TOKEN = re.compile(r"^card1:[0-9a-f]{32}$")  # bus.identifiers.tokens
# Kinds shown by their last four characters (``****0005``), as a statement prints an account: their first characters
# are the issuer's, the same for every customer. A customer number (the bank's own CIF, which an agent reads back to
# the caller) showed its first four, so C-770002 and C-770003 were both ``C-77…`` on the screen pop (tester25 F6).
# A supply point number too: its first digits are the grid's or the operator's (a French PRM's, a GSRN's ``5414``).
LAST_FOUR_KINDS = ("ACCOUNT", "CARD", "CUSTOMER_NUMBER", "SUPPLY_POINT")
# The letters an account or a customer number starts with (a billing system's ``CA-``, a bank's ``C-``, an IBAN's
# country): kept before the mask, so that a contract number and a customer number ending alike are told apart on one
# screen pop (``CA-****0002``, ``C-****0002``; tester26 F10). They say which system issued it, not whose it is.
KEPT_PREFIX = re.compile(r"[A-Za-z]{1,4}[-_ /.]?(?=[\d*])")  # "*": a masked value masks as it is
PREFIX_KINDS = ("ACCOUNT", "CUSTOMER_NUMBER")


def mask(kind: str, value: str) -> str:
    """A display form that shows enough to recognise an identifier and not enough to use it.

    A card is shown by its own last four digits only when it is a number (``****1111``, as a receipt prints
    it); a token (our ``card1:`` or an issuer's) shows as one, ``card1:…f0a1``, so that the end of a token is
    never read as the card's last four (new-user finding #6). An account and a customer number show their last four
    too (``LAST_FOUR_KINDS``), after the letters they start with (``KEPT_PREFIX``: ``CA-****0002``, ``C-****0002``).
    The same mask serves a log line and an answer to an authorised caller (the screen pop), so neither ever carries
    more of a value than this."""
    if kind == "PHONE":
        return value[:3] + "*" * max(len(value) - 7, 0) + value[-4:] if len(value) > 7 else "*" * len(value)
    if kind == "EMAIL":
        local, _, domain = value.partition("@")
        return f"{local[:1]}***@{domain}"
    if kind == "NATIONAL_ID":
        return f"nid1:…{value[-4:]}" if NATIONAL_ID_TOKEN.match(value) else "[national id]"
    if kind == "CARD" and CARD_TOKEN.match(value):
        return f"card1:…{value[-4:]}"
    if kind == "CARD" and not value.isdigit():
        return f"token …{value[-4:]}" if len(value) > 8 else "token …"
    if kind in LAST_FOUR_KINDS:
        prefix = KEPT_PREFIX.match(value) if kind in PREFIX_KINDS else None
        head = prefix.group(0) if prefix is not None and len(value) - prefix.end() > 4 else ""
        return head + "****" + value[-4:] if len(value) > 4 else "****"
    return value[:4] + "…" if len(value) > 4 else "…"


def mask_keys(keys: Iterable[str]) -> list[str]:
    """``TYPE:value`` keys as ``TYPE:masked``, in their order. Two different values with the same mask (accounts
    1000009 and 2000009 are both ``****0009``) are told apart by a number in order of appearance,
    ``ACCOUNT:****0009 (1)`` and ``ACCOUNT:****0009 (2)``, which says nothing more about either value; a mask
    that no other value shares stays as it is (new-user finding #6)."""
    parsed = [(kind, value) for kind, _, value in (key.partition(":") for key in keys)]
    values_of: dict[str, list[str]] = {}
    for kind, value in parsed:
        shown = f"{kind}:{mask(kind, value)}"
        if value not in values_of.setdefault(shown, []):
            values_of[shown].append(value)
    masked = []
    for kind, value in parsed:
        shown = f"{kind}:{mask(kind, value)}"
        values = values_of[shown]
        masked.append(f"{shown} ({values.index(value) + 1})" if len(values) > 1 else shown)
    return masked
