"""Identifiers are normalised before they are trusted.

PHONE to E.164 (``phonenumbers``, configurable default region); EMAIL trimmed and case-folded;
NATIONAL_ID checked (the 18-character resident ID: date of birth and ISO 7064 MOD 11-2 check
character; a 15-digit first-generation ID is upgraded to 18) and replaced by a keyed HMAC token, so the
raw number is never stored or published; a CARD number (a PAN passing Luhn) is tokenised the same way;
ACCOUNT, USER_ID, DEVICE, ANONYMOUS_ID trimmed. Placeholders (all zeros, "unknown"...) and configured
test values are blocked. Normalising a normalised value returns it unchanged.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from dataclasses import dataclass
from datetime import date

import phonenumbers

from processors.identity.config import IDENTIFIER_TYPES, IdentitySettings
from processors.profile.masking import NATIONAL_ID_TOKEN, mask

INVALID = "invalid-identifier"
BLOCKED = "blocked-value"

CARD_TOKEN_PREFIX = "card1:"
_PLACEHOLDERS = frozenset({
    "unknown", "null", "none", "nil", "n/a", "na", "undefined", "test", "-", "0", "anonymous", "guest",
    "default", "xxx", "empty", "notset", "not set", "no", "void",
})
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s.]+(?:\.[^@\s.]+)+$")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_ID_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))
_ID_CHECK = "10X98765432"
MAX_LENGTH = 128


@dataclass(frozen=True, slots=True)
class Identifier:
    """A normalised identifier; ``key`` (``TYPE:value``) is what the graph links on."""

    type: str
    value: str

    @property
    def key(self) -> str:
        return f"{self.type}:{self.value}"

    def as_record(self) -> dict[str, str]:
        return {"type": self.type, "value": self.value}

    @classmethod
    def from_key(cls, key: str) -> Identifier:
        kind, _, value = key.partition(":")
        return cls(kind, value)


@dataclass(frozen=True, slots=True)
class Rejected:
    """A value that was not linked: ``rule`` is invalid-identifier or blocked-value; ``masked`` is safe to publish."""

    type: str
    masked: str
    rule: str
    reason: str


def national_id_check_char(first17: str) -> str:
    """ISO 7064 MOD 11-2 check character of the first 17 digits of a resident ID."""
    return _ID_CHECK[sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def canonical_national_id(raw: str) -> str:
    """The 18-character resident ID, or ``ValueError`` saying what is wrong."""
    text = re.sub(r"[\s-]", "", raw).upper()
    if re.fullmatch(r"\d{15}", text):  # first generation: YYMMDD, no check character
        text = text[:6] + "19" + text[6:]
        text += national_id_check_char(text)
    if not re.fullmatch(r"\d{17}[\dX]", text):
        raise ValueError("a national ID has 18 characters: 17 digits and a digit or X")
    if text[0] == "0":
        raise ValueError("national ID region code is not valid")
    try:
        born = date(int(text[6:10]), int(text[10:12]), int(text[12:14]))
    except ValueError:
        raise ValueError("national ID date of birth is not a date") from None
    if born.year < 1900 or born > date.today():
        raise ValueError("national ID date of birth is out of range")
    if national_id_check_char(text[:17]) != text[17]:
        raise ValueError("national ID check character does not match (ISO 7064 MOD 11-2)")
    return text


def luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        digit = int(char)
        if index % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def _looks_like_placeholder(value: str) -> bool:
    if value.casefold() in _PLACEHOLDERS:
        return True
    digits = re.sub(r"\D", "", value)
    if len(digits) >= 5 and len(digits) >= len(value) - 3:  # mostly digits
        national = digits[-9:]
        if len(set(national)) == 1 or national in "0123456789012345" or national in "9876543210987654":
            return True
    return False


class IdentifierNormalizer:
    def __init__(self, settings: IdentitySettings) -> None:
        self._region = settings.default_region
        self._key = settings.hmac_key.get_secret_value().encode()
        self._blocked = {kind: frozenset(values) for kind, values in settings.blocked_values.items()}

    def token(self, kind: str, canonical: str) -> str:
        digest = hmac.new(self._key, f"{kind}:{canonical}".encode(), hashlib.sha256).hexdigest()[:32]
        return f"nid1:{digest}" if kind == "NATIONAL_ID" else f"{CARD_TOKEN_PREFIX}{digest}"

    def normalize(self, raw: dict[str, str]) -> Identifier | Rejected:
        kind, value = str(raw.get("type", "UNKNOWN")), str(raw.get("value") or "")
        if kind not in IDENTIFIER_TYPES:
            return Rejected(kind, mask(kind, value), INVALID, f"identifier type {kind} is not linked")
        try:
            normalised = self._normalize(kind, unicodedata.normalize("NFKC", value).strip())
        except ValueError as exc:
            masked = "[national id]" if kind == "NATIONAL_ID" else mask(kind, value.strip())
            return Rejected(kind, masked, INVALID, str(exc))
        if normalised in self._blocked.get(kind, ()) or _looks_like_placeholder(normalised):
            return Rejected(kind, mask(kind, normalised), BLOCKED, f"{kind} value is a known placeholder or test value")
        return Identifier(kind, normalised)

    def _normalize(self, kind: str, value: str) -> str:
        if not value:
            raise ValueError("empty value")
        if _CONTROL.search(value) or len(value) > MAX_LENGTH:
            raise ValueError(f"value has control characters or more than {MAX_LENGTH} characters")
        if kind == "PHONE":
            return self._phone(value)
        if kind == "EMAIL":
            email = value.casefold()
            if not _EMAIL.match(email) or len(email) > 254:
                raise ValueError("not an e-mail address")
            return email
        if kind == "NATIONAL_ID":
            if NATIONAL_ID_TOKEN.match(value):
                return value
            canonical = canonical_national_id(value)
            if _looks_like_placeholder(canonical[:17]):
                raise ValueError("national ID is a placeholder")
            return self.token(kind, canonical)
        if kind == "CARD":
            digits = re.sub(r"[\s-]", "", value)
            if digits.isdigit() and 12 <= len(digits) <= 19:
                if not luhn_valid(digits):
                    raise ValueError("card number fails the Luhn check")
                return self.token(kind, digits)  # a raw card number is never kept
            return value
        if kind == "DEVICE" and _UUID.match(value):
            return value.lower()
        return value

    def _phone(self, value: str) -> str:
        if not any(ch.isdigit() for ch in value):
            raise ValueError("phone number has no digits")
        try:
            parsed = phonenumbers.parse(value, self._region)
        except phonenumbers.NumberParseException as exc:
            raise ValueError(f"phone number does not parse: {exc._msg}") from None
        if not phonenumbers.is_valid_number(parsed):
            raise ValueError("not a valid phone number for its region")
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
