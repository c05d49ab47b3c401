"""A payment card's status, as an issuer's system or the call center says it -> ``omnibus.business.CardStatusChanged``.

A card reported stolen or lost is blocked; a new card replaces it. Until Omnibus knew it, the screen pop showed the
dead card as any other and a caller quoting it was matched to its holder silently. The legacy adapter
maps a ``CardStatusChanged`` row (``adapters.legacy.mapper``), the call center an ``omnibus_card_status`` contact
attribute for the card its contact flow verified (``adapters.call_center.attributes``); identity's screen pop marks
the card and warns when a caller is looked up by it (``processors.profile.sections.products``, docs/legacy-batch.md
"Cards"). The card travels as its keyed token (``card1:...``), never as its number.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from adapters.base.status_words import common_status
from adapters.base.status_words import own_status_words as own_words
from bus.serde import Event
from schemas.enums import CARD_STATUSES

CARD_STATUS_CHANGED = "omnibus.business.CardStatusChanged"
CARD_STATUS_FIELD = "card_status"  # the field of a legacy record (or layout) holding the card system's word
# A card system's or an agent's words for a card's status, in English, Spanish and French (compared upper-case
# without accents, runs of other characters as "_": ``status_words.status_word``). Spanish core-banking phrases
# (bloqueo por fraude, robo, extravío, baja, bloqueo temporal) are known; ``duplicado`` is left out on purpose: a row
# may name the duplicate issued (active) or the card it duplicates (replaced), so a layout says which
# (``status_words``).
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


def own_status_words(words: Mapping[str, str]) -> dict[str, str]:
    """A card system's own words (a layout's ``status_words`` on its card_status field) keyed as ``status_word``
    spells them (``status_words.own_status_words``: ``ValueError`` for a status that is no card status)."""
    return own_words(words, CARD_STATUSES, "card")


def card_status(raw: str, own: Mapping[str, str] | None = None) -> str:
    """The common status (``omnibus.business.CardStatus``) of a card system's word: ``stolen`` and ``card-blocked``
    -> ``BLOCKED``, ``robada`` and ``volée`` too, ``reissued`` -> ``REPLACED``; ``own``: the system's own words first
    (``own_status_words``); a word none knows -> ``UNKNOWN``."""
    return common_status(raw, CARD_STATUS_WORDS, CARD_STATUSES, own)


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
