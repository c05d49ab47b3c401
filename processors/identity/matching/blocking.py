"""Blocking keys: where customers with no identifier in common still meet to be compared.

A customer is filed under every key its trait summary yields (at most ``MAX_KEYS``): each name's
Metaphone code with the birth date (either name may carry a typo, or the two be swapped), the postcode
with the given name's initial or the surname's code, and the two names' codes together (no date). Two customers sharing a key are scored like any
other candidate pair. Keys are node keys on the graph topic (``BLOCK:...``), so the index is
partitioned like the rest of the graph. Phonetic codes from jellyfish.
"""

from __future__ import annotations

import jellyfish

from processors.identity.matching.traits import BIRTH, FAMILY, GIVEN, POSTCODE, Summary

PREFIX = "BLOCK:"
MAX_KEYS = 12


def is_block(key: str) -> bool:
    return key.startswith(PREFIX)


def _phonetic(name: str) -> str:
    return jellyfish.metaphone(name).replace(" ", "") or name[:4]


def block_keys(summary: Summary | None) -> list[str]:
    """Sorted blocking keys of a trait summary: any name's code with the birth date, the postcode with
    the given name's initial or the surname's code, and the two names' codes in either order."""
    summary = summary or {}
    keys: set[str] = set()
    given = [_phonetic(name) for name in summary.get(GIVEN, ())]
    family = [_phonetic(name) for name in summary.get(FAMILY, ())]
    for birth in summary.get(BIRTH, ()):
        keys.update(f"{PREFIX}nb:{code}:{birth}" for code in (*given, *family))
    for postcode in summary.get(POSTCODE, ()):
        keys.update(f"{PREFIX}pg:{postcode}:{name[0]}" for name in summary.get(GIVEN, ()))
        keys.update(f"{PREFIX}pf:{postcode}:{code}" for code in family)
    keys.update(f"{PREFIX}nn:{':'.join(sorted((g, f)))}" for g in given for f in family)
    return sorted(keys)[:MAX_KEYS]
