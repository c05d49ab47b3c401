"""A system's own words for a status (a card's, an order's) -> the common status of an ``omnibus.business`` enum.

Words are compared upper-case without accents, runs of other characters as ``_`` (``status_word``), so ``Em
execução``, ``EM EXECUCAO`` and ``em-execução`` are one word. A layout's ``status_words`` (``own_status_words``) are
read before a built-in list (``common_status``); a word neither knows is ``UNKNOWN``, the symbol each status enum
keeps for it, kept with the word as written (``source_status``) and counted by the import (``adapters.legacy.dropped``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Set

UNKNOWN_STATUS = "UNKNOWN"  # the status of a word no list knows (the agent is still warned: never read as known)


def status_word(raw: str) -> str:
    """``raw`` as the word lists are keyed: upper case without accents, runs of other characters as ``_``
    (``Bloqueo por fraude`` -> ``BLOQUEO_POR_FRAUDE``, ``em execução`` -> ``EM_EXECUCAO``)."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", raw) if not unicodedata.combining(c))
    return re.sub(r"[^A-Z]+", "_", plain.upper()).strip("_")


def own_status_words(words: Mapping[str, str], statuses: Set[str], noun: str) -> dict[str, str]:
    """A system's own words (a layout's ``status_words``: word -> a status, any case) keyed as ``status_word``
    spells them, each status upper-cased. Raises ``ValueError`` naming a status that is none of ``statuses``
    (``UNKNOWN`` aside; ``noun``: ``card``, ``order``), a word without letters, or two spellings of one word given two
    statuses."""
    own: dict[str, str] = {}
    standard = sorted(statuses - {UNKNOWN_STATUS})
    for raw, status in words.items():
        word, wanted = status_word(str(raw)), str(status).strip().upper()
        if wanted not in standard:
            raise ValueError(f"status_words: {raw!r} is mapped to {status!r}, which is no {noun} status (one of "
                             f"{', '.join(standard)})")
        if not word:
            raise ValueError(f"status_words: {raw!r} has no letters")
        if own.setdefault(word, wanted) != wanted:
            raise ValueError(f"status_words: {raw!r} is given {wanted} and {own[word]} (the same word, compared "
                             "without case, accents or punctuation)")
    return own


def common_status(raw: str, builtin: Mapping[str, str], statuses: Set[str],
                  own: Mapping[str, str] | None = None) -> str:
    """The status of ``raw`` among ``statuses``: ``own`` words first, then ``builtin`` ones, then the word itself
    when it is a status; else ``UNKNOWN``."""
    word = status_word(raw)
    word = (own or {}).get(word) or builtin.get(word, word)
    return word if word in statuses else UNKNOWN_STATUS
