"""A layout's fields that leave only as tokens, and the import refused before reading while no token key is set.

A national ID and a card number are published only as their keyed token (``bus.identifiers.tokens``): without
``OMNIBUS_IDENTIFIERS__HMAC_KEY`` they cannot be published at all. Imported all the same, a customer master would
lose every national ID (a card line is refused whole), and a keyed line would no longer be compared as before: its
content is compared with its identifiers as tokens (``keys.spelled_fields``), so an unchanged line whose ID could
not be tokenised would read as changed and be published again as a newer fact, without its ID. So ``import-batch``
and ``check-layout`` refuse such a layout once, before a line is read: exit 2, bad settings (docs/legacy-batch.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from adapters.legacy.mapper import CARD_FIELDS, IDENTIFIER_FIELD_KINDS
from bus.identifiers import IdentifierNormaliser
from bus.identifiers.kinds import CARD, NATIONAL_ID, SECRET_TYPES
from bus.identifiers.national_id import SCHEMES_VARIABLE
from bus.identifiers.settings import HMAC_KEY_VARIABLE
from bus.identifiers.tokens import is_token

_WORDS = {NATIONAL_ID: "national IDs", CARD: "card numbers"}  # a kind as the error names it


def token_fields(fields: Iterable[str]) -> list[str]:
    """The names among a layout's ``fields`` whose value leaves only as a token: a national ID (``national_id``) or
    a card number (``mapper.CARD_FIELDS``), in the layout's order."""
    return [name for name in fields if name in CARD_FIELDS or IDENTIFIER_FIELD_KINDS.get(name) in SECRET_TYPES]


def spelled_as_written(spelled: Mapping[str, Any], names: Iterable[str]) -> bool:
    """Whether one of the fields ``names`` (``token_fields``) of a line, spelled as ``keys.spelled_fields`` spells
    them, holds a value that is not its token: one the normaliser refused under this run's settings (no key, no
    national ID scheme, or a value that is not one), which no digest taken with its token matches."""
    return any(spelled.get(name) not in (None, "")
               and not is_token(IDENTIFIER_FIELD_KINDS.get(name, CARD), str(spelled[name])) for name in names)


def without_token_key(fields: Iterable[str], normaliser: IdentifierNormaliser) -> str | None:
    """The error of a layout of ``fields`` naming a national ID or a card number while ``normaliser`` has no token
    key, said once before a line is read (exit 2, bad settings); it also names the national ID schemes when the layout
    reads national IDs and the deployment chose none (so a second run does not stop on them). None when the layout
    names no such field or a key is set. Names fields and settings, never a value."""
    named = token_fields(fields)
    if not named or normaliser.tokenises:
        return None
    kinds = {IDENTIFIER_FIELD_KINDS.get(name, CARD) for name in named}  # new_card_number: a card too
    what = " and ".join(_WORDS[kind] for kind in sorted(kinds))
    schemes = "" if NATIONAL_ID not in kinds or normaliser.settings.national_id_schemes_configured else (
        f" (and {SCHEMES_VARIABLE}, the national ID schemes it checks: none is set)")
    return (f"it reads {what} ({', '.join(named)}), published only as tokens, and no HMAC key is set: set "
            f"{HMAC_KEY_VARIABLE} (the key identity tokenises with){schemes} and run again; nothing was read or "
            "published")
