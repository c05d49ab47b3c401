"""The standard trait keys of a person (``IdentifiersObserved.traits``) and one normaliser for each.

Every adapter that receives a person's name, date of birth or address passes it on under these keys, so
identity's matcher compares like with like on every channel:

===================  ===========================================================================
``given_name``       NFC, trimmed, inner whitespace collapsed; refused if it holds digits or @
``family_name``      same
``full_name``        same; only when the source gives the name as one string
``birth_date``       ISO ``YYYY-MM-DD`` (from ISO dates/times, ``YYYYMMDD``, ``DD/MM/YYYY``, ``DD.MM.YYYY``;
                     a slash or dot date is read day first unless its first part is over 12)
``address_line``     NFC, trimmed, collapsed; several lines joined with ", "
``postcode``         trimmed, upper-cased, inner whitespace collapsed
``city``             NFC, trimmed, collapsed
``country``          ISO 3166-1 alpha-2 (from alpha-2, alpha-3 or an English name, via pycountry)
``preferred_language`` BCP 47 tag, case as RFC 5646 recommends (``fr``, ``pt-BR``)
===================  ===========================================================================

A value that cannot be normalised (a birth date of 31/02/1980) is left out and counted
(``omnibus_traits_rejected_total``, code ``invalid``); the event still flows. Only these keys, and the web
adapter's two protocol keys (``alias_previous_id``, ``group_id``), travel in ``IdentifiersObserved.traits``
(``travelling``): any other key a source sends (a Segment trait ``imei``, ``plan``...) is dropped and counted
(code ``unknown-key``), since every subscriber of ``identity.observed.v1`` reads them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from typing import Any

import phonenumbers
import pycountry

from bus.identifiers.metrics import REJECTED_TRAITS

GIVEN_NAME, FAMILY_NAME, FULL_NAME = "given_name", "family_name", "full_name"
BIRTH_DATE, ADDRESS_LINE, POSTCODE, CITY, COUNTRY = "birth_date", "address_line", "postcode", "city", "country"
PREFERRED_LANGUAGE = "preferred_language"
TRAIT_KEYS = (GIVEN_NAME, FAMILY_NAME, FULL_NAME, BIRTH_DATE, ADDRESS_LINE, POSTCODE, CITY, COUNTRY, PREFERRED_LANGUAGE)
MAX_TRAIT_CHARS = 256
# Keys of the web adapter's protocol, read by identity (an alias's earlier id; a group's id when it is no identifier)
ALIAS_PREVIOUS_ID, GROUP_ID = "alias_previous_id", "group_id"
# The kinds an alias's previous id is looked up as (the earlier id, whatever its kind: identity's intake) and checked
# as at the edge (the web adapter refuses an alias whose previousId every one of them refuses, a placeholder).
ALIAS_KINDS = ("ANONYMOUS_ID", "USER_ID")
TRAVELLING_KEYS = frozenset((*TRAIT_KEYS, ALIAS_PREVIOUS_ID, GROUP_ID))
INVALID, UNKNOWN_KEY = "invalid", "unknown-key"  # codes of omnibus_traits_rejected_total
UNKNOWN_TRAIT = "unknown"  # its trait label for a key that is none of TRAVELLING_KEYS (keys are not bounded)

# Source spellings of each key (Segment's reserved traits, common CRM/billing columns), compared without
# case, "_", "-" or spaces: ``firstName``, ``first_name`` and ``FIRST NAME`` are one spelling.
ALIASES: dict[str, tuple[str, ...]] = {
    GIVEN_NAME: ("given_name", "first_name", "firstname", "forename", "prenom"),
    FAMILY_NAME: ("family_name", "last_name", "lastname", "surname", "nom"),
    FULL_NAME: ("full_name", "name", "customer_name", "fullname"),
    BIRTH_DATE: ("birth_date", "birthday", "date_of_birth", "dob", "birthdate"),
    ADDRESS_LINE: ("address_line", "address", "street", "address_line1", "address1", "street_address", "line1"),
    POSTCODE: ("postcode", "postal_code", "postalcode", "zip", "zip_code", "zipcode"),
    CITY: ("city", "town", "locality"),
    COUNTRY: ("country", "country_code"),
    PREFERRED_LANGUAGE: ("preferred_language", "language", "locale"),
}
_SPACES = re.compile(r"\s+")


def _squash(name: str) -> str:
    return re.sub(r"[\s_\-]", "", name).casefold()


_BY_SPELLING = {_squash(alias): key for key, aliases in ALIASES.items() for alias in aliases}


def standard_key(name: str) -> str | None:
    """The standard key a source field name stands for (``firstName`` → ``given_name``), or None."""
    return _BY_SPELLING.get(_squash(name))


def text(value: str) -> str:
    """NFC, trimmed, inner whitespace collapsed to one space."""
    return _SPACES.sub(" ", unicodedata.normalize("NFC", value)).strip()


def name(value: str) -> str:
    """A person's name: ``text``, refused if it holds digits or ``@`` (a phone or e-mail typed in a name field)."""
    result = text(value)
    if any(ch.isdigit() or ch == "@" for ch in result):
        raise ValueError("a name has no digits or @")
    return result


