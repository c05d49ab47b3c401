"""Finding customer identifiers in plain text: in log lines and in the records of every topic.

What counts (issue #13 build 7):
- national IDs: 18-character resident IDs valid for python-stdnum's ``cn.ric`` (the demo's scheme), and any exact
  value the caller knows was sent;
- card numbers: 13-19 digits (spaces or dashes allowed) passing Luhn (``stdnum.luhn``) whose first digit is 2-6 (the
  card networks' ranges; this also keeps µs and ms timestamps, which start with 1, out);
- phone numbers: what ``phonenumbers.PhoneNumberMatcher`` finds valid (international, or national for ``region``);
- e-mail addresses: what looks like one and ``email_validator`` accepts (syntax only);
- IBANs: ISO 13616, in any spelling (spaces, dashes, dots, lower case) after a character that is no letter or digit,
  valid by ``bus.identifiers.account.is_iban`` (the country's length in the IBAN registry, its structure, the mod 97-10
  check digits);
- account and customer numbers: a system of record's own numbers have no shape of their own (``ACC-100234``,
  ``C-770002``), so only the exact values the caller knows were sent (``accounts``, ``customer_numbers``) are looked
  for, in any case and with or without separators (``acc100234`` is ``ACC-100234``), as whole words.

Where they may be (the contract, ``schemas/common/Identifier.avsc``): an ``Identifier`` record (``type`` + ``value``)
holds a PHONE in E.164 and an EMAIL lower-cased in plain text: that is what identity links on, and its key form
``TYPE:value`` (``adapters.base.identifiers.key_of``) is what ``customer.identifiers.v1``, ``identity.observed.v1``,
a caller's ``contact.events.v1``, the identity graph's messages and the offer tables are keyed by; NATIONAL_ID and
CARD are ``nid1:``/``card1:`` tokens there too. So a phone or an e-mail is allowed only as the ``value`` of an
identifier record or as a whole ``TYPE:value`` string, plus in the original bytes of a refused input kept as a dead
letter (``raw_paths``: kept to repair and replay it; restricted topic, 30 days). An IBAN, an account number and a
customer number are allowed where a phone is, and in the fields whose job is to carry them: a field named for an
ACCOUNT or a CUSTOMER_NUMBER (``bus.redact.SENSITIVE_FIELDS``: a business event's ``account_number``) and what the
caller names in ``number_paths`` (``key`` of ``business.events.v1``, keyed by account). A national ID or a card
number is allowed nowhere, and nothing at all is allowed in a log line.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from stdnum import luhn
from stdnum.cn import ric

from bus.identifiers import kinds
from bus.identifiers.account import IBAN_CHARS, SEPARATORS, iban_length, is_iban
from bus.redact import SENSITIVE_FIELDS
from processors.identity.graph.context import CUSTOMER_PREFIX
from processors.identity.graph.limits import LATE_BAND
from schemas.enums import IDENTIFIER_TYPES

NATIONAL_ID = "national id"
CARD = "card number"
PHONE = "phone number"
EMAIL = "e-mail address"
IBAN = "IBAN"
ACCOUNT_NUMBER = "account number"
CUSTOMER_NUMBER = "customer number"
CONTACTS = frozenset({PHONE, EMAIL})  # allowed in identifier records and keys, and in a dead letter's raw input
NUMBERS = frozenset({IBAN, ACCOUNT_NUMBER, CUSTOMER_NUMBER})  # there too, and in the fields that carry them
# Fields whose job is to carry an account or a customer number (a business event's ``account_number``).
NUMBER_FIELDS = frozenset(name for name, kind in SENSITIVE_FIELDS.items()
                           if kind in (kinds.ACCOUNT, kinds.CUSTOMER_NUMBER))

_RESIDENT_ID = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
_CARD = re.compile(r"(?<![\d])[2-6](?:[ -]?\d){12,18}(?![\d])")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Event ids are UUIDs (RFC 9562, 8-4-4-4-12 hex): one whose first three groups are all digits reads as a dashed
# 16-digit number and passes Luhn one time in ten, so UUIDs are blanked before the patterns run. A UUID may follow a
# letter that is no hex digit: in an Avro record embedded as bytes its length comes first, ``H`` (36, zigzag-coded; a
# demo run flagged ``...db-bd59-5504-9557-988897...`` of an event id in identity's graph messages as a card number).
_UUID = re.compile(r"(?<![0-9A-Fa-f])[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}(?![0-9A-Fa-f])")
# Customer ids are ``cus_`` + a birth time in 13 hex digits + an 11-hex digest (``graph/saga.py``): at some hours the
# time's hex is all decimal digits, and with the digest's a run of 13 or more digits passes Luhn one time in ten
# (the final CI run of a session flagged 109 "card numbers", every one a customer id). Blanked like UUIDs.
_CUSTOMER_ID = re.compile(rf"(?<![0-9A-Za-z]){CUSTOMER_PREFIX}[0-9a-f]{{24}}(?![0-9A-Za-z])")
# Where an IBAN may start (two letters, two digits, after no letter or digit), and its characters from there, each
# after at most one separator (ISO 13616's paper form groups by four with spaces; dashes and dots are seen too).
_IBAN_START = re.compile(r"(?<![0-9A-Za-z])(?=[A-Za-z]{2}\d{2})")
_IBAN_BODY = re.compile(rf"(?:[ .-]?[0-9A-Za-z]){{{min(IBAN_CHARS)},{max(IBAN_CHARS)}}}")
_NUMBER_SEPARATORS = r"[\s./_-]*"


@dataclass(frozen=True)
class Finding:
    kind: str
    where: str  # "log line 12", "topic x[0]@5 value.path"
    sample: str  # masked: enough to recognise, not the value

    def __str__(self) -> str:
        return f"{self.kind} at {self.where}: {self.sample}"


def _masked(value: str) -> str:
    return value[:3] + "…" + value[-2:] if len(value) > 6 else "…"


def _ibans(text: str) -> Iterator[str]:
    """Every valid IBAN written in ``text`` (module docstring), in its electronic form."""
    for start in _IBAN_START.finditer(text):
        found = _IBAN_BODY.match(text, start.start())
        if found is None:  # fewer characters than any IBAN has
            continue
        compact = SEPARATORS.sub("", found.group()).upper()
        length = iban_length(compact[:2])
        sizes: Iterable[int] = () if length == 0 else IBAN_CHARS if length is None else (length,)
        iban = next((compact[:size] for size in sizes if size <= len(compact) and is_iban(compact[:size])), None)
        if iban is not None:
            yield iban


@lru_cache(maxsize=64)
def _numbers_pattern(values: tuple[str, ...]) -> re.Pattern[str] | None:
    """One pattern for the known numbers ``values``: each in any case, with or without separators, as a whole word."""
    spelled = sorted({_NUMBER_SEPARATORS.join(map(re.escape, re.sub(r"[^0-9A-Za-z]", "", value)))
                      for value in values if re.search(r"[0-9A-Za-z]", value)}, key=len, reverse=True)
    if not spelled:
        return None
    return re.compile(rf"(?<![0-9A-Za-z])(?:{'|'.join(spelled)})(?![0-9A-Za-z])", re.IGNORECASE)


def _known_numbers(text: str, kind: str, values: tuple[str, ...]) -> Iterator[tuple[str, str]]:
    pattern = _numbers_pattern(values) if values else None
    if pattern is not None:
        yield from ((kind, match.group()) for match in pattern.finditer(text))


def find_identifiers(text: str, *, region: str | None = None, known: Iterable[str] = (), accounts: Iterable[str] = (),
                     customer_numbers: Iterable[str] = ()) -> Iterator[tuple[str, str]]:
    """(kind, value) of every identifier in ``text``; ``known``: exact values (national IDs, cards) also looked for;
    ``accounts`` / ``customer_numbers``: the account and customer numbers sent, looked for in any spelling."""
    for value in known:
        if value and value in text:
            yield NATIONAL_ID if _RESIDENT_ID.fullmatch(value) else CARD, value
    text = _CUSTOMER_ID.sub("<customer>", _UUID.sub("<uuid>", text))
    for iban in _ibans(text):
        yield IBAN, iban
    yield from _known_numbers(text, ACCOUNT_NUMBER, tuple(accounts))
    yield from _known_numbers(text, CUSTOMER_NUMBER, tuple(customer_numbers))
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


def scan_lines(lines: Iterable[str], *, region: str | None = None, known: Iterable[str] = (),
               accounts: Iterable[str] = (), customer_numbers: Iterable[str] = ()) -> list[Finding]:
    """Every identifier in log lines: none is allowed."""
    known, accounts, customer_numbers = tuple(known), tuple(accounts), tuple(customer_numbers)
    return [Finding(kind, f"log line {number}", _masked(value)) for number, line in enumerate(lines, 1)
            for kind, value in find_identifiers(line, region=region, known=known, accounts=accounts,
                                                customer_numbers=customer_numbers)]


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


def _in_number_field(path: str) -> bool:
    """Whether ``path`` (``value.record.account_number``, ``value.items[0].iban[1]``) is under a field named for an
    account or a customer number (``NUMBER_FIELDS``)."""
    return any(re.sub(r"\[\d+\]$", "", part) in NUMBER_FIELDS for part in path.split(".")[1:])


def scan_record(where: str, key: str | None, value: Any, *, raw_paths: Collection[str] = (), region: str | None = None,
                known: Iterable[str] = (), embedded_records: bool = False, accounts: Iterable[str] = (),
                customer_numbers: Iterable[str] = (), number_paths: Collection[str] = ()) -> list[Finding]:
    """Identifiers where they must not be in one decoded record (``value``: the decoded structure, or text);
    ``raw_paths``: paths (``value.x.y``, and what is under them) holding original input bytes, where phones,
    e-mails, IBANs, account and customer numbers may be; ``embedded_records``: bytes inside ``value`` are copies of
    topic records (the event an internal message carries), where those sit in identifier records and fields the
    bytes no longer show; ``accounts`` / ``customer_numbers``: the numbers sent (``find_identifiers``);
    ``number_paths``: paths besides the fields named for them where an IBAN, an account or a customer number may be
    (``key`` of a topic keyed by account)."""
    findings = []
    known, accounts, customer_numbers = tuple(known), tuple(accounts), tuple(customer_numbers)
    places = [("key", key or "", _is_identifier_key(key or "")), *_strings(value, "value", embedded=embedded_records)]
    for path, text, may_hold_contact in places:
        for kind, found in find_identifiers(text, region=region, known=known, accounts=accounts,
                                            customer_numbers=customer_numbers):
            allowed = may_hold_contact or _under(path, raw_paths)
            if kind in CONTACTS and allowed:
                continue
            if kind in NUMBERS and (allowed or _in_number_field(path) or _under(path, number_paths)):
                continue
            findings.append(Finding(kind, f"{where} {path}", _masked(found)))
    return findings
