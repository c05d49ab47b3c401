"""Free text the web adapter publishes carries no identifier value (tester19 F12: ``/v1/track {"event": "Contact
secret.person@orange.fr"}`` reached contact.events.v1 with the e-mail in the interaction's name)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.adapters.web.support import sample
from tests.adapters.web.test_mapper import mapped, values
from tests.bus.identifiers.support import identifier_settings
from tests.bus.test_references import KEPT_REFERENCES, REFERENCE_NAMED_IDENTIFIERS

IDENTIFIERS = {
    "email": "secret.person@orange.fr",
    "phone": "06 12 34 56 78",
    "e164 phone": "+33612345678",
    "national id": "185057800604830",
    "card": "4970 1012 3456 7890",
    "iban": "FR76 3000 6000 0112 3456 7890 189",
    "key form": "USER_ID:jean.dupont",
}


def track(event: str, **properties: Any) -> dict[str, Any]:
    return {"type": "track", "userId": "u-1842", "messageId": "m-f12", "event": event, "properties": properties}


@pytest.mark.parametrize("value", IDENTIFIERS.values(), ids=IDENTIFIERS.keys())
def test_an_identifier_in_an_event_name_is_scrubbed(value: str) -> None:
    interaction = values(mapped(track(f"Contact {value} please")))["InteractionRecorded"]
    assert interaction["name"].startswith("Contact ") and interaction["name"].endswith(" please")
    assert value not in json.dumps(interaction, default=str)
    assert value.replace(" ", "") not in json.dumps(interaction, default=str).replace(" ", "")


@pytest.mark.parametrize("value", IDENTIFIERS.values(), ids=IDENTIFIERS.keys())
def test_an_identifier_in_a_page_name_title_or_search_is_scrubbed(value: str) -> None:
    message = sample("page_analytics_js")
    message["name"], message["properties"] = f"Account of {value}", {}
    message.setdefault("context", {})["page"] = {
        "title": f"Hello {value}", "search": f"?q={value}", "url": "https://portal.example/account"}
    interaction = values(mapped(message))["InteractionRecorded"]
    assert value not in json.dumps(interaction, default=str)
    assert interaction["properties"]["url"] == "https://portal.example/account"


def test_a_service_request_summary_is_scrubbed_and_its_event_still_opens_the_handoff() -> None:
    record = values(mapped(track("Service Request Submitted", summary="Call me at secret.person@orange.fr",
                                 case_type="billing-dispute")))
    assert record["HandoffCreated"]["summary"] == "Call me at [email]"
    assert record["InteractionRecorded"]["name"] == "Service Request Submitted"


def test_a_name_without_identifier_is_kept_as_sent() -> None:
    for name in ("Order Completed", "Viewed 3 offers", "Plan v2.1.0 chosen"):
        assert values(mapped(track(name)))["InteractionRecorded"]["name"] == name


CARD, NIR = "4970100000000014", "285057511203496"


def test_a_track_s_properties_carry_no_identifier_whatever_their_name() -> None:
    """tester21 F6: ``pan`` and ``nir`` went raw onto contact.events.v1 (and, with them, customer.contacts.v1), and so
    did a card number in a free-text ``note``; a service request's summary was scrubbed on the HandoffCreated only."""
    message = {**track("Card Blocked", card_number=CARD, cardNumber="4970 1000 0000 0014", pan=CARD, PAN=CARD,
                       national_id=NIR, nir=NIR, phone="0612345671", iban="FR7630004000031234567890143",
                       account_number="ACC-1001", note=f"free text {CARD}", amount="89.90 EUR")}
    interaction = values(mapped(message))["InteractionRecorded"]
    text = json.dumps(interaction, default=str)
    assert CARD not in text and NIR not in text and "0612345671" not in text
    kept = {key: value for key, value in interaction["properties"].items() if key != "source"}
    assert kept == {"note": "free text [digits]", "amount": "89.90 EUR"}


