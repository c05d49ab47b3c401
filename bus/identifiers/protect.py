"""National IDs and card numbers inside raw input, replaced by the tokens an adapter would have published.

A refused request is kept as a dead letter with its clear copy, to see why it was refused (``bus/dead_letter.py``,
``bus/dead_letter_clear.py``; as it came only sealed, to be repaired and re-driven). Those bytes must not carry a raw
national ID or card number onto a topic (issue #13 build 7: tokenise at the adapter), so ``SecretScrubber`` rewrites
them first: every valid national ID (the deployment's python-stdnum schemes) becomes its ``nid1:`` token and every card
number (12-19 digits, spaces or dashes allowed, Luhn-valid, starting with 2-6 like the card networks' ranges) its
``card1:`` token — the very values identity links on. Without a token key they are masked instead. Phones, e-mail
addresses and free text are left to the rest of the clear copy (``bus.dead_letter_clear``), which masks and scrubs them
after this pass.

National IDs written with spaces inside (a French NIR as printed on the card, ``2 95 10 99 126 111 93``; a DNI
``12345678 Z``) are found too: a run of groups of digits (or single letters) separated by single spaces is tried
whole, then its shorter spans, longest first. Not found: card numbers whose digits are split by other characters
than spaces or dashes; numbers right after ``+`` are phone numbers, not cards.
"""

from __future__ import annotations

import re

from bus.identifiers import kinds
from bus.identifiers.card import luhn_valid
from bus.identifiers.model import Identifier, NotAnIdentifier
from bus.identifiers.national_id import canonical_national_id
from bus.identifiers.normaliser import IdentifierNormaliser
from bus.identifiers.tokens import is_token

_NATIONAL_ID = re.compile(r"(?<![0-9A-Za-z:])[0-9A-Za-z][0-9A-Za-z./-]{4,24}[0-9A-Za-z](?![0-9A-Za-z])")
_CARD = re.compile(r"(?<![0-9A-Za-z+:])[2-6](?:[ -]?\d){11,18}(?![0-9A-Za-z])")  # not inside a word or token
_MIN_DIGITS = 5  # a national ID of any scheme has more; fewer is a word, a code or a date
# groups of digits (a letter or two after them: Corsica's 2A, a DNI's letter) or a lone letter, single spaces apart
_SPACED_RUN = re.compile(r"(?<![0-9A-Za-z:+])(?:\d[0-9A-Za-z]{0,7}|[A-Za-z])(?: (?:\d[0-9A-Za-z]{0,7}|[A-Za-z])){1,11}"
                         r"(?![0-9A-Za-z])")


class SecretScrubber:
    """``scrub(data)``: ``data`` (bytes, usually UTF-8 text; other bytes pass through) with every national ID and
    card number replaced by its token (or ``[national id]`` / ``[card]`` without a token key)."""

    def __init__(self, normaliser: IdentifierNormaliser) -> None:
        self._normaliser = normaliser
        self._schemes = normaliser.settings.national_id_schemes

    def scrub(self, data: bytes | None) -> bytes | None:
        if not data:
            return data
        text = data.decode("utf-8", errors="surrogateescape")
        scrubbed = _SPACED_RUN.sub(self._spaced, _CARD.sub(self._card, _NATIONAL_ID.sub(self._national_id, text)))
        return data if scrubbed == text else scrubbed.encode("utf-8", errors="surrogateescape")

    def _national_id(self, match: re.Match[str]) -> str:
        found = match.group()
        if is_token(kinds.NATIONAL_ID, found):
            return found
        replaced = self._national_id_in(found)
        return found if replaced is None else replaced

    def _spaced(self, match: re.Match[str]) -> str:
        """A run of space-separated groups with the national IDs written across some of them replaced: the whole run
        first, then its spans of fewer groups, longest and leftmost first (the run may hold other words and numbers)."""
        groups = match.group().split(" ")
        out: list[str] = []
        start = 0
        while start < len(groups):
            for end in range(len(groups), start + 1, -1):  # spans of two groups or more: one is the unspaced pass's
                span = " ".join(groups[start:end])
                if (replaced := self._national_id_in(span)) is not None:
                    out.append(replaced)
                    start = end
                    break
            else:
                out.append(groups[start])
                start += 1
        return " ".join(out)

    def _national_id_in(self, span: str) -> str | None:
        """``span``'s token (or ``[national id]``) when it is a valid national ID, else None."""
        if sum(char.isdigit() for char in span) < _MIN_DIGITS:
            return None
        try:  # checked first without the normaliser, whose refusals count in a metric: most candidates are not IDs
            canonical_national_id(span, self._schemes)
        except NotAnIdentifier:
            return None
        result = self._normaliser.normalise(kinds.NATIONAL_ID, span)
        return result.value if isinstance(result, Identifier) else "[national id]"

    def _card(self, match: re.Match[str]) -> str:
        digits = re.sub(r"[ -]", "", match.group())
        if not luhn_valid(digits):
            return match.group()
        try:
            return self._normaliser.token(kinds.CARD, digits)
        except NotAnIdentifier:  # no token key: the number goes, the rest of the record stays
            return "[card]"
