"""Business references an operator declares kept whole in the free text an adapter scrubs.

Every property value, page field and handoff summary an adapter publishes is scrubbed of identifier values
(``bus.redact.free_text``): a run of seven or more digits becomes ``[digits]``. A utility's meter point number
(France PRM/PDL and gas PCE: 14 digits; UK MPAN: 13; a Brazilian SAP IS-U installation, 10), a meter serial or a
meter index with leading zeros (``0048211``) is such a run, yet no person's identifier: a meter-reading dispute needs
it. The operator names the properties that hold such references, for the whole deployment
(``OMNIBUS_IDENTIFIERS__REFERENCE_FIELDS``: every adapter, the handoff tracker's quote of a resolution in the
customer's notification, an operator command's ``--reason``; ``declared``) or for one adapter
(``AdapterSettings.reference_fields``), e.g. ``meter_point_id``, ``reading_index``; their values are kept whole:

- as a property (an event's property, a handoff's intake fact, a contact's attribute or a batch line's column
  ``declared_in`` carries into one), under that name: the value is the field's, whatever digits it has
  (``masked_reason``);
- in free text (a handoff summary, a resolution, an operator's reason, a call's disposition), as ``name: value``,
  ``name=value`` or ``name value`` (``meter_point_id: 14500000000001``), the value up to a space or a ``, ; ) ]`` and
  not followed by another number (a phone typed in groups is never cut in two): kept when it is the value the same
  record holds under that name, else only when no identifier is written in it (``is_reference``: free text may hold
  a phone the customer dictated).

A name matches in any spelling of its words (a declared ``meter_point`` is a billing export's
``METER_POINT``, a contact flow's ``meterPoint``, an agent's ``Meter-Point``): letters and digits compared
case-folded (``squashed``), and in free text its words joined by nothing, ``-``, ``_`` or a space.

A name that says it holds an identifier or a person's trait can never be declared (``refused_names``: ``phone``,
``contact_email``, ``iban_ref``, ``birth_date``...). And the declaration never carries an identifier through by
accident. A declared field's value is scrubbed (``masked_reason``, counted in ``omnibus_references_masked_total`` by
the declared name, never the value) when it is written as an identifier: not one token of letters and digits joined
by ``- _ / .`` (``REFERENCE``: so an e-mail, an identifier's key form ``PHONE:...``, a ``+CC`` phone or text with
spaces), a valid IBAN (ISO 13616 check digits) or national ID (the deployment's ``NATIONAL_ID_SCHEMES``), or a digit
group, alone or joined to its neighbours, that is a national ID, a phone in its ``00CC`` form or a payment card number
of 15 to 19 digits that passes the Luhn check (Amex 15, Visa and Mastercard 16, Maestro and UnionPay up to 19); and
when it holds the record's own phone (a digit group the adapter's phone region reads as one of the record's
``PHONE`` identifiers: a contact flow that stored the caller's number under the reference's name). A number that
is merely valid as a phone in the region is no longer scrubbed there (with region BR, one in five SAP
installation numbers 3000000000-3099999999 are valid phone numbers and were masked): which installation a crew
reconnects cannot depend on it. Card numbers of 13 and 14 digits are left to the declaration: the MPAN has 13 digits
and the PRM 14, and one in ten of them passes the Luhn check.

Free text and an undeclared name that looks like a reference's (``is_reference_field``: ``order_ref``,
``invoice_id``, ``orderId``) keep the whole test (``is_reference``), any valid phone in the region included: a value
with a letter is kept whole only when no identifier is written in it (``ORD-2026-000123`` is;
``"payment_ref": "FR7630006000011234567890189"``, an IBAN, was kept whole before and is scrubbed). No identifier
travels raw (README, "scrubbed").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import TYPE_CHECKING

from bus.redact import (
    SENSITIVE_FIELDS,
    SENSITIVE_KEYS,
    free_text_masked,
    has_email_or_key,
    is_moment_field,
    is_personal_field,
    may_hold_identifier,
    scrub_text,
)

if TYPE_CHECKING:
    from bus.identifiers import IdentifierNormaliser, IdentifierSettings

# ``omnibus_references_masked_total``'s reasons (``References.masked_reason``, ``References.text_masked``)
IDENTIFIER, CUSTOMER_PHONE, FREE_TEXT = "identifier", "customer-phone", "free-text"
NO_PHONES: frozenset[str] = frozenset()

# Words that make a property name an identifier's, whatever else it says (``contact_phone``, ``ibanRef``): the words
# of the names in ``SENSITIVE_FIELDS`` that name an identifier, without the generic ones (``meter_point_id`` is not).
# ``supply_point`` (SUPPLY_POINT) names a place's number, not a person's: its words stay declarable, so a utility's
# ``meter_point_id`` or ``delivery_point`` reference is kept as before the kind existed.
GENERIC_WORDS = frozenset(("id", "no", "number", "e", "value", "identifier", "identifiers", "endpoint", "supply",
                           "point"))
_WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")
IDENTIFIER_WORDS = frozenset(
    word for name, kind in SENSITIVE_FIELDS.items() if kind is not None
    for word in _WORD.findall(name)) - GENERIC_WORDS
# A declared name's value in free text: after ``:``, ``=`` or a space, up to a space or a ``, ; ) ]``, never followed by
# another number (a phone typed in groups is never cut in two).
_PAIR_VALUE = r"(?P<value>[A-Za-z0-9](?:[\w/-]|\.(?=\w))*+)(?=[.,;)\]]?(?:\s|$))(?!\s*[(+]?\d)"


def squashed(name: str) -> str:
    """``name`` as declared names are compared: its letters and digits, case-folded (``meterPoint``,
    ``meter_point``, ``METER-POINT`` and ``Meter Point`` are ``meterpoint``)."""
    return "".join(character for character in name.casefold() if character.isalnum())


def _spelled(name: str) -> str:
    """A pattern of ``name`` in any spelling of its words (``words``): ``meter_point_id`` matches ``meterPointId``,
    ``METER-POINT-ID``, ``meter point id`` (case is ignored by ``_pairs``)."""
    return r"[-_ ]?".join(re.escape(word) for word in words(name)) or re.escape(name)


def _pairs(names: Iterable[str]) -> re.Pattern[str]:
    """The ``name value`` pairs of ``names`` in free text, each name in any spelling (``_spelled``; a name whole, not
    the end of a longer word)."""
    spelled = "|".join(sorted({_spelled(name) for name in names}, key=len, reverse=True))
    return re.compile(rf"(?<![\w-])(?P<name>{spelled})(?![\w-])(?:\s*[:=]\s*|\s+){_PAIR_VALUE}", re.IGNORECASE)


# A reference is one token: letters and digits, joined by ``- _ / .`` (``PDL-14500000000001``, ``GI123456``).
REFERENCE = re.compile(r"[A-Za-z0-9]+(?:[-_/.][A-Za-z0-9]+)*")
# Under an undeclared reference name, references joined by ``:`` too (an offer's presentation id the web adapter
# made, ``web:portal-web:ajs-next-1714638732004-4f1a...``, echoed by the portal); never an identifier's key form.
REFERENCE_PATH = re.compile(rf"{REFERENCE.pattern}(?::{REFERENCE.pattern})*")
_LETTER = re.compile(r"[^\W\d_]")
_REFERENCE_NAME = re.compile(r"(?:^|[-_])(?:[iI][dD]|[rR]ef|[rR]eference|REF)$|[a-z](?:Id|ID|Ref|Reference)$")


def is_reference_field(name: str) -> bool:
    """Whether a field called ``name`` is named as a business reference: ``id``, ``ref``, ``reference`` or a name
    ending in ``_id``, ``-ref``, ``Id`` (``invoice_id``, ``orderId``). A name in ``SENSITIVE_FIELDS`` is an
    identifier's."""
    return name.lower() not in SENSITIVE_KEYS and _REFERENCE_NAME.search(name) is not None


