"""Masking of customer identifiers, so logs never carry phones, e-mails or national IDs in plain text.

Two layers: fields whose *name* says they hold an identifier are replaced by a short keyed token (stable
within a process, so an operator can still see that two log lines are about the same value), and every
other string is scrubbed of anything shaped like an e-mail address or a long run of digits — except
infrastructure addresses: an IPv4 address (with or without ``:port``) is what an operator needs to see
which broker or host failed, so it is kept (issue #10, case 11). Numbers no identifier can be are kept
too: a run of fewer than ``MIN_IDENTIFIER_DIGITS`` digits (the shortest national phone numbers have 7,
ITU-T E.164), a product token's version with its HTTP status (``HTTP/1.1 200``, ``aiohttp/3.9.5``), a dotted
version (``0.11.10``) and a port after a host name or the word port (``localhost:6066``, ``port 6067``).
Measurements are kept whatever their digits (a new user saw faust's "Timer ... woke up too late, with a drift
of +[digits] runtime=[digits]"): a decimal number whose whole part has fewer than ``MIN_IDENTIFIER_DIGITS``
digits (``0.5123456789``, ``+1.2e-05``, seconds; never followed by another digit group, so a dotted phone
``06.12.34.56.78`` is not one), rounded to ``DECIMAL_DIGITS`` significant digits (``+0.5123``): a float's
17 digits otherwise read as a card number or a phone (Luhn passes one time in ten; with 6 digits, "0.0491685"
still read as the German number 00 49 1685), and four digits hold no identifier whatever was written with a dot;
one with fewer than ``MIN_IDENTIFIER_DIGITS`` digits in all is kept as written (``89.90``, ``1.50e3``: an amount
in a customer's text);
an ISO 8601 timestamp with its time of day (``2026-11-30T09:48:12.376616+00:00``; a bare date may be a birth
date, a trait: it keeps only its shape, ``[date dddd-dd-dd]``, in any spelling); and an integer after a word that
names a counter (``offset 12345678``, ``lag=1234567``) or before a unit (``1234567 bytes``, ``12345678 µs``); and a
UUID (an event or command id: a log line's id must match the same id printed elsewhere). A phone, e-mail, national
ID or card number has none of these shapes.

A run of digits is scrubbed with the letters and digits glued to it (a DNI's or NIE's letters, an IBAN's country, a
supply point's), and so are an IBAN with letters in its account part, an Italian codice fiscale and a UK National
Insurance number (six digits only), whole, as
``[digits]`` (``DNI [digits]E``). The tokens and ids Omnibus itself issues (``bus.issued_ids``:
``nid1:``/``card1:`` tokens, ``tok:`` log tokens, customer ids) pass untouched: they stand for a value, and an operator
compares them across outputs (``nid1:8ead8fb[digits]a40e…``).

An identifier in its key form, ``TYPE:value`` (``PHONE:+33612345678``, ``USER_ID:jean.dupont``: the key of the identity
graph's nodes (its blocking keys too, ``BLOCK:nb:JN:1991-01-02``: a name's code and a birth date) and of
``customer.identifiers.v1``, which a library prints at DEBUG, e.g. aiokafka's "Sending (key=... value=...)"), keeps
its kind only: ``USER_ID:[value]``, whatever the value's shape (a user id or device id has none the patterns above
know; a part of a user id was read in a DEBUG line). So does an e-mail address cut short or
URL-encoded (``jean.dupont@mail``, ``jean.dupont%40mail.fr``): from its local part on, up to where the address ends.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import os
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from bus.issued_ids import ISSUED, LOG_TOKEN_HEX_DIGITS, LOG_TOKEN_PREFIX
from bus.nino_format import PATTERN as NINO_PATTERN

# Fields whose name says they hold an identifier, with the identifier kind (``omnibus.common.IdentifierType``) they
# hold, for a display mask (``omnibus topics read``, ``omnibus deadletters show``); None: a generic name ("value")
# whose kind the record says. The adapters leave properties so named off contact and handoff events
# (``adapters.web.mapper``); ``pan`` (a card's primary account number) and ``nir`` (the French national ID) are
# a bank portal's usual names; ``dni``, ``nie``, ``nif`` a Spanish one's (an IVR attribute);
# ``nino``, ``ni_number`` a UK one's (the National Insurance number); ``cpf`` (a person's) and ``cnpj`` (a company's) a
# Brazilian one's (a Connect contact attribute ``cpf`` vanished uncounted).
SENSITIVE_FIELDS: dict[str, str | None] = {
    "phone": "PHONE", "phone_number": "PHONE", "msisdn": "PHONE", "caller": "PHONE", "caller_id": "PHONE",
    "customer_endpoint": "PHONE", "email": "EMAIL", "e_mail": "EMAIL", "national_id": "NATIONAL_ID",
    "id_number": "NATIONAL_ID", "ssn": "NATIONAL_ID", "account": "ACCOUNT", "account_number": "ACCOUNT",
    "iban": "ACCOUNT", "rib": "ACCOUNT", "card": "CARD", "card_number": "CARD", "card_no": "CARD", "pan": "CARD",
    "nir": "NATIONAL_ID", "nss": "NATIONAL_ID", "passport_number": "NATIONAL_ID", "tax_id": "NATIONAL_ID",
    "dni": "NATIONAL_ID", "nie": "NATIONAL_ID", "nif": "NATIONAL_ID", "nino": "NATIONAL_ID", "ni_number": "NATIONAL_ID",
    "cpf": "NATIONAL_ID", "cnpj": "NATIONAL_ID",
    "mobile": "PHONE", "telephone": "PHONE", "user_id": "USER_ID", "userid": "USER_ID",
    "customer_number": "CUSTOMER_NUMBER", "customer_no": "CUSTOMER_NUMBER", "cust_no": "CUSTOMER_NUMBER",
    "anonymous_id": "ANONYMOUS_ID",
    # a Segment alias's earlier id (``previousId``, the trait ``alias_previous_id``): anonymous or an earlier user id,
    # masked as an anonymous id (the kind it is checked as first: ``bus.identifiers.traits.ALIAS_KINDS``)
    "previous_id": "ANONYMOUS_ID", "alias_previous_id": "ANONYMOUS_ID",
    "device_id": "DEVICE", "imei": "DEVICE", "value": None, "identifier": None,
    "identifiers": None,
    # Only the standard name: a utility's ``meter_point_id`` stays a name ``REFERENCE_FIELDS`` may keep whole, as before
    # the kind existed (a utility's deployment declares it so); its identifier is read all the same.
    "supply_point": "SUPPLY_POINT",
}
SENSITIVE_KEYS = frozenset(SENSITIVE_FIELDS)


def squashed(name: str) -> str:
    """A field's name compared whatever its spelling: case-folded, letters and digits only (``nationalId``,
    ``national_id`` and ``NATIONAL-ID`` are ``nationalid``)."""
    return "".join(character for character in name.casefold() if character.isalnum())


_SQUASHED_FIELDS = {squashed(name): kind for name, kind in SENSITIVE_FIELDS.items()}


def field_kind(name: str | None) -> str | None:
    """The identifier kind a field's ``name`` says it holds (``SENSITIVE_FIELDS``, any spelling: ``squashed``;
    ``traits.nationalId`` as a Segment SDK sends it is a ``NATIONAL_ID``), else None (also for the generic ``value``,
    masked where it holds an identifier record: ``bus.identifiers.masking.record_kind``)."""
    return _SQUASHED_FIELDS.get(squashed(name)) if name else None
# Every identifier kind (``omnibus.common.IdentifierType``, checked in tests/bus/test_redact.py): ``schemas.enums`` is
# not imported by the logging of every process for it (half a second).
IDENTIFIER_KINDS = tuple(sorted({kind for kind in SENSITIVE_FIELDS.values() if kind is not None}))
# Node keys made of a person's traits: identity's blocking keys (``BLOCK:nb:<name code>:<birth date>``,
# ``processors.identity.matching.blocking.PREFIX``, checked in tests/bus/test_redact.py).
TRAIT_KEY_KINDS = ("BLOCK",)

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# An identifier's key form (``TYPE:value``), up to a character no value of a key has (a quote, a space, a backslash:
# where a bytes repr goes on with an escape) or one that ends the text around it. No word boundary before the kind:
# in a bytes repr it follows an escape (``\xbbUSER_ID:...``).
_KEYED = rf"(?P<kind>{'|'.join(IDENTIFIER_KINDS + TRAIT_KEY_KINDS)})(?::|%3[aA])(?!\[value\])[^\s'\"\\,;)\]}}>]+"
# An e-mail address cut short (no dot in its domain yet, or nothing after the @) or URL-encoded (%40).
# Not a name and its version (``faust@1.10``).
_PARTIAL_EMAIL = r"[\w.+-]+(?:@|%40)(?!\d)[\w-]*(?:\.[\w-]+)*"
# Seven or more digits, possibly punctuated; never across ``..``, a range's two ends (``1970..2100``).
_DIGITS = re.compile(r"\+?\d(?:[\d\s()-]|\.(?!\.)){5,}\d")
# Such a run with the letters and digits glued to it, whole (``DNI 12345678E`` became ``DNI [digits]E``):
# a DNI's check letter (``12345678Z``, ``12345678-Z``), a NIE's letters (``X1234567L``), an IBAN's country and check
# digits (``ES9121000418450200051332``), a supply point's (a CUPS ``ES0021000000000000AA``, a POD ``IT001E12345678``).
# Starts where a word starts, so a word is tried once, not from each of its letters.
_GLUED = rf"(?<![A-Za-z0-9])[A-Za-z0-9]*{_DIGITS.pattern}(?:[A-Za-z0-9]+|-[A-Za-z](?![A-Za-z0-9]))?"
# Identifiers whose letters break their digits into runs shorter than seven: an IBAN in its print form with letters
# in its account part (ISO 13616: ``GB29 NWBK 6016 1331 9268 19``), an Italian codice fiscale (DM 23/12/1976:
# ``RSSMRA85T10A562S``). Scrubbed whole when they hold ``MIN_IDENTIFIER_DIGITS`` digits.
_IBAN = r"[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?"
_CODICE_FISCALE = r"[A-Za-z]{6}\d{2}[A-Za-z]\d{2}[A-Za-z]\d{3}[A-Za-z]"
_LETTERED = rf"(?<![A-Za-z0-9])(?:{_IBAN}|{_CODICE_FISCALE})(?![A-Za-z0-9])"
# A UK National Insurance number (``bus.nino_format``: ``AB 12 34 56 C``): six digits, one fewer than any other
# identifier, so it is matched by its letters and scrubbed whole whatever its digit count.
_NINO = rf"(?<![A-Za-z0-9]){NINO_PATTERN}(?![A-Za-z0-9])"
_IPV4 = r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?::\d{1,5})?(?![\d.])"
MIN_IDENTIFIER_DIGITS = 7
CARD_DIGITS = range(15, 20)  # a PAN named as such when masked: Amex 15, Visa/Mastercard 16, up to 19 (ISO/IEC 7812)
DECIMAL_DIGITS = 4  # significant digits a decimal keeps: too few for any identifier, even after a + or 00
# "HTTP/1.1 200", "Python/3.11.10": a product token's version (and an HTTP status), read as one unit so that the
# number after it is judged on its own.
_PRODUCT = r'(?<=[A-Za-z]/)\d{1,3}(?:\.\d{1,4}){1,3}(?:"? [1-5]\d\d(?!\d))?(?![\d.])'
_VERSION = r"(?<![\w.])v?\d{1,4}(?:\.\d{1,4}){2,3}(?![\d.])"  # 0.11.10, v3.11.10
_PORT = r"(?:(?<=[A-Za-z\]]:)|(?<=port )|(?<=port=)|(?<=ports ))\d{1,5}(?!\d)"
# A measurement: never an identifier, whatever its digits (see the module docstring). A digit group right after
# it (space, dot, dash or bracket between) makes it part of a longer number, judged whole by _DIGITS.
UNITS = ("bytes", "B", "KiB", "MiB", "s", "ms", "µs", "us", "ns", "records", "events", "messages")
_UNIT = f"(?:{'|'.join(UNITS)})"
_NOT_CONTINUED = rf"(?![\s().-]+\d|\.\d)(?:(?={_UNIT}(?!\w))|(?!\w))"
_DECIMAL = r"(?<![\w.+-])[+-]?\d{1,6}\.\d+(?:[eE][+-]?\d{1,3})?" + _NOT_CONTINUED
# ISO 8601 / RFC 3339 in every spelling a system writes one: ``T``, ``t`` or a space before the time, ``24:00`` (the
# end of a day), a decimal fraction with a point or a comma, ``Z``/``z`` or an offset with or without its minutes; and
# the basic format (``20261203T140000Z``). A time of day says a moment, never a birth date (a
# notification's timestamp ``2026-12-03t14:00:00z``, as a channel's API wrote it, was scrubbed).
_DAY = r"\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])"
_ZONE = r"(?:[Zz]|[+-](?:[01]\d|2[0-3])(?::?[0-5]\d)?)"
_DATE = (rf"(?<![\w.+-])(?:{_DAY}[Tt ](?:[01]\d|2[0-4]):[0-5]\d(?::[0-5]\d(?:[.,]\d{{1,9}})?)?"
         rf"|\d{{4}}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])[Tt](?:[01]\d|2[0-4])[0-5]\d(?:[0-5]\d(?:[.,]\d{{1,9}})?)?)"
         rf"{_ZONE}?(?!\w|[.-]\d)")
# A calendar date named a version by the word before it: ``version 2024-05-01``, ``"FormatVersion": "2017-03-10"``
# (an Amazon Connect CTR's ``AWSContactTraceRecordFormatVersion``), ``api-version=2024-05-01``: the release of a format,
# never a person's birth. Kept whole, the label with it.
_VERSIONED_DATE = (r"(?i:version)(?:[\"']?\s*[:=]\s*[\"']?|\s+)"
                   r"\d{4}[-/.]\d{1,2}(?:[-/.]\d{1,2})?(?![\w/]|[.-]\d)")
COUNTER_WORDS = ("offset", "offsets", "highwater", "watermark", "lag", "generation", "epoch")
_COUNTER = "".join(f"(?<={word}{sep})" + "|" for word in COUNTER_WORDS for sep in (" ", "=", ": ")).rstrip("|")
_COUNTED = f"(?:{_COUNTER})\\d+{_NOT_CONTINUED}|(?<![\\w.+-])\\d+(?= ?{_UNIT}(?!\\w))"
# A UUID (RFC 9562's 8-4-4-4-12 hex groups): event, command and dead-letter ids, derived by hashing, never an
# identifier; scrubbed, its digit groups made an id in a log line unmatchable with the same id printed elsewhere.
_UUID = r"(?<![\w-])[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}(?![\w-])"
# A calendar date without a time of day (``1980-02-01``, ``1980/02/01``, ``31/02/1980``, ``31.02.1980``,
# ``31-02-1980``): it may be a birth date, personal data, so only its shape is kept (``[date dd/dd/dddd]``),
# whatever its spelling and whether it is a real date (``31/02/1980`` was shown, ``1980-02-01`` became
# ``[digits]``). The shape tells an operator which spelling a refused value had. A date with its time of day is a
# ``_DATE`` (kept).
_CALENDAR_DATE = (r"(?<![\w.+/-])(?:\d{4}[-/]\d{1,2}[-/]\d{1,2}|\d{1,2}(?P<sep>[-/.])\d{1,2}(?P=sep)\d{4})"
                  r"(?![\w/]|[.-]\d|[T ]\d{1,2}:)")
_SCRUBBED = re.compile(
    f"(?P<keyed>{_KEYED})|(?P<issued>{ISSUED.pattern})|(?P<uuid>{_UUID})|(?P<versioned>{_VERSIONED_DATE})|(?P<ip>{_IPV4})"
    f"|(?P<email>{_EMAIL.pattern}|{_PARTIAL_EMAIL})"
    f"|(?P<calendar>{_CALENDAR_DATE})"
    f"|(?P<version>{_PRODUCT}|{_VERSION})|(?P<port>{_PORT})"
    f"|(?P<measure>{_DATE}|{_COUNTED})|(?P<decimal>{_DECIMAL})|(?P<lettered>{_LETTERED})|(?P<nino>{_NINO})"
    f"|(?P<digits>{_GLUED}|{_DIGITS.pattern})"
)
_ANY_DIGIT = re.compile(r"\d")
_LETTER = re.compile(r"[A-Za-z]")
_KEY = os.urandom(16)  # per process: tokens correlate lines of one process, never across systems


def token(value: object) -> str:
    """A short, non-reversible stand-in for an identifier value."""
    digest = hmac.new(_KEY, str(value).encode(), hashlib.sha256).hexdigest()[:LOG_TOKEN_HEX_DIGITS]
    return f"{LOG_TOKEN_PREFIX}{digest}"


# What ``scrub_text`` could change has one of these, or at least ``FEWEST_SCRUBBED_DIGITS`` digits (a calendar date
# ``1/2/1980`` has 6, any identifier ``MIN_IDENTIFIER_DIGITS``): ``may_hold_identifier``'s cheap test.
_KEY_KINDS = IDENTIFIER_KINDS + TRAIT_KEY_KINDS
_CAPITALS_BEFORE_COLON = re.compile(r"([A-Z_]+)(?::|%3[aA])")  # far faster than the alternation of the kinds
FEWEST_SCRUBBED_DIGITS = 6
# Some FEWEST_SCRUBBED_DIGITS digits, whatever lies between (possessive: no backtracking): one search that stops at the
# sixth digit instead of a list of every digit (0.52 -> 0.38 µs per property value of the web bench, #9 build 6).
_ENOUGH_DIGITS = re.compile(rf"\d(?:\D*+\d){{{FEWEST_SCRUBBED_DIGITS - 1}}}")


def may_hold_identifier(text: str) -> bool:
    """False when ``scrub_text(text)`` would change nothing for sure: no ``@``, no ``TYPE:`` key form and fewer than
    ``FEWEST_SCRUBBED_DIGITS`` digits. A few substring tests (~1 us for a URL where ``scrub_text`` takes ~170 us): for
    a hot path scrubbing the free text it publishes (``free_text``)."""
    return has_email_or_key(text) or _ENOUGH_DIGITS.search(text) is not None


def has_email_or_key(text: str) -> bool:
    """Whether ``text`` has an ``@`` (``%40``) or an identifier's ``TYPE:`` key form (``PHONE:...``, ``BLOCK:...``)."""
    if "@" in text or "%40" in text:
        return True
    if ":" in text or "%3" in text:
        for found in _CAPITALS_BEFORE_COLON.finditer(text):
            if found.group(1).endswith(_KEY_KINDS):
                return True
    return False


