"""Segment messages -> canonical events: the pure mapping rules."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from io import BytesIO
from typing import Any

import fastavro
import pytest
from hypothesis import given, settings, strategies as st

from adapters.base.errors import RejectedInput
from adapters.base.mapper import MappedRecord
from adapters.web.fields import NOT_TEXT
from adapters.web.mapper import SegmentMapper
from bus.config import TopicSettings
from schemas.catalog import default_catalog
from bus.identifiers import IdentifierSettings
from tests.adapters.web.support import VERIFYING_PORTAL, sample, web_settings
from tests.bus.identifiers.support import identifier_settings

RECEIVED = datetime(2024, 5, 2, 9, 0, tzinfo=UTC)


def mapped(
    message: dict[str, Any], source: str = "portal-web", identifiers: IdentifierSettings | None = None, **overrides: Any,
) -> MappedRecord:
    mapper = SegmentMapper(web_settings(**overrides), TopicSettings(), identifiers or identifier_settings())
    return mapper(message, source=source, received_at=RECEIVED)


def values(record: MappedRecord) -> dict[str, dict[str, Any]]:
    return {o.event.schema.rsplit(".", 1)[1]: o.event.value for o in record.events}


def test_identify_traits_become_normalised_identifiers_and_the_rest_stay_traits() -> None:
    """The sample's ``accountNumber`` is read by a portal that verified it (tester25 F7: not by default)."""
    record = mapped(sample("identify_analytics_python"))
    assert [i["type"] for i in values(record)["IdentifiersObserved"]["identifiers"]] == [
        "USER_ID", "ANONYMOUS_ID", "EMAIL", "PHONE"]
    assert record.dropped_traits is not None and "accountNumber" in record.dropped_traits
    observed = values(mapped(sample("identify_analytics_python"), identifier_traits=VERIFYING_PORTAL))[
        "IdentifiersObserved"]
    assert observed["identifiers"] == [
        {"type": "USER_ID", "value": "u-1842"},
        {"type": "ANONYMOUS_ID", "value": "0c6b0c5e-6c52-4ac1-9d0b-2bb6d2bb3a57"},
        {"type": "EMAIL", "value": "marie.dupont@example.fr"},
        {"type": "PHONE", "value": "+33612345678"},
        {"type": "ACCOUNT", "value": "ACC-0042-7781"},
    ]
    # Not a resident ID under the default scheme (cn.ric), none set: kept as a rejection, masked, never raw.
    assert observed["rejected_identifiers"] == [{
        "type": "NATIONAL_ID", "masked": "[national id]", "rule": "invalid-identifier", "code": "national-id-no-scheme",
        "reason": "national ID has the wrong length for cn.ric (18 characters: 17 digits and a digit or X); no "
                  "national ID scheme is configured: set OMNIBUS_IDENTIFIERS__NATIONAL_ID_SCHEMES "
                  "(e.g. [\"es.dni\", \"es.nie\"]) or the default region",
    }]
    assert observed["traits"] == {"full_name": "Marie Dupont", "preferred_language": "fr"}


def test_rudderstack_identify_traits_in_context_are_read_too() -> None:
    belgian = identifier_settings(national_id_schemes=("be.nn",))
    observed = values(mapped(sample("identify_rudder_python"), identifiers=belgian,
                             identifier_traits=VERIFYING_PORTAL))["IdentifiersObserved"]
    assert observed["identifiers"] == [
        {"type": "USER_ID", "value": "u-3310"},
        {"type": "EMAIL", "value": "paul.bernard@example.com"},
        {"type": "PHONE", "value": "+32470123456"},
        {"type": "ACCOUNT", "value": "BE-ACC-88120"},
    ]
    # The sample's Belgian national number fails its check digits (be.nn): refused with the reason.
    assert [(r["type"], r["code"], r["masked"]) for r in observed["rejected_identifiers"]] == [
        ("NATIONAL_ID", "national-id-checksum", "[national id]")]
    assert observed["traits"] is None  # "segment" is no standard trait: dropped (tester16 F6)


