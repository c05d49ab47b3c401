"""Masked display forms of identifiers: enough to recognise one on a screen, not enough to use it.

A mask shows a few characters of the value (its last four, its first four, an e-mail's first letter and domain). Where
those characters are often the same for two values, the mask is followed by a keyed tag that tells them apart
(``TAGGED_KINDS``): ``EA-****0001~K7Q`` and ``EA-****0001~D2M`` are two contracts, ``EA-00200001`` and ``EA-00300001``
(five contracts all showed as ``EA-****0001`` on the screen pop, in ``identity pop``, the review lists
and the dead letters). The tag is the first ``TAG_CHARS`` characters of the base32 (RFC 4648) of HMAC-SHA-256 (RFC
2104) of ``mask:TYPE:value``, keyed by ``OMNIBUS_IDENTIFIERS__MASK_KEY``, else the token key (``HMAC_KEY``,
``bus.identifiers.settings.IdentifierSettings.tag_key``): the same value has the same tag in every process, command
and restart that holds the same key, and without the key the tag says nothing about the hidden characters (an unkeyed
digest of an account's few hidden digits would give them away by brute force). No key: no tag, the masks of before
(``mask_keys`` still numbers the masks that are alike in one list).
"""

from __future__ import annotations

import base64
import hmac
import re
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager

import phonenumbers

from bus.identifiers.kinds import IDENTIFIER_TYPES
from bus.identifiers.settings import environment_tag_key
from bus.issued_ids import SECRET_TOKEN_HEX_DIGITS, SECRET_TOKEN_PREFIXES


def _secret_token(kind: str) -> re.Pattern[str]:
    """The whole shape of a secret's keyed token (``bus.issued_ids``, issued by ``bus.identifiers.tokens``)."""
    return re.compile(f"^{re.escape(SECRET_TOKEN_PREFIXES[kind])}[0-9a-f]{{{SECRET_TOKEN_HEX_DIGITS}}}$")


NATIONAL_ID_TOKEN = _secret_token("NATIONAL_ID")
CARD_TOKEN = _secret_token("CARD")
# Kinds shown by their last four characters (``****0005``), as a statement prints an account: their first characters
# are the issuer's, the same for every customer. A customer number (the bank's own CIF, which an agent reads back to
# the caller) showed its first four, so C-770002 and C-770003 were both ``C-77…`` on the screen pop.
# A supply point number too: its first digits are the grid's or the operator's (a French PRM's, a GSRN's ``5414``).
LAST_FOUR_KINDS = ("ACCOUNT", "CARD", "CUSTOMER_NUMBER", "SUPPLY_POINT")
# The letters an account or a customer number starts with (a billing system's ``CA-``, a bank's ``C-``, an IBAN's
# country): kept before the mask, so that a contract number and a customer number ending alike are told apart on one
# screen pop (``CA-****0002``, ``C-****0002``). They say which system issued it, not whose it is.
KEPT_PREFIX = re.compile(r"[A-Za-z]{1,4}[-_ /.]?(?=[\d*])")  # "*": a masked value masks as it is
PREFIX_KINDS = ("ACCOUNT", "CUSTOMER_NUMBER")
# Kinds whose mask is followed by a tag: the characters it shows are often the same for two values.
# - ACCOUNT, CUSTOMER_NUMBER, SUPPLY_POINT: numbers a system issues in sequence, in a fixed width; the last four repeat
#   every 10,000 numbers (EA-00200001 ... EA-00700001), a building's meters are numbered alike;
# - EMAIL: the first letter and the domain (``j***@gmail.com``), the same for every Jean and Julie of one provider;
# - USER_ID, ANONYMOUS_ID, DEVICE: the first four characters, a shared prefix of a login scheme, of an IMEI (its
#   model's type allocation code) or of a tool's ids (``anon-``, ``user-``).
# Not tagged: PHONE, whose mask shows its country code, its length and its last four digits, which two numbers share
# only by chance (one in 10,000 a pair); CARD, shown by its last four as PCI DSS allows, never next to a digest of its
# number that could be correlated with it (PCI DSS 3.5.1: truncated and hashed forms of one PAN); and NATIONAL_ID,
# never shown but as ``[national id]`` or by the end of its token (a keyed digest already).
TAGGED_KINDS = ("ACCOUNT", "CUSTOMER_NUMBER", "SUPPLY_POINT", "EMAIL", "USER_ID", "ANONYMOUS_ID", "DEVICE")
# A phone's mask (``phone_mask``): its last ``PHONE_SHOWN_DIGITS`` digits, and only when the number has at least
# ``PHONE_SHOWN_FROM`` digits besides its country code (the shortest national numbers have 7, ITU-T E.164), so that
# more of it stays hidden than shows.
PHONE_SHOWN_DIGITS = 4
PHONE_SHOWN_FROM = 8
_E164 = re.compile(r"\+[1-9]\d{6,14}")  # what the normaliser makes of a phone (``bus.identifiers.phone``)
_MASKED_PHONE = re.compile(r"(?:\+\d{0,3})?\*+\d{4}|\*+")  # ``+34*****1222``, ``*****1222``, ``****``
_CARD_NUMBER = re.compile(r"(?=(?:[ -]?\d){12,19}$)\d[\d -]+")  # 12 to 19 digits (ISO/IEC 7812), as written
_DOMAIN = re.compile(r"[\w-]+(?:\.[\w-]+)+")  # an e-mail's domain, else shown as ``…``
TAG_SEPARATOR = "~"
TAG_CHARS = 3  # 15 bits: two values of one screen share a tag one time in 32,768
TAG = re.compile(rf"[A-Z2-7]{{{TAG_CHARS}}}")  # RFC 4648 base32's alphabet
_in_process: list[bytes | None] = []  # ``keyed``: a key given in process, innermost last


