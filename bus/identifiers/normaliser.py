"""One normaliser for every identifier, used where a value enters (each adapter) and again by identity.

``IdentifierNormaliser.normalise(kind, raw)`` gives an ``Identifier`` or a ``Rejected`` value, never an
exception and never silence:

- PHONE → E.164 (``bus.identifiers.phone``), with the region of the call, else of the normaliser (the
  adapter's, site's or source's ``phone_region``), else ``OMNIBUS_IDENTIFIERS__DEFAULT_REGION``;
- EMAIL → one spelling per mailbox (``bus.identifiers.email``);
- NATIONAL_ID → validated by the configured python-stdnum schemes, then a ``nid1:`` token;
- CARD → a PAN passing Luhn becomes a ``card1:`` token; issuer tokens are kept;
- ACCOUNT (or its input alias IBAN) → an IBAN in its electronic form, other account numbers without
  whitespace, upper case, and with ``account_number_format`` set, in the system of record's spelling when they match
  it (``900001`` typed at a counter is billing's ``CA-900001``: ``bus.identifiers.account``);
- CUSTOMER_NUMBER (a system of record's number for its customer) → without spaces, upper case: ``c 5005`` typed
  at a screen pop is the ``C5005`` of the export; with ``customer_number_format`` set, in the system of record's
  spelling (``770002`` on a keypad is billing's ``C-770002``: ``bus.identifiers.customer_number``), else other
  characters (``C-5005``, leading zeros) are kept, as the system of record's own key may tell them apart;
- SUPPLY_POINT (a metering point, a line or installation number) → without spaces, upper case, checked where its
  scheme has a check digit (``bus.identifiers.supply_point``: a PRM/PDL, an EAN/GSRN, an EIC, a CUPS);
- DEVICE → trimmed, UUIDs lower-cased; USER_ID, ANONYMOUS_ID → trimmed.

Every value is first NFKC-normalised and trimmed, and refused if empty, longer than ``MAX_CHARS`` or
holding control characters. Normalising a normalised value returns it unchanged (tokens included), so
identity can check what adapters already normalised. With ``block_placeholders`` (identity) filler
values and configured test values are refused with rule ``blocked-value``, always on the normalised value so
the decision does not depend on how the value was written (an account or customer number in its system of
record's format on the number that format writes, whatever the prefix: ``123456`` under ``{"prefix": "EA-",
"width": 8}`` is ``EA-00123456``, somebody's, and ``0000000`` under ``{"prefix": "C-"}`` is ``C-0``, the number
zero; the value as typed was judged too, and dropped the contract ``123456``; a number the width pads is
never a count or a run: ``1234567`` is ``EA-01234567``, somebody's); a valid IBAN is never
taken for a run of digits (its check digits say it was issued, and a run such as ``1234567890`` inside it is
chance).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field

from bus.identifiers import kinds
from bus.identifiers.account import SEPARATORS, is_iban, normalise_account
from bus.identifiers.card import card_number
from bus.identifiers.customer_number import normalise_customer_number
from bus.identifiers.email import normalise_email
from bus.identifiers.masking import mask
from bus.identifiers.metrics import REJECTED_IDENTIFIERS
from bus.identifiers.model import BLOCKED, INVALID, Identifier, NotAnIdentifier, Rejected
from bus.identifiers.national_id import LEGACY_SCHEME, canonical_national_id
from bus.identifiers.phone import normalise_phone
from bus.identifiers.placeholders import PLACEHOLDER_CODE, looks_like_placeholder
from bus.identifiers.settings import ENV_PREFIX, HMAC_KEY_VARIABLE, IdentifierSettings, check_region
from bus.identifiers.supply_point import normalise_supply_point
from bus.identifiers.tokens import is_token, token

MAX_CHARS = 256
# The reason code of a value that leaves only as a token (a national ID, a card number) while no HMAC key is set: the
# setting is missing, not the value wrong.
NO_TOKEN_KEY_CODE = "no-token-key"
_SYMBOLS = frozenset(kinds.IDENTIFIER_TYPES)  # looked up per value: a set, not the contract's ordered tuple
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# A type name as a user types it; anything else (e.g. "PHONE=+336...", a value pasted into the type) is not
# echoed, since it may hold an identifier value.
_TYPE_NAME = re.compile(r"^[A-Z][A-Z_]{0,31}$")  # no digits: a number glued to a type stays unshown
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def unknown_type_reason(kind: str) -> str:
    """Why ``kind`` is refused, naming it only when it looks like a type name (never a value pasted into it),
    listing the linked types (``kinds.IDENTIFIER_TYPES``)."""
    named = "the identifier type (not shown: it may hold a value)"
    if _TYPE_NAME.match(kind):
        named = f"identifier type {kind}"
    return f"{named} is not linked (linked types: {', '.join(kinds.IDENTIFIER_TYPES)})"


@dataclass
class Found:
    """The identifiers of one record: accepted ones (first-seen order, no repeats) and rejected values."""

    identifiers: list[Identifier] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)

    def records(self) -> list[dict[str, str]]:
        """``omnibus.common.Identifier`` records."""
        return [identifier.as_record() for identifier in self.identifiers]

    def rejected_records(self) -> list[dict[str, str]]:
        """``omnibus.common.RejectedIdentifier`` records."""
        return [item.as_record() for item in self.rejected]

    def add(self, result: Identifier | Rejected | None) -> None:
        if result is None:
            return
        if isinstance(result, Rejected):
            if result not in self.rejected:
                self.rejected.append(result)
        elif result not in self.identifiers:
            self.identifiers.append(result)

    def extend(self, other: Found) -> Found:
        for identifier in other.identifiers:
            self.add(identifier)
        for rejected in other.rejected:
            self.add(rejected)
        return self


class IdentifierNormaliser:
    """Normalise identifiers the way every Omnibus component does.

    ``region`` is the phone region of this source (None: ``settings.default_region``); ``component`` labels
    the ``omnibus_identifiers_rejected_total`` metric; ``blocked`` adds known test values per type (checked,
    like placeholders, only with ``block_placeholders``); ``key`` overrides ``settings.token_key()``.
    """

    def __init__(
        self, settings: IdentifierSettings | None = None, *, region: str | None = None, component: str = "adapter",
        block_placeholders: bool = False, blocked: Mapping[str, Collection[str]] | None = None,
        key: bytes | None = None,
    ) -> None:
        self.settings = settings or load_identifier_settings()
        self.region = check_region(region) or self.settings.default_region
        self._component = component
        self._block = block_placeholders
        self._key = key or self.settings.token_key()
        self._blocked = {kind: self._blocked_forms(kind, values) for kind, values in (blocked or {}).items()}
        self._number_formats = {kind: system_format for kind, system_format in (
            (kinds.ACCOUNT, self.settings.account_number_format),
            (kinds.CUSTOMER_NUMBER, self.settings.customer_number_format)) if system_format is not None}

    @property
    def tokenises(self) -> bool:
        """Whether a token key is set: without one, a value that leaves only as a token (``NO_TOKEN_KEY_CODE``)
        cannot leave at all."""
        return self._key is not None

    def with_region(self, region: str | None) -> IdentifierNormaliser:
        """The same normaliser for a source with its own phone region (None keeps this one's)."""
        if not region or check_region(region) == self.region:
            return self
        return IdentifierNormaliser(self.settings, region=region, component=self._component,
                                    block_placeholders=self._block, blocked=self._blocked, key=self._key)

    def token(self, kind: str, canonical: str) -> str:
        if self._key is None:
            raise NotAnIdentifier(NO_TOKEN_KEY_CODE, f"{kind} cannot be tokenised: no HMAC key is configured "
                                  f"({HMAC_KEY_VARIABLE}), and it is never published raw")
        return token(self._key, kind, canonical)

    def normalise(self, kind: str, raw: object, *, region: str | None = None) -> Identifier | Rejected:
        """An ``Identifier``, or a ``Rejected`` value (counted in the metric) saying why not."""
        if type(kind) is not str or kind not in _SYMBOLS:  # a contract symbol is its own kind_of: the adapters' call
            kind = kinds.kind_of(str(kind))
        if type(raw) is str:  # str(raw) is raw
            value: str | None = raw
        else:
            value = "" if raw is None or isinstance(raw, bool) else str(raw) if isinstance(raw, str | int) else None
        if kind not in _SYMBOLS:
            return self._rejected(kind, value or "", INVALID, "unknown-type", unknown_type_reason(kind))
        if value is None:
            return self._rejected(kind, "", INVALID, "not-text", f"{kind} value is not text")
        # NFKC leaves ASCII as it is (the common case, skipped for speed: the adapters' hot path)
        text = (value if value.isascii() else unicodedata.normalize("NFKC", value)).strip()
        region = self.region if region is None else check_region(region) or self.region
        try:
            normalised = self._normalise(kind, text, region)
        except NotAnIdentifier as exc:
            # a filler that its type's own parser refuses (phone ``000000000``, e-mail ``unknown``) is still a
            # placeholder: one code for one kind of value, whichever check sees it first
            if self._block and text and self._placeholder(kind, text):
                return self._placeholder_rejected(kind, text)
            return self._rejected(kind, text, INVALID, exc.code, str(exc))
        if self._block and (normalised in self._blocked.get(kind, ()) or self._placeholder_in_format(kind, normalised)):
            return self._placeholder_rejected(kind, normalised)
        return Identifier(kind, normalised)

    def key_spelling(self, kind: str, raw: object, *, region: str | None = None) -> str | None:
        """The one spelling of ``raw`` as a record key, or None where ``normalise`` would refuse it: what
        ``normalise`` gives, without the placeholder check and without counting a refusal (the caller keeps the
        value as written, and its identifier is refused, and counted, where the record is mapped). ``fr76 3000 ...``
        and ``FR7630000...`` are one key; a national ID or card number is its token."""
        kind = kinds.kind_of(str(kind))
        if kind not in kinds.IDENTIFIER_TYPES or raw is None or isinstance(raw, bool) or not isinstance(raw, str | int):
            return None
        value = str(raw)
        try:
            text = unicodedata.normalize("NFKC", value).strip()
            return self._normalise(kind, text, check_region(region) or self.region)
        except NotAnIdentifier:
            return None

    def is_placeholder(self, kind: str, raw: str) -> bool:
        """Whether ``raw`` is a placeholder or a configured test value of ``kind`` (``0000000``, ``N/A``, ``-``), as
        ``normalise`` with ``block_placeholders`` refuses one, whether or not this normaliser blocks them and without
        counting a refusal: a record keyed by such a value (a legacy line's account number) is refused whole
        (``adapters.legacy.mapper.Fields.account_number``)."""
        kind = kinds.kind_of(str(kind))
        text = unicodedata.normalize("NFKC", raw).strip()
        try:
            normalised = self._normalise(kind, text, self.region)
        except NotAnIdentifier:
            return bool(text) and self._placeholder(kind, text)
        return normalised in self._blocked.get(kind, ()) or self._placeholder_in_format(kind, normalised)

    def collect(self, pairs: Iterable[tuple[str, object]], *, region: str | None = None) -> Found:
        """Normalise ``(type, raw)`` pairs, skipping absent values (None or blank)."""
        found = Found()
        for kind, raw in pairs:
            if raw is None or (isinstance(raw, str) and not raw.strip()):
                continue
            found.add(self.normalise(kind, raw, region=region))
        return found

    def _blocked_forms(self, kind: str, values: Collection[str]) -> frozenset[str]:
        """Configured test values as written and normalised: ``FR76 3000 …`` blocks every spelling of that IBAN."""
        forms = set(values)
        for value in values:
            try:
                forms.add(self._normalise(kind, str(value).strip(), self.region))
            except NotAnIdentifier:
                continue
        return frozenset(forms)

    def _placeholder_in_format(self, kind: str, normalised: str) -> bool:
        """Whether ``normalised`` is a placeholder; a number in its system of record's format (``number_format``:
        ``account_number_format``, ``customer_number_format``) is judged by the number the format writes, as
        the system of record holds it, whatever its prefix: ``EA-00123456`` (typed ``123456``) is somebody's,
        ``C-0`` (typed ``0000000``: the number zero) and ``CUST-1234567890`` are not (the value was
        judged as typed too, and the contract ``123456`` was dropped).

        A number the format's ``width`` pads (``NumberFormat.padded``) is never a run or a count: the zeros are the
        format's, and a number short of the width is one the system of record's sequence issued, not a filler typed
        to fill the field (``EA-01234567``, typed ``1234567``, whose padding zero made it read as the count
        ``01234567``; ``EA-09876543``). A number that fills the width (``EA-12345678``) and the number zero still
        are placeholders."""
        system_format = self._number_formats.get(kind)
        number = system_format.number(normalised) if system_format is not None else None
        if system_format is None or number is None or (kind == kinds.ACCOUNT and is_iban(normalised)):
            return self._placeholder(kind, normalised)
        if not number.strip("0"):
            return True
        return not system_format.padded(number) and looks_like_placeholder(number, kind)

    @staticmethod
    def _placeholder(kind: str, normalised: str) -> bool:
        return looks_like_placeholder(normalised, kind) and not (kind == kinds.ACCOUNT and is_iban(normalised))

    def _placeholder_rejected(self, kind: str, value: str) -> Rejected:
        return self._rejected(kind, value, BLOCKED, PLACEHOLDER_CODE,
                              f"{kind} value is a known placeholder or test value")

    def _rejected(self, kind: str, value: str, rule: str, code: str, reason: str) -> Rejected:
        counted_kind = kind if kind in kinds.IDENTIFIER_TYPES else kinds.UNKNOWN
        REJECTED_IDENTIFIERS.labels(self._component, counted_kind, code).inc()
        if kind == kinds.ACCOUNT:  # one mask per account however it was written (``**** 189`` was ``****0189``)
            value = SEPARATORS.sub("", value).upper()
        masked = "[national id]" if kind == kinds.NATIONAL_ID and not is_token(kind, value) else mask(kind, value)
        return Rejected(kind if kind in kinds.IDENTIFIER_TYPES else kinds.UNKNOWN, masked, rule, reason, code)

    def _normalise(self, kind: str, value: str, region: str | None) -> str:
        if not value:
            raise NotAnIdentifier("empty", "empty value")
        # a printable string holds no control character: the search only for the others
        if len(value) > MAX_CHARS or (not value.isprintable() and _CONTROL.search(value)):
            raise NotAnIdentifier("malformed", f"value has control characters or more than {MAX_CHARS} characters")
        if kind == kinds.PHONE:
            return normalise_phone(value, region)
        if kind == kinds.EMAIL:
            return normalise_email(value, dotless=self.settings.email_dotless_domains,
                                   subaddress=self.settings.email_subaddress_domains)
        if kind == kinds.NATIONAL_ID:
            if is_token(kind, value):
                return value
            scheme, canonical = canonical_national_id(value, self.settings.national_id_schemes,
                                                      configured=self.settings.national_id_schemes_configured)
            if self._block and looks_like_placeholder(canonical[:-1], kind):
                raise NotAnIdentifier(PLACEHOLDER_CODE, "national ID is a placeholder")
            return self.token(kind, canonical if scheme == LEGACY_SCHEME else f"{scheme}:{canonical}")
        if kind == kinds.CARD:
            if is_token(kind, value):
                return value
            digits = card_number(value)
            return value if digits is None else self.token(kind, digits)
        if kind == kinds.ACCOUNT:
            return normalise_account(value, self.settings.account_number_format)
        if kind == kinds.CUSTOMER_NUMBER:
            return normalise_customer_number(value, self.settings.customer_number_format)
        if kind == kinds.SUPPLY_POINT:
            return normalise_supply_point(value)
        if kind == kinds.DEVICE and _UUID.match(value):
            return value.lower()
        return value


def load_identifier_settings(**overrides: object) -> IdentifierSettings:
    """The ``OMNIBUS_IDENTIFIERS__*`` section from the environment (``ConfigError`` naming what is wrong)."""
    from bus.config import load_component_settings

    return load_component_settings(IdentifierSettings, ENV_PREFIX, **overrides)
