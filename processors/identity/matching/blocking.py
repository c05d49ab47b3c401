"""Blocking keys: where customers with no identifier in common still meet to be compared.

A customer is filed under every key its trait summary yields (at most ``MAX_KEYS``): the surname's
Metaphone code with the birth date, the given name's with the birth date (catches a surname typo),
and the postcode with the given name's initial. Two customers sharing a key are scored like any
other candidate pair. Keys are node keys on the graph topic (``BLOCK:...``), so the index is
partitioned like the rest of the graph. Phonetic codes from jellyfish.
"""

from __future__ import annotations

import jellyfish

from processors.identity.matching.traits import BIRTH, FAMILY, GIVEN, POSTCODE, Summary

PREFIX = "BLOCK:"
MAX_KEYS = 8


def is_block(key: str) -> bool:
    return key.startswith(PREFIX)


def _phonetic(name: str) -> str:
    return jellyfish.metaphone(name).replace(" ", "") or name[:4]


def block_keys(summary: Summary | None) -> list[str]:
    """Sorted blocking keys of a trait summary (none without a birth date or a postcode)."""
    summary = summary or {}
    keys: set[str] = set()
    for birth in summary.get(BIRTH, ()):
        for family in summary.get(FAMILY, ()):
            keys.add(f"{PREFIX}fb:{_phonetic(family)}:{birth}")
        for given in summary.get(GIVEN, ()):
            keys.add(f"{PREFIX}gb:{_phonetic(given)}:{birth}")
    for postcode in summary.get(POSTCODE, ()):
        for given in summary.get(GIVEN, ()):
            keys.add(f"{PREFIX}pg:{postcode}:{given[0]}")
    return sorted(keys)[:MAX_KEYS]