def test_a_phone_without_country_code_needs_the_configured_region() -> None:
    message = {"type": "identify", "userId": "u-1", "traits": {"phone": "06 12 34 56 78"}}
    assert values(mapped(message))["IdentifiersObserved"]["identifiers"] == [{"type": "USER_ID", "value": "u-1"}]
    with_region = values(mapped(message, phone_region="FR"))["IdentifiersObserved"]["identifiers"]
    assert {"type": "PHONE", "value": "+33612345678"} in with_region


def test_events_of_one_person_share_the_user_id_key_and_anonymous_visitors_use_theirs() -> None:
    assert {o.key for o in mapped(sample("track_offer_viewed_analytics_js")).events} == {"USER_ID:u-1842"}
    assert [o.key for o in mapped(sample("page_analytics_js")).events] == [
        "ANONYMOUS_ID:2b1d7e65-31a8-4a0e-8a7e-5a0b3c9d4f18"
    ]


def test_a_service_request_opens_a_handoff_tied_to_its_interaction() -> None:
    record = mapped(sample("track_service_request_rudder_python"))
    interaction, handoff = values(record)["InteractionRecorded"], values(record)["HandoffCreated"]
    assert interaction["outcome"] == "HANDED_OFF"
    assert handoff["handoff_id"] == "SR-2024-000871" and record.events[1].key == "SR-2024-000871"
    assert handoff["case_type"] == "billing-dispute" and handoff["service_tier"] == "premium"
    assert handoff["summary"] == "Charged twice for April"
    assert handoff["intake_facts"] == {"disputed_bill_id": "BILL-2024-04-55102", "amount": "49.9"}
    assert handoff["origin_interaction_id"] == interaction["interaction_id"]
    assert handoff["actor"] == {"kind": "CUSTOMER", "id": "USER_ID:u-1842"}
    assert handoff["envelope"]["correlation_id"] == interaction["envelope"]["correlation_id"]


def test_the_events_of_one_message_are_correlated_by_the_first_ones_event_id() -> None:
    """Envelope.avsc: the correlation id is "the event_id of the first event when no other id exists"."""
    for name in ("track_service_request_rudder_python", "page_analytics_js", "track_offer_viewed_analytics_js"):
        record = mapped(sample(name))
        first = record.events[0].event.value["envelope"]["event_id"]
        assert {o.event.value["envelope"]["correlation_id"] for o in record.events} == {first}
        assert len({o.event.value["envelope"]["event_id"] for o in record.events}) == len(record.events)
        again = mapped(sample(name))  # deterministic: a resend maps to the same ids
        assert [o.event.value["envelope"] for o in again.events] == [o.event.value["envelope"] for o in record.events]


def test_service_request_event_names_come_from_settings() -> None:
    message = {"type": "track", "event": "Repair Requested", "userId": "u-1", "properties": {}}
    assert "HandoffCreated" not in values(mapped(message))
    handoff = values(mapped(message, service_request_events=("Repair Requested",)))["HandoffCreated"]
    assert handoff["case_type"] == "web-service-request" and handoff["handoff_id"].startswith("web:portal-web:")


def test_offer_events_become_presented_and_responded() -> None:
    viewed = values(mapped(sample("track_offer_viewed_analytics_js")))["OfferPresented"]
    assert (viewed["offer_id"], viewed["offer_version"], viewed["channel"]) == ("FIBRE-1G-PROMO", 3, "WEB")
    accepted = values(mapped(sample("track_offer_accepted_analytics_python")))["OfferResponded"]
    assert (accepted["response"], accepted["offer_version"]) == ("ACCEPTED", 3)
    # an answer names the presentation the portal gave; a presentation without one is named by its messageId and
    # its content (adapters.base.mapper.content_id), which a portal cannot compute: it sends its own to refer to it
    assert accepted["presentation_id"] == sample("track_offer_accepted_analytics_python")["properties"][
        "presentation_id"]
    message_id = sample("track_offer_viewed_analytics_js")["messageId"]
    assert re.fullmatch(rf"web:portal-web:{re.escape(message_id)}:[0-9a-f]{{8}}", viewed["presentation_id"])
    declined = values(mapped(sample("track_offer_declined_analytics_python")))
    assert declined["OfferResponded"]["response"] == "DECLINED"
    # the answer names its track's contact (processors/offers/intake.placement_key: where identity placed it)
    assert declined["OfferResponded"]["envelope"]["correlation_id"] == \
        declined["InteractionRecorded"]["envelope"]["correlation_id"]