def birth_date(value: str) -> str:
    """ISO ``YYYY-MM-DD``; ``ValueError`` if ``value`` is not a plausible date of birth."""
    raw = value.strip()
    parsed: date | None = None
    if re.fullmatch(r"\d{8}", raw):
        parsed = date(int(raw[:4]), int(raw[4:6]), int(raw[6:]))
    elif match := re.fullmatch(r"(\d{1,2})[/.](\d{1,2})[/.](\d{4})", raw):
        first, second, year = (int(part) for part in match.groups())
        day, month = (second, first) if first <= 12 < second else (first, second)
        parsed = date(year, month, day)
    else:
        parsed = datetime.fromisoformat(raw).date() if "T" in raw or " " in raw else date.fromisoformat(raw[:10])
    if parsed.year < 1900 or parsed > date.today():
        raise ValueError("birth date out of range")
    return parsed.isoformat()


def postcode(value: str) -> str:
    return _SPACES.sub(" ", value).strip().upper()


def country(value: str) -> str:
    """ISO 3166-1 alpha-2 (``FR``) from alpha-2, alpha-3 or a name; ``ValueError`` if unknown."""
    raw = text(value)
    found = (pycountry.countries.get(alpha_2=raw.upper()) if len(raw) == 2 else
             pycountry.countries.get(alpha_3=raw.upper()) if len(raw) == 3 else None)
    if found is None:
        try:
            found = pycountry.countries.lookup(raw)
        except LookupError:
            raise ValueError("unknown country") from None
    return str(found.alpha_2)


def language(value: str) -> str:
    """A BCP 47 tag with RFC 5646 casing: ``fr``, ``pt-BR``, ``zh-Hant-TW`` (``_`` read as ``-``)."""
    parts = [part for part in text(value).replace("_", "-").split("-") if part]
    if not parts or not all(part.isalnum() and part.isascii() for part in parts) or not parts[0].isalpha():
        raise ValueError("not a language tag")
    cased = [parts[0].lower()]
    for part in parts[1:]:
        cased.append(part.upper() if len(part) == 2 else part.title() if len(part) == 4 else part.lower())
    return "-".join(cased)


NORMALISERS: dict[str, Callable[[str], str]] = {
    GIVEN_NAME: name, FAMILY_NAME: name, FULL_NAME: name, BIRTH_DATE: birth_date, ADDRESS_LINE: text,
    POSTCODE: postcode, CITY: text, COUNTRY: country, PREFERRED_LANGUAGE: language,
}


def normalise_trait(key: str, raw: Any) -> str | None:
    """The standard form of one trait value, or None if absent or not normalisable."""
    if raw is None or isinstance(raw, bool | dict | list):
        return None
    if isinstance(raw, date):
        raw = raw.isoformat()
    value = str(raw)
    if not value.strip() or len(value) > MAX_TRAIT_CHARS:
        return None
    try:
        result = NORMALISERS[key](value)
    except (ValueError, TypeError, OverflowError):
        return None
    return result or None


_NAME_RULE = "a name has no digits or @"
RULES = {  # why a value of a standard key is left out, in words the sender reads (never the value)
    GIVEN_NAME: _NAME_RULE, FAMILY_NAME: _NAME_RULE, FULL_NAME: _NAME_RULE,
    BIRTH_DATE: "not a date of birth (YYYY-MM-DD, YYYYMMDD, DD/MM/YYYY or DD.MM.YYYY, from 1900 to today)",
    COUNTRY: "not an ISO 3166 country (alpha-2, alpha-3 or English name)",
    PREFERRED_LANGUAGE: "not a BCP 47 language tag",
}


def left_out_reason(key: str, raw: Any) -> str:
    """Why ``normalise_trait(key, raw)`` gave None for a present value: a sentence naming the rule, never ``raw``."""
    if isinstance(raw, bool) or not isinstance(raw, str | int | float | date):
        return "not text"
    if len(str(raw)) > MAX_TRAIT_CHARS:
        return f"longer than {MAX_TRAIT_CHARS} characters"
    return RULES.get(key, "not usable text")


