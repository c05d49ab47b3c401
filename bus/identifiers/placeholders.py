"""Values that are not anybody's identifier although they parse: ``unknown``, ``N/A``, ``0000000``, ``123456789``.

Checked on the normalised value (so ``123 456 789`` and ``123456789`` are one decision) by every adapter, which
reports the value (masked) in ``rejected_identifiers`` and its answer's ``dropped_identifiers``, and again by
identity before linking, both with rule ``blocked-value`` (``IdentifierNormaliser(block_placeholders=True)``).
"""

from __future__ import annotations

import re

PLACEHOLDERS = frozenset({
    "unknown", "null", "none", "nil", "n/a", "na", "undefined", "test", "-", "0", "anonymous", "guest",
    "default", "xxx", "empty", "notset", "not set", "no", "void",
})
_NOT_DIGITS = re.compile(r"\D")
_SEPARATORS = re.compile(r"[\W_]")
MIN_REPEATED = 5  # characters: "00000000-0000-0000-0000-000000000000" (a zeroed advertising id), "xxxxx"


def looks_like_placeholder(value: str) -> bool:
    """True for a known filler word, a value of one character repeated between separators (the all-zero UUID that
    iOS gives as the advertising id when the user limits tracking, ``Apple ASIdentifierManager``), or a mostly-digit
    value whose last 9 digits repeat one digit or count."""
    if value.casefold() in PLACEHOLDERS:
        return True
    characters = _SEPARATORS.sub("", value)
    if len(characters) >= MIN_REPEATED and len(set(characters.casefold())) == 1:
        return True
    digits = _NOT_DIGITS.sub("", value)
    if len(digits) >= 5 and len(digits) >= len(value) - 3:  # mostly digits
        national = digits[-9:]
        if len(set(national)) == 1 or national in "0123456789012345" or national in "9876543210987654":
            return True
    return False
