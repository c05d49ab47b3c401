"""Keyed tokens that stand for secrets (national IDs, card numbers) on every topic and in every table.

Token = prefix + the first 32 hex digits (128 bits) of HMAC-SHA-256(key, ``TYPE:canonical``) (RFC 2104):
``nid1:…`` for NATIONAL_ID, ``card1:…`` for CARD. Keyed, because a national ID has too few possible values
for a plain hash to hide it; deterministic, so the same number seen on two channels links. The key is
``OMNIBUS_IDENTIFIERS__HMAC_KEY`` (see ``bus.identifiers.settings``); changing it changes every token. The shapes are
declared in ``bus.issued_ids`` (the scrubber of free text passes them untouched).
"""

from __future__ import annotations

import hashlib
import hmac

from bus.identifiers.masking import NATIONAL_ID_TOKEN
from bus.issued_ids import SECRET_TOKEN_HEX_DIGITS as TOKEN_HEX_DIGITS
from bus.issued_ids import SECRET_TOKEN_PREFIXES as TOKEN_PREFIXES


def token(key: bytes, kind: str, canonical: str) -> str:
    """The token of a secret of type ``kind`` (NATIONAL_ID or CARD) in its canonical form."""
    digest = hmac.new(key, f"{kind}:{canonical}".encode(), hashlib.sha256).hexdigest()[:TOKEN_HEX_DIGITS]
    return f"{TOKEN_PREFIXES[kind]}{digest}"


def is_token(kind: str, value: str) -> bool:
    """True for a value that already is a token of ``kind`` (normalising a token leaves it unchanged)."""
    if kind == "NATIONAL_ID":
        return bool(NATIONAL_ID_TOKEN.match(value))
    prefix = TOKEN_PREFIXES.get(kind)
    if prefix is None or not value.startswith(prefix):
        return False
    tail = value[len(prefix):]
    return len(tail) == TOKEN_HEX_DIGITS and all(ch in "0123456789abcdef" for ch in tail)
