"""Identifier types, from the contract (``schemas.enums``, read from ``IdentifierType.avsc``), never re-typed.

``IDENTIFIER_TYPES`` are the symbols a producer may write, in the contract's order (without ``UNKNOWN``,
which only readers fall back to); ``SECRET_TYPES`` are the ones that never travel raw on a topic: they
are replaced by a keyed token where the value enters (see ``bus.identifiers.tokens``).
"""

from __future__ import annotations

from schemas.enums import UNKNOWN, symbols

IDENTIFIER_TYPES: tuple[str, ...] = tuple(s for s in symbols("omnibus.common.IdentifierType") if s != UNKNOWN)
PHONE, EMAIL, NATIONAL_ID, ACCOUNT, CARD, DEVICE, ANONYMOUS_ID, USER_ID = (
    "PHONE", "EMAIL", "NATIONAL_ID", "ACCOUNT", "CARD", "DEVICE", "ANONYMOUS_ID", "USER_ID",
)
SECRET_TYPES = frozenset({NATIONAL_ID, CARD})

_missing = {PHONE, EMAIL, NATIONAL_ID, ACCOUNT, CARD, DEVICE, ANONYMOUS_ID, USER_ID} - set(IDENTIFIER_TYPES)
if _missing:  # pragma: no cover - guards the names above against a contract change
    raise ImportError(f"IdentifierType.avsc lacks {sorted(_missing)}")
