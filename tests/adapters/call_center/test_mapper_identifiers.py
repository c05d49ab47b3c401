"""Call center: caller numbers with the site's region, rejections kept, IVR and Flex traits passed on."""

from __future__ import annotations

import copy
import json
from datetime import datetime
from typing import Any

import pytest
from prometheus_client import REGISTRY

from adapters.call_center.mapper import MapContext, Topics
from adapters.call_center.mapper_asterisk import map_cdr
from adapters.call_center.mapper_ctr import map_ctr
from adapters.call_center.mapper_taskrouter import Timeline, map_task
from bus.config import TopicSettings
from bus.identifiers.traits import TRAIT_KEYS
from tests.adapters.call_center.support import call_center_settings, master_lines, sample
from tests.bus.identifiers.support import identifier_settings

READ_ACCOUNT = {"ACCOUNT": ["accountNumber"]}  # a contact flow that checked the account it asked for


def context(site: str = "paris", **overrides: Any) -> MapContext:
    settings = call_center_settings(**overrides)
    return MapContext(site, settings.sites[site], Topics.of(TopicSettings()), settings, identifier_settings())


def observed(record: Any) -> dict[str, Any] | None:
    found = [o.event.value for o in record.events if o.event.schema.endswith("IdentifiersObserved")]
    return found[0] if found else None


def ctr(**changes: Any) -> dict[str, Any]:
    value = copy.deepcopy(sample("ctr_inbound_answered.json"))
    value.update(changes)
    return value


def test_ivr_contact_attributes_become_standard_traits() -> None:
    record = map_ctr(ctr(Attributes={"accountNumber": "ACC-1", "firstName": "Zoë", "lastName": "Dupré",
                                     "dateOfBirth": "1985-07-30", "zip": "75002", "menu": "billing"}), context())
    value = observed(record)
    assert value is not None
    assert value["traits"] == {"given_name": "Zoë", "family_name": "Dupré", "birth_date": "1985-07-30",
                               "postcode": "75002"}


def test_the_calls_contact_events_name_the_record_with_the_traits_and_never_carry_them() -> None:
    """Identity joins a contact with its caller's IVR traits (processors/identity/graph/contact_join.py): the contact
    events name the sibling ``IdentifiersObserved`` (same correlation id); no name or birth date is on them."""
    record = map_ctr(ctr(Attributes={"firstName": "Bob", "dateOfBirth": "1983-06-07"}), context())
    value = observed(record)
    assert value is not None
    contacts = [o.event.value for o in record.events if o.topic == context().topics.contact_events]
    assert {c["traits_event_id"] for c in contacts} == {value["envelope"]["event_id"]} and len(contacts) == 2
    assert {c["envelope"]["correlation_id"] for c in contacts} == {value["envelope"]["correlation_id"]}
    assert "Bob" not in json.dumps(contacts, default=str) and "1983" not in json.dumps(contacts, default=str)
    without = map_ctr(ctr(Attributes={"menu": "billing"}), context())
    assert {o.event.value["traits_event_id"] for o in without.events
            if o.topic == context().topics.contact_events} == {None}


def test_attributes_named_by_the_deployment_map_to_standard_keys() -> None:
    ctx = context(trait_attributes={"CustNaissance": "birth_date"})
    value = observed(map_ctr(ctr(Attributes={"CustNaissance": "19850730"}), ctx))
    assert value is not None and value["traits"] == {"birth_date": "1985-07-30"}


def test_a_caller_number_the_site_region_cannot_read_is_a_rejection_and_a_withheld_one_is_no_number() -> None:
    unreadable = observed(map_ctr(ctr(CustomerEndpoint={"Address": "0612", "Type": "TELEPHONE_NUMBER"}), context()))
    assert unreadable is not None and unreadable["rejected_identifiers"][0]["code"] == "phone-invalid"
    withheld = observed(map_ctr(ctr(CustomerEndpoint={"Address": "anonymous", "Type": "TELEPHONE_NUMBER"}),
                                context(verified_record_attributes=READ_ACCOUNT)))
    assert withheld is not None and withheld["rejected_identifiers"] == []
    assert "PHONE" not in {i["type"] for i in withheld["identifiers"]}


def test_the_site_region_reads_cdr_caller_numbers_and_without_one_they_are_rejections() -> None:
    line = master_lines()[0]  # src 0612345678, a French national number
    value = observed(map_cdr(line, context("lyon")))
    assert value is not None and value["identifiers"] == [{"type": "PHONE", "value": "+33612345678"}]
    no_region = context("paris", sites={"paris": {"access_keys": ["k"], "timezone": "Europe/Paris"}})
    value = observed(map_cdr(line, no_region))
    assert value is not None and value["identifiers"] == []
    assert [(r["type"], r["code"]) for r in value["rejected_identifiers"]] == [("PHONE", "phone-invalid")]