def test_alias_links_the_anonymous_visitor_to_the_user() -> None:
    observed = values(mapped(sample("alias_analytics_js")))["IdentifiersObserved"]
    assert [i["type"] for i in observed["identifiers"]] == ["USER_ID", "ANONYMOUS_ID"]
    assert observed["traits"]["alias_previous_id"] == observed["identifiers"][1]["value"]
    old_user = values(mapped({"type": "alias", "userId": "u-new", "previousId": "u-old"}))["IdentifiersObserved"]
    # previousId is looked up by identity as either kind, never made a customer of (issue #8 item 3)
    assert old_user["identifiers"] == [{"type": "USER_ID", "value": "u-new"}]
    assert old_user["traits"] == {"alias_previous_id": "u-old"}


@pytest.mark.parametrize("previous", [98765, "98765", 98765.0, "undefined", "00000000"])
def test_tester50_f10_an_alias_whose_previous_id_is_a_placeholder_is_refused_as_an_anonymous_id_would_be(
        previous: object) -> None:
    """tester50 F10: ``identify {"anonymousId": 98765}`` was refused (a known placeholder) while ``alias
    {"previousId": "98765"}`` was published with it: the previousId is now checked as the ids identity looks it up as
    (``ALIAS_KINDS``), and refused by both it refuses the alias, named with its rule, as a lone anonymousId is."""
    from adapters.web.errors import MessageRejected

    with pytest.raises(MessageRejected, match="'previousId' was refused: .*placeholder") as refused:
        mapped({"type": "alias", "userId": "u-o", "previousId": previous, "messageId": "m-o-9"})
    assert refused.value.code == "bad_field" and "98765" not in str(refused.value)
    with pytest.raises(MessageRejected, match="'anonymousId' was refused: .*placeholder"):
        mapped({"type": "identify", "anonymousId": previous, "messageId": "m-o-8"})


def test_group_id_becomes_the_configured_identifier() -> None:
    assert {"type": "ACCOUNT", "value": "ACC-0042-7781"} in values(mapped(sample("group_analytics_python")))[
        "IdentifiersObserved"]["identifiers"]
    kept_as_trait = values(mapped(sample("group_analytics_python"), group_identifier_type=None))["IdentifiersObserved"]
    assert kept_as_trait["identifiers"] == [{"type": "USER_ID", "value": "u-1842"}]
    assert kept_as_trait["traits"]["group_id"] == "ACC-0042-7781"


def test_page_and_screen_kinds_and_names() -> None:
    page = values(mapped(sample("page_analytics_js")))["InteractionRecorded"]
    assert (page["kind"], page["name"], page["properties"]["category"]) == ("WEB_PAGE", "Mes factures", "Compte")
    screen = values(mapped(sample("screen_analytics_ios")))["InteractionRecorded"]
    assert (screen["kind"], screen["name"]) == ("APP_SCREEN", "Consommation")