def scrub_text(text: str, *, dates: bool = True) -> str:
    """Replace anything that looks like an e-mail address (also cut short or URL-encoded), a phone/ID number or an
    identifier's key form (``TYPE:value`` -> ``TYPE:[value]``); keep IPv4 addresses. ``dates=False`` keeps calendar
    dates as they are: only for the value of a field declared not personal (``is_personal_field``: a bill's due
    date), never for free text."""
    return _SCRUBBED.sub(_replacement if dates else _replacement_keeping_dates, text)


def free_text(value: str) -> str:
    """``value`` (free text an adapter publishes: an event or page name, a property's value, a handoff's summary)
    without identifier values: ``scrub_text``, run only when ``may_hold_identifier`` (the test ~1 us, the scrub ~100).
    Text that holds no identifier is returned as it is, byte for byte."""
    return scrub_text(value) if value and may_hold_identifier(value) else value


def free_text_masked(value: str) -> tuple[str, tuple[str, ...]]:
    """``free_text(value)`` and what it masked, one word per masked value, in text order, never the value:
    ``"card number"`` (15 to 19 digits passing the Luhn check, ISO/IEC 7812-1), ``"e-mail address"``, ``"date"``,
    ``"<KIND> key"`` (``PHONE:...``) or ``"number"`` (any other run of 7 digits or more: a phone, an IBAN's or a
    national ID's digits). For a command that publishes what an operator typed and tells them what it masked
    (``bus.cli.operator_text``)."""
    if not value or not may_hold_identifier(value):
        return value, ()
    masked: list[str] = []

    def replace(match: re.Match[str]) -> str:
        replaced = _replacement(match)
        if replaced != match.group(0):
            masked.append(_masked_kind(match))
        return replaced

    return _SCRUBBED.sub(replace, value), tuple(masked)


