"""The customer at the counter read on its own: identifiers and traits (through the mapper:
``test_mapper_identifiers``)."""

from __future__ import annotations

import pytest

from adapters.base.errors import RejectedInput
from adapters.base.identifiers import edge_normaliser
from adapters.branch import customer
from bus.identifiers.traits import TRAIT_KEYS
from tests.bus.identifiers.support import identifier_settings


def test_types_are_read_in_any_case_and_an_alias_as_its_contract_type() -> None:
    normaliser = edge_normaliser(identifier_settings(), region="FR", component="branch")
    found = customer.identifiers(normaliser, [{"type": "phone", "value": "06 12 34 56 78"},
                                              {"type": "IBAN", "value": "FR76 3000 6000 0112 3456 7890 189"}])
    assert [record["type"] for record in found.records()] == ["PHONE", "ACCOUNT"]
    assert customer.identifiers(normaliser, None).records() == []


@pytest.mark.parametrize(("raw", "fragment"), [
    ({"type": "phone"}, "must be a list of {type, value}"),
    ([{"type": "USER_ID", "value": "u-1"}], "has unknown type 'USER_ID'"),  # a web login never comes from a counter
    ([{"value": "+33612345678"}], "must be a list of {type, value}"),
])
def test_identifiers_a_counter_cannot_send_are_refused(raw: object, fragment: str) -> None:
    normaliser = edge_normaliser(identifier_settings(), region="FR", component="branch")
    with pytest.raises(RejectedInput, match="'identifiers'") as refused:
        customer.identifiers(normaliser, raw)
    assert fragment in refused.value.reason


def test_an_identifier_among_the_traits_is_refused_saying_where_it_belongs() -> None:
    with pytest.raises(RejectedInput) as refused:
        customer.traits({"given_name": "Zoë", "phone": "+33612345678"}, {})
    assert "'customer.phone': an identifier belongs in 'identifiers'" in refused.value.reason
    assert "+33612345678" not in refused.value.reason
    with pytest.raises(RejectedInput) as refused:
        customer.traits({"nickname": "Zo"}, {})
    assert all(key in refused.value.reason for key in TRAIT_KEYS)


def test_a_bad_trait_value_is_left_out_with_its_reason() -> None:
    left_out: dict[str, str] = {}
    assert customer.traits({"given_name": "Zoë", "birth_date": "31/02/1985"}, left_out) == {"given_name": "Zoë"}
    assert set(left_out) == {"birth_date"}
