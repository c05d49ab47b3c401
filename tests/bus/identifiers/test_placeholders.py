"""A run of digits is a placeholder only when it is the whole number (tester15 F2: the contract account
``4000 1234 5678`` was dropped as a placeholder because its last nine digits count up)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bus.identifiers import IdentifierNormaliser
from bus.identifiers.model import Identifier, Rejected
from bus.identifiers.placeholders import (
    COUNTING_DOWN,
    COUNTING_UP,
    MIN_DIGITS,
    MIN_REPEATED,
    PLACEHOLDERS,
    looks_like_placeholder,
    significant_digits,
)
from tests.bus.identifiers.support import identifier_settings


def linking() -> IdentifierNormaliser:
    return IdentifierNormaliser(identifier_settings(default_region="FR"), block_placeholders=True)


@pytest.mark.parametrize(("kind", "written"), [
    ("ACCOUNT", "4000 1234 5678"),  # the tester's contract account: ends in a count
    ("ACCOUNT", "7000 000 000"), ("ACCOUNT", "5 999 999 999"), ("ACCOUNT", "2234567890"), ("ACCOUNT", "ACC-123456789"),
    ("PHONE", "+1 212 345 6789"),  # New York: its last nine digits count up
    ("PHONE", "+44 20 7000 0000"), ("PHONE", "+33 6 00 00 00 01"),
    ("USER_ID", "91234567890"), ("DEVICE", "5000000000"),
])
def test_a_number_that_only_ends_in_a_run_is_somebodys(kind: str, written: str) -> None:
    assert isinstance(linking().normalise(kind, written), Identifier)


@pytest.mark.parametrize(("kind", "written"), [
    ("ACCOUNT", "123456789"), ("ACCOUNT", "000 000 000"), ("ACCOUNT", "9876543210"), ("ACCOUNT", "1111-1111"),
    ("PHONE", "+33 1 23 45 67 89"), ("PHONE", "01 11 11 11 11"), ("PHONE", "+33 6 66 66 66 66"),
    ("PHONE", "+44 1234 567890"),
    ("USER_ID", "1234567"), ("DEVICE", "00000000"),
])
def test_a_whole_number_that_is_one_digit_or_a_count_is_a_placeholder(kind: str, written: str) -> None:
    result = linking().normalise(kind, written)
    assert isinstance(result, Rejected) and result.code == "placeholder" and result.rule == "blocked-value"


def test_a_phones_significant_digits_leave_out_its_country_code() -> None:
    assert significant_digits("PHONE", "+12123456789") == "2123456789"
    assert significant_digits("PHONE", "+33123456789") == "123456789"
    assert significant_digits("ACCOUNT", "+12123456789") == "12123456789"  # only a phone has a country code


@pytest.mark.parametrize("value", ["1234", "0000", "12-34"])
def test_runs_too_short_to_tell_are_kept(value: str) -> None:
    assert not looks_like_placeholder(value, "ACCOUNT")


@pytest.mark.parametrize(("kind", "written"), [
    ("PHONE", "000000000"),  # tester18 F9: was phone-invalid, the README says placeholder
    ("PHONE", "unknown"), ("EMAIL", "unknown"), ("EMAIL", "n/a"), ("NATIONAL_ID", "000000000"),
])
def test_a_filler_its_types_parser_refuses_is_still_a_placeholder(kind: str, written: str) -> None:
    result = linking().normalise(kind, written)
    assert isinstance(result, Rejected) and (result.code, result.rule) == ("placeholder", "blocked-value")


@pytest.mark.parametrize(("kind", "written", "code"), [
    ("PHONE", "0612", "phone-invalid"), ("EMAIL", "ana.example.org", "email-syntax"),
])
def test_a_malformed_value_that_is_no_filler_keeps_its_own_code(kind: str, written: str, code: str) -> None:
    result = linking().normalise(kind, written)
    assert isinstance(result, Rejected) and result.code == code


def _placeholder_by_regex(value: str, kind: str) -> bool:
    """``looks_like_placeholder`` as written before its ASCII path (#9 build 6): the reference it must agree with."""
    if value.casefold() in PLACEHOLDERS:
        return True
    characters = re.sub(r"[\W_]", "", value)
    if len(characters) >= MIN_REPEATED and len(set(characters.casefold())) == 1:
        return True
    if len(re.sub(r"\D", "", value)) < len(value) - 3:
        return False
    digits = significant_digits(kind, value)
    return len(digits) >= MIN_DIGITS and (len(set(digits)) == 1 or digits in COUNTING_UP or digits in COUNTING_DOWN)


@settings(max_examples=1000, deadline=None)
@given(value=st.one_of(
    st.text(st.sampled_from("0123456789-_ .+/aAbBxX@\t"), max_size=24),  # fillers and near-fillers of every shape
    st.text(st.sampled_from("aA0 -"), min_size=3, max_size=8),  # one character repeated, cases and separators mixed
    st.lists(st.sampled_from(("", "-", " ", "+-")), min_size=6, max_size=6).map(  # a count, 0 to 8 separators in it
        lambda separators: "".join(map("".join, zip(separators, "12345", strict=False)))),
    st.text(st.characters(max_codepoint=127), max_size=40),
    st.text(max_size=24)),  # Unicode: its digits (٠), letters whose case folds apart (ß, ﬁ)
    kind=st.sampled_from(("PHONE", "ACCOUNT", "USER_ID", "ANONYMOUS_ID")))
def test_the_ascii_path_decides_as_the_regular_expressions(value: str, kind: str) -> None:
    assert looks_like_placeholder(value, kind) == _placeholder_by_regex(value, kind)


@pytest.mark.parametrize("value", [
    "00000000-0000-0000-0000-000000000000", "AaAaA", "a_a_a_a_a", "xxxxx", "xxxx", "+33 6 66 66 66 66", "1234-5678-9",
    "9b1a3f40-2f7c-4a55-8c1e-5e0b3c1e2a01", "user-1234", "12345", "1 2 3 4 5", "1-2-3-4-5", "1-2-34-5", "a1111",
    "١١١١١", "ǅǆǄǅǆ", "ßßßßß",
])
def test_the_ascii_path_decides_the_usual_ids_as_the_regular_expressions(value: str) -> None:
    for kind in ("PHONE", "ACCOUNT", "ANONYMOUS_ID"):
        assert looks_like_placeholder(value, kind) == _placeholder_by_regex(value, kind), (value, kind)
