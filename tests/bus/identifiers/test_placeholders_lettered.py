"""tester30 F12: a customer number with a letter prefix whose digits happen to count (``B012345``) was dropped as a
placeholder. A zero-padded count after a letter prefix is a number a sequence issued (the leading zero is padding,
as under a number format's width), kept; a count that fills its digits (``C123456``, ``EA-123456``: as under a
format, tester28 F4), one digit repeated (the number zero ``A000000``) and a bare count stay placeholders."""

from __future__ import annotations

import pytest

from bus.identifiers import IdentifierNormaliser
from bus.identifiers.kinds import ACCOUNT, CUSTOMER_NUMBER, USER_ID
from bus.identifiers.model import Identifier, Rejected
from bus.identifiers.placeholders import looks_like_placeholder
from tests.bus.identifiers.support import identifier_settings

SERIES_NUMBERS = ["B012345", "D012345", "Z0987654", "AB-0123456", "X 01234", "k012345"]
STILL_PLACEHOLDERS = ["A000000", "X111111", "AB-00000", "C123456", "EA-123456", "A987654", "1234567", "0123456",
                      "000000", "987654"]


@pytest.mark.parametrize("kind", [CUSTOMER_NUMBER, ACCOUNT, USER_ID])
@pytest.mark.parametrize("written", SERIES_NUMBERS)
def test_a_zero_padded_count_after_a_letter_prefix_is_a_number_a_sequence_issued(kind: str, written: str) -> None:
    assert not looks_like_placeholder(written, kind)


@pytest.mark.parametrize("kind", [CUSTOMER_NUMBER, ACCOUNT, USER_ID])
@pytest.mark.parametrize("written", STILL_PLACEHOLDERS)
def test_a_full_count_or_a_repeated_digit_after_a_prefix_and_a_bare_count_stay_placeholders(kind: str,
                                                                                             written: str) -> None:
    assert looks_like_placeholder(written, kind)


def test_a_count_with_letters_after_it_is_no_prefixed_number() -> None:
    """Only a prefix: ``0123456A`` (a count then a letter) is still the typed filler."""
    assert looks_like_placeholder("0123456A", CUSTOMER_NUMBER)


def test_identity_links_a_series_number_and_refuses_the_series_zero() -> None:
    linking = IdentifierNormaliser(identifier_settings(default_region="IT"), block_placeholders=True)
    assert isinstance(linking.normalise(CUSTOMER_NUMBER, "B012345"), Identifier)
    refused = linking.normalise(CUSTOMER_NUMBER, "A000000")
    assert isinstance(refused, Rejected) and refused.code == "placeholder"