def test_timestamps_are_aware_corrected_by_sent_at_and_default_to_reception() -> None:
    page = values(mapped(sample("page_analytics_js")))["InteractionRecorded"]
    # sentAt 08:30:58.130, timestamp 9 ms before it, received at 09:00: Segment's rule moves it to 08:59:59.991
    assert page["envelope"]["occurred_at"] == datetime(2024, 5, 2, 8, 59, 59, 991000, tzinfo=UTC)
    assert page["properties"]["original_timestamp"] == "2024-05-02T08:30:58.121000+00:00"
    naive = values(mapped({"type": "page", "userId": "u", "timestamp": "2024-05-02T08:00:00"}))["InteractionRecorded"]
    assert naive["envelope"]["occurred_at"] == datetime(2024, 5, 2, 8, tzinfo=UTC)
    assert "original_timestamp" not in naive["properties"]
    untimed = values(mapped({"type": "page", "userId": "u"}))["InteractionRecorded"]
    assert untimed["envelope"]["occurred_at"] == RECEIVED


def test_message_ids_scope_dedupe_and_event_ids_per_source() -> None:
    message = sample("page_analytics_js")
    web, app = mapped(message, "portal-web"), mapped(message, "portal-app")
    assert web.dedupe_id != app.dedupe_id
    assert web.events[0].event.value["envelope"]["event_id"] != app.events[0].event.value["envelope"]["event_id"]
    assert web.events[0].event.value["envelope"]["source_event_id"] == message["messageId"]


def test_a_message_without_message_id_dedupes_on_its_content() -> None:
    message = {"type": "track", "event": "Login", "userId": "u-1", "timestamp": "2024-05-02T10:00:00Z"}
    assert mapped(message).dedupe_id == mapped(dict(message)).dedupe_id
    assert mapped(message).dedupe_id != mapped({**message, "event": "Logout"}).dedupe_id


@pytest.mark.parametrize(
    ("message", "fragment"),
    [
        ({"type": "identify", "userId": {"id": 1}}, "'userId' must be a string"),
        ({"type": "track", "userId": "u", "event": "Offer Accepted", "properties": {"offer_version": 1}}, "offer_id"),
        ({"type": "track", "userId": "u", "event": "Offer Viewed", "properties": {"offer_id": "X", "offer_version": "v2"}},
         "whole number"),
        ({"type": "group", "userId": "u"}, "groupId"),
        ({"type": "page", "userId": "u", "properties": "home"}, "'properties' must be a JSON object"),
        ({"type": "screen", "userId": "u", "timestamp": 1714640000}, "ISO-8601"),
        (["not", "an", "object"], "JSON object"),
    ],
)
def test_malformed_messages_are_refused_with_a_reason(message: Any, fragment: str) -> None:
    with pytest.raises(RejectedInput) as caught:
        mapped(message)
    assert fragment in caught.value.reason


json_scalars = st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.floats(allow_nan=False) | st.text(max_size=20)
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=8)
messages = st.fixed_dictionaries(
    {"type": st.sampled_from(["identify", "track", "page", "screen", "group", "alias", "t", "nope"])},
    optional={
        "userId": json_scalars, "anonymousId": json_scalars, "event": json_scalars, "name": json_scalars,
        "previousId": json_scalars, "groupId": json_scalars, "messageId": json_scalars,
        "timestamp": st.sampled_from(["2024-05-02T08:30:58.121Z", "garbage", None]),
        "traits": json_values, "properties": json_values, "context": json_values,
    },
)


@settings(max_examples=300, deadline=None)
@given(messages)
def test_any_message_maps_to_schema_valid_events_or_is_refused(message: dict[str, Any]) -> None:
    try:
        record = mapped(message, service_request_events=("Service Request Submitted", "x"))
    except RejectedInput:
        return
    catalog = default_catalog()
    for outgoing in record.events:
        fastavro.schemaless_writer(BytesIO(), catalog.get(outgoing.event.schema).parsed, outgoing.event.value, strict=True)