def words(name: str) -> list[str]:
    """``name``'s words, lower case: ``meterPointId`` -> ``["meter", "point", "id"]``."""
    return [word.lower() for word in _WORD.findall(name)]


def refused_names(names: Iterable[str]) -> list[str]:
    """Those of ``names`` no reference can be declared under: a name of ``SENSITIVE_FIELDS``, a person's trait
    (``bus.redact.is_personal_field``: ``birth_date``, ``family_name``) or one with an identifier's word
    (``IDENTIFIER_WORDS``: ``contact_phone``, ``ibanRef``, ``mail``)."""
    return [name for name in names
            if is_personal_field(name) or IDENTIFIER_WORDS.intersection(words(name)) or not name.strip()]


def check_names(names: tuple[str, ...]) -> tuple[str, ...]:
    """``names`` as declared; ``ValueError`` naming each one that holds an identifier (``refused_names``)."""
    refused = refused_names(names)
    if refused:
        raise ValueError(f"{', '.join(map(repr, refused))} cannot be declared a business reference: the name says it "
                         "holds a person's identifier or trait, whose values are always scrubbed")
    return names


def phones_of(identifiers: Iterable[Mapping[str, str]]) -> frozenset[str]:
    """The E.164 values of the ``PHONE`` identifiers among ``identifiers`` (``omnibus.common.Identifier`` records): a
    record's own phones, which a declared reference's value may not carry (``References.masked_reason``)."""
    return frozenset(identifier["value"] for identifier in identifiers if identifier.get("type") == "PHONE")


