"""Branch counters: identifiers normalised with the branch region, rejections kept, the customer's traits passed on."""

from __future__ import annotations

from typing import Any

from adapters.branch.mapper import CounterMapper
from bus.config import TopicSettings
from bus.identifiers.traits import TRAIT_KEYS
from tests.adapters.branch.support import branch_settings, sample
from tests.bus.identifiers.support import identifier_settings, normaliser


def observed(event_changes: dict[str, Any], **settings: Any) -> dict[str, Any]:
    upload = sample("transaction_with_identifiers")
    event = {**upload["events"][0], **event_changes}
    mapper = CounterMapper(branch_settings(**settings), TopicSettings(), identifier_settings())
    record = mapper(event, terminal_id=upload["terminal_id"], branch_id=upload["branch_id"])
    (value,) = [o.event.value for o in record.events if o.event.schema.endswith("IdentifiersObserved")]
    return value


def test_the_customer_seen_at_the_counter_reaches_identity_under_the_standard_keys() -> None:
    value = observed({"customer": {"first_name": "Zoë", "last_name": "Dupré", "date_of_birth": "30/07/1985",
                                   "address": {"street": "12 rue de la Paix", "postcode": "75002", "city": "Paris",
                                               "country": "FRA"}}})
    assert value["traits"] == {"given_name": "Zoë", "family_name": "Dupré", "birth_date": "1985-07-30",
                               "address_line": "12 rue de la Paix", "postcode": "75002", "city": "Paris",
                               "country": "FR"}
    assert set(value["traits"]) <= set(TRAIT_KEYS)


def test_a_national_id_and_card_read_from_the_document_leave_the_counter_as_tokens() -> None:
    value = observed({"identifiers": [{"type": "national_id", "value": "11010519491231002X"},
                                      {"type": "card", "value": "4111 1111 1111 1111"}]})
    assert value["identifiers"] == [
        {"type": "NATIONAL_ID", "value": normaliser().token("NATIONAL_ID", "11010519491231002X")},
        {"type": "CARD", "value": normaliser().token("CARD", "4111111111111111")},
    ]


def test_a_national_phone_takes_the_branch_region_and_without_one_is_a_rejection() -> None:
    phone = {"identifiers": [{"type": "phone", "value": "06 12 34 56 78"}]}
    assert observed(phone, phone_region="FR")["identifiers"] == [{"type": "PHONE", "value": "+33612345678"}]
    rejected = observed(phone, phone_region=None)
    assert rejected["identifiers"] == [] and rejected["rejected_identifiers"][0]["code"] == "phone-invalid"


def test_tester14_m1_an_iban_with_spaces_at_the_counter_is_the_compact_account_also_sent_as_iban() -> None:
    spaced = observed({"identifiers": [{"type": "account", "value": "FR21 1751 5900 0008 0000 0000 175"}]})
    alias = observed({"identifiers": [{"type": "iban", "value": "fr21 1751 5900 0008 0000 0000 175"}]})
    assert spaced["identifiers"] == alias["identifiers"] == [{"type": "ACCOUNT", "value": "FR2117515900000800000000175"}]


def test_tester21_f5_a_clerk_may_key_in_the_banks_customer_number_never_a_web_login() -> None:
    value = observed({"identifiers": [{"type": "customer_number", "value": "c-5001"}]})
    assert value["identifiers"] == [{"type": "CUSTOMER_NUMBER", "value": "C-5001"}]


def test_a_placeholder_account_at_the_counter_is_dropped_at_the_edge_in_any_spelling() -> None:
    for written in ("123456789", "123 456 789"):
        value = observed({"identifiers": [{"type": "account", "value": written}]})
        assert value["identifiers"] == []
        assert [(r["type"], r["code"]) for r in value["rejected_identifiers"]] == [("ACCOUNT", "placeholder")]


def test_tester16_f8_the_customers_country_reads_a_national_phone_given_at_the_counter() -> None:
    belgian = {"identifiers": [{"type": "phone", "value": "0470 12 34 56"}],
               "customer": {"first_name": "Lucas", "address": {"city": "Liège", "country": "BE"}}}
    assert observed(belgian, phone_region="FR")["identifiers"] == [{"type": "PHONE", "value": "+32470123456"}]
    plus = {**belgian, "identifiers": [{"type": "phone", "value": "0033 6 12 34 56 78"}]}
    assert observed(plus, phone_region="FR")["identifiers"] == [{"type": "PHONE", "value": "+33612345678"}]
