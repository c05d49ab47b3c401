"""tester16 F6/F8: only standard traits travel on identity.observed.v1; an event's own country reads its phones."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from prometheus_client import REGISTRY

from adapters.web.mapper import SegmentMapper
from bus.config import TopicSettings
from bus.identifiers.kinds import label
from tests.adapters.web.support import web_settings
from tests.adapters.web.test_mapper_identifiers import by_schema, mapped
from tests.bus.identifiers.support import identifier_settings

IDENTIFY = {"type": "identify", "userId": "u-t16", "traits": {
    "imei": "356938035643809", "plan": "prepaid-xl", "firstName": "Zoé", "lastName": "Fontaine",
    "birthday": "1988-08-08", "address": {"street": "12 rue de la Fuite", "city": "Paris", "country": "FR"}}}


def _unknown_keys() -> float:
    labels = {"component": "web", "trait": "unknown", "code": "unknown-key"}
    return REGISTRY.get_sample_value("omnibus_traits_rejected_total", labels) or 0.0


def test_tester16_f6_an_unknown_trait_is_dropped_and_counted_and_an_imei_is_a_device() -> None:
    before = _unknown_keys()
    observed = by_schema(mapped(IDENTIFY))["IdentifiersObserved"]
    assert observed["traits"] == {"given_name": "Zoé", "family_name": "Fontaine", "birth_date": "1988-08-08",
                                  "address_line": "12 rue de la Fuite", "city": "Paris", "country": "FR"}
    assert {"type": "DEVICE", "value": "356938035643809"} in observed["identifiers"]
    assert _unknown_keys() - before == 1  # plan; the imei became an identifier


def test_a_group_passes_on_its_id_but_not_the_group_traits() -> None:
    group = {"type": "group", "userId": "u-t16", "groupId": "ACC-1", "traits": {"name": "Acme", "iban": "x"}}
    assert by_schema(mapped(group, group_identifier_type=None))["IdentifiersObserved"]["traits"] == {
        "group_id": "ACC-1"}


def test_tester16_f8_a_national_phone_is_read_in_the_country_of_its_own_traits() -> None:
    message = {"type": "identify", "userId": "u-be", "traits": {"phone": "0470 12 34 56", "country": "BE"}}
    identifiers = by_schema(mapped(message, phone_region="FR"))["IdentifiersObserved"]["identifiers"]
    assert {"type": "PHONE", "value": "+32470123456"} in identifiers
    international = {"type": "identify", "userId": "u-fr", "traits": {"phone": "0033 6 12 34 56 78", "country": "BEL"}}
    assert {"type": "PHONE", "value": "+33612345678"} in by_schema(
        mapped(international, phone_region="FR"))["IdentifiersObserved"]["identifiers"]
    unknown = {"type": "identify", "userId": "u-x", "traits": {"phone": "06 12 34 56 78", "country": "Atlantis"}}
    assert {"type": "PHONE", "value": "+33612345678"} in by_schema(
        mapped(unknown, phone_region="FR"))["IdentifiersObserved"]["identifiers"]


def test_identifier_properties_of_a_track_stay_off_the_contact_and_handoff_events() -> None:
    track = {"type": "track", "userId": "u-t16", "event": "SIM Swap Requested",
             "properties": {"IMEI": "356938035643809", "msisdn": "+33612345678", "iban": "FR76...", "sim": "nano"}}
    events = by_schema(mapped(track, service_request_events=("SIM Swap Requested",)))
    assert events["InteractionRecorded"]["properties"] == {"sim": "nano", "source": "portal-web"}
    assert events["HandoffCreated"]["intake_facts"] == {"sim": "nano"}


def test_tester21_f5_a_segment_user_id_is_a_login_and_a_customer_number_property_stays_off_the_events() -> None:
    """The portal's userId is the USER_ID of a login, never the bank's customer number (CUSTOMER_NUMBER, from the
    system of record); a track property that names a customer number is an identifier, left off like an IBAN."""
    track = {"type": "track", "userId": "ob-alice", "event": "Service Request Submitted",
             "properties": {"case_type": "card-dispute", "customer_number": "C-5001", "summary": "charge"}}
    events = by_schema(mapped(track))
    assert events["InteractionRecorded"]["customer_identifiers"] == [{"type": "USER_ID", "value": "ob-alice"}]
    assert "customer_number" not in events["InteractionRecorded"]["properties"]
    assert "customer_number" not in events["HandoffCreated"]["intake_facts"]


def test_tester21_f10_an_unknown_trait_is_named_in_the_answer_without_its_value() -> None:
    message = {"type": "identify", "userId": "u-t21", "traits": {"nir": "160047505607881", "plan": "prepaid-xl",
                                                                 "email": "paul.petit@bank-test.fr"}}
    record = mapped(message)
    assert record.dropped_traits is not None and set(record.dropped_traits) == {"nir", "plan"}
    assert all(reason.startswith("unknown-key: ") for reason in record.dropped_traits.values())
    assert "160047505607881" not in repr(record.dropped_traits) and "prepaid" not in repr(record.dropped_traits)


def test_f5_a_customer_number_trait_is_left_off_by_default_with_how_to_read_it() -> None:
    """F5 (session 20): the portal's ``customerNumber`` trait is not read by default (a number typed in a web form is
    the visitor's claim: tests/processors/identity/graph/test_customer_number.py), and the answer's dropped_traits
    says how a deployment reads it; the e-mail of the same identify is read."""
    mapper = SegmentMapper(web_settings(), TopicSettings(), identifier_settings())
    record = mapper({"type": "identify", "userId": "ob-alice", "messageId": "m-f5",
                     "traits": {"email": "alice@bank-test.fr", "customerNumber": "C-5001", "Customer-No": "C-5001"}})
    (observed,) = [out.event.value for out in record.events]
    assert {item["type"] for item in observed["identifiers"]} == {"USER_ID", "EMAIL"}
    assert record.dropped_traits is not None and set(record.dropped_traits) == {"customerNumber", "Customer-No"}
    for reason in record.dropped_traits.values():
        assert reason.startswith("unknown-key: ") and "OMNIBUS_ADAPTER_WEB__IDENTIFIER_TRAITS" in reason
        assert "CUSTOMER_NUMBER" in reason and "C-5001" not in reason


def test_f5_a_customer_number_trait_added_to_the_defaults_is_read_beside_the_email_and_phone(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The tester's sample, written with the leading + (without it, the e-mail and phone traits were gone)."""
    from adapters.web.config import ENV_PREFIX, WebSettings
    from bus.config import load_component_settings

    monkeypatch.setenv(f"{ENV_PREFIX}IDENTIFIER_TRAITS", '+{"CUSTOMER_NUMBER": ["customerNumber"]}')
    settings = load_component_settings(WebSettings, ENV_PREFIX, write_keys={"portal-web": "wk"})
    mapper = SegmentMapper(settings, TopicSettings(), identifier_settings(default_region="FR"))
    record = mapper({"type": "identify", "userId": "ob-alice", "messageId": "m-f5",
                     "traits": {"email": "alice@bank-test.fr", "phone": "06 12 34 56 71", "customerNumber": "c-5001"}})
    (observed,) = [out.event.value for out in record.events]
    assert observed["identifiers"] == [
        {"type": "USER_ID", "value": "ob-alice"}, {"type": "EMAIL", "value": "alice@bank-test.fr"},
        {"type": "PHONE", "value": "+33612345671"}, {"type": "CUSTOMER_NUMBER", "value": "C-5001"}]
    assert not record.dropped_traits