def test_flex_customers_become_traits_and_the_callers_number_is_never_a_name() -> None:
    terminal = sample("taskrouter_answered.json")[-1]
    attributes = json.loads(terminal["TaskAttributes"]) | {
        "name": "+33611223344", "customers": {"name": "Zoë Dupré", "country": "France", "city": "Lyon"}}
    value = observed(map_task({**terminal, "TaskAttributes": json.dumps(attributes)}, Timeline(), context("lyon")))
    assert value is not None
    assert value["traits"] == {"full_name": "Zoë Dupré", "country": "FR", "city": "Lyon"}
    assert set(value["traits"]) <= set(TRAIT_KEYS)


def test_tester14_m1_an_ivr_account_number_is_normalised_like_the_counters() -> None:
    for written in ("FR2117515900000800000000175", "fr21 1751 5900 0008 0000 0000 175"):
        value = observed(map_ctr(ctr(Attributes={"accountNumber": written}), context(
            verified_record_attributes=READ_ACCOUNT)))
        assert value is not None
        assert {"type": "ACCOUNT", "value": "FR2117515900000800000000175"} in value["identifiers"]


def task(**attributes: Any) -> dict[str, Any]:
    terminal = sample("taskrouter_answered.json")[-1]
    return {**terminal, "TaskAttributes": json.dumps(json.loads(terminal["TaskAttributes"]) | attributes)}


def test_tester26_f7_a_task_reads_the_trait_spellings_a_connect_contact_does() -> None:
    """The README's usual spellings (``firstName``, ``lastName``, ``fullName``, ``dateOfBirth``, ``postcode``...) are
    read from TaskRouter ``TaskAttributes`` as from CTR ``Attributes``: a housemate who gave her name at the IVR is
    told apart from the landline's keeper. Flex's top-level ``name`` (the caller's number) is still no name."""
    spellings = [
        {"firstName": "Carla", "lastName": "Petit"},
        {"fullName": "Carla Petit", "dateOfBirth": "1990-04-12"},
        {"first_name": "Carla", "DOB": "12/04/1990", "postcode": "69003", "city": "Lyon"},
    ]
    for attributes in spellings:
        connect = observed(map_ctr(ctr(Attributes=attributes), context()))
        flex = observed(map_task(task(name="+33478123499", **attributes), Timeline(), context("lyon")))
        assert connect is not None and flex is not None
        assert flex["traits"] and flex["traits"] == connect["traits"], attributes
    record = map_task(task(name="+33478123499", firstName="Carla"), Timeline(), context("lyon"))
    value = observed(record)
    assert value is not None and value["traits"] == {"given_name": "Carla"}
    assert "full_name" not in (record.dropped_traits or {})


def test_tester21_f5_a_customer_number_the_flow_verified_is_a_customer_number_not_a_login() -> None:
    """A bank's IVR asks for the customer number and checks it (CTR attribute ``customerNumber``, a TaskRouter task's
    ``customer_number``, listed in ``verified_record_attributes``): the CUSTOMER_NUMBER of the master record,
    never the USER_ID of a web login."""
    verified = ["customerNumber", "customer_number"]
    connect = observed(map_ctr(ctr(Attributes={"customerNumber": "c-5001"}), context(
        verified_record_attributes={"CUSTOMER_NUMBER": verified})))
    flex = observed(map_task(task(customer_number="C-5001 "), Timeline(), context(
        "lyon", verified_record_attributes={"CUSTOMER_NUMBER": verified})))
    for value in (connect, flex):
        assert value is not None and {"type": "CUSTOMER_NUMBER", "value": "C-5001"} in value["identifiers"]
    assert connect is not None and "customer_number" not in (connect["traits"] or {})


def test_tester24_f3_a_customer_number_typed_on_the_keypad_is_not_read_by_default_and_the_answer_says_so() -> None:
    """F3: read as an identifier, a number the caller typed moved his billing-registered phone to that number's
    customer in identity (tests/processors/identity/graph/test_keypad_customer_number.py). By default no attribute is
    read as a customer number; one named as such (``customerNumber``, ``customer_number``, ``cust_no``) is listed in
    the answer's ``dropped_traits`` with the setting that reads it, never its value."""
    for name in ("customerNumber", "customer_number", "CUST_NO"):
        connect = map_ctr(ctr(Attributes={name: "C-770006", "menu": "billing"}), context())
        flex = map_task(task(**{name: "C-770006"}), Timeline(), context("lyon"))
        for record in (connect, flex):
            value = observed(record)
            assert value is not None and all(item["type"] != "CUSTOMER_NUMBER" for item in value["identifiers"])
            assert record.dropped_traits is not None and set(record.dropped_traits) >= {name}
            reason = record.dropped_traits[name]
            assert "VERIFIED_RECORD_ATTRIBUTES" in reason and "CUSTOMER_NUMBER" in reason and "770006" not in reason
            assert "770006" not in _without_times([o.event.value for o in record.events])