class References:
    """The declared reference names of one adapter (``reference_fields``), its phone region (None: phones only in
    their ``+CC``/``00CC`` form are recognised) and the national ID schemes (python-stdnum) of the deployment."""

    def __init__(self, names: Iterable[str], *, region: str | None = None,
                 national_id_schemes: tuple[str, ...] = ()) -> None:
        from bus.identifier_scan import IdentifierScan  # bus.identifiers (phonenumbers): not for settings
        from bus.identifiers.metrics import REFERENCES_MASKED

        declared = tuple(names)
        # squashed name -> the name as first declared: the metric's label, one per declared name however spelled
        self._names = {squashed(name): name for name in reversed(declared)}
        self._pairs = _pairs(declared)
        self._scan = IdentifierScan(region, national_id_schemes)
        self._masked = REFERENCES_MASKED

    @classmethod
    def of(cls, names: Iterable[str], normaliser: IdentifierNormaliser) -> References:
        """``names`` and the deployment's (``OMNIBUS_IDENTIFIERS__REFERENCE_FIELDS``) with the region and national ID
        schemes of the adapter's ``normaliser``."""
        settings = normaliser.settings
        return cls((*names, *settings.reference_fields), region=normaliser.region,
                   national_id_schemes=settings.national_id_schemes)

    @classmethod
    def deployment(cls, settings: IdentifierSettings) -> References:
        """The deployment's declared references (``settings.reference_fields``), its default region and national ID
        schemes: for a process that is no adapter (the handoff tracker, an operator command)."""
        return cls(settings.reference_fields, region=settings.default_region,
                   national_id_schemes=settings.national_id_schemes)

    def __bool__(self) -> bool:
        return bool(self._names)

    def declares(self, name: str) -> bool:
        """Whether ``name`` is a declared reference's, in any spelling (``squashed``: ``meterPoint`` is a declared
        ``meter_point``'s)."""
        return squashed(name) in self._names

    def declared_in(self, fields: Mapping[str, object], phones: frozenset[str] = NO_PHONES) -> dict[str, str]:
        """The declared references among ``fields`` (a contact's attributes, a batch line's columns: name -> value),
        under the names they have there, each kept whole unless it has a ``masked_reason`` (``phones``: the record's
        own, E.164), else scrubbed (``facts``); values that are no text or number, or empty, are left out."""
        if not self._names:
            return {}
        found = {name: str(value) for name, value in fields.items()
                 if isinstance(value, str | int) and not isinstance(value, bool) and str(value).strip()
                 and self.declares(name)}
        return self.facts(found, phones)

    def is_reference(self, value: str, shape: re.Pattern[str] = REFERENCE) -> bool:
        """Whether ``value`` may be kept whole where no declared field vouches for it (free text, an undeclared
        reference-named field): of its ``shape`` (one token, ``REFERENCE``), with no identifier written in it, any
        phone valid in the region included (``identifier_scan.IdentifierScan.finds``; the module docstring says which
        forms are)."""
        return shape.fullmatch(value) is not None and not self._scan.finds(value)

    def masked_reason(self, value: str, phones: frozenset[str] = NO_PHONES) -> str | None:
        """Why a declared field's ``value`` is not kept whole (``IDENTIFIER``: written as an identifier;
        ``CUSTOMER_PHONE``: it holds one of ``phones``, the record's own, E.164), or None: kept whole, whatever digits
        it has (a number that is merely valid as a phone in the region is the field's)."""
        if REFERENCE.fullmatch(value) is None or self._scan.finds(value, NO_PHONES):
            return IDENTIFIER
        if phones and self._scan.finds(value, phones):
            return CUSTOMER_PHONE
        return None

    def facts(self, values: dict[str, str], phones: frozenset[str] = NO_PHONES) -> dict[str, str]:
        """``values`` (a map of text: an event's properties, a handoff's intake facts) with each value
        ``bus.redact.free_text``, changed in place and returned, but for a reference's: a declared name's value is
        kept as it is unless it has a ``masked_reason`` (``phones``: the record's own, E.164), then scrubbed
        (``bus.redact.scrub_text``) and counted (``omnibus_references_masked_total``); an undeclared name that
        ``is_reference_field`` keeps a value with a letter that ``is_reference`` (a bill's ``BILL-2024-04-55102``,
        an SDK's message id ``ajs-next-1714638732004``: what the back office and subscribers match on), never an
        identifier written in it (``"payment_ref": "FR7630006000011234567890189"``, an IBAN, was kept whole)."""
        for name, value in values.items():
            if not value:
                continue
            declared = self._names.get(squashed(name)) if self._names else None  # self.declares(name), inlined
            if declared is not None:
                reason = self.masked_reason(value, phones)
                if reason is not None:
                    values[name] = scrub_text(value)
                    self._count(declared, reason, changed=values[name] != value)
            elif may_hold_identifier(value) and not (
                    is_reference_field(name) and _LETTER.search(value) and not has_email_or_key(value)
                    and self.is_reference(value, REFERENCE_PATH)):
                values[name] = scrub_text(value, dates=not is_moment_field(name))
        return values

    def text(self, value: str, record: Mapping[str, object] | None = None) -> str:
        """``bus.redact.free_text(value)`` (a handoff's summary, a resolution, an operator's reason), but the value of
        each ``name: value`` pair whose name is declared is kept as it is when ``record`` (the same record's fields
        as published: its intake facts, its contact's declared attributes) holds that value under that name, or when
        it ``is_reference``."""
        return self.text_masked(value, record)[0]

    def text_masked(self, value: str, record: Mapping[str, object] | None = None) -> tuple[str, tuple[str, ...]]:
        """``text(value, record)`` and what it masked (``bus.redact.free_text_masked``: one word per masked value,
        never the value), for a command that tells its operator; a declared pair's value masked is counted
        (``omnibus_references_masked_total``, reason ``FREE_TEXT``)."""
        if not self._names or not value:
            return free_text_masked(value)
        fields = {squashed(name): str(field) for name, field in (record or {}).items() if self.declares(name)}
        pieces: list[str] = []
        masked: list[str] = []
        start = 0
        for pair in self._pairs.finditer(value):
            quoted, name = pair.group("value"), squashed(pair.group("name"))
            if fields.get(name) == quoted or self.is_reference(quoted):
                text, kinds = free_text_masked(value[start:pair.start("value")])
                pieces += [text, quoted]
                masked += kinds
                start = pair.end("value")
            else:
                self._count(self._names[name], FREE_TEXT, changed=free_text_masked(quoted)[1] != ())
        text, kinds = free_text_masked(value[start:])
        return "".join([*pieces, text]), (*masked, *kinds)

    def _count(self, declared: str, reason: str, *, changed: bool) -> None:
        if changed:
            self._masked.labels(declared, reason).inc()


@lru_cache(maxsize=1)
def declared() -> References:
    """The deployment's declared references (``References.deployment`` of ``OMNIBUS_IDENTIFIERS__*``), read once per
    process; ``ConfigError`` naming what is wrong in that section."""
    from bus.identifiers.normaliser import load_identifier_settings

    return References.deployment(load_identifier_settings())
