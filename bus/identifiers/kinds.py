"""Identifier types, from the contract (``schemas.enums``, read from ``IdentifierType.avsc``), never re-typed.

``IDENTIFIER_TYPES`` are the symbols a producer may write, in the contract's order (without ``UNKNOWN``,
which only readers fall back to); ``SECRET_TYPES`` are the ones that never travel raw on a topic: they
are replaced by a keyed token where the value enters (see ``bus.identifiers.tokens``).
"""

from __future__ import annotations

from schemas.enums import UNKNOWN, symbols

IDENTIFIER_TYPES: tuple[str, ...] = tuple(s for s in symbols("omnibus.common.IdentifierType") if s != UNKNOWN)
# The symbols the normaliser has a rule of its own for (the others are trimmed).
PHONE, EMAIL, NATIONAL_ID, CARD, DEVICE = "PHONE", "EMAIL", "NATIONAL_ID", "CARD", "DEVICE"
SECRET_TYPES = frozenset({NATIONAL_ID, CARD})
if not {PHONE, EMAIL, NATIONAL_ID, CARD, DEVICE} <= set(IDENTIFIER_TYPES):  # pragma: no cover
    raise ImportError("IdentifierType.avsc lost a symbol bus/identifiers has a rule for")