@contextmanager
def keyed(key: bytes | None) -> Iterator[None]:
    """Within the block, masks are tagged with ``key`` (None: not tagged) instead of the environment's: for a process
    that holds its settings in memory rather than in its environment (the demo runs every component in one process)."""
    _in_process.append(key)
    try:
        yield
    finally:
        _in_process.pop()


def tag_key() -> bytes | None:
    """The key masks are tagged with: ``keyed``'s, else the environment's (``environment_tag_key``), else None."""
    return _in_process[-1] if _in_process else environment_tag_key()


def tag(key: bytes, kind: str, value: str) -> str:
    """``TAG_CHARS`` base32 characters of HMAC-SHA-256(``key``, ``mask:KIND:value``): ``K7Q``."""
    digest = hmac.digest(key, f"mask:{kind}:{value}".encode(), "sha256")
    return base64.b32encode(digest[:5]).decode("ascii")[:TAG_CHARS]  # 5 bytes: 8 characters, the first 3 wanted


_TOKEN_IN_TEXT = re.compile("|".join(f"(?<![0-9A-Za-z]){re.escape(prefix)}[0-9a-f]{{{SECRET_TOKEN_HEX_DIGITS}}}"
                                     f"(?![0-9a-f])" for prefix in SECRET_TOKEN_PREFIXES.values()))
_TOKEN_KINDS = {prefix: kind for kind, prefix in SECRET_TOKEN_PREFIXES.items()}


def masked_tokens(text: str) -> str:
    """``text`` with each secret's token in it (``nid1:…``, ``card1:…``: a national ID or card an adapter tokenised in
    free text, ``bus.identifiers.protect``) shown by its end, as ``mask`` shows a token: ``DNI nid1:…e823``."""
    return _TOKEN_IN_TEXT.sub(lambda found: mask(_TOKEN_KINDS[found.group().partition(":")[0] + ":"], found.group()),
                              text)


def record_kind(value: Mapping[str, object]) -> str | None:
    """The kind of an identifier record: ``{"type": "PHONE", "value": "+34622111222"}`` as every event carries them, or
    ``{"type": "phone", "value": "622 111 222"}`` as the counter API takes them (``type`` one of
    ``bus.identifiers.kinds.IDENTIFIER_TYPES`` in any case, ``value`` text or a number); None for any other mapping.
    Where a record is shown, its ``value`` is masked by its kind (``mask``), whatever the field's generic name."""
    kind, held = value.get("type"), value.get("value")
    if not isinstance(kind, str) or kind.upper() not in IDENTIFIER_TYPES:
        return None
    return kind.upper() if isinstance(held, str | int) and not isinstance(held, bool) else None


def mask(kind: str, value: str) -> str:
    """``untagged_mask(kind, value)``, followed by ``~`` and its tag (``tag``) when ``kind`` is one of
    ``TAGGED_KINDS`` and a key is set (``tag_key``): ``EA-****0001~K7Q``, ``j***@example.org~2QD``. A value that is a
    tagged mask already is returned as it is, and so is an untagged one (a record of before the tags, a process
    without the key): a tag of a mask's text would say two values masked alike are one. ``ConfigError`` when the
    environment's key is too short."""
    shown = untagged_mask(kind, value)
    if kind not in TAGGED_KINDS or shown == value:
        return shown
    head, separator, end = value.rpartition(TAG_SEPARATOR)
    if separator and TAG.fullmatch(end) and untagged_mask(kind, head) == head:
        return value
    key = tag_key()
    return shown if key is None else f"{shown}{TAG_SEPARATOR}{tag(key, kind, value)}"