def _masked_kind(match: re.Match[str]) -> str:
    if match.group("keyed"):
        return f"{match.group('kind')} key"
    if match.group("email"):
        return "e-mail address"
    if match.group("calendar"):
        return "date"
    from bus.identifiers.card import luhn_valid  # stdnum: not for every process's logging

    digits = "".join(_ANY_DIGIT.findall(match.group(0)))
    return "card number" if len(digits) in CARD_DIGITS and luhn_valid(digits) else "number"


def is_personal_field(name: str) -> bool:
    """Whether a field called ``name`` holds personal data: an identifier (``SENSITIVE_FIELDS``) or a person's trait
    (``bus.identifiers.traits.standard_key``: a birth date, a name, an address; the declaration a legacy layout's
    fields are read by, ``adapters.legacy.layout``)."""
    from bus.identifiers.traits import standard_key  # phonenumbers and pycountry: not for every process's logging

    return name.lower() in SENSITIVE_KEYS or standard_key(name) is not None


# The last word of a field name that says its value is a moment or a version (``sent_at``, ``createdAt``,
# ``InitiationTimestamp``, ``deadline``, ``AWSContactTraceRecordFormatVersion``), never a person's birth date.
MOMENT_WORDS = frozenset({"at", "time", "timestamp", "ts", "deadline", "version"})
BIRTH_WORDS = frozenset({"birth", "born", "dob", "birthday", "birthdate"})  # ``birth_time``, ``bornAt``: a person's
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_WORDS = re.compile(r"[^a-z0-9]+")


