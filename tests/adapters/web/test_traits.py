"""Which traits are read as identifiers and what is said of the others (``adapters/web/traits.py``), without a mapper.

The same rules through ``SegmentMapper``: test_mapper_traits_privacy.py and test_mapper_identifiers.py.
"""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

from adapters.base.identifiers import edge_normaliser
from adapters.web.traits import TraitReader, squashed, unread_identifier_reason
from tests.adapters.web.support import web_settings
from tests.bus.identifiers.support import identifier_settings


def reader(**overrides: object) -> TraitReader:
    settings = web_settings(**overrides)
    return TraitReader(settings, edge_normaliser(identifier_settings(), region="FR", component="web"))


def unknown_keys() -> float:
    labels = {"component": "web", "trait": "unknown", "code": "unknown-key"}
    return REGISTRY.get_sample_value("omnibus_traits_rejected_total", labels) or 0.0


@pytest.mark.parametrize("name", ["customerNumber", "customer_number", "Customer Number", "customer-number"])
def test_a_name_is_compared_squashed(name: str) -> None:
    assert squashed(name) == "customernumber"


def test_a_record_key_s_reason_says_it_is_the_visitor_s_claim_another_kind_s_how_to_add_it() -> None:
    assert "visitor's claim" in unread_identifier_reason("ACCOUNT")
    other = unread_identifier_reason("PHONE")
    assert other.startswith("unknown-key: ") and "visitor's claim" not in other and "leading +" in other


def test_identifier_traits_are_read_with_the_phone_region_of_their_own_country() -> None:
    found = reader().identifiers({"email": "zoe@example.org", "phone": "0470 12 34 56", "country": "BE", "plan": "x"})
    assert sorted(identifier.type for identifier in found.identifiers) == ["EMAIL", "PHONE"]
    assert not found.rejected and not reader().identifiers({}).identifiers


def test_an_unread_identifier_in_context_traits_is_named_and_counted_a_read_or_empty_one_is_not() -> None:
    before = unknown_keys()
    left_out = reader().unread_context({"accountNumber": "FR76 3000", "email": "a@example.org", "iban": "",
                                        "plan": "gold"}, None)
    assert left_out is not None and list(left_out) == ["accountNumber"] and "FR76" not in left_out["accountNumber"]
    assert unknown_keys() - before == 1
    assert reader().unread_context({"plan": "gold"}, None) is None


def test_name_unread_adds_only_names_that_say_they_hold_an_identifier() -> None:
    left_out: dict[str, str] = {"before": "kept"}
    TraitReader.name_unread({"customerNumber": "C-1", "plan": "gold"}, left_out)
    assert set(left_out) == {"before", "customerNumber"}


def test_facts_named_like_an_identifier_are_dropped_in_place_whatever_their_case() -> None:
    facts = {"IMEI": "356938035643809", "Msisdn": "+33612345678", "accountNumber": "1", "plan": "gold"}
    assert reader().drop_identifiers(facts) is facts and facts == {"plan": "gold"}
