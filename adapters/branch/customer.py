"""The customer at the counter: the identifiers the clerk keyed or the terminal read (``identifiers``) and the
person's traits (the ``customer`` object: name, date of birth, address, under the standard trait keys of
``bus.identifiers.traits`` or their usual spellings)."""

from __future__ import annotations

from typing import Any

from adapters.base.errors import combined
from adapters.branch import errors
from adapters.branch.fields import COUNTER_IDENTIFIER_TYPES, required_text
from bus.identifiers import Found, IdentifierNormaliser
from bus.identifiers.kinds import kind_of
from bus.identifiers.traits import TRAIT_KEYS, phone_region, standard_traits, unread_keys


def identifiers(normaliser: IdentifierNormaliser, raw: Any, person: Any = None) -> Found:
    """``[{"type": "phone", "value": "+33..."}]``: types are case-insensitive (``iban`` is an ACCOUNT), values
    normalised by ``normaliser``; a national phone in the region of the ``customer`` object's (``person``)
    ``country``, if any, else the branch's. Raises ``EventRejected`` for a list that is not one of
    ``{type, value}`` or names a type a counter does not take (``COUNTER_IDENTIFIER_TYPES``).

    A value that cannot be an identifier (a mistyped phone) is never guessed: it is kept as a
    rejection, and the event itself is still worth publishing.
    """
    if raw is None:
        return Found()
    if not isinstance(raw, list):
        raise errors.bad_field("identifiers", "must be a list of {type, value}")
    pairs: list[tuple[str, str]] = []
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("type"), str):
            raise errors.bad_field("identifiers", "must be a list of {type, value}")
        kind = kind_of(item["type"])  # an input alias (IBAN) is read as its contract type (ACCOUNT)
        if kind not in COUNTER_IDENTIFIER_TYPES:
            raise errors.bad_field("identifiers", f"has unknown type {ascii(item['type'])[:40]}")
        pairs.append((kind, required_text(item, "value", f"identifiers[{kind}].value")))
    return normaliser.collect(pairs, region=phone_region(person) if isinstance(person, dict) else None)


def traits(raw: Any, left_out: dict[str, str]) -> dict[str, str]:
    """The ``customer`` object (name, date of birth, address...) as standard traits; bad values left out (their
    keys and why in ``left_out``). Raises ``EventRejected`` for an object that is none, or a key that is no
    trait (an identifier among them: it belongs in ``identifiers``)."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise errors.bad_field("customer", "must be a JSON object")
    if unread := unread_keys(raw):  # what standard_traits would skip unsaid
        raise combined([errors.unknown_field(_unread_trait(name)) for name in unread])
    return standard_traits(raw, component="branch", left_out=left_out)


def _unread_trait(name: str) -> str:
    """Why the ``customer`` object's key ``name`` is refused: an identifier belongs in ``identifiers``."""
    if kind_of(name) in COUNTER_IDENTIFIER_TYPES:
        return (f"unknown field 'customer.{name}': an identifier belongs in 'identifiers', as "
                f'{{"type": "{name.strip().lower()}", "value": ...}}')
    trait_keys = ", ".join(TRAIT_KEYS)
    return f"unknown field 'customer.{name}': the customer's traits are {trait_keys} (or their usual spellings)"