@lru_cache(maxsize=4096)  # a log line's keys: a few dozen names, looked up once each
def is_moment_field(name: str) -> bool:
    """Whether a field called ``name`` holds a moment or a version (its last word is one of ``MOMENT_WORDS``) and no
    personal data (no word of ``BIRTH_WORDS``, not ``is_personal_field``): its dates are kept
    (``scrub_text(value, dates=False)``, F7:
    a notification's deadline and a CTR's format version were shown as ``[date dddd-dd-dd]``)."""
    words = [word for word in _WORDS.split(_CAMEL.sub("_", name).lower()) if word]
    return bool(words) and words[-1] in MOMENT_WORDS and BIRTH_WORDS.isdisjoint(words) and not is_personal_field(name)


def _replacement_keeping_dates(match: re.Match[str]) -> str:
    return match.group(0) if match.group("calendar") else _replacement(match)


def _replacement(match: re.Match[str]) -> str:
    if match.group("keyed"):
        return f"{match.group('kind')}:[value]"
    if match.group("uuid") or match.group("versioned") or match.group("issued"):
        return match.group(0)
    if match.group("email"):
        return "[email]"
    if match.group("calendar"):
        return f"[date {_ANY_DIGIT.sub('d', match.group(0))}]"
    if match.group("ip") and _is_ipv4(match.group("ip").partition(":")[0]):
        return match.group("ip")
    if match.group("decimal"):  # as written when too short for any identifier: "89.90 EUR", "1.50e3"
        return _rounded(match.group(0)) if _digit_count(match.group(0)) >= MIN_IDENTIFIER_DIGITS else match.group(0)
    if match.group("nino"):
        return "[digits]"
    if match.group("port") or match.group("measure") or _digit_count(match.group(0)) < MIN_IDENTIFIER_DIGITS:
        return match.group(0)  # too few digits for any identifier (a dotted phone as a "version" has enough)
    if match.group("lettered") or _LETTER.search(match.group(0)):  # its letters are the identifier's: whole
        return "[digits]"
    # Not an address after all (an octet over 255): scrub it the way a number is scrubbed.
    return _DIGITS.sub("[digits]", match.group(0))


