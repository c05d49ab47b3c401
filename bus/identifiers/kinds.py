"""Identifier types, read from the contract (``schemas/common/IdentifierType.avsc``), never re-typed.

``IDENTIFIER_TYPES`` are the symbols a producer may write (the contract's list without ``UNKNOWN``,
which only readers fall back to); ``SECRET_TYPES`` are the ones that never travel raw on a topic: they
are replaced by a keyed token where the value enters (see ``bus.identifiers.tokens``).
"""

from __future__ import annotations

from schemas.enums import UNKNOWN, symbols

# In the contract's declaration order (``schemas.enums.IDENTIFIER_TYPES`` is the same set, unordered).
IDENTIFIER_TYPES: tuple[str, ...] = tuple(s for s in symbols("omnibus.common.IdentifierType") if s != UNKNOWN)
# The types code names on purpose; the guard below fails at import if the contract loses one.
PHONE = "PHONE"
EMAIL = "EMAIL"
NATIONAL_ID = "NATIONAL_ID"
ACCOUNT = "ACCOUNT"
CARD = "CARD"
DEVICE = "DEVICE"
ANONYMOUS_ID = "ANONYMOUS_ID"
USER_ID = "USER_ID"
SECRET_TYPES = frozenset({NATIONAL_ID, CARD})

missing = {PHONE, EMAIL, NATIONAL_ID, ACCOUNT, CARD, DEVICE, ANONYMOUS_ID, USER_ID} - set(IDENTIFIER_TYPES)
if missing:  # pragma: no cover - guards the names above against a contract change
    raise ImportError(f"IdentifierType.avsc lacks {sorted(missing)}")