# Every spelling of a claimable key a portal may send, with its kind (adapters/web/config.py CLAIMABLE_KEY_TRAITS and
# bus.redact.SENSITIVE_FIELDS): none is read by default (tester25 F7, tester29 F9).
TYPED_RECORD_KEYS = [
    ("account", "ACCOUNT", "ACC-T25-0004"), ("accountNumber", "ACCOUNT", "ACC-T25-0004"),
    ("account_number", "ACCOUNT", "ACC-T25-0004"), ("accountId", "ACCOUNT", "ACC-T25-0004"),
    ("iban", "ACCOUNT", "FR7630006000011234567890189"), ("IBAN", "ACCOUNT", "FR7630006000011234567890189"),
    ("rib", "ACCOUNT", "FR7630006000011234567890189"), ("cardNumber", "CARD", "4970101234567893"),
    ("card_number", "CARD", "4970101234567893"), ("pan", "CARD", "4970101234567893"),
    ("customerNumber", "CUSTOMER_NUMBER", "C-770004"), ("customer_number", "CUSTOMER_NUMBER", "C-770004"),
    # tester29 F9: a national ID is no secret; the defaults read nationalId, national_id, ssn before
    *[(name, "NATIONAL_ID", "11010519491231002X") for name in (
        "nationalId", "national_id", "ssn", "NationalID", "dni", "DNI", "nie", "nif", "nir", "id_number", "tax_id",
        "passport_number")],
]


