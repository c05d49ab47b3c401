"""bus/identifiers/masking.py: a value as it was sent (not normalised) masks to no more than the documented mask shows.

The rule (README "Masked identifiers"): a phone by its country code and last four, an e-mail by its first letter and
domain, a card by its last four (or its token's end), a national ID by its token's end only. A refused web body keeps
the sender's spelling (``622111222``, no ``+34``): the phone mask read its first three characters as a country code and
showed 7 of the 9 digits (``622**1222``) in ``omnibus deadletters show``.
"""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from bus.identifiers.masking import PHONE_SHOWN_DIGITS, mask

SEPARATORS = st.sampled_from(["", " ", "-", ".", "  ", "/"])


def longest_shared_run(value_digits: str, shown: str) -> int:
    """The longest run of ``value_digits`` (consecutive) found among the digits of ``shown``."""
    shown_digits = re.sub(r"\D", "", shown)
    return max((size for size in range(1, len(value_digits) + 1)
                for start in range(len(value_digits) - size + 1)
                if value_digits[start:start + size] in shown_digits), default=0)


def spelled(digits: str, separators: list[str]) -> str:
    """``digits`` with the separators between them, as a person types a number."""
    return "".join(digit + separators[i % len(separators)] for i, digit in enumerate(digits)).rstrip(" -./")


def test_the_reported_national_form_shows_its_last_four_only() -> None:
    assert mask("PHONE", "622111222") == "*****1222"  # was 622**1222
    assert mask("PHONE", "622 111 222") == "*****1222"  # was 622**** 222
    assert mask("PHONE", "+34 622 333 444") == "*******3444"  # was +34******** 444
    assert mask("PHONE", "+34622111222") == "+34*****1222"  # E.164: its country code too, as documented
    assert mask("PHONE", "+12125550123") == "+1******0123"  # a one-digit country code shows one digit
    assert mask("PHONE", "06 12") == "****" and mask("PHONE", "") == "****"


@given(national=st.text("0123456789", min_size=6, max_size=12),
       prefix=st.sampled_from(["", "+34", "+34 ", "0034", "(+34) ", "+1 ", "tel: "]),
       separators=st.lists(SEPARATORS, min_size=1, max_size=4))
def test_a_phone_in_any_spelling_shows_no_run_of_more_than_its_last_four(
        national: str, prefix: str, separators: list[str]) -> None:
    value = prefix + spelled(national, separators)
    shown = mask("PHONE", value)
    e164 = re.fullmatch(r"\+(\d{1,3})(\*+)(\d{4})", shown)
    if e164 is not None:  # E.164: its country code, its length, its last four
        assert value.startswith(f"+{e164.group(1)}") and e164.group(3) == national[-4:]
        assert len(shown) == len(value) and not prefix.strip(" +0123456789")
    else:
        assert len(re.sub(r"\D", "", shown)) <= PHONE_SHOWN_DIGITS and longest_shared_run(national, shown) <= 4
    assert mask("PHONE", shown) == shown  # a mask masked again is as it was (a record holding masks, read again)


@given(local=st.from_regex(r"[a-z][a-z0-9._+-]{1,20}", fullmatch=True),
       domain=st.from_regex(r"[a-z0-9-]{1,12}\.(es|fr|com|co\.uk)", fullmatch=True),
       tail=st.sampled_from(["", " ", ", 622111222", " (tel 622 111 222)", ";"]))
def test_an_email_in_any_form_shows_its_first_letter_and_a_domain_only(local: str, domain: str, tail: str) -> None:
    shown = mask("EMAIL", f"{local}@{domain}{tail}")
    assert shown.partition("@")[0] == f"{local[0]}***"  # of the local part, its first letter only
    assert shown.partition("@")[2] in (domain, "…") and "622" not in shown  # nothing after the domain
    assert mask("EMAIL", f"{local} at {domain}") == f"{local[0]}***@…"  # no @: no domain to show


@given(digits=st.text("0123456789", min_size=12, max_size=19), separators=st.lists(SEPARATORS, min_size=1,
                                                                                   max_size=3))
def test_a_card_number_in_any_spelling_shows_its_last_four_only(digits: str, separators: list[str]) -> None:
    shown = mask("CARD", spelled("4" + digits[1:], separators))
    assert len(re.sub(r"\D", "", shown)) <= 4 and longest_shared_run(digits[:-4], shown) <= 4


@given(value=st.text(min_size=0, max_size=30))
def test_a_national_id_not_tokenised_shows_nothing_of_itself(value: str) -> None:
    assert mask("NATIONAL_ID", value) == "[national id]" or value.startswith("nid1:")