@pytest.mark.parametrize(("message", "reason"), [
    ({"type": "track", "userId": "u-1", "event": ["a"]}, "'event' must be a string"),
    ({"type": "track", "userId": "u-1", "event": {"name": "a"}}, "'event' must be a string"),
    ({"type": "track", "userId": "u-1", "event": True}, "'event' must be a string"),
    ({"type": "identify", "userId": ["u-1"]}, "'userId' must be a string"),
    ({"type": "identify", "userId": 12345}, "'userId' was refused: USER_ID value is a known placeholder"),
    ({"type": "track", "userId": "u-1", "event": "Offer Accepted", "properties": {"offer_id": ["x"]}},
     "'properties.offer_id' must be a string"),
])
def test_tester19_f9_a_field_present_but_wrong_is_not_reported_missing(message: dict[str, Any], reason: str) -> None:
    with pytest.raises(RejectedInput) as refused:
        mapped({"messageId": "m-f9", **message})
    assert reason in refused.value.reason and "missing" not in refused.value.reason
    assert "needs a userId" not in refused.value.reason


def test_tester19_f9_a_field_absent_is_still_reported_missing() -> None:
    for message, reason in (({"type": "track", "userId": "u-1"}, "track call is missing 'event'"),
                            ({"type": "identify"}, "message needs a userId or an anonymousId")):
        with pytest.raises(RejectedInput, match=reason):
            mapped({"messageId": "m-f9", **message})


def test_tester19_f17_a_service_request_with_a_team_and_no_kind_gets_the_default_kind_and_keeps_the_team() -> None:
    """docs/handoffs.md: on the web the event name asks for the handoff, so it is not refused for a missing kind;
    the team is kept where the call center and the counter keep it (``intake_facts.requested_team``)."""
    message = {"type": "track", "userId": "u-1", "messageId": "t19-sr-2", "event": "Service Request Submitted",
               "properties": {"team": "finance"}}
    handoff = values(mapped(message))["HandoffCreated"]
    assert handoff["case_type"] == "web-service-request"
    assert handoff["intake_facts"] == {"requested_team": "finance"}


@pytest.mark.parametrize(("properties", "field", "why"), [
    ({"case_type": "k" * 300, "request_id": "REQ-78"}, "properties.case_type", "is longer than 64 characters"),
    ({"case_type": ["x"], "summary": "y"}, "properties.case_type", NOT_TEXT),
    ({"category": "c" * 65}, "properties.category", "is longer than 64 characters"),
    ({"summary": "y" * 5000}, "properties.summary", "is longer than 1000 characters"),
    ({"description": {"text": "y"}}, "properties.description", NOT_TEXT),
    ({"team": "t" * 65}, "properties.team", "is longer than 64 characters"),
    ({"team": True}, "properties.team", NOT_TEXT),
    ({"request_id": "R" * 20_000}, "properties.request_id", "is longer than 128 characters"),
    ({"case_id": "C" * 129}, "properties.case_id", "is longer than 128 characters"),
    ({"request_id": ["REQ-1"]}, "properties.request_id", NOT_TEXT),
])
def test_a_service_requests_texts_are_held_to_the_limits_of_every_channels_handoff(
        properties: dict, field: str, why: str) -> None:
    """A 300-character kind and a 5000-character summary were published as sent, a list kind replaced by the default
    in silence: the web hall now holds a request to ``bus.handoff_limits`` as the counter and the call center do; the
    message is refused naming the field (400 bad_field, a dead letter), as a malformed offer answer is."""
    message = {"type": "track", "userId": "u-1", "messageId": "sr-limits", "event": "Service Request Submitted",
               "properties": properties}
    with pytest.raises(RejectedInput) as refused:
        mapped(message)
    assert str(refused.value) == f"'{field}' {why}" and "y" * 50 not in str(refused.value)


def test_a_service_requests_texts_at_their_limits_are_published_whole() -> None:
    message = {"type": "track", "userId": "u-1", "messageId": "sr-at-limits", "event": "Service Request Submitted",
               "properties": {"case_type": "k" * 64, "summary": "y" * 1000, "team": "t" * 64, "request_id": "R" * 128}}
    handoff = values(mapped(message))["HandoffCreated"]
    assert (len(handoff["case_type"]), len(handoff["summary"]), len(handoff["handoff_id"])) == (64, 1000, 128)
    assert handoff["intake_facts"]["requested_team"] == "t" * 64
