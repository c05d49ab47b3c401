"""Identifier types, read from the contract (``schemas/common/IdentifierType.avsc``), never re-typed.

``IDENTIFIER_TYPES`` are the symbols a producer may write (the contract's list without ``UNKNOWN``,
which only readers fall back to); ``SECRET_TYPES`` are the ones that never travel raw on a topic: they
are replaced by a keyed token where the value enters (see ``bus.identifiers.tokens``).
"""

from __future__ import annotations

import json
from pathlib import Path

import schemas

_CONTRACT = Path(schemas.__file__).parent / "common" / "IdentifierType.avsc"
_SYMBOLS: tuple[str, ...] = tuple(json.loads(_CONTRACT.read_text(encoding="utf-8"))["symbols"])

UNKNOWN = "UNKNOWN"
IDENTIFIER_TYPES: tuple[str, ...] = tuple(symbol for symbol in _SYMBOLS if symbol != UNKNOWN)
PHONE, EMAIL, NATIONAL_ID, ACCOUNT, CARD, DEVICE, ANONYMOUS_ID, USER_ID = (
    "PHONE", "EMAIL", "NATIONAL_ID", "ACCOUNT", "CARD", "DEVICE", "ANONYMOUS_ID", "USER_ID",
)
SECRET_TYPES = frozenset({NATIONAL_ID, CARD})

missing = {PHONE, EMAIL, NATIONAL_ID, ACCOUNT, CARD, DEVICE, ANONYMOUS_ID, USER_ID} - set(IDENTIFIER_TYPES)
if missing:  # pragma: no cover - guards the names above against a contract change
    raise ImportError(f"IdentifierType.avsc lacks {sorted(missing)}")
