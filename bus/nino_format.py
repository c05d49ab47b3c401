"""The format of a UK National Insurance number, declared once, in a module light enough for the logging of every
process (``bus.redact`` scrubs it from text; ``bus.identifiers.gb_nino`` validates it as a national ID).

Source: HMRC National Insurance Manual, NIM39110 ("National Insurance number: format"): two prefix letters, six
digits and a suffix letter A, B, C or D, printed in pairs (``QQ 12 34 56 C``). The first prefix letter is never D, F, I,
Q, U or V; the second never D, F, I, O, Q, U or V; the prefixes BG, GB, KN, NK, NT, TN and ZZ are not allocated. There
is no check character.
"""

from __future__ import annotations

FIRST_PREFIX_LETTERS = "ABCEGHJKLMNOPRSTWXYZ"
SECOND_PREFIX_LETTERS = "ABCEGHJKLMNPRSTWXYZ"
SUFFIX_LETTERS = "ABCD"
UNALLOCATED_PREFIXES = frozenset({"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"})
DIGITS = 6


def _either_case(letters: str) -> str:
    return f"[{letters}{letters.lower()}]"


# As written in free text: either case, an optional space between the pairs (a regular expression's text).
PATTERN = (f"{_either_case(FIRST_PREFIX_LETTERS)}{_either_case(SECOND_PREFIX_LETTERS)}"
           rf"(?: ?\d{{2}}){{{DIGITS // 2}}} ?{_either_case(SUFFIX_LETTERS)}")
