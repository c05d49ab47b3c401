"""A payment card's status, as an issuer's system or the call center says it -> ``omnibus.business.CardStatusChanged``.

A card reported stolen or lost is blocked; a new card replaces it. Until Omnibus knew it, the screen pop showed the
dead card as any other and a caller quoting it was matched to its holder silently (tester29 F3). The legacy adapter
maps a ``CardStatusChanged`` row (``adapters.legacy.mapper``), the call center an ``omnibus_card_status`` contact
attribute for the card its contact flow verified (``adapters.call_center.attributes``); identity's screen pop marks
the card and warns when a caller is looked up by it (``processors.profile.sections.products``, docs/legacy-batch.md
"Cards"). The card travels as its keyed token (``card1:...``), never as its number.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any

from bus.serde import Event
from schemas.enums import CARD_STATUSES

CARD_STATUS_CHANGED = "omnibus.business.CardStatusChanged"
CARD_STATUS_FIELD = "card_status"  # the field of a legacy record (or layout) holding the card system's word
UNKNOWN_STATUS = "UNKNOWN"  # the status of a word no list knows (the agent is still warned: not ACTIVE)
# A card system's or an agent's words for a card's status, in English, Spanish and French (compared upper-case
# without accents, runs of other characters as "_": ``status_word``). Spanish core-banking phrases added for tester32
# F12 (bloqueo por fraude, robo, extravío, baja, bloqueo temporal); ``duplicado`` is left out on purpose: a row may
# name the duplicate issued (active) or the card it duplicates (replaced), so a layout says which (``status_words``).
CARD_STATUS_WORDS = {
    **dict.fromkeys(("OPEN", "ACTIVATED", "UNBLOCKED", "ACTIVA", "DESBLOQUEADA"), "ACTIVE"),
    **dict.fromkeys(("STOLEN", "LOST", "FRAUD", "LOCKED", "SUSPENDED", "HOT_CARDED", "CARD_BLOCKED", "ROBADA",
                     "PERDIDA", "BLOQUEADA", "EXTRAVIADA", "FRAUDE", "ROBO", "EXTRAVIO", "PERDIDA_O_ROBO", "BLOQUEO",
                     "BLOQUEO_POR_FRAUDE", "BLOQUEADA_FRAUDE", "BLOQUEADA_POR_FRAUDE", "BLOQUEO_POR_ROBO",
                     "BLOQUEO_POR_EXTRAVIO", "BLOQUEO_TEMPORAL", "BLOQUEADA_TEMPORALMENTE", "VOLEE", "PERDUE",
                     "BLOQUEE", "OPPOSITION", "OPPOSEE"), "BLOCKED"),
    **dict.fromkeys(("REISSUED", "RENEWED", "CARD_REPLACED", "REEMPLAZADA", "SUSTITUIDA", "RENOVADA", "REEMITIDA",
                     "REMPLACEE", "RENOUVELEE"), "REPLACED"),
    **dict.fromkeys(("CANCELED", "CLOSED", "EXPIRED", "CANCELADA", "ANULADA", "CADUCADA", "BAJA", "DADA_DE_BAJA",
                     "ANNULEE", "RESILIEE", "EXPIREE"), "CANCELLED"),
}


def status_word(raw: str) -> str:
    """``raw`` as the word lists are keyed: upper case without accents, runs of other characters as ``_``
    (``Bloqueo por fraude`` -> ``BLOQUEO_POR_FRAUDE``, ``extravío`` -> ``EXTRAVIO``)."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", raw) if not unicodedata.combining(c))
    return re.sub(r"[^A-Z]+", "_", plain.upper()).strip("_")


def own_status_words(words: Mapping[str, str]) -> dict[str, str]:
    """A card system's own words (a layout's ``status_words``: word -> a status, any case) keyed as ``status_word``
    spells them, each status upper-cased. Raises ``ValueError`` naming a status that is none of
    ``omnibus.business.CardStatus`` (``UNKNOWN`` aside), a word without letters, or two spellings of one word given two
    statuses."""
    own: dict[str, str] = {}
    standard = sorted(CARD_STATUSES - {UNKNOWN_STATUS})
    for raw, status in words.items():
        word, wanted = status_word(str(raw)), str(status).strip().upper()
        if wanted not in standard:
            raise ValueError(f"status_words: {raw!r} is mapped to {status!r}, which is no card status (one of "
                             f"{', '.join(standard)})")
        if not word:
            raise ValueError(f"status_words: {raw!r} has no letters")
        if own.setdefault(word, wanted) != wanted:
            raise ValueError(f"status_words: {raw!r} is given {wanted} and {own[word]} (the same word, compared "
                             "without case, accents or punctuation)")
    return own


def card_status(raw: str, own: Mapping[str, str] | None = None) -> str:
    """The common status (``omnibus.business.CardStatus``) of a card system's word: ``stolen`` and ``card-blocked``
    -> ``BLOCKED``, ``robada`` and ``volée`` too, ``reissued`` -> ``REPLACED``; ``own``: the system's own words first
    (``own_status_words``); a word none knows -> ``UNKNOWN``."""
    word = status_word(raw)
    word = (own or {}).get(word) or CARD_STATUS_WORDS.get(word, word)
    return word if word in CARD_STATUSES else UNKNOWN_STATUS


def card_status_event(*, envelope: dict[str, Any], card: dict[str, str], status: str, source_status: str | None,
                      identifiers: list[dict[str, str]], reason: str | None = None,
                      replaced_by: dict[str, str] | None = None, account_number: str | None = None,
                      traits_event_id: str | None = None, undated: bool = False) -> Event:
    """The ``CardStatusChanged`` (every field filled); ``card`` and ``replaced_by``: CARD identifier records."""
    return Event(CARD_STATUS_CHANGED, {
        "envelope": envelope, "card": card, "status": status, "reason": reason, "replaced_by": replaced_by,
        "account_number": account_number, "customer_identifiers": identifiers, "source_status": source_status,
        "traits_event_id": traits_event_id, "undated": undated,
    })
