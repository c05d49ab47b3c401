"""Normalising customer identifiers the same way on every channel (``omnibus.common.Identifier``).

Identity resolution links on the pair (type, value), so a phone must read ``+33612345678`` whether the
call center, the web hall or billing saw it. Values that cannot be an identifier (a withheld caller
id, a malformed number) yield ``None`` rather than a guess.
"""

from __future__ import annotations

import phonenumbers

Identifier = dict[str, str]


def phone(raw: str | None, default_region: str | None = None) -> Identifier | None:
    """A PHONE identifier in E.164, or None if ``raw`` is not a valid number (withheld, too short...)."""
    if not raw or not any(ch.isdigit() for ch in raw):
        return None
    try:
        parsed = phonenumbers.parse(raw.strip(), default_region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return {"type": "PHONE", "value": phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)}


def email(raw: str | None) -> Identifier | None:
    value = (raw or "").strip().lower()
    if "@" not in value or value.startswith("@") or value.endswith("@"):
        return None
    return {"type": "EMAIL", "value": value}


def plain(kind: str, raw: object) -> Identifier | None:
    """An identifier kept as the source writes it (ACCOUNT, NATIONAL_ID, USER_ID...), trimmed."""
    value = str(raw).strip() if raw is not None else ""
    return {"type": kind, "value": value} if value else None


def unique(identifiers: list[Identifier | None]) -> list[Identifier]:
    """Drop Nones and repeats, keeping the first-seen order."""
    seen: set[tuple[str, str]] = set()
    result = []
    for identifier in identifiers:
        if identifier is None:
            continue
        pair = (identifier["type"], identifier["value"])
        if pair not in seen:
            seen.add(pair)
            result.append(identifier)
    return result


def key_of(identifier: Identifier) -> str:
    """The Kafka key for events keyed by an identifier: ``TYPE:value`` (e.g. ``PHONE:+33612345678``)."""
    return f"{identifier['type']}:{identifier['value']}"