def _rounded(decimal: str) -> str:
    """``decimal`` (``+0.5123456789012``) to ``DECIMAL_DIGITS`` significant digits, its sign kept (``+0.5123``)."""
    sign = decimal[0] if decimal[0] in "+-" else ""
    return sign + format(float(decimal.lstrip("+-")), f".{DECIMAL_DIGITS}g")


def _digit_count(text: str) -> int:
    return sum(character.isdigit() for character in text)


def _is_ipv4(text: str) -> bool:
    try:
        ipaddress.IPv4Address(text)
    except ValueError:
        return False
    return True


class Scrubbed(str):
    """Text already scrubbed by a rule that knows more than ``scrub_text`` (a dead letter's reason, which keeps the
    date of a layout field declared not personal: ``bus.dead_letter.scrubbed_reason``): ``redact`` logs it as it is."""

    __slots__ = ()


def redact(value: Any, *, key: str | None = None) -> Any:
    """Return ``value`` with identifiers masked, recursing into mappings and sequences; a ``Scrubbed`` text as it is."""
    if isinstance(value, Scrubbed):
        return str(value)
    if key is not None and key.lower() in SENSITIVE_KEYS:
        if isinstance(value, Mapping | list | tuple):
            return redact(value)
        return token(value) if value is not None else None
    if isinstance(value, str):
        return scrub_text(value, dates=key is None or not is_moment_field(key))
    if isinstance(value, Mapping):
        return {k: redact(v, key=str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    return value
