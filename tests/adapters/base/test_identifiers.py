from __future__ import annotations

import pytest

from adapters.base import identifiers


@pytest.mark.parametrize(("raw", "region", "expected"), [
    ("+33 6 12 34 56 78", None, "+33612345678"),
    ("06 12 34 56 78", "FR", "+33612345678"),
    ("(206) 555-0100", "US", "+12065550100"),
])
def test_phones_are_e164(raw: str, region: str | None, expected: str) -> None:
    assert identifiers.phone(raw, region) == {"type": "PHONE", "value": expected}


@pytest.mark.parametrize("raw", [None, "", "anonymous", "Restricted", "0612", "06 12 34 56 78"])
def test_what_cannot_be_a_phone_is_none(raw: str | None) -> None:
    assert identifiers.phone(raw) is None  # no region: a national number is ambiguous


def test_emails_are_lower_cased_and_repeats_dropped() -> None:
    found = identifiers.unique([identifiers.email(" Ann@Example.COM "), identifiers.email("ann@example.com"),
                                identifiers.plain("ACCOUNT", " 42 "), identifiers.plain("ACCOUNT", ""), None])
    assert found == [{"type": "EMAIL", "value": "ann@example.com"}, {"type": "ACCOUNT", "value": "42"}]
    assert identifiers.key_of(found[0]) == "EMAIL:ann@example.com"
