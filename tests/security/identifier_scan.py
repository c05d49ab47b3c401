"""Finding customer identifiers in plain text: in log lines and in the records of every topic.

What counts (issue #13 build 7):
- national IDs: 18-character resident IDs valid for python-stdnum's ``cn.ric`` (the demo's scheme), and any exact
  value the caller knows was sent;
- card numbers: 13-19 digits (spaces or dashes allowed) passing Luhn (``stdnum.luhn``) whose first digit is 2-6 (the
  card networks' ranges; this also keeps µs and ms timestamps, which start with 1, out);
- phone numbers: what ``phonenumbers.PhoneNumberMatcher`` finds valid (international, or national for ``region``);
- e-mail addresses: what looks like one and ``email_validator`` accepts (syntax only).

Where they may be (the contract, ``schemas/common/Identifier.avsc``): an ``Identifier`` record (``type`` + ``value``)
holds a PHONE in E.164 and an EMAIL lower-cased in plain text: that is what identity links on, and its key form
``TYPE:value`` (``adapters.base.identifiers.key_of``) is what ``customer.identifiers.v1``, ``identity.observed.v1``,
a caller's ``contact.events.v1``, the identity graph's messages and the offer tables are keyed by; NATIONAL_ID and
CARD are ``nid1:``/``card1:`` tokens there too. So a phone or an e-mail is allowed only as the ``value`` of an
identifier record or as a whole ``TYPE:value`` string, plus in the original bytes of a refused input kept as a dead
letter (``raw_paths``: kept to repair and replay it; restricted topic, 30 days). A national ID or a card number is
allowed nowhere, and nothing at all is allowed in a log line.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from stdnum import luhn
from stdnum.cn import ric

from processors.identity.graph.context import CUSTOMER_PREFIX
from processors.identity.graph.limits import LATE_BAND
from schemas.enums import IDENTIFIER_TYPES

NATIONAL_ID = "national id"
CARD = "card number"
PHONE = "phone number"
EMAIL = "e-mail address"

_RESIDENT_ID = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
_CARD = re.compile(r"(?<![\d])[2-6](?:[ -]?\d){12,18}(?![\d])")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Event ids are UUIDs (RFC 9562, 8-4-4-4-12 hex): one whose first three groups are all digits reads as a dashed
# 16-digit number and passes Luhn one time in ten, so UUIDs are blanked before the patterns run.
_UUID = re.compile(r"(?<![0-9A-Za-z])[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}(?![0-9A-Za-z])")
# Customer ids are ``cus_`` + a birth time in 13 hex digits + an 11-hex digest (``graph/saga.py``): at some hours the
# time's hex is all decimal digits, and with the digest's a run of 13 or more digits passes Luhn one time in ten
# (the final CI run of a session flagged 109 "card numbers", every one a customer id). Blanked like UUIDs.
_CUSTOMER_ID = re.compile(rf"(?<![0-9A-Za-z]){CUSTOMER_PREFIX}[0-9a-f]{{24}}(?![0-9A-Za-z])")


@dataclass(frozen=True)
class Finding:
    kind: str
    where: str  # "log line 12", "topic x[0]@5 value.path"
    sample: str  # masked: enough to recognise, not the value

    def __str__(self) -> str:
        return f"{self.kind} at {self.where}: {self.sample}"


def _masked(value: str) -> str:
    return value[:3] + "…" + value[-2:] if len(value) > 6 else "…"


def find_identifiers(text: str, *, region: str | None = None, known: Iterable[str] = ()) -> Iterator[tuple[str, str]]:
    """(kind, value) of every identifier in ``text``; ``known``: exact values (national IDs, cards) also looked for."""
    for value in known:
        if value and value in text:
            yield NATIONAL_ID if _RESIDENT_ID.fullmatch(value) else CARD, value
    text = _CUSTOMER_ID.sub("<customer>", _UUID.sub("<uuid>", text))
    for match in _RESIDENT_ID.finditer(text):
        if ric.is_valid(match.group()):
            yield NATIONAL_ID, match.group()
    for match in _CARD.finditer(text):
        digits = re.sub(r"[ -]", "", match.group())
        if 13 <= len(digits) <= 19 and luhn.is_valid(digits):
            yield CARD, match.group()
    for match in phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.VALID):
        yield PHONE, match.raw_string
    for match in _EMAIL.finditer(text):
        try:
            validate_email(match.group(), check_deliverability=False)
        except EmailNotValidError:
            continue
        yield EMAIL, match.group()


def scan_lines(lines: Iterable[str], *, region: str | None = None, known: Iterable[str] = ()) -> list[Finding]:
    """Every identifier in log lines: none is allowed."""
    known = tuple(known)
    return [Finding(kind, f"log line {number}", _masked(value)) for number, line in enumerate(lines, 1)
            for kind, value in find_identifiers(line, region=region, known=known)]


def _is_identifier_record(node: Any) -> bool:
    return isinstance(node, dict) and node.get("type") in IDENTIFIER_TYPES and isinstance(node.get("value"), str)


def _is_identifier_key(text: str) -> bool:
    kind, colon, value = text.partition(":")
    return bool(colon and value) and kind in IDENTIFIER_TYPES


def _strings(node: Any, path: str, inside_identifier: bool = False,
             embedded: bool = False) -> Iterator[tuple[str, str, bool]]:
    """(path, string, allowed to hold a phone/e-mail) for every string in a decoded record; ``embedded``: bytes
    inside it are copies of records of other topics (identity's saga carries the event it resolves)."""
    if isinstance(node, dict):
        identifier = _is_identifier_record(node)
        for key, value in node.items():
            yield from _strings(value, f"{path}.{key}", identifier and key == "value", embedded)
    elif isinstance(node, (list, tuple)):
        for index, value in enumerate(node):
            yield from _strings(value, f"{path}[{index}]", inside_identifier, embedded)
    elif isinstance(node, (bytes, bytearray)):
        yield path, bytes(node).decode("utf-8", errors="replace"), embedded
    elif isinstance(node, str):
        yield path, node, inside_identifier or _is_identifier_key(node)
    elif isinstance(node, int) and embedded and node >= LATE_BAND:
        # identity's own state: a rank in its late band (``limits.key_rank``), 19 digits from 4 on, passes Luhn one
        # time in ten; a card number never travels as an integer (the adapters tokenise it from text)
        return
    elif node is not None and not isinstance(node, bool):
        yield path, str(node), False


def _under(path: str, prefixes: Collection[str]) -> bool:
    return any(path == prefix or path.startswith((f"{prefix}.", f"{prefix}[")) for prefix in prefixes)


def scan_record(where: str, key: str | None, value: Any, *, raw_paths: Collection[str] = (), region: str | None = None,
                known: Iterable[str] = (), embedded_records: bool = False) -> list[Finding]:
    """Identifiers where they must not be in one decoded record (``value``: the decoded structure, or text);
    ``raw_paths``: paths (``value.x.y``, and what is under them) holding original input bytes, where phones and
    e-mails may be; ``embedded_records``: bytes inside ``value`` are copies of topic records (the event an internal
    message carries), where phones and e-mails sit in identifier records the bytes no longer show."""
    findings = []
    known = tuple(known)
    places = [("key", key or "", _is_identifier_key(key or "")), *_strings(value, "value", embedded=embedded_records)]
    for path, text, may_hold_contact in places:
        for kind, found in find_identifiers(text, region=region, known=known):
            if kind in (PHONE, EMAIL) and (may_hold_contact or _under(path, raw_paths)):
                continue
            findings.append(Finding(kind, f"{where} {path}", _masked(found)))
    return findings