def untagged_mask(kind: str, value: str) -> str:
    """A display form that shows enough to recognise an identifier and not enough to use it.

    A card is shown by its own last four digits only when it is a number (``****1111``, as a receipt prints
    it); a token (our ``card1:`` or an issuer's) shows as one, ``card1:…f0a1``, so that the end of a token is
    never read as the card's last four (new-user finding #6). An account and a customer number show their last four
    too (``LAST_FOUR_KINDS``), after the letters they start with (``KEPT_PREFIX``: ``CA-****0002``, ``C-****0002``).
    The same mask serves a log line and an answer to an authorised caller (the screen pop), so neither ever carries
    more of a value than this (``mask`` adds a tag to some)."""
    if kind == "PHONE":
        return phone_mask(value)
    if kind == "EMAIL":
        local, _, domain = value.partition("@")
        return f"{local[:1]}***@{domain if _DOMAIN.fullmatch(domain) else '…'}"
    if kind == "NATIONAL_ID":
        return f"{SECRET_TOKEN_PREFIXES[kind]}…{value[-4:]}" if NATIONAL_ID_TOKEN.match(value) else "[national id]"
    if kind == "CARD" and CARD_TOKEN.match(value):
        return f"{SECRET_TOKEN_PREFIXES[kind]}…{value[-4:]}"
    if kind == "CARD" and _CARD_NUMBER.fullmatch(value):  # as written: spaces or dashes between its groups
        return "****" + re.sub(r"\D", "", value)[-4:]
    if kind == "CARD" and not value.isdigit():
        return f"token …{value[-4:]}" if len(value) > 8 else "token …"
    if kind in LAST_FOUR_KINDS:
        prefix = KEPT_PREFIX.match(value) if kind in PREFIX_KINDS else None
        head = prefix.group(0) if prefix is not None and len(value) - prefix.end() > 4 else ""
        return head + "****" + value[-4:] if len(value) > 4 else "****"
    return value[:4] + "…" if len(value) > 4 else "…"


def phone_mask(value: str) -> str:
    """A phone's mask (ITU-T E.164 ``+CC`` then up to 14 digits): its country code, its length and its last four
    digits, ``+34*****1222``. A value in any other form (a refused body's ``622111222`` or ``622 111 222``, written
    without its country code; a number with spaces or dashes; a refused value), whose first characters are no country
    code but the subscriber's own digits, shows its last four digits only, its other characters each as ``*``:
    ``*****1222``. Fewer than ``PHONE_SHOWN_FROM`` digits show none. A phone mask is returned as it is."""
    if _MASKED_PHONE.fullmatch(value):
        return value
    if _E164.fullmatch(value):
        code = next((value[1:1 + size] for size in (1, 2, 3)
                     if int(value[1:1 + size]) in phonenumbers.COUNTRY_CODE_TO_REGION_CODE), "")
        if len(value) - 1 - len(code) >= PHONE_SHOWN_FROM:
            return f"+{code}" + "*" * (len(value) - 5 - len(code)) + value[-4:]
    digits = re.sub(r"\D", "", value)
    if len(digits) < PHONE_SHOWN_FROM:
        return "*" * max(len(digits), 4)
    return "*" * (len(digits) - PHONE_SHOWN_DIGITS) + digits[-PHONE_SHOWN_DIGITS:]


def mask_keys(keys: Iterable[str]) -> list[str]:
    """``TYPE:value`` keys as ``TYPE:masked``, in their order. Two different values with the same mask (two phones
    ending alike; accounts 1000009 and 2000009 where no key tags them, both ``****0009``) are told apart by a number in
    order of appearance, ``ACCOUNT:****0009 (1)`` and ``ACCOUNT:****0009 (2)``, which says nothing more about either
    value; a mask that no other value shares stays as it is (new-user finding #6)."""
    parsed = [(kind, value) for kind, _, value in (key.partition(":") for key in keys)]
    values_of: dict[str, list[str]] = {}
    for kind, value in parsed:
        label = f"{kind}:{mask(kind, value)}"
        if value not in values_of.setdefault(label, []):
            values_of[label].append(value)
    masked = []
    for kind, value in parsed:
        label = f"{kind}:{mask(kind, value)}"
        values = values_of[label]
        masked.append(f"{label} ({values.index(value) + 1})" if len(values) > 1 else label)
    return masked