def test_a_flow_naming_another_attribute_reads_it_and_leaves_the_unverified_one_off() -> None:
    ctx = context(verified_record_attributes={"CUSTOMER_NUMBER": ["checkedCustomer"]})
    record = map_ctr(ctr(Attributes={"checkedCustomer": "C-5001", "customerNumber": "C-770006"}), ctx)
    value = observed(record)
    assert value is not None
    assert [i for i in value["identifiers"] if i["type"] == "CUSTOMER_NUMBER"] == [
        {"type": "CUSTOMER_NUMBER", "value": "C-5001"}]
    assert record.dropped_traits is not None and set(record.dropped_traits) == {"customerNumber"}


# Every spelling of a claimable key (``bus.identifiers.kinds.CLAIMABLE_KEYS``) a contact flow may use
# (``bus.redact.SENSITIVE_FIELDS``), with its kind.
RECORD_KEY_SPELLINGS = [
    ("accountNumber", "ACCOUNT", "ACC-T25-0004"), ("account_number", "ACCOUNT", "ACC-T25-0004"),
    ("AccountNumber", "ACCOUNT", "ACC-T25-0004"), ("account", "ACCOUNT", "ACC-T25-0004"),
    ("iban", "ACCOUNT", "FR7630006000011234567890189"), ("IBAN", "ACCOUNT", "FR7630006000011234567890189"),
    ("rib", "ACCOUNT", "FR7630006000011234567890189"), ("cardNumber", "CARD", "4970101234567893"),
    ("card_number", "CARD", "4970101234567893"), ("pan", "CARD", "4970101234567893"),
    ("customerNumber", "CUSTOMER_NUMBER", "C-770004"), ("cust_no", "CUSTOMER_NUMBER", "C-770004"),
    # tester29 F10: a national ID the IVR took (a Spanish bank's DNI + PIN) was ignored without a word
    *[(name, "NATIONAL_ID", "11010519491231002X") for name in (
        "nationalId", "national_id", "NationalID", "dni", "DNI", "nie", "nif", "nir", "ssn", "id_number")],
]


def rejected_unknown_keys() -> float:
    return REGISTRY.get_sample_value("omnibus_traits_rejected_total", {
        "component": "call_center", "trait": "unknown", "code": "unknown-key"}) or 0.0


def _without_times(values: list[Any]) -> str:
    """The events' values as JSON with every timestamp left out: a wall-clock ``received_at`` (``...:41.200046``)
    held the typed value's last four digits by chance and failed the test that they appear nowhere."""
    return json.dumps(values, default=lambda value: "" if isinstance(value, datetime) else str(value))

@pytest.mark.parametrize(("name", "kind", "typed"), RECORD_KEY_SPELLINGS)
def test_tester25_f2_a_record_key_typed_on_the_keypad_is_not_read_by_default_named_and_counted(
        name: str, kind: str, typed: str) -> None:
    """F2: Didier typed Carla's account number in the IVR (``accountNumber``, read by default before) and his
    billing-registered phone, call and handoff moved to Carla in identity
    (tests/processors/identity/graph/test_keypad_record_key.py). No attribute is read as a record key unless the
    deployment names it in ``verified_record_attributes``, on Connect and TaskRouter alike (TaskRouter read
    ``account_number`` always). An unread one is named in the answer's ``dropped_traits`` with the setting and the kind
    that read it, never with its value, and counted (F10: Firehose never reads the answer)."""
    for record in (map_ctr(ctr(Attributes={name: typed, "menu": "billing"}), context()),
                   map_task(task(**{name: typed}), Timeline(), context("lyon"))):
        value = observed(record)
        assert value is not None and {item["type"] for item in value["identifiers"]} == {"PHONE"}
        assert record.dropped_traits is not None and name in record.dropped_traits
        reason = record.dropped_traits[name]
        assert reason.startswith("unknown-key: ") and "VERIFIED_RECORD_ATTRIBUTES" in reason and kind in reason
        assert typed not in reason and typed[-4:] not in _without_times([o.event.value for o in record.events])
    before = rejected_unknown_keys()
    map_ctr(ctr(Attributes={name: typed}), context())
    assert rejected_unknown_keys() == before + 1


@pytest.mark.parametrize(("name", "kind", "typed"), RECORD_KEY_SPELLINGS)
def test_a_record_key_the_flow_verified_is_read_under_the_names_the_deployment_gives(
        name: str, kind: str, typed: str) -> None:
    ctx = context(verified_record_attributes={kind: [name]})
    lyon = context("lyon", verified_record_attributes={kind: [name]})
    for record in (map_ctr(ctr(Attributes={name: typed}), ctx), map_task(task(**{name: typed}), Timeline(), lyon)):
        value = observed(record)
        assert value is not None and kind in {item["type"] for item in value["identifiers"]}
        assert name not in (record.dropped_traits or {})


