"""Record keys of a legacy source: one spelling per key, and ids that never carry an identifier value.

A batch layout's ``key`` columns name a fact across exports, a polled table's primary key a row across versions.
Both become ids: the line's or row version's ``source_event_id``, its dedupe id and, derived from them, its event ids.

- One spelling: a key column holding an identifier (``IDENTIFIER_FIELD_KINDS``: ``account_number``,
  ``iban``, ``customer_id``, ``phone``...; or a name ``bus.redact.SENSITIVE_FIELDS`` says holds one, for a polled
  table's columns) is spelled as ``bus.identifiers`` normalises it, with the source's phone region and the record's
  own country, as the record's identifiers are: ``fr76 3000 6000 ...`` and ``FR7630006000...`` are one key, and so is
  a customer number the deployment's ``customer_number_format`` pads (``C-0770002``, ``C-770002``). Before, a
  re-spelled IBAN was a new key: its lines were published again under other event ids, which reordered a joint
  account's holders and moved the account, its e-mail and its landline to the other holder. A value the normaliser
  refuses (an IBAN with wrong check digits) and any other column (``bill_id``) keep their text, NFKC and trimmed.
  A line's content is compared with its key's last one with its identifiers spelled so too (``spelled_fields``): the
  re-spelled line is a duplicate, not a changed line published as a newer fact.
- No identifier value: a batch line's id carries a digest of its key's spelled parts
  (``bus.envelope.key_digest``) instead of the parts, ``batch:<layout>:key-<32 hex>``, whatever the key's columns (a
  layout may key on a name and a birth date); a polled row's version does when the table's primary key is personal
  (``is_personal``), ``poll:<poller>:key-<32 hex>@<updated_at>``. Ids are printed by ``omnibus topics read``, logged
  and kept by every subscriber; an IBAN or a phone number must not be among them.
  The digest is SHA-256, not keyed: an id must stay the same whatever the deployment's token key (dedupe and every
  reader's event ids depend on it), and the values it stands for travel in the event itself, as identifiers, for those
  who may read them. It hides them from readers of ids, not from one who guesses a value and hashes it.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

from adapters.legacy.mapper import IDENTIFIER_FIELD_KINDS
from bus.identifiers import IdentifierNormaliser
from bus.identifiers.traits import phone_region, standard_key
from bus.redact import SENSITIVE_FIELDS


def identifier_kind(name: str) -> str | None:
    """The identifier kind field ``name`` holds (``iban`` → ``ACCOUNT``), ``""`` for a name that says it holds an
    identifier of a kind the record tells (``value``), or None: no identifier (``bill_id``)."""
    kind = IDENTIFIER_FIELD_KINDS.get(name)
    if kind is not None:
        return kind
    squashed = name.strip().lower()
    return (SENSITIVE_FIELDS[squashed] or "") if squashed in SENSITIVE_FIELDS else None


def key_spelling(name: str, value: Any, normaliser: IdentifierNormaliser, region: str | None = None) -> str:
    """Field ``name``'s ``value`` as part of a key: its identifier's normalised spelling when it holds one the
    normaliser takes (``region``: the phone region of a national number), else its text, NFKC and trimmed."""
    text = unicodedata.normalize("NFKC", str(value)).strip()
    kind = identifier_kind(name)
    spelled = normaliser.key_spelling(kind, text, region=region) if kind else None
    return spelled if spelled is not None else text


def key_parts(names: Sequence[str], fields: Mapping[str, Any], normaliser: IdentifierNormaliser) -> list[str]:
    """The spelled parts of the key ``names`` of a record's ``fields`` (each present); national phones are read in
    the record's own country (``bus.identifiers.traits.phone_region``), else the normaliser's region."""
    region = phone_region(fields)
    return [key_spelling(name, fields[name], normaliser, region) for name in names]


def spelled_fields(fields: Mapping[str, Any], normaliser: IdentifierNormaliser) -> dict[str, Any]:
    """``fields`` with each identifier spelled as a key part is (``key_spelling``), the others as they are: what a
    line's content is compared by (``revisions.content_digest``), so a re-spelled IBAN is no change either."""
    region = phone_region(fields)
    return {name: key_spelling(name, value, normaliser, region)
            if value not in (None, "") and identifier_kind(name) is not None else value
            for name, value in fields.items()}


def is_personal(name: str) -> bool:
    """Whether field ``name`` holds an identifier (``identifier_kind``) or a person's trait (a name, a birth date:
    ``bus.identifiers.traits.standard_key``): an id built from it carries a digest."""
    return identifier_kind(name) is not None or standard_key(name) is not None

