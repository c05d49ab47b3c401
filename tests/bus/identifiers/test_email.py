"""EMAIL: one mailbox, many spellings (issue #10 case 3)."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bus.identifiers import Identifier, IdentifierNormaliser, IdentifierSettings, Rejected

NORMALISER = IdentifierNormaliser(IdentifierSettings())


def email(raw: str, normaliser: IdentifierNormaliser = NORMALISER) -> Identifier | Rejected:
    return normaliser.normalise("EMAIL", raw)


def test_the_issue_sample_case_unicode_form_and_idna_spellings_are_one_identifier() -> None:
    spellings = [
        "Marie.Dupont@Bücher.example",
        "marie.dupont@xn--bcher-kva.example",  # the domain's IDNA (ASCII) form
        "MARIE.DUPONT@BÜCHER.EXAMPLE",
        unicodedata.normalize("NFD", "marie.dupont@bücher.example"),  # ü as u + combining diaeresis
        "  marie.dupont@bücher.example ",
    ]
    assert {email(s) for s in spellings} == {Identifier("EMAIL", "marie.dupont@bücher.example")}


def test_a_unicode_local_part_is_one_identifier_in_either_normal_form() -> None:
    composed, decomposed = "jos\u00e9@example.org", "jose\u0301@example.org"
    assert email(composed) == email(decomposed) == Identifier("EMAIL", "josé@example.org")


def test_provider_rules_only_when_configured() -> None:
    assert email("first.last+news@gmail.com").value == "first.last+news@gmail.com"  # type: ignore[union-attr]
    gmail = IdentifierNormaliser(IdentifierSettings(email_dotless_domains=("gmail.com",),
                                                    email_subaddress_domains=("gmail.com",)))
    assert email("First.Last+news@Gmail.com", gmail) == Identifier("EMAIL", "firstlast@gmail.com")
    assert email("first.last+news@example.org", gmail).value == "first.last+news@example.org"  # type: ignore[union-attr]


@pytest.mark.parametrize("raw", ["not-an-email", "a@b", "@example.org", "ann@", "ann@@example.org", "ann@exa mple.org"])
def test_what_is_not_an_address_is_rejected_with_a_reason(raw: str) -> None:
    result = email(raw)
    assert isinstance(result, Rejected) and result.code == "email-syntax" and result.reason


LOCAL = st.from_regex(r"[A-Za-z0-9](?:[A-Za-z0-9_-]|\.(?=[A-Za-z0-9])){0,20}", fullmatch=True)
LABEL = st.from_regex(r"[a-z0-9](?:[a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True).filter(lambda s: "--" not in s)


@settings(max_examples=200, deadline=None)
@given(local=LOCAL, labels=st.lists(LABEL, min_size=1, max_size=3), tld=st.sampled_from(["org", "com", "fr", "de"]),
       flips=st.lists(st.booleans(), min_size=40, max_size=40))
def test_case_never_makes_two_identifiers_and_normalising_is_idempotent(
    local: str, labels: list[str], tld: str, flips: list[bool]
) -> None:
    address = f"{local}@{'.'.join(labels)}.{tld}"
    shouted = "".join(ch.upper() if flip else ch for ch, flip in zip(address, flips * 3, strict=False))
    first = email(address)
    assert isinstance(first, Identifier)
    assert email(shouted) == first
    assert email(first.value) == first