def standard_traits(
    fields: Mapping[str, Any], *, names: Mapping[str, str] | None = None, component: str = "adapter",
    left_out: dict[str, str] | None = None,
) -> dict[str, str]:
    """Standard traits found in ``fields``: under a standard key or an alias, or as ``names`` maps them.

    ``names`` maps a source field to a standard key (``{"CustomerFirstName": "given_name"}``) for sources whose
    spellings are not aliases. A nested address object (Segment's ``address: {street, city, postalCode,
    country}``) is read too. Values that do not normalise are counted and left out; ``left_out`` receives their
    standard key -> ``left_out_reason`` (for the sender's answer).
    """
    found: dict[str, str] = {}
    own = {_squash(source): key for source, key in (names or {}).items()}
    for name, raw in _flatten(fields):
        key = own.get(_squash(name)) or standard_key(name)
        if key is None or key in found:
            continue
        value = normalise_trait(key, raw)
        if value is None:
            if raw not in (None, "") and not isinstance(raw, dict | list):
                REJECTED_TRAITS.labels(component, key, INVALID).inc()
                if left_out is not None:
                    left_out[key] = left_out_reason(key, raw)
            continue
        found[key] = value
    return found


_ADDRESS_OBJECTS, _ADDRESS_LISTS = ("address", "homeaddress", "postaladdress"), ("addresslines", "lines")


def _flatten(fields: Mapping[str, Any]) -> Iterable[tuple[str, Any]]:
    for name, raw in fields.items():
        if isinstance(raw, Mapping) and _squash(str(name)) in _ADDRESS_OBJECTS:
            yield from ((str(inner), value) for inner, value in raw.items())
        elif isinstance(raw, list) and _squash(str(name)) in _ADDRESS_LISTS:
            lines = [str(line) for line in raw if isinstance(line, str | int) and str(line).strip()]
            yield ADDRESS_LINE, ", ".join(lines) if lines else None
        else:
            yield str(name), raw


def unread_keys(fields: Mapping[str, Any]) -> list[str]:
    """The top-level keys of ``fields`` that ``standard_traits`` reads nothing from (neither a standard key, an alias
    nor an address object or list of lines), in order: for a contract that refuses them."""
    return [str(name) for name in fields
            if standard_key(str(name)) is None and _squash(str(name)) not in (*_ADDRESS_OBJECTS, *_ADDRESS_LISTS)]


def source_names(names: Iterable[str]) -> set[str]:
    """The field names among ``names`` that ``standard_traits`` reads (so a mapper can drop the raw copies)."""
    return {name for name in names if standard_key(name) is not None}


UNKNOWN_KEY_REASON = f"{UNKNOWN_KEY}: not a standard trait, left off (an identifier goes under its identifier trait)"


def travelling(
    traits: Mapping[str, str] | None, *, component: str, left_out: dict[str, str] | None = None
) -> dict[str, str]:
    """The traits of ``traits`` that may travel in ``IdentifiersObserved.traits`` (``TRAVELLING_KEYS``); each other
    key is dropped and counted (``omnibus_traits_rejected_total{trait="unknown", code="unknown-key"}``), and
    ``left_out`` receives it -> ``UNKNOWN_KEY_REASON`` (for the sender's answer; a ``nir`` trait was
    dropped without a word to its sender)."""
    kept: dict[str, str] = {}
    for key, value in (traits or {}).items():
        if key in TRAVELLING_KEYS:
            kept[key] = value
        else:
            REJECTED_TRAITS.labels(component, UNKNOWN_TRAIT, UNKNOWN_KEY).inc()
            if left_out is not None:
                left_out.setdefault(key, UNKNOWN_KEY_REASON)
    return kept


def phone_region(fields: Mapping[str, Any], *, names: Mapping[str, str] | None = None) -> str | None:
    """The phone region of a record's national-format numbers: its own ``country`` (under a spelling ``standard_traits``
    reads, or as ``names`` maps it) as ISO 3166-1 alpha-2, or None when it has none a phone region can be (then the
    source's region applies). A ``+CC``/``00CC`` number keeps its own country whatever this says
    (``0470 12 34 56`` with ``country: BE`` was read in the adapter's region FR, someone else's number)."""
    own = {_squash(source): key for source, key in (names or {}).items()}
    for name, raw in _flatten(fields):
        if (own.get(_squash(name)) or standard_key(name)) == COUNTRY:
            region = normalise_trait(COUNTRY, raw)
            return region if region in phonenumbers.SUPPORTED_REGIONS else None
    return None
