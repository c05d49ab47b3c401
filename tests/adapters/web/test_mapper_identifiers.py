"""Web hall: identifiers normalised at the edge, rejected values kept, traits under the standard keys."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings, strategies as st

from adapters.base.mapper import MappedRecord
from adapters.web.mapper import SegmentMapper
from bus.config import TopicSettings
from bus.identifiers import IdentifierSettings
from bus.identifiers.traits import TRAIT_KEYS
from tests.adapters.web.support import VERIFYING_PORTAL, web_settings
from tests.bus.identifiers.support import identifier_settings, normaliser

RECEIVED = datetime(2024, 5, 2, 9, 0, tzinfo=UTC)


def mapped(message: dict[str, Any], identifiers: IdentifierSettings | None = None, **overrides: Any) -> MappedRecord:
    mapper = SegmentMapper(web_settings(**overrides), TopicSettings(), identifiers or identifier_settings())
    return mapper(message, source="portal-web", received_at=RECEIVED)


def by_schema(record: MappedRecord) -> dict[str, dict[str, Any]]:
    return {o.event.schema.rsplit(".", 1)[1]: o.event.value for o in record.events}


def test_issue_10_case_2_an_00_prefixed_phone_is_an_identifier_with_default_settings() -> None:
    observed = by_schema(mapped({"type": "identify", "userId": "u-1", "traits": {"phone": "0031612345678"}},
                                IdentifierSettings()))["IdentifiersObserved"]
    assert {"type": "PHONE", "value": "+31612345678"} in observed["identifiers"]
    assert observed["rejected_identifiers"] == []


def test_a_national_phone_uses_the_adapter_region_else_the_deployment_region_else_is_a_rejection() -> None:
    message = {"type": "identify", "userId": "u-1", "traits": {"phone": "06 12 34 56 78"}}
    assert {"type": "PHONE", "value": "+33612345678"} in by_schema(
        mapped(message, phone_region="FR"))["IdentifiersObserved"]["identifiers"]
    assert {"type": "PHONE", "value": "+31612345678"} in by_schema(
        mapped(message, identifier_settings(default_region="NL")))["IdentifiersObserved"]["identifiers"]
    observed = by_schema(mapped(message))["IdentifiersObserved"]
    assert observed["identifiers"] == [{"type": "USER_ID", "value": "u-1"}]
    (rejected,) = observed["rejected_identifiers"]
    assert (rejected["type"], rejected["code"], rejected["rule"]) == ("PHONE", "phone-invalid", "invalid-identifier")
    assert "phone" not in (observed["traits"] or {})  # neither dropped in silence nor passed on raw


def test_a_bad_identifier_in_context_traits_of_a_track_is_recorded_and_the_track_still_flows() -> None:
    record = mapped({"type": "track", "userId": "u-1", "event": "Bill Viewed",
                     "context": {"traits": {"email": "not-an-address", "phone": "+33 6 12 34 56 78"}}})
    events = by_schema(record)
    assert events["InteractionRecorded"]["customer_identifiers"] == [
        {"type": "USER_ID", "value": "u-1"}, {"type": "PHONE", "value": "+33612345678"}]
    assert [r["code"] for r in events["IdentifiersObserved"]["rejected_identifiers"]] == ["email-syntax"]


def test_identify_traits_go_on_under_the_standard_keys() -> None:
    observed = by_schema(mapped({"type": "identify", "userId": "u-1", "traits": {
        "firstName": "Zoë", "lastName": "Dupré", "birthday": "1985-07-30", "plan": "gold",
        "address": {"street": "12 rue de la Paix", "city": "Paris", "postalCode": "75002", "country": "FR"},
    }}))["IdentifiersObserved"]
    assert observed["traits"] == {  # "plan" is no standard trait: dropped (tester16 F6)
        "given_name": "Zoë", "family_name": "Dupré", "birth_date": "1985-07-30",
        "address_line": "12 rue de la Paix", "city": "Paris", "postcode": "75002", "country": "FR"}
    assert set(observed["traits"]) <= set(TRAIT_KEYS)


def test_card_and_national_id_traits_leave_as_tokens() -> None:
    observed = by_schema(mapped({"type": "identify", "userId": "u-1", "traits": {
        "cardNumber": "4111 1111 1111 1111", "nationalId": "11010519491231002X"}}, identifier_traits=VERIFYING_PORTAL))[
        "IdentifiersObserved"]
    tokens = {i["type"]: i["value"] for i in observed["identifiers"]}
    assert tokens["CARD"] == normaliser().token("CARD", "4111111111111111")
    assert tokens["NATIONAL_ID"] == normaliser().token("NATIONAL_ID", "11010519491231002X")
    assert "cardNumber" not in (observed["traits"] or {}) and "nationalId" not in (observed["traits"] or {})


@settings(max_examples=100, deadline=None)
@given(phone=st.text(max_size=30), email=st.text(max_size=30))
def test_every_trait_identifier_is_an_identifier_or_a_rejection_never_lost(phone: str, email: str) -> None:
    observed = by_schema(mapped({"type": "identify", "userId": "u-1", "traits": {"phone": phone, "email": email}}))[
        "IdentifiersObserved"]
    kinds = [i["type"] for i in observed["identifiers"]] + [r["type"] for r in observed["rejected_identifiers"]]
    for kind, raw in (("PHONE", phone), ("EMAIL", email)):
        assert (kind in kinds) == bool(raw.strip())


def test_person_ids_kept_between_messages_map_as_normalising_them_again() -> None:
    """The mapper keeps normalised USER_ID/ANONYMOUS_ID per text; a refused one is normalised (and counted) again."""
    from adapters.web import mapper as mapper_module
    from bus.identifiers.metrics import REJECTED_IDENTIFIERS

    mapper = SegmentMapper(web_settings(), TopicSettings(), identifier_settings())
    track = {"type": "track", "event": "Viewed", "userId": "u-1", "anonymousId": "a-1"}
    first, again = (mapper(dict(track, messageId=f"m-{n}"), source="portal-web", received_at=RECEIVED)
                    for n in range(2))
    assert by_schema(first)["InteractionRecorded"]["customer_identifiers"] == \
        by_schema(again)["InteractionRecorded"]["customer_identifiers"] == \
        [{"type": "USER_ID", "value": "u-1"}, {"type": "ANONYMOUS_ID", "value": "a-1"}]
    same = mapper(dict(track, messageId="m-3", anonymousId="u-1", userId="u-1"), source="portal-web",
                  received_at=RECEIVED)
    assert by_schema(same)["InteractionRecorded"]["customer_identifiers"] == [
        {"type": "USER_ID", "value": "u-1"}, {"type": "ANONYMOUS_ID", "value": "u-1"}]

    counted = REJECTED_IDENTIFIERS.labels("web", "USER_ID", "malformed")
    before = counted._value.get()
    for n in range(2):
        record = mapper(dict(track, messageId=f"bad-{n}", userId="u\x01x"), source="portal-web", received_at=RECEIVED)
        assert by_schema(record)["IdentifiersObserved"]["rejected_identifiers"][0]["type"] == "USER_ID"
    assert counted._value.get() == before + 2

    mapper_module.KNOWN_IDS, kept = 2, mapper_module.KNOWN_IDS
    try:  # full: forgotten at once, then kept again
        for n in range(5):
            mapper(dict(track, messageId=f"many-{n}", userId=f"u-{n}"), source="portal-web", received_at=RECEIVED)
        assert len(mapper._known) <= 2
    finally:
        mapper_module.KNOWN_IDS = kept


def test_tester14_m1_an_iban_trait_and_a_group_id_are_the_normalised_account() -> None:
    identify = by_schema(mapped({"type": "identify", "userId": "u-1",
                                 "traits": {"iban": "fr76 3000 6000 0112 3456 7890 189"}},
                                identifier_traits=VERIFYING_PORTAL))["IdentifiersObserved"]
    assert {"type": "ACCOUNT", "value": "FR7630006000011234567890189"} in identify["identifiers"]
    group = by_schema(mapped({"type": "group", "userId": "u-1", "groupId": "FR76-3000-6000-0112-3456-7890-189"}))
    assert {"type": "ACCOUNT", "value": "FR7630006000011234567890189"} in group["IdentifiersObserved"]["identifiers"]