def test_the_taskrouter_samples_account_number_is_dropped_unless_verified() -> None:
    """The recorded Flex task carries ``account_number``: read before whatever the flow did (tester25 F2)."""
    record = map_task(task(), Timeline(), context("lyon"))
    value = observed(record)
    assert value is not None and "ACCOUNT" not in {item["type"] for item in value["identifiers"]}
    assert set(record.dropped_traits or {}) == {"account_number"}
    verified = observed(map_task(task(), Timeline(), context(
        "lyon", verified_record_attributes={"ACCOUNT": ["account_number"]})))
    assert verified is not None and {"type": "ACCOUNT", "value": "ACC-200981"} in verified["identifiers"]


def test_one_flow_may_verify_several_kinds_each_read_from_its_first_present_attribute() -> None:
    ctx = context(verified_record_attributes={"CUSTOMER_NUMBER": ["checkedCustomer"],
                                              "ACCOUNT": ["checkedIban", "checkedAccount"]})
    record = map_ctr(ctr(Attributes={"checkedCustomer": "C-5001", "checkedAccount": "ACC-1", "accountNumber": "ACC-2",
                                     "checkedIban": ""}), ctx)
    value = observed(record)
    assert value is not None
    assert [i for i in value["identifiers"] if i["type"] != "PHONE"] == [
        {"type": "ACCOUNT", "value": "ACC-1"}, {"type": "CUSTOMER_NUMBER", "value": "C-5001"}]
    assert set(record.dropped_traits or {}) == {"accountNumber"}


def test_tester14_n1_a_valid_iban_holding_a_run_of_digits_is_linked_and_a_placeholder_is_dropped_here() -> None:
    valid = observed(map_ctr(ctr(Attributes={"accountNumber": "FR7430003012340001234567890"}), context(
        verified_record_attributes=READ_ACCOUNT)))
    assert valid is not None and valid["rejected_identifiers"] == []
    assert {"type": "ACCOUNT", "value": "FR7430003012340001234567890"} in valid["identifiers"]
    filler = observed(map_ctr(ctr(Attributes={"accountNumber": "0000000000"}), context(
        verified_record_attributes=READ_ACCOUNT)))
    assert filler is not None
    assert [(r["type"], r["code"]) for r in filler["rejected_identifiers"]] == [("ACCOUNT", "placeholder")]


def test_tester18_f9_a_zeroed_caller_number_is_a_placeholder_as_the_readme_says() -> None:
    value = observed(map_ctr(ctr(CustomerEndpoint={"Address": "000000000", "Type": "TELEPHONE_NUMBER"}), context()))
    assert value is not None
    assert [(r["type"], r["code"]) for r in value["rejected_identifiers"]] == [("PHONE", "placeholder")]


def test_tester28_f5_a_meter_point_the_caller_gave_is_a_supply_point_identifier() -> None:
    """tester28 F5: a CTR with no caller id and ``Attributes.meter_point_id`` was published on no customer (the value a
    plain property). The attributes ``supply_point_attributes`` names (``meter_point_id``, ``supply_point``... by
    default) are read as a ``SUPPLY_POINT``, beside the caller's number; a TaskRouter task's the same; ``[]`` reads
    none."""
    withheld = {"Address": "anonymous", "Type": "TELEPHONE_NUMBER"}
    record = map_ctr(ctr(CustomerEndpoint=withheld, Attributes={"meter_point_id": "14500000000003"}), context())
    value = observed(record)
    assert value is not None and value["identifiers"] == [{"type": "SUPPLY_POINT", "value": "14500000000003"}]
    calls = [o.event.value for o in record.events if o.event.schema.endswith("CallCompleted")]
    assert calls and calls[0]["caller_identifiers"] == [{"type": "SUPPLY_POINT", "value": "14500000000003"}]
    both = observed(map_ctr(ctr(Attributes={"supplyPoint": "145 000 000 000 03"}), context()))
    assert both is not None and {"type": "SUPPLY_POINT", "value": "14500000000003"} in both["identifiers"]
    assert "PHONE" in {i["type"] for i in both["identifiers"]}
    flex = observed(map_task(task(meter_point_id="14500000000003"), Timeline(), context("lyon")))
    assert flex is not None and {"type": "SUPPLY_POINT", "value": "14500000000003"} in flex["identifiers"]
    off = observed(map_ctr(ctr(CustomerEndpoint=withheld, Attributes={"meter_point_id": "14500000000003"}),
                           context(supply_point_attributes=[])))
    assert off is None or off["identifiers"] == []
