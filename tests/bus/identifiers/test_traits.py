"""Standard trait keys and their normalisers (issue #8 item 6)."""

from __future__ import annotations

import unicodedata
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bus.identifiers import traits
from bus.identifiers.traits import TRAIT_KEYS, normalise_trait, standard_traits


def test_the_keys_are_the_shared_convention() -> None:
    assert TRAIT_KEYS == ("given_name", "family_name", "full_name", "birth_date", "address_line", "postcode", "city",
                          "country", "preferred_language")


def test_segment_reserved_traits_become_standard_keys() -> None:
    found = standard_traits({
        "firstName": " Zoë ", "lastName": unicodedata.normalize("NFD", "Dupré"), "name": "Zoë  Dupré",
        "birthday": "1985-07-30T00:00:00.000Z", "preferredLanguage": "pt_br", "plan": "gold",
        "address": {"street": "12 rue de la Paix", "city": "Paris", "postalCode": " 75002 ", "country": "France",
                    "state": "IDF"},
    })
    assert found == {"given_name": "Zoë", "family_name": "Dupré", "full_name": "Zoë Dupré", "birth_date": "1985-07-30",
                     "address_line": "12 rue de la Paix", "city": "Paris", "postcode": "75002", "country": "FR",
                     "preferred_language": "pt-BR"}


def test_source_specific_names_map_to_standard_keys() -> None:
    assert standard_traits({"CustFirst": "Ann", "ZIPCODE": "sw1a 1aa"}, names={"CustFirst": "given_name"}) == {
        "given_name": "Ann", "postcode": "SW1A 1AA"}


@pytest.mark.parametrize(("key", "raw"), [
    ("birth_date", "31/02/1980"), ("birth_date", "2999-01-01"), ("birth_date", "1850-01-01"),
    ("country", "Atlantis"), ("preferred_language", "42"), ("given_name", "+33612345678"),
    ("full_name", "x" * 300),
])
def test_values_that_do_not_normalise_are_left_out(key: str, raw: str) -> None:
    assert normalise_trait(key, raw) is None
    assert standard_traits({key: raw}) == {}


@pytest.mark.parametrize(("raw", "alpha2"), [("fr", "FR"), ("FRA", "FR"), ("Germany", "DE"), (" nl ", "NL")])
def test_countries_become_alpha_2(raw: str, alpha2: str) -> None:
    assert traits.country(raw) == alpha2


BIRTHS = st.dates(min_value=date(1900, 1, 1), max_value=date.today() - timedelta(days=1))


@settings(max_examples=200, deadline=None)
@given(born=BIRTHS)
def test_every_written_form_of_a_birth_date_is_one_iso_date(born: date) -> None:
    forms = [born.isoformat(), f"{born:%Y%m%d}", f"{born.isoformat()}T00:00:00Z", born]
    if born.day > 12:  # day-first and month-first are told apart only by a day over 12
        forms += [f"{born:%d/%m/%Y}", f"{born:%m/%d/%Y}", f"{born:%d.%m.%Y}"]
    assert {normalise_trait("birth_date", form) for form in forms} == {born.isoformat()}


@settings(max_examples=200, deadline=None)
@given(name=st.text(st.characters(categories=("L", "Zs")), min_size=1, max_size=40))
def test_names_are_nfc_trimmed_and_idempotent(name: str) -> None:
    once = normalise_trait("given_name", name)
    if once is not None:
        assert once == unicodedata.normalize("NFC", once) and once == once.strip()
        assert normalise_trait("given_name", once) == once


def test_only_the_standard_and_protocol_keys_travel() -> None:
    assert traits.travelling({"given_name": "Zoé", "imei": "356938035643809", "alias_previous_id": "a-1"},
                      component="test") == {"given_name": "Zoé", "alias_previous_id": "a-1"}
    assert traits.travelling(None, component="test") == {}


@pytest.mark.parametrize(("fields", "region"), [
    ({"country": "BE"}, "BE"), ({"Country": "bel"}, "BE"), ({"address": {"country": "Belgium"}}, "BE"),
    ({"country": "Atlantis"}, None), ({"country": "AQ"}, None), ({}, None), ({"pays": "BE"}, None)])
def test_the_phone_region_is_the_records_own_country(fields: dict[str, object], region: str | None) -> None:
    assert traits.phone_region(fields) == region
    assert traits.phone_region({"pays": "BE"}, names={"pays": "country"}) == "BE"


def test_tester18_f9_what_is_left_out_is_named_with_why_and_never_the_value() -> None:
    fields = {"firstName": "Cath3rine", "lastName": "Durand", "birthday": "31/02/1980", "country": "Atlantis",
              "city": "x" * (traits.MAX_TRAIT_CHARS + 1), "postcode": True}
    left_out: dict[str, str] = {}
    found = standard_traits(fields, left_out=left_out)
    assert found == {"family_name": "Durand"}
    assert left_out == {
        "given_name": traits.RULES["given_name"], "birth_date": traits.RULES["birth_date"],
        "country": traits.RULES["country"], "city": f"longer than {traits.MAX_TRAIT_CHARS} characters",
        "postcode": "not text",
    }
    assert not any(value in reason for reason in left_out.values() for value in ("Cath3rine", "31/02", "Atlantis"))
