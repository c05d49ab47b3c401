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
from typing import Any

from bus.serde import Event
from schemas.enums import CARD_STATUSES

CARD_STATUS_CHANGED = "omnibus.business.CardStatusChanged"
# A card system's or an agent's words for a card's status, in English, Spanish and French (compared upper-case
# without accents, runs of other characters as "_").
CARD_STATUS_WORDS = {
    **dict.fromkeys(("OPEN", "ACTIVATED", "UNBLOCKED", "ACTIVA", "DESBLOQUEADA"), "ACTIVE"),
    **dict.fromkeys(("STOLEN", "LOST", "FRAUD", "LOCKED", "SUSPENDED", "HOT_CARDED", "CARD_BLOCKED", "ROBADA",
                     "PERDIDA", "BLOQUEADA", "EXTRAVIADA", "FRAUDE", "VOLEE", "PERDUE", "BLOQUEE", "OPPOSITION",
                     "OPPOSEE"), "BLOCKED"),
    **dict.fromkeys(("REISSUED", "RENEWED", "CARD_REPLACED", "REEMPLAZADA", "SUSTITUIDA", "RENOVADA", "REEMITIDA",
                     "REMPLACEE", "RENOUVELEE"), "REPLACED"),
    **dict.fromkeys(("CANCELED", "CLOSED", "EXPIRED", "CANCELADA", "ANULADA", "CADUCADA", "ANNULEE", "RESILIEE",
                     "EXPIREE"), "CANCELLED"),
}


def card_status(raw: str) -> str:
    """The common status (``omnibus.business.CardStatus``) of a card system's word: ``stolen`` and ``card-blocked``
    -> ``BLOCKED``, ``robada`` and ``volée`` too, ``reissued`` -> ``REPLACED``; a word it does not know ->
    ``UNKNOWN``."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", raw) if not unicodedata.combining(c))
    word = re.sub(r"[^A-Z]+", "_", plain.upper()).strip("_")
    word = CARD_STATUS_WORDS.get(word, word)
    return word if word in CARD_STATUSES else "UNKNOWN"


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
