"""Values that are not anybody's identifier although they parse: ``unknown``, ``N/A``, ``0000000``, ``123456789``.

Used where a value is about to be *linked* (the identity processor): an adapter still forwards them, so
what a source sent stays visible, and identity refuses them with rule ``blocked-value``.
"""

from __future__ import annotations

import re

PLACEHOLDERS = frozenset({
    "unknown", "null", "none", "nil", "n/a", "na", "undefined", "test", "-", "0", "anonymous", "guest",
    "default", "xxx", "empty", "notset", "not set", "no", "void",
})
_NOT_DIGITS = re.compile(r"\D")


def looks_like_placeholder(value: str) -> bool:
    """True for a known filler word, or a mostly-digit value whose last 9 digits repeat one digit or count."""
    if value.casefold() in PLACEHOLDERS:
        return True
    digits = _NOT_DIGITS.sub("", value)
    if len(digits) >= 5 and len(digits) >= len(value) - 3:  # mostly digits
        national = digits[-9:]
        if len(set(national)) == 1 or national in "0123456789012345" or national in "9876543210987654":
            return True
    return False