def _assert_left_off(record: Any, name: str, kind: str, typed: str) -> None:
    assert record.dropped_traits is not None and name in record.dropped_traits
    reason = record.dropped_traits[name]
    assert reason.startswith("unknown-key: ") and f"{label(kind)} ({kind}) typed in a web form is the visitor's claim" \
        in reason
    assert re.search(r"\ba [AEIOU]", reason) is None  # tester27 F7: "a ACCOUNT typed in a web form"
    assert "OMNIBUS_ADAPTER_WEB__IDENTIFIER_TRAITS" in reason and typed not in reason
    assert typed[-4:] not in json.dumps([out.event.value for out in record.events], default=str)


@pytest.mark.parametrize(("name", "kind", "typed"), TYPED_RECORD_KEYS)
@pytest.mark.parametrize("where", ["traits", "context.traits"])
def test_tester25_f7_a_record_key_typed_in_a_web_form_is_not_read_by_default_named_and_counted(
        where: str, name: str, kind: str, typed: str) -> None:
    """F7: Mallory's identify with Carla's ``accountNumber`` (read by default before) joined his login and e-mail to
    Carla's master record and took its one login place (tests/processors/identity/graph/test_keypad_record_key.py).
    The trait is left off, the answer's dropped_traits names it with its kind and the setting that reads it (never
    its value), and it is counted under omnibus_traits_rejected_total{code="unknown-key"}."""
    traits = {"email": "mallory.t25@example.org", name: typed}
    message = {"type": "identify", "userId": "t25-mallory", "messageId": "t25-id-mallory",
               **({"traits": traits} if where == "traits" else {"context": {"traits": traits}})}
    before = _unknown_keys()
    record = mapped(message)
    (observed,) = [out.event.value for out in record.events]
    assert {item["type"] for item in observed["identifiers"]} == {"USER_ID", "EMAIL"}
    _assert_left_off(record, name, kind, typed)
    assert _unknown_keys() - before == 1


@pytest.mark.parametrize(("name", "kind", "typed"), TYPED_RECORD_KEYS)
def test_tester25_f7_a_record_key_in_a_track_calls_context_traits_is_named_and_counted_too(
        name: str, kind: str, typed: str) -> None:
    """A call other than identify carries no traits on, but read the identifiers of its context.traits (the SDKs
    stamp the identified traits on every call): an unread record key there was left off without a word."""
    message = {"type": "track", "userId": "t25-mallory", "messageId": "t25-tr", "event": "Invoice Viewed",
               "context": {"traits": {name: typed}}}
    before = _unknown_keys()
    record = mapped(message)
    for out in record.events:
        assert {item["type"] for item in out.event.value["customer_identifiers"]} == {"USER_ID"}
    _assert_left_off(record, name, kind, typed)
    assert _unknown_keys() - before == 1
    assert not mapped({**message, "context": {"traits": {"plan": "gold"}}}).dropped_traits


@pytest.mark.parametrize(("name", "kind", "typed"), TYPED_RECORD_KEYS)
def test_a_record_key_trait_the_portals_back_end_verified_is_read_with_the_plus_form(
        monkeypatch: pytest.MonkeyPatch, name: str, kind: str, typed: str) -> None:
    from adapters.web.config import ENV_PREFIX, WebSettings
    from bus.config import load_component_settings

    monkeypatch.setenv(f"{ENV_PREFIX}IDENTIFIER_TRAITS", json.dumps({kind: [name]}).join(("+", "")))
    settings = load_component_settings(WebSettings, ENV_PREFIX, write_keys={"portal-web": "wk"})
    mapper = SegmentMapper(settings, TopicSettings(), identifier_settings())
    for message in ({"type": "identify", "userId": "t25-carla", "traits": {"email": "c@example.org", name: typed}},
                    {"type": "track", "userId": "t25-carla", "event": "Invoice Viewed",
                     "context": {"traits": {name: typed}}}):
        record = mapper({**message, "messageId": f"m-{message['type']}"})
        found = {item["type"] for out in record.events
                 for item in out.event.value.get("identifiers") or out.event.value.get("customer_identifiers") or []}
        assert kind in found and not record.dropped_traits
    assert {"EMAIL", "PHONE"} <= set(settings.identifier_traits)  # the + form kept the defaults