@pytest.mark.parametrize("value", IDENTIFIERS.values(), ids=IDENTIFIERS.keys())
def test_a_service_request_s_free_text_is_scrubbed_on_every_event_it_makes(value: str) -> None:
    summary = f"Unknown charge of 89.90 EUR, card {value}"
    record = values(mapped(track("Service Request Submitted", summary=summary, comment=f"see {value}")))
    for kind in ("InteractionRecorded", "HandoffCreated"):
        published = json.dumps(record[kind], default=str)
        assert value not in published and value.replace(" ", "") not in published.replace(" ", ""), kind
    assert record["HandoffCreated"]["summary"].startswith("Unknown charge of 89.90 EUR, card ")
    assert record["InteractionRecorded"]["properties"]["summary"] == record["HandoffCreated"]["summary"]


METER_FIELDS = ("meter_point_id", "prm", "meter_serial", "reading_index", "meter_point")


def test_declared_meter_references_reach_the_contact_and_the_handoff_whole() -> None:
    """tester22 F4: ``meter_point_id``, ``prm``, ``meter_serial`` and ``reading_index`` became ``[digits]``."""
    meter = {"meter_point_id": "14500000000001", "prm": "14500000000002", "pce": "GI123456",
             "meter_serial": "0234567890123", "reading_kwh": 48211, "reading_index": "0048211",
             "meter_point": "PDL-14500000000001"}
    reading = values(mapped(track("Meter Reading Submitted", **meter), reference_fields=METER_FIELDS,
                            phone_region="FR"))["InteractionRecorded"]["properties"]
    assert {name: reading[name] for name in meter} == {name: str(value) for name, value in meter.items()}
    request = values(mapped(track(
        "Service Request Submitted", case_type="meter-dispute", request_id="SR-88121", meter_point_id="14500000000001",
        summary="meter_point_id: 14500000000001 reads 48211 kWh; call me on 06 22 33 44 55 or luc.p@example.org; "
                "IBAN FR7630006000011234567890189"), reference_fields=METER_FIELDS, phone_region="FR"))
    handoff = request["HandoffCreated"]
    assert handoff["intake_facts"]["meter_point_id"] == "14500000000001"
    assert handoff["summary"] == ("meter_point_id: 14500000000001 reads 48211 kWh; call me on [digits] or [email]; "
                                  "IBAN [digits]")


def test_without_a_declaration_a_meter_number_is_scrubbed_as_any_long_number() -> None:
    properties = values(mapped(track("Meter Reading Submitted", meter_point_id="14500000000001")))[
        "InteractionRecorded"]["properties"]
    assert properties["meter_point_id"] == "[digits]"


def test_the_customer_s_own_phone_under_a_declared_name_is_still_scrubbed() -> None:
    """A phone written with spaces is no reference; one in a reference's form is scrubbed when it is the customer's
    own (tester33 F2: any number valid as a phone in the region was, a utility's installation numbers with them)."""
    message = track("Meter Reading Submitted", meter_serial="06 12 34 56 78", prm="0612345678")
    message["context"] = {"traits": {"phone": "+33612345678"}}
    properties = values(mapped(message, reference_fields=METER_FIELDS, phone_region="FR"))[
        "InteractionRecorded"]["properties"]
    assert properties["meter_serial"] == properties["prm"] == "[digits]"


@pytest.mark.parametrize(("name", "value", "identifier"), REFERENCE_NAMED_IDENTIFIERS.values(),
                         ids=REFERENCE_NAMED_IDENTIFIERS.keys())
def test_an_identifier_under_an_undeclared_reference_name_reaches_no_event(name: str, value: str,
                                                                           identifier: str) -> None:
    """The lead's refleak brief: ``{"payment_ref": "FR7630006000011234567890189"}`` (a reference's name, a letter in
    the value) was kept whole on contact.events.v1 (and customer.contacts.v1); a real order or ticket id still is."""
    kept = {key: reference for key, reference in KEPT_REFERENCES.items() if key != name}
    record = values(mapped(track("Service Request Submitted", case_type="billing-dispute", **{name: value}, **kept),
                           identifiers=identifier_settings(national_id_schemes=("fr.nir",)), phone_region="FR"))
    for facts in (record["InteractionRecorded"]["properties"], record["HandoffCreated"]["intake_facts"]):
        assert identifier not in re.sub(r"[\s./-]", "", json.dumps(facts))
        assert {key: facts[key] for key in kept} == kept
